package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// gvk is a Kubernetes group/version/kind as the SDK's resource token spells it:
// kubernetes:<group>/<version>:<Kind>, with the legacy core group written "core".
type gvk struct {
	Group, Version, Kind string
	Patch                bool // a <Kind>Patch token: server-side apply of part of an existing object
}

func (g gvk) APIVersion() string {
	if g.Group == "" {
		return g.Version
	}
	return g.Group + "/" + g.Version
}

// Tokens that look like group/version but are components or Helm releases: they need Construct
// or the Helm/kustomize engines, which an offline renderer does not have.
var unsupportedGroups = map[string]bool{"yaml": true, "helm.sh": true, "kustomize": true}

func parseToken(tok string) (gvk, error) {
	parts := strings.Split(tok, ":")
	if len(parts) != 3 || parts[0] != "kubernetes" {
		return gvk{}, fmt.Errorf("fjord kubernetes plugin: %q is not a kubernetes:<group>/<version>:<Kind> token", tok)
	}
	group, version, ok := strings.Cut(parts[1], "/")
	if !ok || group == "" || version == "" || strings.Contains(version, "/") || parts[2] == "" {
		return gvk{}, fmt.Errorf("fjord kubernetes plugin: %q is not a kubernetes:<group>/<version>:<Kind> token", tok)
	}
	if unsupportedGroups[group] {
		return gvk{}, fmt.Errorf("fjord's offline kubernetes plugin does not support %s (Helm releases, "+
			"kustomize and yaml/v2 components need the official plugin)", tok)
	}
	if group == "core" {
		group = ""
	}
	g := gvk{Group: group, Version: version, Kind: parts[2]}
	// List types exist only so YAML manifests and charts can be decoded; the API has no List objects.
	if strings.HasSuffix(g.Kind, "List") && len(g.Kind) > len("List") {
		return gvk{}, fmt.Errorf("%s: list resources cannot be created directly; use the item type", tok)
	}
	if strings.HasSuffix(g.Kind, "Patch") && len(g.Kind) > len("Patch") {
		g.Kind, g.Patch = strings.TrimSuffix(g.Kind, "Patch"), true
	}
	return g, nil
}

// clusterScoped lists built-in kinds without a namespace, by group/Kind ("" is the core group).
// Custom resources are assumed namespaced, as the official provider does when it cannot ask a cluster.
var clusterScoped = map[string]bool{}

func init() {
	for group, kinds := range map[string][]string{
		"":                             {"Namespace", "Node", "PersistentVolume", "ComponentStatus"},
		"admissionregistration.k8s.io": {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"},
		"apiextensions.k8s.io":         {"CustomResourceDefinition"},
		"apiregistration.k8s.io":       {"APIService"},
		"auditregistration.k8s.io":     {"AuditSink"},
		"authentication.k8s.io":        {"TokenReview", "SelfSubjectReview"},
		"authorization.k8s.io":         {"SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"},
		"certificates.k8s.io":          {"CertificateSigningRequest", "ClusterTrustBundle"},
		"flowcontrol.apiserver.k8s.io": {"FlowSchema", "PriorityLevelConfiguration"},
		"internal.apiserver.k8s.io":    {"StorageVersion"},
		"networking.k8s.io":            {"IngressClass", "IPAddress", "ServiceCIDR", "ClusterCIDR"},
		"node.k8s.io":                  {"RuntimeClass"},
		"policy":                       {"PodSecurityPolicy"},
		"rbac.authorization.k8s.io":    {"ClusterRole", "ClusterRoleBinding"},
		"resource.k8s.io":              {"DeviceClass", "ResourceSlice", "DeviceTaintRule"},
		"scheduling.k8s.io":            {"PriorityClass"},
		"storage.k8s.io":               {"StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass"},
		"storagemigration.k8s.io":      {"StorageVersionMigration"},
	} {
		for _, k := range kinds {
			clusterScoped[group+"/"+k] = true
		}
	}
}

func (g gvk) Namespaced() bool { return !clusterScoped[g.Group+"/"+g.Kind] }

// renderPath is where render mode writes an object, named like the official provider names it
// (so switching plugins finds the same files): CRDs go to 0-crd/ so `kubectl apply -R` on the
// sorted folders registers them before the custom resources in 1-manifest/ need them. An empty
// namespace is spelled "default" in the name, as upstream does, even for cluster-scoped kinds.
func renderPath(dir, apiVersion, kind, namespace, name string) string {
	if namespace == "" {
		namespace = "default"
	}
	sanitise := strings.NewReplacer("/", "_", ":", "_")
	file := fmt.Sprintf("%s-%s-%s-%s.yaml", sanitise.Replace(apiVersion), strings.ToLower(kind), namespace, name)
	sub := "1-manifest"
	if kind == "CustomResourceDefinition" {
		sub = "0-crd"
	}
	return filepath.Join(dir, sub, file)
}

// fqName is the resource ID: namespace/name, or name for cluster-scoped objects.
func fqName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
