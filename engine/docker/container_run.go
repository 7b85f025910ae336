package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

type containerKind struct{}

// The limits Docker changes on a running container (POST /containers/{id}/update).
var resourceKeys = []string{"restart", "maxRetryCount", "memory", "memorySwap", "memoryReservation",
	"cpuShares", "cpus", "cpuSet", "cpuPeriod", "cpuQuota"}

// inPlace: those limits plus settings only this provider reads; every other change replaces the
// container, as upstream does.
func (containerKind) inPlace() map[string]bool {
	m := set("destroyGraceSeconds", "wait", "waitTimeout", "containerReadRefreshTimeoutMilliseconds", "removeVolumes")
	for _, k := range resourceKeys {
		m[k] = true
	}
	return m
}

func (containerKind) fixedName() string { return "name" }
func (containerKind) computed() []string {
	return []string{"name", "hostname", "networkDatas", "bridge", "exitCode", "ipcMode", "logDriver", "runtime", "shmSize"}
}

type containerInspect struct {
	ID    string `json:"Id"`
	Name  string
	State struct {
		Status     string
		Running    bool
		Restarting bool
		ExitCode   int
		Health     *struct {
			Status string
			Log    []struct {
				ExitCode int
				Output   string
			}
		}
	}
	Config struct {
		Hostname string
		Tty      bool
	}
	HostConfig struct {
		IpcMode   string
		Runtime   string
		ShmSize   int64
		LogConfig struct{ Type string }
	}
	NetworkSettings struct {
		Bridge   string
		Networks map[string]struct {
			IPAddress           string
			IPPrefixLen         int
			Gateway             string
			MacAddress          string
			GlobalIPv6Address   string
			GlobalIPv6PrefixLen int
			IPv6Gateway         string
		}
	}
}

func inspect(ctx context.Context, c *client, id string) (*containerInspect, error) {
	var ci containerInspect
	if err := c.do(ctx, http.MethodGet, "/containers/"+pathEscape(id)+"/json", nil, nil, &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

func (ci *containerInspect) outputs() map[string]any {
	names := make([]string, 0, len(ci.NetworkSettings.Networks))
	for n := range ci.NetworkSettings.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	datas := []any{}
	for _, n := range names {
		e := ci.NetworkSettings.Networks[n]
		datas = append(datas, map[string]any{"networkName": n, "ipAddress": e.IPAddress, "ipPrefixLength": e.IPPrefixLen,
			"gateway": e.Gateway, "macAddress": e.MacAddress, "globalIpv6Address": e.GlobalIPv6Address,
			"globalIpv6PrefixLength": e.GlobalIPv6PrefixLen, "ipv6Gateway": e.IPv6Gateway})
	}
	out := map[string]any{"name": strings.TrimPrefix(ci.Name, "/"), "hostname": ci.Config.Hostname,
		"networkDatas": datas, "bridge": ci.NetworkSettings.Bridge, "ipcMode": ci.HostConfig.IpcMode,
		"logDriver": ci.HostConfig.LogConfig.Type, "runtime": ci.HostConfig.Runtime, "shmSize": ci.HostConfig.ShmSize / mb}
	if !ci.State.Running {
		out["exitCode"] = ci.State.ExitCode
	}
	return out
}

func (containerKind) create(ctx context.Context, c *client, in resource.PropertyMap) (string, map[string]any, error) {
	var a containerArgs
	if err := decode(in, &a); err != nil {
		return "", nil, err
	}
	if _, err := ensureImage(ctx, c, a.Image, a.Platform); err != nil {
		return "", nil, err
	}
	body, err := a.createBody()
	if err != nil {
		return "", nil, err
	}
	q := url.Values{}
	if a.Name != "" {
		q.Set("name", a.Name)
	}
	if a.Platform != "" {
		q.Set("platform", a.Platform)
	}
	var created struct {
		ID string `json:"Id"`
	}
	if err := c.do(ctx, http.MethodPost, "/containers/create", q, body, &created); err != nil {
		return "", nil, fmt.Errorf("container %s: %w", a.Name, err)
	}
	id := created.ID
	// A half-made container would block the next attempt by its name: remove it, and say why
	// it failed (health output, last log lines).
	fail := func(err error) (string, map[string]any, error) {
		why := diagnose(ctx, c, id)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		_ = removeContainer(cctx, c, id, 0, true)
		return "", nil, fmt.Errorf("container %s (removed again): %w%s", a.Name, err, why)
	}
	for _, n := range a.NetworksAdvanced {
		if n.Name == a.NetworkMode {
			continue // joined at create
		}
		ep := endpoint(n.Aliases, n.Ipv4Address, n.Ipv6Address, n.MacAddress, n.LinkLocalIps)
		if err := c.do(ctx, http.MethodPost, "/networks/"+pathEscape(n.Name)+"/connect", nil,
			map[string]any{"Container": id, "EndpointConfig": ep}, nil); err != nil {
			return fail(fmt.Errorf("joining network %s: %w", n.Name, err))
		}
	}
	if len(a.Uploads) > 0 {
		tarball, err := uploadTar(a.Uploads)
		if err != nil {
			return fail(err)
		}
		if err := c.do(ctx, http.MethodPut, "/containers/"+id+"/archive", url.Values{"path": {"/"}}, tarball, nil); err != nil {
			return fail(fmt.Errorf("uploading files: %w", err))
		}
	}
	if a.Start == nil || *a.Start {
		if err := c.do(ctx, http.MethodPost, "/containers/"+id+"/start", nil, nil, nil); err != nil {
			return fail(fmt.Errorf("starting: %w", err))
		}
		if a.MustRun == nil || *a.MustRun {
			ms := a.ContainerReadRefreshTimeoutMilliseconds
			if ms <= 0 {
				ms = 15000
			}
			if err := waitFor(ctx, c, id, time.Duration(ms)*time.Millisecond, false); err != nil {
				return fail(err)
			}
		}
		if a.Wait {
			secs := 60
			if a.WaitTimeout != nil {
				secs = *a.WaitTimeout
			}
			if err := waitFor(ctx, c, id, time.Duration(secs)*time.Second, true); err != nil {
				return fail(err)
			}
		}
	}
	ci, err := inspect(ctx, c, id)
	if err != nil {
		return id, nil, err
	}
	return id, ci.outputs(), nil
}

// waitFor polls until the container runs (healthy=false) or reports healthy (healthy=true).
func waitFor(ctx context.Context, c *client, id string, timeout time.Duration, healthy bool) error {
	deadline := time.Now().Add(timeout)
	for {
		ci, err := inspect(ctx, c, id)
		if err != nil {
			return err
		}
		st := ci.State
		switch {
		case healthy && st.Health == nil:
			return fmt.Errorf("wait is set, but the container has no health check (set healthcheck)")
		case healthy && st.Health.Status == "healthy", !healthy && st.Running:
			return nil
		case !st.Running && !st.Restarting && st.Status != "created":
			return fmt.Errorf("the container exited (code %d, status %s)", st.ExitCode, st.Status)
		}
		if time.Now().After(deadline) {
			if healthy {
				return fmt.Errorf("not healthy after %s (health: %s)", timeout, st.Health.Status)
			}
			return fmt.Errorf("not running after %s (status %s)", timeout, st.Status)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// diagnose returns the last health check output and log lines of a failed container.
func diagnose(ctx context.Context, c *client, id string) string {
	var b strings.Builder
	if ci, err := inspect(ctx, c, id); err == nil && ci.State.Health != nil && len(ci.State.Health.Log) > 0 {
		last := ci.State.Health.Log[len(ci.State.Health.Log)-1]
		fmt.Fprintf(&b, "\nlast health check (exit %d): %s", last.ExitCode, strings.TrimSpace(last.Output))
	}
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}, "tail": {"20"}}
	if resp, err := c.raw(ctx, http.MethodGet, "/containers/"+id+"/logs", q, nil); err == nil {
		logs := demux(resp.Body)
		_ = resp.Body.Close()
		if logs = strings.TrimSpace(logs); logs != "" {
			b.WriteString("\nlast log lines:\n" + logs)
		}
	}
	return b.String()
}

// demux strips the 8-byte frame headers Docker puts on non-TTY log streams.
func demux(r io.Reader) string {
	data, _ := io.ReadAll(io.LimitReader(r, 1<<20))
	var out bytes.Buffer
	for len(data) >= 8 && data[0] <= 2 && data[1] == 0 && data[2] == 0 && data[3] == 0 {
		n := int(binary.BigEndian.Uint32(data[4:8]))
		data = data[8:]
		if n > len(data) {
			n = len(data)
		}
		out.Write(data[:n])
		data = data[n:]
	}
	out.Write(data)
	return out.String()
}

// uploadTar packs the uploads, without directory entries: directories the image already has keep
// their owner and mode, missing ones are created by the daemon.
func uploadTar(ups []upload) (*bytes.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, u := range ups {
		var data []byte
		switch {
		case u.ContentBase64 != "":
			d, err := base64.StdEncoding.DecodeString(u.ContentBase64)
			if err != nil {
				return nil, fmt.Errorf("upload %s: contentBase64: %w", u.File, err)
			}
			data = d
		case u.Source != "":
			d, err := os.ReadFile(u.Source)
			if err != nil {
				return nil, fmt.Errorf("upload %s: %w", u.File, err)
			}
			data = d
		default:
			data = []byte(u.Content)
		}
		mode := int64(0o644)
		if u.Executable {
			mode = 0o744
		}
		if u.Permissions != "" {
			m, err := strconv.ParseUint(u.Permissions, 8, 32)
			if err != nil {
				return nil, fmt.Errorf("upload %s: permissions %q: %w", u.File, u.Permissions, err)
			}
			mode = int64(m)
		}
		uid, _ := strconv.Atoi(u.Owner)
		gid, _ := strconv.Atoi(u.Group)
		hdr := &tar.Header{Name: strings.TrimPrefix(u.File, "/"), Mode: mode, Size: int64(len(data)),
			Uid: uid, Gid: gid, ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return bytes.NewReader(buf.Bytes()), nil
}

// read refreshes the outputs. A container that should run but does not gets mustRun=false in
// its recorded inputs, so the next `up` sees a change and replaces it (upstream does the same).
func (containerKind) read(ctx context.Context, c *client, id string, in resource.PropertyMap) (map[string]any, bool, error) {
	ci, err := inspect(ctx, c, id)
	if err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, true, nil
		}
		return nil, false, err
	}
	var a containerArgs
	if decode(in, &a) == nil && (a.MustRun == nil || *a.MustRun) && (a.Start == nil || *a.Start) && !ci.State.Running {
		in["mustRun"] = resource.NewBoolProperty(false)
	}
	return ci.outputs(), false, nil
}

func (containerKind) update(ctx context.Context, c *client, id string, olds, news resource.PropertyMap) error {
	if len(providerkit.ChangedKeys(resourceKeys, olds, news, nil)) == 0 {
		return nil
	}
	var a containerArgs
	if err := decode(news, &a); err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, "/containers/"+pathEscape(id)+"/update", nil, a.resources(), nil)
}

func (containerKind) delete(ctx context.Context, c *client, id string, state resource.PropertyMap) error {
	var a containerArgs
	if err := decode(state, &a); err != nil {
		return err
	}
	return removeContainer(ctx, c, id, a.DestroyGraceSeconds, a.RemoveVolumes == nil || *a.RemoveVolumes)
}

// removeContainer stops (giving the process grace seconds), removes and waits until the name is
// free, so a replacement with the same name can be created right after.
func removeContainer(ctx context.Context, c *client, id string, grace int, anonVolumes bool) error {
	if grace > 0 {
		err := c.do(ctx, http.MethodPost, "/containers/"+pathEscape(id)+"/stop", url.Values{"t": {strconv.Itoa(grace)}}, nil, nil)
		if err != nil && !isStatus(err, http.StatusNotFound) && !isStatus(err, http.StatusNotModified) {
			return fmt.Errorf("stopping: %w", err)
		}
	}
	q := url.Values{"force": {"1"}, "v": {strconv.FormatBool(anonVolumes)}}
	err := c.do(ctx, http.MethodDelete, "/containers/"+pathEscape(id), q, nil, nil)
	if err != nil && !isStatus(err, http.StatusNotFound) && !isStatus(err, http.StatusConflict) {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := inspect(ctx, c, id); isStatus(err, http.StatusNotFound) {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("container %s still exists a minute after its removal", id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
