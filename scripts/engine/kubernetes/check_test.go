package main

import (
	"regexp"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

var renderCfg = config{renderDir: "/out", namespace: "default", serverSideApply: true}

func obj(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

func mustToken(t *testing.T, tok string) gvk {
	t.Helper()
	g, err := parseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCheckAutonameAndNamespace(t *testing.T) {
	g := mustToken(t, "kubernetes:core/v1:ConfigMap")
	news := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"a": "b"}})
	failures, err := checkObject(g, renderCfg, news, nil, "settings", []byte("seed"), nil)
	if err != nil || len(failures) > 0 {
		t.Fatalf("check: %v %v", failures, err)
	}
	_, _, ns, name := objectMeta(news)
	if ns != "default" || !regexp.MustCompile(`^settings-[a-z0-9]{8}$`).MatchString(name) || !isAutonamed(object(news, "metadata")) {
		t.Fatalf("autonamed object: ns=%q name=%q metadata=%v", ns, name, news["metadata"])
	}
	// Same seed, same name: the engine may check twice within one deployment.
	again := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap"})
	_, _ = checkObject(g, renderCfg, again, nil, "settings", []byte("seed"), nil)
	if _, _, _, n := objectMeta(again); n != name {
		t.Errorf("same seed gave %q then %q", name, n)
	}
	// Later deployments (new seed) keep the old name through the old inputs.
	later := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"a": "c"}})
	_, _ = checkObject(g, renderCfg, later, news, "settings", []byte("other seed"), nil)
	if _, _, _, n := objectMeta(later); n != name || !isAutonamed(object(later, "metadata")) {
		t.Errorf("later check renamed %q to %q", name, n)
	}
	// A replacement is checked without olds: fresh name.
	repl := obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap"})
	_, _ = checkObject(g, renderCfg, repl, nil, "settings", []byte("other seed"), nil)
	if _, _, _, n := objectMeta(repl); n == name {
		t.Errorf("replacement kept the name %q", n)
	}
}

func TestCheckNamedAndClusterScoped(t *testing.T) {
	news := obj(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{
		"name": "web", "uid": "x", "resourceVersion": "7", "labels": map[string]any{"a": "b"}}})
	cfg := renderCfg
	cfg.namespace = "team"
	if _, err := checkObject(mustToken(t, "kubernetes:core/v1:Namespace"), cfg, news, nil, "ns", nil, nil); err != nil {
		t.Fatal(err)
	}
	md := object(news, "metadata")
	if _, has := md["namespace"]; has || isAutonamed(md) || md["uid"].HasValue() || md["resourceVersion"].HasValue() {
		t.Errorf("namespace metadata = %v", md)
	}
	dep := obj(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "api"}})
	_, _ = checkObject(mustToken(t, "kubernetes:apps/v1:Deployment"), cfg, dep, nil, "api", nil, nil)
	if _, _, ns, name := objectMeta(dep); ns != "team" || name != "api" {
		t.Errorf("deployment ns=%q name=%q", ns, name)
	}
}

func TestCheckPreviewUnknowns(t *testing.T) {
	unknown := resource.MakeComputed(resource.NewStringProperty(""))
	// metadata.namespace from a Namespace not created yet: kept unknown, name still assigned.
	news := resource.PropertyMap{"apiVersion": resource.NewStringProperty("v1"), "kind": resource.NewStringProperty("Service"),
		"metadata": resource.NewObjectProperty(resource.PropertyMap{"namespace": unknown})}
	if _, err := checkObject(mustToken(t, "kubernetes:core/v1:Service"), renderCfg, news, nil, "svc", nil, nil); err != nil {
		t.Fatal(err)
	}
	md := object(news, "metadata")
	if !md["namespace"].IsComputed() || !md["name"].IsString() {
		t.Errorf("metadata = %v", md)
	}
	// Unknown name: no autoname. Unknown metadata: passed through untouched.
	news = resource.PropertyMap{"metadata": resource.NewObjectProperty(resource.PropertyMap{"name": unknown})}
	_, _ = checkObject(mustToken(t, "kubernetes:core/v1:Service"), renderCfg, news, nil, "svc", nil, nil)
	if md := object(news, "metadata"); !md["name"].IsComputed() || isAutonamed(md) {
		t.Errorf("unknown name: %v", md)
	}
	news = resource.PropertyMap{"metadata": unknown}
	failures, _ := checkObject(mustToken(t, "kubernetes:core/v1:Service"), renderCfg, news, nil, "svc", nil, nil)
	if !news["metadata"].IsComputed() || len(failures) > 0 {
		t.Errorf("unknown metadata: %v %v", news, failures)
	}
}

func TestCheckValidationAndOptions(t *testing.T) {
	g := mustToken(t, "kubernetes:apps/v1:Deployment")
	news := obj(map[string]any{"apiVersion": "apps/v1beta1", "kind": "Deployment", "metadata": map[string]any{"name": "x"}})
	failures, _ := checkObject(g, renderCfg, news, nil, "x", nil, nil)
	if len(failures) != 1 || failures[0].Property != "apiVersion" {
		t.Errorf("apiVersion mismatch failures = %v", failures)
	}
	// Missing apiVersion/kind are filled from the token.
	news = obj(map[string]any{"metadata": map[string]any{"name": "x"}})
	_, _ = checkObject(g, renderCfg, news, nil, "x", nil, nil)
	if v, k, _, _ := objectMeta(news); v != "apps/v1" || k != "Deployment" {
		t.Errorf("filled apiVersion/kind = %q %q", v, k)
	}
	// Stack autonaming configuration.
	news = obj(map[string]any{})
	_, _ = checkObject(g, renderCfg, news, nil, "x", nil, &pulumirpc.CheckRequest_AutonamingOptions{
		Mode: pulumirpc.CheckRequest_AutonamingOptions_ENFORCE, ProposedName: "prod-x"})
	if _, _, _, n := objectMeta(news); n != "prod-x" {
		t.Errorf("enforced autoname = %q", n)
	}
	news = obj(map[string]any{})
	failures, _ = checkObject(g, renderCfg, news, nil, "x", nil, &pulumirpc.CheckRequest_AutonamingOptions{
		Mode: pulumirpc.CheckRequest_AutonamingOptions_DISABLE})
	if len(failures) != 1 || failures[0].Property != "metadata.name" {
		t.Errorf("disabled autonaming failures = %v", failures)
	}
	// Client-side apply labels new objects, and keeps the label on later checks.
	csa := renderCfg
	csa.serverSideApply = false
	news = obj(map[string]any{"metadata": map[string]any{"name": "x"}})
	_, _ = checkObject(g, csa, news, nil, "x", nil, nil)
	later := obj(map[string]any{"metadata": map[string]any{"name": "x"}})
	_, _ = checkObject(g, renderCfg, later, news, "x", nil, nil)
	if v, _ := known(object(object(later, "metadata"), "labels"), managedByLabel); v != "pulumi" {
		t.Errorf("managed-by label not kept: %v", later["metadata"])
	}
	// A managed-by label the program sets itself is the program's: never rewritten to "pulumi".
	own := obj(map[string]any{"metadata": map[string]any{"name": "x", "labels": map[string]any{managedByLabel: "fjord"}}})
	_, _ = checkObject(g, csa, own, nil, "x", nil, nil)
	ownLater := obj(map[string]any{"metadata": map[string]any{"name": "x", "labels": map[string]any{managedByLabel: "fjord"}}})
	_, _ = checkObject(g, renderCfg, ownLater, obj(map[string]any{"metadata": map[string]any{"name": "x",
		"labels": map[string]any{managedByLabel: "fjord"}}}), "x", nil, nil)
	if v, _ := known(object(object(ownLater, "metadata"), "labels"), managedByLabel); v != "fjord" {
		t.Errorf("program's managed-by label rewritten to %q", v)
	}
	// Secret metadata stays secret after amendment.
	news = resource.PropertyMap{"metadata": resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{
		"name": resource.NewStringProperty("s")}))}
	_, _ = checkObject(g, renderCfg, news, nil, "x", nil, nil)
	if !news["metadata"].IsSecret() {
		t.Errorf("metadata lost its secretness: %v", news["metadata"])
	}
	if _, _, ns, _ := objectMeta(news); ns != "default" {
		t.Errorf("secret metadata namespace = %q", ns)
	}
}
