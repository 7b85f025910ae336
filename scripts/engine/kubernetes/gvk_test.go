package main

import (
	"strings"
	"testing"
)

func TestParseToken(t *testing.T) {
	for tok, want := range map[string]gvk{
		"kubernetes:core/v1:ConfigMap":                               {Version: "v1", Kind: "ConfigMap"},
		"kubernetes:apps/v1:Deployment":                              {Group: "apps", Version: "v1", Kind: "Deployment"},
		"kubernetes:networking.k8s.io/v1:NetworkPolicy":              {Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
		"kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding"},
		"kubernetes:core/v1:ConfigMapPatch":                          {Version: "v1", Kind: "ConfigMap", Patch: true},
		"kubernetes:stable.example.com/v1:CronTab":                   {Group: "stable.example.com", Version: "v1", Kind: "CronTab"},
	} {
		got, err := parseToken(tok)
		if err != nil || got != want {
			t.Errorf("parseToken(%q) = %+v, %v; want %+v", tok, got, err, want)
		}
	}
	for _, tok := range []string{"kubernetes:core/v1:ConfigMapList", "kubernetes:helm.sh/v3:Release",
		"kubernetes:yaml/v2:ConfigGroup", "kubernetes:index:Provider", "random:index/randomId:RandomId", "kubernetes:apps/v1:"} {
		if _, err := parseToken(tok); err == nil {
			t.Errorf("parseToken(%q) succeeded, want an error", tok)
		}
	}
	if g, _ := parseToken("kubernetes:policy/v1:PodDisruptionBudget"); g.APIVersion() != "policy/v1" {
		t.Errorf("policy/v1 APIVersion = %q", g.APIVersion())
	}
	if g, _ := parseToken("kubernetes:core/v1:Secret"); g.APIVersion() != "v1" {
		t.Errorf("core APIVersion = %q, want v1", g.APIVersion())
	}
}

func TestNamespaced(t *testing.T) {
	for tok, want := range map[string]bool{
		"kubernetes:core/v1:Namespace":                                false,
		"kubernetes:rbac.authorization.k8s.io/v1:ClusterRole":         false,
		"kubernetes:storage.k8s.io/v1:StorageClass":                   false,
		"kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition": false,
		"kubernetes:networking.k8s.io/v1:IngressClass":                false,
		"kubernetes:scheduling.k8s.io/v1:PriorityClass":               false,
		"kubernetes:core/v1:PersistentVolume":                         false,
		"kubernetes:core/v1:PersistentVolumeClaim":                    true,
		"kubernetes:rbac.authorization.k8s.io/v1:Role":                true,
		"kubernetes:apps/v1:Deployment":                               true,
		"kubernetes:example.com/v1:Namespace":                         true, // a custom kind that happens to share the name
	} {
		g, err := parseToken(tok)
		if err != nil {
			t.Fatal(err)
		}
		if g.Namespaced() != want {
			t.Errorf("%s namespaced = %v, want %v", tok, !want, want)
		}
	}
}

func TestRenderPath(t *testing.T) {
	for _, c := range []struct{ apiVersion, kind, ns, name, want string }{
		{"apps/v1", "Deployment", "web", "api", "/r/1-manifest/apps_v1-deployment-web-api.yaml"},
		{"v1", "Namespace", "", "web", "/r/1-manifest/v1-namespace-default-web.yaml"},
		{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "crontabs.stable.example.com",
			"/r/0-crd/apiextensions.k8s.io_v1-customresourcedefinition-default-crontabs.stable.example.com.yaml"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "", "system:x",
			"/r/1-manifest/rbac.authorization.k8s.io_v1-clusterrole-default-system:x.yaml"},
	} {
		if got := renderPath("/r", c.apiVersion, c.kind, c.ns, c.name); got != c.want {
			t.Errorf("renderPath(%s %s) = %s, want %s", c.kind, c.name, got, c.want)
		}
	}
	if !strings.HasSuffix(fqName("", "x"), "x") || fqName("ns", "x") != "ns/x" {
		t.Errorf("fqName")
	}
}
