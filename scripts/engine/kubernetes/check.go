package main

import (
	"context"
	"fmt"
	"os"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	autonamedAnnotation = "pulumi.com/autonamed"
	managedByLabel      = "app.kubernetes.io/managed-by"
)

// Fields the API server owns: written back into inputs (e.g. by copying a live object) they would
// make every apply conflict, so the official provider drops them too.
var readOnlyMetadata = []resource.PropertyKey{"creationTimestamp", "deletionGracePeriodSeconds",
	"deletionTimestamp", "generation", "managedFields", "resourceVersion", "uid"}

// Check validates the type and fills what the API server would need: a name (autonamed
// <urn name>-<8 chars> unless given, then kept across updates) and, for namespaced kinds, the
// provider's default namespace.
func (p *provider) Check(ctx context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	urn := resource.URN(req.GetUrn())
	g, err := parseToken(req.GetType())
	if req.GetType() == "" {
		g, err = parseToken(string(urn.Type()))
	}
	if err != nil {
		return nil, err
	}
	cfg := p.config()
	if g.Patch && !cfg.serverSideApply {
		return nil, fmt.Errorf("%s: patch resources require server-side apply (enableServerSideApply)", req.GetType())
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	failures, err := checkObject(g, cfg, news, olds, urn.Name(), req.GetRandomSeed(), req.GetAutonaming())
	if err != nil {
		return nil, err
	}
	if cfg.render() && news.ContainsSecrets() {
		providerkit.EngineLog(ctx, pulumirpc.LogSeverity_WARNING, string(urn),
			"rendered YAML will contain a secret value in plaintext")
	}
	inputs, err := providerkit.Marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// checkObject amends news in place. olds are the inputs Check returned last time (empty on create,
// and again when the engine re-checks for a replacement, so a replacement gets a fresh autoname).
func checkObject(g gvk, cfg config, news, olds resource.PropertyMap, urnName string, seed []byte,
	autonaming *pulumirpc.CheckRequest_AutonamingOptions,
) ([]*pulumirpc.CheckFailure, error) {
	getenv := cfg.getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var failures []*pulumirpc.CheckFailure
	for _, f := range []struct {
		key  resource.PropertyKey
		want string
	}{{"apiVersion", g.APIVersion()}, {"kind", g.Kind}} {
		v, ok := news[f.key]
		switch s, isStr := known(news, f.key); {
		case !ok || v.IsNull():
			news[f.key] = resource.NewStringProperty(f.want)
		case isStr && s != f.want:
			failures = append(failures, &pulumirpc.CheckFailure{Property: string(f.key),
				Reason: fmt.Sprintf("%s is %q but the resource type %s needs %q", f.key, s, g.Kind, f.want)})
		}
	}

	var mdErr error
	ok := editObject(news, "metadata", func(md resource.PropertyMap) {
		for _, k := range readOnlyMetadata {
			delete(md, k)
		}
		name := md["name"]
		unnamed := (name.IsNull() || (name.IsString() && name.StringValue() == "")) &&
			(md["generateName"].IsNull() || md["generateName"].IsString() && md["generateName"].StringValue() == "")
		oldMd := object(olds, "metadata")
		switch {
		case len(olds) > 0:
			if oldName, _ := known(oldMd, "name"); unnamed && oldName != "" && isAutonamed(oldMd) {
				md["name"] = resource.NewStringProperty(oldName)
				setEntry(md, "annotations", autonamedAnnotation, "true")
			}
			// Kept only when this provider put it there (its value, not one the program chose), so an
			// object created with client-side apply keeps it after switching to server-side apply.
			if v, _ := known(object(oldMd, "labels"), managedByLabel); v == managedBy(getenv) {
				setEntry(md, "labels", managedByLabel, v)
			}
		default:
			if unnamed {
				n, err := autoname(urnName, seed, autonaming)
				if err != nil {
					mdErr = err
					return
				}
				md["name"] = resource.NewStringProperty(n)
				setEntry(md, "annotations", autonamedAnnotation, "true")
			}
			// Client-side apply marks what it manages; with server-side apply the field managers do.
			if !cfg.serverSideApply {
				setEntry(md, "labels", managedByLabel, managedBy(getenv))
			}
		}
		if ns := md["namespace"]; g.Namespaced() && (ns.IsNull() || ns.IsString() && ns.StringValue() == "") {
			md["namespace"] = resource.NewStringProperty(cfg.namespace)
		}
	})
	if mdErr != nil {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "metadata.name", Reason: mdErr.Error()})
	}
	if !ok && !news["metadata"].ContainsUnknowns() {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "metadata", Reason: "metadata must be an object"})
	}
	if g.Patch {
		if _, _, _, name := objectMeta(news); name == "" && !object(news, "metadata")["name"].ContainsUnknowns() {
			return nil, fmt.Errorf("patch resources require metadata.name to be set")
		}
	}
	return failures, nil
}

// autoname follows the engine's autonaming options when the stack configures them, else Pulumi's
// default: the URN name, a dash and 8 random lowercase letters and digits (valid in DNS-1123 names),
// drawn from the engine's per-deployment seed so a re-run of Check agrees with itself.
func autoname(urnName string, seed []byte, opts *pulumirpc.CheckRequest_AutonamingOptions) (string, error) {
	if opts != nil {
		switch opts.GetMode() {
		case pulumirpc.CheckRequest_AutonamingOptions_DISABLE:
			return "", fmt.Errorf("autonaming is disabled; set metadata.name")
		case pulumirpc.CheckRequest_AutonamingOptions_ENFORCE, pulumirpc.CheckRequest_AutonamingOptions_PROPOSE:
			if opts.GetProposedName() != "" {
				return opts.GetProposedName(), nil
			}
		}
	}
	return resource.NewUniqueName(seed, urnName+"-", 8, 0, []rune("abcdefghijklmnopqrstuvwxyz0123456789"))
}

// managedBy is the value of the managed-by label; PULUMI_KUBERNETES_MANAGED_BY_LABEL overrides it
// for the official provider, so for us too.
func managedBy(getenv func(string) string) string {
	if v := getenv("PULUMI_KUBERNETES_MANAGED_BY_LABEL"); v != "" {
		return v
	}
	return "pulumi"
}

func isAutonamed(md resource.PropertyMap) bool {
	v, _ := known(object(md, "annotations"), autonamedAnnotation)
	return v == "true"
}

// setEntry sets md[field][key] = value, e.g. an annotation; unknown maps are left alone.
func setEntry(md resource.PropertyMap, field, key resource.PropertyKey, value string) {
	editObject(md, field, func(m resource.PropertyMap) { m[key] = resource.NewStringProperty(value) })
}
