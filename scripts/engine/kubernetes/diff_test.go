package main

import (
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func diffOf(t *testing.T, cfg config, olds, news resource.PropertyMap, ignore ...string) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := diffResponse(diffInputs(forceNewFields(cfg, olds, news), olds, news), ignore, olds, news)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func deployment(name, image string, selector map[string]any) resource.PropertyMap {
	return obj(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": "web", "labels": map[string]any{"app.kubernetes.io/name": "api"}},
		"spec": map[string]any{"replicas": 2, "selector": map[string]any{"matchLabels": selector},
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "api", "image": image}}}}}})
}

func kinds(resp *pulumirpc.DiffResponse) map[string]pulumirpc.PropertyDiff_Kind {
	out := map[string]pulumirpc.PropertyDiff_Kind{}
	for k, v := range resp.DetailedDiff {
		out[k] = v.Kind
	}
	return out
}

func TestDiffDeployment(t *testing.T) {
	sel := map[string]any{"app": "api"}
	old := deployment("api", "api:1", sel)
	if resp := diffOf(t, renderCfg, old, deployment("api", "api:1", sel)); resp.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("no change gave %v", resp)
	}
	resp := diffOf(t, renderCfg, old, deployment("api", "api:2", sel))
	want := map[string]pulumirpc.PropertyDiff_Kind{"spec.template.spec.containers[0].image": pulumirpc.PropertyDiff_UPDATE}
	if !reflect.DeepEqual(kinds(resp), want) || len(resp.Replaces) > 0 || !reflect.DeepEqual(resp.Diffs, []string{"spec"}) {
		t.Errorf("image change: %v", resp)
	}
	resp = diffOf(t, renderCfg, old, deployment("api", "api:1", map[string]any{"app": "api2"}))
	if !reflect.DeepEqual(resp.Replaces, []string{"spec.selector.matchLabels.app"}) || !resp.DeleteBeforeReplace {
		t.Errorf("selector change: %v", resp)
	}
	resp = diffOf(t, renderCfg, old, deployment("api2", "api:1", sel))
	if !reflect.DeepEqual(resp.Replaces, []string{"metadata.name"}) || resp.DeleteBeforeReplace {
		t.Errorf("rename: %v", resp)
	}
	renamed := deployment("api", "api:1", sel)
	object(renamed, "metadata")["labels"] = resource.NewObjectProperty(obj(map[string]any{"app.kubernetes.io/name": "x"}))
	resp = diffOf(t, renderCfg, old, renamed)
	if _, ok := resp.DetailedDiff[`metadata.labels["app.kubernetes.io/name"]`]; !ok || len(resp.Replaces) > 0 {
		t.Errorf("label change: %v", resp)
	}
	if resp := diffOf(t, renderCfg, old, renamed, "metadata.labels"); resp.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("ignored label change: %v", resp)
	}
	fewer := deployment("api", "api:1", sel)
	delete(object(fewer, "spec"), "replicas")
	if k := kinds(diffOf(t, renderCfg, old, fewer)); k["spec.replicas"] != pulumirpc.PropertyDiff_DELETE {
		t.Errorf("removed replicas: %v", k)
	}
	// Unknown values at preview count as changes; an unknown selector means replacement.
	unknownSel := deployment("api", "api:1", sel)
	object(unknownSel, "spec")["selector"] = resource.MakeComputed(resource.NewStringProperty(""))
	if resp := diffOf(t, renderCfg, old, unknownSel); !reflect.DeepEqual(resp.Replaces, []string{"spec.selector"}) {
		t.Errorf("unknown selector: %v", resp)
	}
}

func TestDiffStatefulSetAndSpecAdded(t *testing.T) {
	ss := func(svc string) resource.PropertyMap {
		return obj(map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet",
			"metadata": map[string]any{"name": "db", "namespace": "web"},
			"spec":     map[string]any{"serviceName": svc, "volumeClaimTemplates": []any{map[string]any{"metadata": map[string]any{"name": "data"}}}}})
	}
	if resp := diffOf(t, renderCfg, ss("db"), ss("db-headless")); !reflect.DeepEqual(resp.Replaces, []string{"spec.serviceName"}) {
		t.Errorf("serviceName: %v", resp)
	}
	bare := obj(map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": map[string]any{"name": "db", "namespace": "web"}})
	if resp := diffOf(t, renderCfg, bare, ss("db")); !reflect.DeepEqual(resp.Replaces, []string{"spec"}) {
		t.Errorf("spec added with immutable fields inside: %v", resp)
	}
}

func TestDiffConfigMapsAndSecrets(t *testing.T) {
	cm := func(v string, autonamed bool) resource.PropertyMap {
		md := map[string]any{"name": "settings", "namespace": "web"}
		if autonamed {
			md["name"], md["annotations"] = "settings-abcd1234", map[string]any{autonamedAnnotation: "true"}
		}
		return obj(map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": map[string]any{"k": v}})
	}
	resp := diffOf(t, renderCfg, cm("a", false), cm("b", false))
	if !reflect.DeepEqual(resp.Replaces, []string{"data.k"}) || !resp.DeleteBeforeReplace {
		t.Errorf("named configmap: %v", resp)
	}
	// Autonamed: replace by creating the new copy first (new name), so workloads roll over.
	if resp := diffOf(t, renderCfg, cm("a", true), cm("b", true)); len(resp.Replaces) != 1 || resp.DeleteBeforeReplace {
		t.Errorf("autonamed configmap: %v", resp)
	}
	mutable := renderCfg
	mutable.configMapMutable = true
	if resp := diffOf(t, mutable, cm("a", false), cm("b", false)); len(resp.Replaces) > 0 || resp.Changes != pulumirpc.DiffResponse_DIFF_SOME {
		t.Errorf("mutable configmap: %v", resp)
	}
	frozen := cm("a", false)
	frozen["immutable"] = resource.NewBoolProperty(true)
	thawed := cm("a", false)
	thawed["immutable"] = resource.NewBoolProperty(false)
	if resp := diffOf(t, mutable, frozen, thawed); !reflect.DeepEqual(resp.Replaces, []string{"immutable"}) {
		t.Errorf("immutable configmap: %v", resp)
	}

	secret := func(typ, v string) resource.PropertyMap {
		return resource.PropertyMap{"apiVersion": resource.NewStringProperty("v1"), "kind": resource.NewStringProperty("Secret"),
			"metadata":   resource.NewObjectProperty(obj(map[string]any{"name": "s", "namespace": "web"})),
			"type":       resource.NewStringProperty(typ),
			"stringData": resource.MakeSecret(resource.NewObjectProperty(obj(map[string]any{"password": v})))}
	}
	if resp := diffOf(t, renderCfg, secret("Opaque", "a"), secret("Opaque", "a")); resp.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("unchanged secret: %v", resp)
	}
	if resp := diffOf(t, renderCfg, secret("Opaque", "a"), secret("Opaque", "b")); !reflect.DeepEqual(resp.Replaces, []string{"stringData.password"}) {
		t.Errorf("secret data: %v", resp)
	}
	secretMutable := renderCfg
	secretMutable.secretMutable = true
	if resp := diffOf(t, secretMutable, secret("Opaque", "a"), secret("Opaque", "b")); len(resp.Replaces) > 0 {
		t.Errorf("mutable secret data: %v", resp)
	}
	if resp := diffOf(t, secretMutable, secret("Opaque", "a"), secret("kubernetes.io/tls", "a")); !reflect.DeepEqual(resp.Replaces, []string{"type"}) {
		t.Errorf("secret type: %v", resp)
	}
}

func TestPathString(t *testing.T) {
	for want, path := range map[string][]any{
		"spec.containers[0].image":             {"spec", "containers", 0, "image"},
		`metadata.annotations["pulumi.com/x"]`: {"metadata", "annotations", "pulumi.com/x"},
		`data["a.b"]`:                          {"data", "a.b"},
		"metadata":                             {"metadata"},
	} {
		if got := pathString(path); got != want {
			t.Errorf("pathString(%v) = %s, want %s", path, got, want)
		}
		if _, err := resource.ParsePropertyPath(want); err != nil {
			t.Errorf("%s does not parse as a property path: %v", want, err)
		}
	}
}
