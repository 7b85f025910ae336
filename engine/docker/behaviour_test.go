package main

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const ctrType = "docker:index/container:Container"

func TestCheckRejectsWhatIsNotImplemented(t *testing.T) {
	p := newProvider()
	in := fjordContainer()
	in["attach"] = resource.NewBoolProperty(true)
	in["tty"] = resource.NewBoolProperty(false)
	in["gpus"] = resource.NewStringProperty("all")
	in["networksAdvanced"] = resource.NewPropertyValue([]any{map[string]any{"name": "back", "driverOpts": []any{"a=b"}}})
	resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Type: ctrType, News: props(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range resp.Failures {
		got = append(got, f.Property+": "+f.Reason)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"attach: Container.attach is not implemented", "gpus: Container.gpus", "networksAdvanced[].driverOpts"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing failure %q in:\n%s", want, all)
		}
	}
	if len(got) != 3 {
		t.Errorf("want 3 failures (tty=false is fine), got:\n%s", all)
	}

	ok, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Type: ctrType, News: props(t, fjordContainer())})
	if err != nil || len(ok.Failures) != 0 {
		t.Fatalf("fjord's container is rejected: %v %v", err, ok.GetFailures())
	}
	// Previews carry unknowns: no false failures for them.
	pre := fjordContainer()
	pre["image"] = resource.MakeComputed(resource.NewStringProperty(""))
	pre["uploads"] = resource.NewPropertyValue([]any{map[string]any{"file": "/a", "content": resource.MakeComputed(resource.NewStringProperty(""))}})
	if r, _ := p.Check(context.Background(), &pulumirpc.CheckRequest{Type: ctrType, News: props(t, pre)}); len(r.Failures) != 0 {
		t.Errorf("unknown inputs fail Check: %v", r.Failures)
	}
	if _, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Type: "docker:index/service:Service"}); err == nil ||
		!strings.Contains(err.Error(), "not implemented") {
		t.Errorf("unsupported type: %v", err)
	}
}

func TestCheckAutonames(t *testing.T) {
	p := newProvider()
	req := &pulumirpc.CheckRequest{Type: "docker:index/network:Network", Name: "net", Urn: "urn:x", RandomSeed: []byte{1},
		News: props(t, resource.PropertyMap{})}
	r, _ := p.Check(context.Background(), req)
	name := unprops(t, r.Inputs)["name"].StringValue()
	if !strings.HasPrefix(name, "net-") || len(name) != 11 {
		t.Errorf("autoname %q", name)
	}
	req.Olds = props(t, resource.PropertyMap{"name": resource.NewStringProperty("net-kept")})
	r, _ = p.Check(context.Background(), req)
	if n := unprops(t, r.Inputs)["name"].StringValue(); n != "net-kept" {
		t.Errorf("autoname not kept across updates: %q", n)
	}
}

func diff(t *testing.T, typ string, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	t.Helper()
	r, err := newProvider().Diff(context.Background(), &pulumirpc.DiffRequest{Type: typ, OldInputs: props(t, olds), News: props(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDiff(t *testing.T) {
	base := fjordContainer()
	if r := diff(t, ctrType, base, fjordContainer()); r.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("same inputs: %v", r)
	}
	n := fjordContainer()
	n["restart"] = resource.NewStringProperty("always")
	n["memory"] = resource.NewNumberProperty(128)
	n["destroyGraceSeconds"] = resource.NewNumberProperty(5)
	if r := diff(t, ctrType, base, n); r.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(r.Replaces) != 0 {
		t.Errorf("limits must update in place: %v", r)
	}
	n = fjordContainer()
	delete(n, "memoryReservation")
	if r := diff(t, ctrType, base, n); strings.Join(r.Replaces, ",") != "memoryReservation" {
		t.Errorf("lifting a limit must replace: %v", r)
	}
	n = fjordContainer()
	n["image"] = resource.NewStringProperty("sha256:def")
	r := diff(t, ctrType, base, n)
	if strings.Join(r.Replaces, ",") != "image" || !r.DeleteBeforeReplace {
		t.Errorf("new image: replace, old one first (same name): %v", r)
	}
	n["envs"] = resource.MakeComputed(resource.NewStringProperty(""))
	if r := diff(t, ctrType, base, n); len(r.Replaces) != 2 {
		t.Errorf("unknown envs must count as a change: %v", r)
	}
	img := resource.NewPropertyMapFromMap(map[string]any{"name": "x:1", "keepLocally": true})
	img2 := resource.NewPropertyMapFromMap(map[string]any{"name": "x:1", "keepLocally": false})
	if r := diff(t, "docker:index/remoteImage:RemoteImage", img, img2); r.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(r.Replaces) != 0 {
		t.Errorf("keepLocally is in place: %v", r)
	}
}

func TestNoDaemonIsOneClearLine(t *testing.T) {
	p := newProvider()
	host := "unix://" + t.TempDir() + "/nothing.sock"
	p.host = host
	_, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: "docker:index/volume:Volume",
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"name": "v"}))})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "fjord: no Docker daemon at "+host+": ") ||
		!strings.HasSuffix(msg, "; start Docker or set fjord:docker.host / DOCKER_HOST") || strings.Contains(msg, "\n") {
		t.Errorf("message: %s", msg)
	}
	// Check, Diff and preview creates never need the daemon.
	pr, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: ctrType, Preview: true, Properties: props(t, fjordContainer())})
	if err != nil {
		t.Fatal(err)
	}
	if out := unprops(t, pr.Properties); !out["networkDatas"].IsComputed() || out["name"].StringValue() != "web" {
		t.Errorf("preview outputs: %v", out)
	}
}

func TestRemoteImage(t *testing.T) {
	f := newFake(t)
	f.on("GET /images/fjord/nginx:1/json", 200, `{"Id":"sha256:n1","RepoDigests":[]}`)
	f.on("POST /images/create", 200, `{"status":"Pulling"}`+"\n"+`{"error":"pull access denied for nope"}`)
	p := f.provider(t)
	typ := "docker:index/remoteImage:RemoteImage"
	r, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: typ,
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"name": "fjord/nginx:1", "keepLocally": true}))})
	if err != nil {
		t.Fatal(err)
	}
	if out := unprops(t, r.Properties); out["imageId"].StringValue() != "sha256:n1" || r.Id != "sha256:n1fjord/nginx:1" {
		t.Errorf("outputs %v id %s", out, r.Id)
	}
	if len(f.find("POST", "/images/create")) != 0 {
		t.Error("a local image must not be pulled")
	}
	_, err = p.Create(context.Background(), &pulumirpc.CreateRequest{Type: typ,
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"name": "nope:1"}))})
	if err == nil || !strings.Contains(err.Error(), "image nope:1 is not in the local Docker and could not be pulled: pull access denied for nope; build it with images/build.sh or docker load") {
		t.Errorf("missing image: %v", err)
	}
	// keepLocally: destroy leaves the image alone.
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Type: typ, Id: r.Id, Properties: r.Properties}); err != nil {
		t.Fatal(err)
	}
	if len(f.find("DELETE", "/images/fjord/nginx:1")) != 0 {
		t.Error("keepLocally image was removed")
	}
}

func TestContainerDeleteAndFailedWait(t *testing.T) {
	f := newFake(t)
	f.on("POST /containers/c1/stop", 304, ``)
	f.removable("c1")
	p := f.provider(t)
	state := props(t, fjordContainer())
	if _, err := p.Delete(context.Background(), &pulumirpc.DeleteRequest{Type: ctrType, Id: "c1", Properties: state}); err != nil {
		t.Fatal(err)
	}
	if s := f.find("POST", "/containers/c1/stop"); len(s) != 1 || s[0].Query != "t=30" {
		t.Errorf("stop: %+v", s)
	}
	if d := f.find("DELETE", "/containers/c1"); len(d) != 1 || d[0].Query != "force=1&v=true" {
		t.Errorf("delete: %+v", d)
	}

	// A container that never gets healthy is removed again, and the error says why.
	f.on("GET /images/sha256:abc/json", 200, `{"Id":"sha256:abc"}`)
	f.on("POST /containers/create", 201, `{"Id":"c2"}`)
	f.on("POST /networks/back/connect", 200, ``)
	f.on("PUT /containers/c2/archive", 200, ``)
	f.on("POST /containers/c2/start", 204, ``)
	f.on("GET /containers/c2/json", 200, `{"Id":"c2","State":{"Status":"running","Running":true,
		"Health":{"Status":"unhealthy","Log":[{"ExitCode":1,"Output":"connection refused"}]}}}`)
	f.on("GET /containers/c2/logs", 200, "\x02\x00\x00\x00\x00\x00\x00\x0cfatal: boom\n")
	f.removable("c2")
	in := fjordContainer()
	in["waitTimeout"] = resource.NewNumberProperty(1)
	_, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: ctrType, Properties: props(t, in)})
	if err == nil {
		t.Fatal("unhealthy container created")
	}
	for _, want := range []string{"not healthy after 1s", "connection refused", "fatal: boom", "removed again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if len(f.find("DELETE", "/containers/c2")) != 1 {
		t.Error("failed container was not removed")
	}
}

func TestNetworkAndVolume(t *testing.T) {
	f := newFake(t)
	f.on("POST /networks/create", 201, `{"Id":"n1"}`)
	f.on("GET /networks/n1", 200, `{"Id":"n1","Name":"front","Driver":"bridge","Scope":"local","IPAM":{"Driver":"default","Config":[{"Subnet":"172.20.0.0/16","Gateway":"172.20.0.1"}]}}`)
	f.on("POST /volumes/create", 201, `{"Name":"data","Driver":"local","Mountpoint":"/var/lib/docker/volumes/data/_data"}`)
	p := f.provider(t)
	r, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: "docker:index/network:Network",
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"name": "front", "driver": "bridge", "internal": true,
			"labels": []any{map[string]any{"label": "fjord.role", "value": "network"}}}))})
	if err != nil {
		t.Fatal(err)
	}
	b := jsonBody(t, f.find("POST", "/networks/create")[0])
	if b["Name"] != "front" || b["Internal"] != true || get(b, "Labels", "fjord.role") != "network" || r.Id != "n1" {
		t.Errorf("network create %v id %s", b, r.Id)
	}
	if out := unprops(t, r.Properties); out["scope"].StringValue() != "local" ||
		out["ipamConfigs"].ArrayValue()[0].ObjectValue()["subnet"].StringValue() != "172.20.0.0/16" {
		t.Errorf("network outputs %v", out)
	}
	v, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: "docker:index/volume:Volume",
		Properties: props(t, resource.NewPropertyMapFromMap(map[string]any{"name": "data", "driverOpts": map[string]any{"o": "x"}}))})
	if err != nil {
		t.Fatal(err)
	}
	vb := jsonBody(t, f.find("POST", "/volumes/create")[0])
	if v.Id != "data" || get(vb, "DriverOpts", "o") != "x" || unprops(t, v.Properties)["mountpoint"].StringValue() == "" {
		t.Errorf("volume %s %v", v.Id, vb)
	}
	// Gone on the daemon: Read drops it from the state.
	rr, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Type: "docker:index/volume:Volume", Id: "zzz", Properties: v.Properties, Inputs: v.Properties})
	if err != nil || rr.Id != "" {
		t.Errorf("read of a missing volume: %v %v", rr, err)
	}
}
