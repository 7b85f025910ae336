package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// startDockerd runs a private daemon like testkit/dockerd.ts: own data root, socket and
// pid file, no default bridge, no iptables. Skips unless root with dockerd installed.
func startDockerd(t *testing.T) string {
	t.Helper()
	if os.Getenv("FJORD_SKIP_DOCKERD") == "1" {
		t.Skip("FJORD_SKIP_DOCKERD=1")
	}
	if h := os.Getenv("FJORD_DOCKER_HOST"); h != "" {
		return h
	}
	bin, err := exec.LookPath("dockerd")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and dockerd (apt-get install docker.io), or FJORD_DOCKER_HOST")
	}
	dir, err := os.MkdirTemp("", "fjord-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	logf, _ := os.Create(filepath.Join(dir, "dockerd.log"))
	cmd := exec.Command(bin, "--data-root="+dir+"/data", "--exec-root="+dir+"/exec", "--pidfile="+dir+"/docker.pid",
		"-H", "unix://"+sock, "--storage-driver=vfs", "--bridge=none", "--iptables=false", "--ip-forward=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		unmountUnder(dir)
		_ = os.RemoveAll(dir)
	})
	c, _ := newClient("unix://" + sock)
	for deadline := time.Now().Add(60 * time.Second); ; {
		if c.ensure(context.Background()) == nil {
			return "unix://" + sock
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dockerd.log"))
			t.Fatalf("dockerd did not answer within 60s:\n%s", log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func unmountUnder(dir string) {
	data, _ := os.ReadFile("/proc/mounts")
	var mounts []string
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
			mounts = append(mounts, f[1])
		}
	}
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}

// busybox finds a static busybox: FJORD_BUSYBOX, else Debian's busybox-static fetched once into
// the fjord cache with apt-get download (the registry the project already uses).
func busybox(t *testing.T) []byte {
	t.Helper()
	if p := os.Getenv("FJORD_BUSYBOX"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cache := os.Getenv("FJORD_CACHE")
	if cache == "" {
		cache = filepath.Join(os.Getenv("HOME"), ".cache", "fjord")
	}
	dir := filepath.Join(cache, "busybox-static")
	bin := filepath.Join(dir, "bin", "busybox")
	if _, err := os.Stat(bin); err != nil {
		tmp, _ := os.MkdirTemp("", "busybox-")
		defer os.RemoveAll(tmp)
		dl := exec.Command("apt-get", "download", "busybox-static")
		dl.Dir = tmp
		if out, err := dl.CombinedOutput(); err != nil {
			t.Skipf("no busybox: set FJORD_BUSYBOX, or apt-get download busybox-static failed: %v\n%s", err, out)
		}
		debs, _ := filepath.Glob(filepath.Join(tmp, "busybox-static_*.deb"))
		if out, err := exec.Command("dpkg-deb", "-x", debs[0], filepath.Join(tmp, "x")).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb: %v\n%s", err, out)
		}
		_ = os.MkdirAll(filepath.Dir(bin), 0o755)
		if err := os.Rename(filepath.Join(tmp, "x", "bin", "busybox"), bin); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// importBusybox makes a tiny image (busybox plus the applets the test uses) via the Engine API.
func importBusybox(t *testing.T, c *client, ref string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	bb := busybox(t)
	for _, d := range []string{"bin/", "tmp/", "www/", "etc/", "data/"} {
		_ = tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	_ = tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))})
	_, _ = tw.Write(bb)
	for _, a := range []string{"sh", "httpd", "wget", "sleep", "cat", "false", "true", "ls"} {
		_ = tw.WriteHeader(&tar.Header{Name: "bin/" + a, Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777})
	}
	_ = tw.Close()
	name, tag, _ := strings.Cut(ref, ":")
	resp, err := c.raw(context.Background(), http.MethodPost, "/images/create",
		url.Values{"fromSrc": {"-"}, "repo": {name}, "tag": {tag}}, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := stream(resp.Body); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestRealDaemon(t *testing.T) {
	host := startDockerd(t)
	ctx := context.Background()
	c, _ := newClient(host)
	importBusybox(t, c, "fjord-test/busybox:1")
	p := newProvider()
	p.host = host
	create := func(typ string, in map[string]any) (string, resource.PropertyMap) {
		t.Helper()
		r, err := p.Create(ctx, &pulumirpc.CreateRequest{Type: typ, Properties: props(t, resource.NewPropertyMapFromMap(in))})
		if err != nil {
			t.Fatalf("create %s: %v", typ, err)
		}
		return r.Id, unprops(t, r.Properties)
	}
	del := func(typ, id string, state resource.PropertyMap) {
		t.Helper()
		if _, err := p.Delete(ctx, &pulumirpc.DeleteRequest{Type: typ, Id: id, Properties: props(t, state)}); err != nil {
			t.Fatalf("delete %s %s: %v", typ, id, err)
		}
	}
	imgID, img := create("docker:index/remoteImage:RemoteImage", map[string]any{"name": "fjord-test/busybox:1", "keepLocally": true})
	frontID, front := create("docker:index/network:Network", map[string]any{"name": "t-front", "driver": "bridge"})
	backID, back := create("docker:index/network:Network", map[string]any{"name": "t-back", "internal": true})
	volID, vol := create("docker:index/volume:Volume", map[string]any{"name": "t-data"})

	port := freePort(t)
	page := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	in := map[string]any{
		"name": "t-web", "image": img["imageId"].StringValue(), "hostname": "t-web",
		"networkMode": "t-front", "networksAdvanced": []any{map[string]any{"name": "t-back", "aliases": []any{"web"}}},
		"entrypoints": []any{"httpd"}, "command": []any{"-f", "-p", "8080", "-h", "/www"},
		"ports": []any{map[string]any{"internal": 8080, "external": port, "ip": "127.0.0.1"}},
		"uploads": []any{map[string]any{"file": "/www/index.html", "content": "hello from fjord"},
			map[string]any{"file": "/etc/fjord/key", "content": "k", "permissions": "0400", "owner": "101", "group": "101"}},
		"volumes":     []any{map[string]any{"volumeName": "t-data", "containerPath": "/data"}},
		"healthcheck": map[string]any{"tests": []any{"CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"}, "interval": "1s", "timeout": "2s", "retries": 3},
		"wait":        true, "waitTimeout": 60, "memory": 32, "memorySwap": 32, "cpus": "0.5", "restart": "unless-stopped",
		"capabilities": map[string]any{"drops": []any{"ALL"}}, "securityOpts": []any{"no-new-privileges:true"},
		"tmpfs": map[string]any{"/tmp": "rw,size=8m"}, "destroyGraceSeconds": 2,
		"labels": []any{map[string]any{"label": "fjord.stack", "value": "t"}},
	}
	cid, ctr := create(ctrType, in)
	nd := ctr["networkDatas"].ArrayValue()
	if len(nd) != 2 || nd[0].ObjectValue()["ipAddress"].StringValue() == "" {
		t.Errorf("networkDatas: %v", nd)
	}
	resp, err := http.Get(page)
	if err != nil {
		t.Fatalf("published port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if string(body) != "hello from fjord" {
		t.Errorf("served %q", body)
	}
	// The secret file landed with its mode and owner (read back through the archive API).
	ar, err := c.raw(ctx, http.MethodGet, "/containers/"+cid+"/archive", url2("/etc/fjord/key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := tar.NewReader(ar.Body).Next()
	_ = ar.Body.Close()
	if err != nil || h.Mode&0o777 != 0o400 || h.Uid != 101 {
		t.Errorf("uploaded key: %+v %v", h, err)
	}
	ci, _ := inspect(ctx, c, cid)
	if ci.State.Health == nil || ci.State.Health.Status != "healthy" {
		t.Errorf("health: %+v", ci.State.Health)
	}
	// In-place update of a limit keeps the container.
	news := resource.NewPropertyMapFromMap(in)
	news["memory"], news["memorySwap"] = resource.NewNumberProperty(48), resource.NewNumberProperty(48)
	if _, err := p.Update(ctx, &pulumirpc.UpdateRequest{Type: ctrType, Id: cid, Olds: props(t, ctr),
		OldInputs: props(t, resource.NewPropertyMapFromMap(in)), News: props(t, news)}); err != nil {
		t.Fatalf("update: %v", err)
	}
	var hc struct{ HostConfig struct{ Memory int64 } }
	_ = c.do(ctx, http.MethodGet, "/containers/"+cid+"/json", nil, nil, &hc)
	if hc.HostConfig.Memory != 48*mb {
		t.Errorf("memory after update: %d", hc.HostConfig.Memory)
	}
	// An unhealthy container fails the create and is removed again.
	bad := map[string]any{"name": "t-bad", "image": "fjord-test/busybox:1", "networkMode": "t-back",
		"command": []any{"sleep", "300"}, "healthcheck": map[string]any{"tests": []any{"CMD", "false"}, "interval": "1s", "retries": 1},
		"wait": true, "waitTimeout": 3}
	if _, err := p.Create(ctx, &pulumirpc.CreateRequest{Type: ctrType, Properties: props(t, resource.NewPropertyMapFromMap(bad))}); err == nil ||
		!strings.Contains(err.Error(), "not healthy") {
		t.Errorf("unhealthy create: %v", err)
	}
	if _, err := inspect(ctx, c, "t-bad"); !isStatus(err, http.StatusNotFound) {
		t.Errorf("t-bad left behind: %v", err)
	}
	// Refresh notices a stopped container (mustRun=false in the inputs it returns).
	_ = c.do(ctx, http.MethodPost, "/containers/"+cid+"/stop", url.Values{"t": {"1"}}, nil, nil)
	rr, err := p.Read(ctx, &pulumirpc.ReadRequest{Type: ctrType, Id: cid, Properties: props(t, ctr), Inputs: props(t, resource.NewPropertyMapFromMap(in))})
	if err != nil || unprops(t, rr.Inputs)["mustRun"].BoolValue() || rr.Id != cid {
		t.Errorf("read of a stopped container: %v %v", rr, err)
	}

	del(ctrType, cid, ctr)
	if _, err := inspect(ctx, c, cid); !isStatus(err, http.StatusNotFound) {
		t.Errorf("container still there: %v", err)
	}
	if _, gone, _ := (volumeKind{}).read(ctx, c, volID, nil); gone {
		t.Error("deleting the container removed its named volume")
	}
	del("docker:index/volume:Volume", volID, vol)
	del("docker:index/network:Network", backID, back)
	del("docker:index/network:Network", frontID, front)
	del("docker:index/remoteImage:RemoteImage", imgID, img)
	for _, path := range []string{"/volumes/t-data", "/networks/t-back", "/networks/t-front"} {
		if err := c.do(ctx, http.MethodGet, path, nil, nil, nil); !isStatus(err, http.StatusNotFound) {
			t.Errorf("%s still exists: %v", path, err)
		}
	}
	if err := c.do(ctx, http.MethodGet, "/images/fjord-test/busybox:1/json", nil, nil, nil); err != nil {
		t.Errorf("keepLocally image removed: %v", err)
	}
}

func url2(path string) url.Values { return url.Values{"path": {path}} }
