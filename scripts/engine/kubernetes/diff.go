package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Fields Kubernetes refuses to change on an existing object, by apiVersion:kind, as dotted paths
// (indices left out: a path matches at every index). A change there means delete and re-create,
// which is what the official provider plans; the same table makes our previews agree with it.
var immutableFields = map[string][]string{}

func init() {
	selector := []string{"spec.selector"}
	statefulSet := []string{"spec.podManagementPolicy", "spec.revisionHistoryLimit", "spec.selector",
		"spec.serviceName", "spec.volumeClaimTemplates"}
	var container []string
	for _, f := range []string{"args", "command", "env", "image", "imagePullPolicy", "lifecycle",
		"livenessProbe", "ports", "readinessProbe", "resources", "securityContext", "stdin", "stdinOnce",
		"terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts", "workingDir"} {
		container = append(container, "spec.containers."+f, "spec.initContainers."+f)
	}
	pod := append([]string{"spec.affinity", "spec.automountServiceAccountToken", "spec.dnsConfig",
		"spec.dnsPolicy", "spec.enableServiceLinks", "spec.hostAliases", "spec.hostIPC", "spec.hostNetwork",
		"spec.hostPID", "spec.hostname", "spec.imagePullSecrets", "spec.nodeName", "spec.nodeSelector",
		"spec.overhead", "spec.preemptionPolicy", "spec.priority", "spec.priorityClassName",
		"spec.readinessGates", "spec.restartPolicy", "spec.runtimeClassName", "spec.schedulerName",
		"spec.securityContext", "spec.serviceAccount", "spec.serviceAccountName", "spec.shareProcessNamespace",
		"spec.subdomain", "spec.terminationGracePeriodSeconds", "spec.volumes"}, container...)
	var pvSources []string
	for _, s := range []string{"awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "csi",
		"fc", "flexVolume", "flocker", "gcePersistentDisk", "glusterfs", "hostPath", "iscsi", "local", "nfs",
		"photonPersistentDisk", "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume"} {
		pvSources = append(pvSources, "spec."+s)
	}
	job := []string{"spec.completions", "spec.parallelism", "spec.selector", "spec.template"}
	for key, fields := range map[string][]string{
		"apps/v1:Deployment": selector, "apps/v1:DaemonSet": selector, "apps/v1:StatefulSet": statefulSet,
		"apps/v1beta2:Deployment": selector, "apps/v1beta2:DaemonSet": selector, "apps/v1beta2:StatefulSet": statefulSet,
		"apps/v1beta1:StatefulSet": statefulSet,
		"v1:Pod":                   pod,
		"v1:PersistentVolume":      pvSources,
		"v1:PersistentVolumeClaim": {"spec.accessModes", "spec.selector", "spec.storageClassName", "spec.volumeName"},
		"v1:ResourceQuota":         {"spec.scopes"},
		"v1:Service":               {"spec.clusterIP"},
		"v1:Secret":                {"type"},
		"batch/v1:Job":             job, "batch/v1beta1:Job": job,
		"policy/v1beta1:PodDisruptionBudget":              {"spec"},
		"rbac.authorization.k8s.io/v1:RoleBinding":        {"roleRef"},
		"rbac.authorization.k8s.io/v1:ClusterRoleBinding": {"roleRef"},
		"storage.k8s.io/v1:StorageClass":                  {"parameters", "provisioner"},
	} {
		immutableFields[key] = fields
	}
}

// forceNewFields are the paths whose change replaces the object: its identity (name, namespace),
// the kind's immutable fields and, unless the provider enables mutation, the content of Secrets and
// ConfigMaps (so workloads roll to a new, autonamed copy). Once an object is `immutable: true`
// nothing of it can change, not even that flag.
func forceNewFields(cfg config, oldIn, newIn resource.PropertyMap) [][]string {
	apiVersion, kind, _, _ := objectMeta(newIn)
	fields := []string{"metadata.name", "metadata.namespace"}
	fields = append(fields, immutableFields[apiVersion+":"+kind]...)
	immutable := func(m resource.PropertyMap) bool { v, _ := reveal(m["immutable"]); return v.IsBool() && v.BoolValue() }
	frozen := immutable(newIn) || immutable(oldIn)
	switch {
	case apiVersion == "v1" && kind == "Secret" && (!cfg.secretMutable || frozen):
		fields = append(fields, "data", "stringData")
	case apiVersion == "v1" && kind == "ConfigMap" && (!cfg.configMapMutable || frozen):
		fields = append(fields, "data", "binaryData")
	}
	if immutable(oldIn) && (kind == "Secret" || kind == "ConfigMap") {
		fields = append(fields, "immutable")
	}
	out := make([][]string, len(fields))
	for i, f := range fields {
		out[i] = strings.Split(f, ".")
	}
	return out
}

// differ compares old and new inputs (render mode keeps no other live state) into a detailed diff
// keyed by property path, e.g. spec.template.spec.containers[0].image or
// metadata.labels["app.kubernetes.io/name"], the syntax ignoreChanges uses.
type differ struct {
	forceNew [][]string
	diffs    map[string]*pulumirpc.PropertyDiff
}

// replaceKind maps a change to the same change forcing replacement (replacements map to themselves).
var replaceKind = map[pulumirpc.PropertyDiff_Kind]pulumirpc.PropertyDiff_Kind{
	pulumirpc.PropertyDiff_ADD: pulumirpc.PropertyDiff_ADD_REPLACE, pulumirpc.PropertyDiff_ADD_REPLACE: pulumirpc.PropertyDiff_ADD_REPLACE,
	pulumirpc.PropertyDiff_DELETE: pulumirpc.PropertyDiff_DELETE_REPLACE, pulumirpc.PropertyDiff_DELETE_REPLACE: pulumirpc.PropertyDiff_DELETE_REPLACE,
	pulumirpc.PropertyDiff_UPDATE: pulumirpc.PropertyDiff_UPDATE_REPLACE, pulumirpc.PropertyDiff_UPDATE_REPLACE: pulumirpc.PropertyDiff_UPDATE_REPLACE,
}

func diffInputs(forceNew [][]string, olds, news resource.PropertyMap) map[string]*pulumirpc.PropertyDiff {
	d := &differ{forceNew: forceNew, diffs: map[string]*pulumirpc.PropertyDiff{}}
	d.walk(nil, resource.NewObjectProperty(olds), resource.NewObjectProperty(news))
	return d.diffs
}

func (d *differ) walk(path []any, old, new resource.PropertyValue) {
	old, _ = reveal(old)
	new, _ = reveal(new)
	var kind pulumirpc.PropertyDiff_Kind
	switch {
	case old.IsNull() && new.IsNull():
		return
	case new.IsNull():
		kind = pulumirpc.PropertyDiff_DELETE
	case new.ContainsUnknowns() && !(new.IsObject() && old.IsObject()) && !(new.IsArray() && old.IsArray()):
		kind = pulumirpc.PropertyDiff_UPDATE
		if old.IsNull() {
			kind = pulumirpc.PropertyDiff_ADD
		}
	case old.IsNull():
		kind = pulumirpc.PropertyDiff_ADD
	case old.IsObject() && new.IsObject():
		keys := map[resource.PropertyKey]bool{}
		for k := range old.ObjectValue() {
			keys[k] = true
		}
		for k := range new.ObjectValue() {
			keys[k] = true
		}
		for k := range keys {
			d.walk(append(append([]any{}, path...), string(k)), old.ObjectValue()[k], new.ObjectValue()[k])
		}
		return
	case old.IsArray() && new.IsArray():
		o, n := old.ArrayValue(), new.ArrayValue()
		for i := 0; i < len(o) || i < len(n); i++ {
			var ov, nv resource.PropertyValue
			if i < len(o) {
				ov = o[i]
			}
			if i < len(n) {
				nv = n[i]
			}
			d.walk(append(append([]any{}, path...), i), ov, nv)
		}
		return
	case old.DeepEquals(new):
		return
	default:
		kind = pulumirpc.PropertyDiff_UPDATE
	}
	if d.forces(path, old, new) {
		kind = replaceKind[kind]
	}
	d.diffs[pathString(path)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
}

// forces reports whether a change at path touches a force-new field: the field itself or something
// inside it, or an enclosing object that was added, removed or replaced with the field in it.
func (d *differ) forces(path []any, old, new resource.PropertyValue) bool {
	var names []string
	for _, p := range path {
		if s, ok := p.(string); ok {
			names = append(names, s)
		}
	}
	for _, f := range d.forceNew {
		n := min(len(names), len(f))
		if fmt.Sprint(names[:n]) != fmt.Sprint(f[:n]) {
			continue
		}
		if len(names) >= len(f) || has(old, f[n:]) || has(new, f[n:]) {
			return true
		}
	}
	return false
}

// has reports whether v holds a value at the dotted field path, looking through arrays.
func has(v resource.PropertyValue, path []string) bool {
	v, _ = reveal(v)
	switch {
	case len(path) == 0:
		return !v.IsNull()
	case v.IsObject():
		return has(v.ObjectValue()[resource.PropertyKey(path[0])], path[1:])
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			if has(e, path) {
				return true
			}
		}
	}
	return false
}

func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if strings.ContainsAny(p, `.[]"`) || p == "" {
				fmt.Fprintf(&b, `[%q]`, p)
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(p)
			}
		}
	}
	return b.String()
}

// diffResponse turns the detailed diff into the engine's answer. deleteBeforeReplace when the
// replacement keeps its (user-given) name and namespace: both copies cannot exist at once.
func diffResponse(detailed map[string]*pulumirpc.PropertyDiff, ignore []string, oldIn, newIn resource.PropertyMap) (*pulumirpc.DiffResponse, error) {
	var ignorePaths []resource.PropertyPath
	for _, s := range ignore {
		p, err := resource.ParsePropertyPath(s)
		if err != nil {
			return nil, fmt.Errorf("ignoreChanges path %q: %w", s, err)
		}
		ignorePaths = append(ignorePaths, p)
	}
	top := map[string]bool{}
	var replaces []string
	for path, pd := range detailed {
		p, err := resource.ParsePropertyPath(path)
		if err != nil {
			return nil, fmt.Errorf("diff path %q: %w", path, err)
		}
		ignored := false
		for _, ip := range ignorePaths {
			ignored = ignored || ip.Contains(p)
		}
		if ignored {
			delete(detailed, path)
			continue
		}
		top[fmt.Sprint(p[0])] = true
		if pd.Kind == replaceKind[pd.Kind] || (path == "metadata" && pd.Kind == pulumirpc.PropertyDiff_DELETE) {
			replaces = append(replaces, path)
		}
	}
	if len(detailed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}, nil
	}
	diffs := make([]string, 0, len(top))
	for k := range top {
		diffs = append(diffs, k)
	}
	sort.Strings(diffs)
	sort.Strings(replaces)
	_, _, oldNs, oldName := objectMeta(oldIn)
	_, _, newNs, newName := objectMeta(newIn)
	return &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: diffs, Replaces: replaces,
		DetailedDiff: detailed, HasDetailedDiff: true,
		DeleteBeforeReplace: len(replaces) > 0 && !isAutonamed(object(newIn, "metadata")) &&
			newName != "" && newName == oldName && newNs == oldNs,
	}, nil
}
