package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func kubeconfigYAML(server, namespace string) string {
	return `apiVersion: v1
kind: Config
current-context: main
contexts:
- name: main
  context: {cluster: c1, user: u, namespace: "` + namespace + `"}
- name: other
  context: {cluster: c2, user: u}
clusters:
- name: c1
  cluster: {server: "` + server + `", certificate-authority-data: Zm9v}
- name: c2
  cluster: {server: "https://other:6443"}
users:
- name: u
  user: {token: t}
`
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfig(t *testing.T) {
	noHome := env(map[string]string{"HOME": t.TempDir()})
	c := parseConfig(map[string]string{"renderYamlToDirectory": "/out", "enableServerSideApply": "false"}, noHome)
	if !c.render() || c.renderDir != "/out" || c.serverSideApply || c.namespace != "default" ||
		c.configMapMutable || c.secretMutable {
		t.Errorf("render config = %+v", c)
	}
	// Defaults: server-side apply on; env vars count when the provider leaves a flag unset.
	c = parseConfig(nil, env(map[string]string{"HOME": t.TempDir(), "PULUMI_K8S_ENABLE_CONFIGMAP_MUTABLE": "true"}))
	if c.render() || !c.serverSideApply || !c.configMapMutable {
		t.Errorf("default config = %+v", c)
	}
	c = parseConfig(map[string]string{"enableConfigMapMutable": "false"},
		env(map[string]string{"PULUMI_K8S_ENABLE_CONFIGMAP_MUTABLE": "true"}))
	if c.configMapMutable {
		t.Errorf("provider input must win over the env var")
	}
	// Namespace: provider input, else the kubeconfig's context (contents or a path), else default.
	kc := kubeconfigYAML("https://a:6443", "team")
	if c := parseConfig(map[string]string{"kubeconfig": kc}, noHome); c.namespace != "team" {
		t.Errorf("namespace from kubeconfig contents = %q", c.namespace)
	}
	if c := parseConfig(map[string]string{"kubeconfig": kc, "namespace": "ops"}, noHome); c.namespace != "ops" {
		t.Errorf("namespace input = %q", c.namespace)
	}
	if c := parseConfig(map[string]string{"kubeconfig": kc, "context": "other"}, noHome); c.namespace != "default" {
		t.Errorf("namespace of a context without one = %q", c.namespace)
	}
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	if c := parseConfig(map[string]string{"kubeconfig": path}, noHome); c.namespace != "team" {
		t.Errorf("namespace from kubeconfig path = %q", c.namespace)
	}
	if c := parseConfig(nil, env(map[string]string{"KUBECONFIG": "/nonexistent:" + path})); c.namespace != "team" {
		t.Errorf("namespace from ambient $KUBECONFIG = %q", c.namespace)
	}
	if c := parseConfig(map[string]string{"kubeconfig": "not: [valid"}, noHome); c.namespace != "default" {
		t.Errorf("a broken kubeconfig must not matter offline, namespace = %q", c.namespace)
	}
}

func TestConfigVars(t *testing.T) {
	req := &pulumirpc.ConfigureRequest{Variables: map[string]string{
		"kubernetes:config:renderYamlToDirectory": "/out", "kubernetes:config:enableServerSideApply": "true"}}
	if got := configVars(req); !reflect.DeepEqual(got, map[string]string{"renderYamlToDirectory": "/out", "enableServerSideApply": "true"}) {
		t.Errorf("configVars = %v", got)
	}
}

func TestDiffConfig(t *testing.T) {
	e := env(map[string]string{"HOME": t.TempDir()})
	a, b := kubeconfigYAML("https://a:6443", ""), kubeconfigYAML("https://b:6443", "")
	unknown := resource.MakeComputed(resource.NewStringProperty(""))
	str := resource.NewStringProperty
	cases := []struct {
		name           string
		olds, news     resource.PropertyMap
		diffs, replace []string
	}{
		{"no change", resource.PropertyMap{"kubeconfig": str(a)}, resource.PropertyMap{"kubeconfig": str(a)}, nil, nil},
		{"unknown kubeconfig", resource.PropertyMap{"kubeconfig": str(a)}, resource.PropertyMap{"kubeconfig": unknown},
			[]string{"kubeconfig"}, []string{"kubeconfig"}},
		{"other cluster", resource.PropertyMap{"kubeconfig": str(a)}, resource.PropertyMap{"kubeconfig": str(b)},
			[]string{"kubeconfig"}, []string{"kubeconfig"}},
		{"same cluster, other namespace", resource.PropertyMap{"kubeconfig": str(a)},
			resource.PropertyMap{"kubeconfig": str(kubeconfigYAML("https://a:6443", "x"))}, []string{"kubeconfig"}, nil},
		{"ambient to explicit", resource.PropertyMap{}, resource.PropertyMap{"kubeconfig": str(a)}, []string{"kubeconfig"}, nil},
		{"context to another cluster", resource.PropertyMap{"kubeconfig": str(a), "context": str("main")},
			resource.PropertyMap{"kubeconfig": str(a), "context": str("other")}, []string{"context"}, []string{"context"}},
		{"context to nowhere", resource.PropertyMap{"kubeconfig": str(a), "context": str("main")},
			resource.PropertyMap{"kubeconfig": str(a), "context": str("nope")}, []string{"context"}, nil},
		{"identifier kept", resource.PropertyMap{"kubeconfig": str(a), "clusterIdentifier": str("x")},
			resource.PropertyMap{"kubeconfig": str(b), "clusterIdentifier": str("x")}, []string{"kubeconfig"}, nil},
		{"identifier kept, unknown kubeconfig", resource.PropertyMap{"kubeconfig": str(a), "clusterIdentifier": str("x")},
			resource.PropertyMap{"kubeconfig": unknown, "clusterIdentifier": str("x")}, []string{"kubeconfig"}, nil},
		{"identifier changed", resource.PropertyMap{"kubeconfig": str(a), "clusterIdentifier": str("x")},
			resource.PropertyMap{"kubeconfig": str(a), "clusterIdentifier": str("y")},
			[]string{"clusterIdentifier"}, []string{"clusterIdentifier"}},
		{"identifier added", resource.PropertyMap{}, resource.PropertyMap{"clusterIdentifier": str("y")},
			[]string{"clusterIdentifier"}, nil},
		{"render dir", resource.PropertyMap{"renderYamlToDirectory": str("/a")},
			resource.PropertyMap{"renderYamlToDirectory": str("/b")}, []string{"renderYamlToDirectory"}, []string{"renderYamlToDirectory"}},
		{"ssa flag", resource.PropertyMap{"enableServerSideApply": str("true")},
			resource.PropertyMap{"enableServerSideApply": str("false")}, []string{"enableServerSideApply"}, nil},
		{"secret kubeconfig unchanged", resource.PropertyMap{"kubeconfig": resource.MakeSecret(str(a))},
			resource.PropertyMap{"kubeconfig": resource.MakeSecret(str(a))}, nil, nil},
	}
	for _, c := range cases {
		resp := diffConfig(c.olds, c.news, e)
		if !reflect.DeepEqual(resp.Diffs, c.diffs) || !reflect.DeepEqual(resp.Replaces, c.replace) {
			t.Errorf("%s: diffs %v replaces %v; want %v / %v", c.name, resp.Diffs, resp.Replaces, c.diffs, c.replace)
		}
		if (len(c.diffs) > 0) != (resp.Changes == pulumirpc.DiffResponse_DIFF_SOME) {
			t.Errorf("%s: changes = %v", c.name, resp.Changes)
		}
	}
}
