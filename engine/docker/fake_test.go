package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

// call is one request the fake Engine API received.
type call struct {
	Method, Path, Query string
	Body                []byte
}

// fakeDocker is an Engine API on a unix socket that answers from a route table and records calls.
type fakeDocker struct {
	mu     sync.Mutex
	calls  []call
	routes map[string]func(w http.ResponseWriter, body []byte)
	host   string
}

func newFake(t *testing.T) *fakeDocker {
	t.Helper()
	f := &fakeDocker{routes: map[string]func(http.ResponseWriter, []byte){}}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: http.HandlerFunc(f.serve)}}
	srv.Start()
	t.Cleanup(srv.Close)
	f.host = "unix://" + sock
	f.on("GET /_ping", 200, "OK")
	return f
}

func (f *fakeDocker) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.calls = append(f.calls, call{r.Method, r.URL.Path, r.URL.RawQuery, body})
	h := f.routes[key]
	f.mu.Unlock()
	if h == nil {
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"message":"no such object: `+key+`"}`)
		return
	}
	h(w, body)
}

// on answers METHOD /path with a status and a JSON (or plain) body.
func (f *fakeDocker) on(route string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[route] = func(w http.ResponseWriter, _ []byte) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// removable makes DELETE /containers/ID succeed and the container's inspect answer 404 after.
func (f *fakeDocker) removable(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes["DELETE /containers/"+id] = func(w http.ResponseWriter, _ []byte) {
		f.mu.Lock() // handlers run unlocked (serve releases f.mu first)
		delete(f.routes, "GET /containers/"+id+"/json")
		f.mu.Unlock()
		w.WriteHeader(204)
	}
}

func (f *fakeDocker) find(method, path string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Method == method && c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeDocker) provider(t *testing.T) *provider {
	t.Helper()
	p := newProvider()
	args, _ := structpb.NewStruct(map[string]any{"host": f.host})
	if _, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args}); err != nil {
		t.Fatal(err)
	}
	return p
}

func props(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := providerkit.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func unprops(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := providerkit.Unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func jsonBody(t *testing.T, c call) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Body, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", c.Method, c.Path, err)
	}
	return m
}

// get walks a decoded JSON value: get(m, "HostConfig", "Memory").
func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

const runningHealthy = `{"Id":"c1","Name":"/web","State":{"Status":"running","Running":true,"Health":{"Status":"healthy"}},
 "Config":{"Hostname":"web"},"HostConfig":{"IpcMode":"private","ShmSize":67108864,"LogConfig":{"Type":"json-file"}},
 "NetworkSettings":{"Networks":{"front":{"IPAddress":"172.20.0.2","IPPrefixLen":16,"Gateway":"172.20.0.1"},
 "back":{"IPAddress":"172.21.0.2","IPPrefixLen":16}}}}`

// fjordContainer is what components/docker/container.ts sends for a database-like container.
func fjordContainer() resource.PropertyMap {
	return resource.NewPropertyMapFromMap(map[string]any{
		"name": "web", "image": "sha256:abc", "hostname": "web",
		"labels":           []any{map[string]any{"label": "fjord.stack", "value": "dev"}},
		"networkMode":      "front",
		"networksAdvanced": []any{map[string]any{"name": "back", "aliases": []any{"svc"}}},
		"ports":            []any{map[string]any{"internal": 8080, "external": 18080, "ip": "127.0.0.1", "protocol": "tcp"}},
		"memory":           64, "memorySwap": 64, "memoryReservation": 32, "cpus": "0.5",
		"restart": "unless-stopped", "logDriver": "json-file", "logOpts": map[string]any{"max-size": "10m"},
		"securityOpts": []any{"no-new-privileges:true"},
		"capabilities": map[string]any{"drops": []any{"ALL"}, "adds": []any{"NET_BIND_SERVICE"}},
		"user":         "10001:10001", "readOnly": false,
		"tmpfs": map[string]any{"/tmp": "rw,size=64m"},
		"uploads": []any{map[string]any{"file": "/etc/fjord/app.conf", "content": "x=1\n", "permissions": "0440",
			"owner": "10001", "group": "10001"}},
		"volumes":             []any{map[string]any{"containerPath": "/data", "volumeName": "web-data"}},
		"healthcheck":         map[string]any{"tests": []any{"CMD", "true"}, "interval": "5s", "timeout": "5s", "startPeriod": "1s", "retries": 6},
		"destroyGraceSeconds": 30, "wait": true, "waitTimeout": 10,
		"command": []any{"--flag"},
	})
}

func TestContainerCreateRequests(t *testing.T) {
	f := newFake(t)
	f.on("GET /images/sha256:abc/json", 200, `{"Id":"sha256:abc"}`)
	f.on("POST /containers/create", 201, `{"Id":"c1"}`)
	f.on("POST /networks/back/connect", 200, ``)
	f.on("PUT /containers/c1/archive", 200, ``)
	f.on("POST /containers/c1/start", 204, ``)
	f.on("GET /containers/c1/json", 200, runningHealthy)
	p := f.provider(t)

	in := fjordContainer()
	in["envs"] = resource.MakeSecret(resource.NewPropertyValue([]any{"A=1", "PASSWORD=hunter2"}))
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Type: "docker:index/container:Container", Properties: props(t, in)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Id != "c1" {
		t.Fatalf("id %q", resp.Id)
	}
	creates := f.find("POST", "/containers/create")
	if len(creates) != 1 || creates[0].Query != "name=web" {
		t.Fatalf("create calls: %+v", creates)
	}
	b := jsonBody(t, creates[0])
	checks := map[string][2]any{
		"memory":      {get(b, "HostConfig", "Memory"), float64(64 * mb)},
		"swap":        {get(b, "HostConfig", "MemorySwap"), float64(64 * mb)},
		"reservation": {get(b, "HostConfig", "MemoryReservation"), float64(32 * mb)},
		"cpus":        {get(b, "HostConfig", "NanoCpus"), float64(5e8)},
		"restart":     {get(b, "HostConfig", "RestartPolicy", "Name"), "unless-stopped"},
		"netmode":     {get(b, "HostConfig", "NetworkMode"), "front"},
		"readonly":    {get(b, "HostConfig", "ReadonlyRootfs"), false},
		"log":         {get(b, "HostConfig", "LogConfig", "Config", "max-size"), "10m"},
		"tmpfs":       {get(b, "HostConfig", "Tmpfs", "/tmp"), "rw,size=64m"},
		"interval":    {get(b, "Healthcheck", "Interval"), float64(5e9)},
		"retries":     {get(b, "Healthcheck", "Retries"), float64(6)},
		"user":        {get(b, "User"), "10001:10001"},
		"label":       {get(b, "Labels", "fjord.stack"), "dev"},
		"hostip":      {get(b, "HostConfig", "PortBindings", "8080/tcp").([]any)[0].(map[string]any)["HostIp"], "127.0.0.1"},
		"hostport":    {get(b, "HostConfig", "PortBindings", "8080/tcp").([]any)[0].(map[string]any)["HostPort"], "18080"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: got %#v, want %#v", what, c[0], c[1])
		}
	}
	for what, c := range map[string][2]string{
		"binds": {mustJSON(get(b, "HostConfig", "Binds")), `["web-data:/data"]`},
		"env":   {mustJSON(get(b, "Env")), `["A=1","PASSWORD=hunter2"]`},
		"cmd":   {mustJSON(get(b, "Cmd")), `["--flag"]`},
		"caps":  {mustJSON(get(b, "HostConfig", "CapDrop")) + mustJSON(get(b, "HostConfig", "CapAdd")), `["ALL"]["NET_BIND_SERVICE"]`},
		"eps":   {mustJSON(get(b, "NetworkingConfig", "EndpointsConfig")), `{"front":{}}`},
	} {
		if c[0] != c[1] {
			t.Errorf("%s: got %s, want %s", what, c[0], c[1])
		}
	}
	conn := f.find("POST", "/networks/back/connect")
	if len(conn) != 1 || mustJSON(jsonBody(t, conn[0])) != `{"Container":"c1","EndpointConfig":{"Aliases":["svc"]}}` {
		t.Errorf("connect: %+v", conn)
	}
	// The upload goes in before the start, as one tar with the mode and owner asked for.
	var order []string
	for _, c := range f.calls {
		order = append(order, c.Method+" "+c.Path)
	}
	joined := strings.Join(order, ",")
	if !strings.Contains(joined, "PUT /containers/c1/archive,POST /containers/c1/start") {
		t.Errorf("upload must precede start: %s", joined)
	}
	arch := f.find("PUT", "/containers/c1/archive")
	if arch[0].Query != "path=%2F" {
		t.Errorf("archive query %q", arch[0].Query)
	}
	tr := tar.NewReader(bytes.NewReader(arch[0].Body))
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(tr)
	if h.Name != "etc/fjord/app.conf" || h.Mode != 0o440 || h.Uid != 10001 || h.Gid != 10001 || string(data) != "x=1\n" {
		t.Errorf("tar entry %s mode %o uid %d gid %d data %q", h.Name, h.Mode, h.Uid, h.Gid, data)
	}
	out := unprops(t, resp.Properties)
	if !out["envs"].IsSecret() {
		t.Errorf("envs lost its secretness: %v", out["envs"])
	}
	nd := out["networkDatas"].ArrayValue()
	if len(nd) != 2 || nd[1].ObjectValue()["ipAddress"].StringValue() != "172.20.0.2" {
		t.Errorf("networkDatas: %v", nd)
	}
	if out["shmSize"].NumberValue() != 64 || out["logDriver"].StringValue() != "json-file" {
		t.Errorf("computed outputs: %v", out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
