package main

import (
	"context"
	"fjord.local/engine/kittest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"gopkg.in/yaml.v3"
)

const urnPrefix = "urn:pulumi:dev::fjord::"

var marshal = kittest.Marshal

func configured(t *testing.T, vars map[string]string) *provider {
	t.Helper()
	p := newProvider()
	full := map[string]string{}
	for k, v := range vars {
		full["kubernetes:config:"+k] = v
	}
	resp, err := p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Variables: full})
	if err != nil || !resp.GetSupportsPreview() || !resp.GetAcceptSecrets() {
		t.Fatalf("Configure: %v %v", resp, err)
	}
	return p
}

// lifecycle runs Check and Create the way the engine does and returns the ID and the state.
func create(t *testing.T, p *provider, typ, name string, news resource.PropertyMap) (string, resource.PropertyMap) {
	t.Helper()
	ctx := context.Background()
	urn := urnPrefix + typ + "::" + name
	chk, err := p.Check(ctx, &pulumirpc.CheckRequest{Urn: urn, Type: typ, News: marshal(t, news), RandomSeed: []byte(name)})
	if err != nil || len(chk.GetFailures()) > 0 {
		t.Fatalf("Check: %v %v", chk.GetFailures(), err)
	}
	cr, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: urn, Type: typ, Properties: chk.GetInputs()})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	state, err := unmarshal(cr.GetProperties())
	if err != nil {
		t.Fatal(err)
	}
	return cr.GetId(), state
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRenderLifecycle(t *testing.T) {
	dir := t.TempDir()
	p := configured(t, map[string]string{"renderYamlToDirectory": dir})
	ctx := context.Background()

	id, state := create(t, p, "kubernetes:apps/v1:Deployment", "api", obj(map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"namespace": "web"},
		"spec": map[string]any{"replicas": 3, "template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "api", "image": "api:1", "args": []any{"--port", "8080"}}}}}}}))
	_, _, ns, name := objectMeta(state)
	if ns != "web" || !strings.HasPrefix(name, "api-") || id != "web/"+name {
		t.Fatalf("id %q, object %s/%s", id, ns, name)
	}
	path := filepath.Join(dir, "1-manifest", "apps_v1-deployment-web-"+name+".yaml")
	m := readYAML(t, path)
	spec := m["spec"].(map[string]any)
	if spec["replicas"] != 3 || m["metadata"].(map[string]any)["annotations"].(map[string]any)[autonamedAnnotation] != "true" {
		t.Errorf("manifest = %v", m)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), "3.0") || strings.Contains(string(b), "__inputs") {
		t.Errorf("manifest text:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode %v", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dir, "0-crd")); err != nil {
		t.Errorf("0-crd not created: %v", err)
	}
	if in := object(state, inputsKey); in == nil || stringOr(state, initialAPIVersionKey) != "apps/v1" ||
		!strings.HasPrefix(stringOr(state, fieldManagerKey), "pulumi-kubernetes-") {
		t.Errorf("checkpoint bookkeeping: %v", state)
	}

	// Update: same file, new content; the state keeps the field manager.
	_, oldIn := splitState(state)
	newIn := oldIn.Copy()
	newIn["spec"] = resource.NewObjectProperty(obj(map[string]any{"replicas": 5}))
	up, err := p.Update(ctx, &pulumirpc.UpdateRequest{Urn: urnPrefix + "x::api", Type: "kubernetes:apps/v1:Deployment",
		Olds: marshal(t, state), News: marshal(t, newIn), OldInputs: marshal(t, oldIn)})
	if err != nil {
		t.Fatal(err)
	}
	upState, _ := unmarshal(up.GetProperties())
	if readYAML(t, path)["spec"].(map[string]any)["replicas"] != 5 || stringOr(upState, fieldManagerKey) != stringOr(state, fieldManagerKey) {
		t.Errorf("after update: %v", upState)
	}

	// Read (refresh) returns the state; Delete removes the file, twice is fine.
	rd, err := p.Read(ctx, &pulumirpc.ReadRequest{Id: id, Type: "kubernetes:apps/v1:Deployment", Properties: up.GetProperties()})
	if err != nil || rd.GetId() != id || len(rd.GetInputs().GetFields()) == 0 {
		t.Errorf("Read: %v %v", rd, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := p.Delete(ctx, &pulumirpc.DeleteRequest{Id: id, Type: "kubernetes:apps/v1:Deployment", Properties: up.GetProperties()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("manifest still there: %v", err)
	}
}

func TestRenderSecretsAndClusterScoped(t *testing.T) {
	dir := t.TempDir()
	p := configured(t, map[string]string{"renderYamlToDirectory": dir})
	_, state := create(t, p, "kubernetes:core/v1:Secret", "db", resource.PropertyMap{
		"apiVersion": resource.NewStringProperty("v1"), "kind": resource.NewStringProperty("Secret"),
		"metadata":   resource.NewObjectProperty(obj(map[string]any{"name": "db", "namespace": "web"})),
		"stringData": resource.NewObjectProperty(resource.PropertyMap{"password": resource.MakeSecret(resource.NewStringProperty("hunter2"))}),
		"data":       resource.NewObjectProperty(obj(map[string]any{"user": "YWRtaW4="}))})
	if !state["data"].IsSecret() || !state["stringData"].IsSecret() || !object(state, inputsKey)["data"].IsSecret() {
		t.Errorf("secret payload not secret in state: %v", state)
	}
	m := readYAML(t, filepath.Join(dir, "1-manifest", "v1-secret-web-db.yaml"))
	if m["stringData"].(map[string]any)["password"] != "hunter2" {
		t.Errorf("render mode writes Secret data in plain text (documented upstream): %v", m)
	}
	// A Namespace has no namespace; its file is still named "-default-" like upstream's.
	id, state := create(t, p, "kubernetes:core/v1:Namespace", "ns", obj(map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "web"}}))
	if id != "web" || object(state, "metadata")["namespace"].HasValue() {
		t.Errorf("namespace id %q state %v", id, state)
	}
	if _, err := os.Stat(filepath.Join(dir, "1-manifest", "v1-namespace-default-web.yaml")); err != nil {
		t.Error(err)
	}
	create(t, p, "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "crd", obj(map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]any{"name": "crontabs.example.com"}}))
	if _, err := os.Stat(filepath.Join(dir, "0-crd", "apiextensions.k8s.io_v1-customresourcedefinition-default-crontabs.example.com.yaml")); err != nil {
		t.Error(err)
	}
}

func TestPreviewAndLiveCluster(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := configured(t, map[string]string{"renderYamlToDirectory": dir})
	props := marshal(t, resource.PropertyMap{"apiVersion": resource.NewStringProperty("v1"), "kind": resource.NewStringProperty("ConfigMap"),
		"metadata": resource.NewObjectProperty(resource.PropertyMap{"name": resource.NewStringProperty("c"),
			"namespace": resource.MakeComputed(resource.NewStringProperty(""))})})
	cr, err := p.Create(ctx, &pulumirpc.CreateRequest{Type: "kubernetes:core/v1:ConfigMap", Properties: props, Preview: true})
	if err != nil || cr.GetId() != "" {
		t.Fatalf("preview create: %v %v", cr, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("preview wrote files: %v", entries)
	}

	live := configured(t, map[string]string{"kubeconfig": kubeconfigYAML("https://127.0.0.1:1", "")})
	if _, err := live.Create(ctx, &pulumirpc.CreateRequest{Type: "kubernetes:core/v1:ConfigMap", Properties: props, Preview: true}); err != nil {
		t.Errorf("live preview create: %v", err)
	}
	if _, err := live.Update(ctx, &pulumirpc.UpdateRequest{Type: "kubernetes:core/v1:ConfigMap", News: props, Preview: true}); err != nil {
		t.Errorf("live preview update: %v", err)
	}
	_, err = live.Create(ctx, &pulumirpc.CreateRequest{Type: "kubernetes:core/v1:ConfigMap", Properties: props})
	if err == nil || !strings.Contains(err.Error(), "only renders manifests") || !strings.Contains(err.Error(), "pulumi plugin install resource kubernetes") {
		t.Errorf("live create error = %v", err)
	}
	if _, err := live.Delete(ctx, &pulumirpc.DeleteRequest{Type: "kubernetes:core/v1:ConfigMap", Properties: props}); err == nil {
		t.Error("live delete must fail")
	}
	if _, err := live.Update(ctx, &pulumirpc.UpdateRequest{Type: "kubernetes:core/v1:ConfigMap", News: props}); err == nil {
		t.Error("live update must fail")
	}
	if _, err := live.Invoke(ctx, &pulumirpc.InvokeRequest{Tok: "kubernetes:yaml:decode"}); err == nil ||
		!strings.Contains(err.Error(), "not supported offline") {
		t.Errorf("invoke error = %v", err)
	}
	chk, err := p.CheckConfig(ctx, &pulumirpc.CheckRequest{News: marshal(t, obj(map[string]any{
		"renderYamlToDirectory": dir, "kubeconfig": "x"}))})
	if err != nil || len(chk.GetFailures()) != 1 || chk.GetFailures()[0].GetProperty() != "kubeconfig" {
		t.Errorf("CheckConfig render+kubeconfig: %v %v", chk.GetFailures(), err)
	}
}

func TestManifestYAML(t *testing.T) {
	b, err := manifestYAML(obj(map[string]any{"kind": "ConfigMap", "apiVersion": "v1",
		"data": map[string]any{"script": "line1\nline2\n", "flag": "yes", "port": "8080", "ratio": 0.5}}))
	if err != nil {
		t.Fatal(err)
	}
	want := "apiVersion: v1\ndata:\n  flag: \"yes\"\n  port: \"8080\"\n  ratio: 0.5\n  script: |\n    line1\n    line2\nkind: ConfigMap\n"
	if string(b) != want {
		t.Errorf("manifest:\n%s\nwant:\n%s", b, want)
	}
	long := strings.Repeat("word ", 40) + "end"
	if b, _ := manifestYAML(obj(map[string]any{"a": long})); string(b) != "a: "+long+"\n" {
		t.Errorf("long strings must stay on one line, got:\n%s", b)
	}
	if _, err := manifestYAML(resource.PropertyMap{"x": resource.MakeComputed(resource.NewStringProperty(""))}); err == nil {
		t.Error("an unknown value must not be rendered")
	}
}
