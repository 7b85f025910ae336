// Command pulumi-resource-random is fjord's stand-in for the Pulumi "random" resource provider.
//
// The upstream provider module (github.com/pulumi/pulumi-random/provider/v4) is not served by the
// Go module proxy this project can reach, so scripts/setup.sh builds this provider instead and
// installs it under the version of the @pulumi/random npm package. It serves the resource types of
// @pulumi/random (same tokens and property names) with Terraform random's semantics: every input
// is "force new", values are drawn from crypto/rand (or from `seed` where the type has one).
// Import (`pulumi import`) and schema-driven code generation are not supported.
package main

import (
	"context"
	"fmt"
	"slices"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time with -ldflags "-X main.version=X.Y.Z" (no leading v).
var version = "0.0.0-dev"

func main() {
	providerkit.Serve("random", &provider{Base: providerkit.Base{Name: "random", Version: version}})
}

type provider struct {
	providerkit.Base
}

func lookup(typ string) (*resourceType, error) {
	rt, ok := resourceTypes[typ]
	if !ok {
		return nil, fmt.Errorf("fjord random provider: unsupported resource type %q", typ)
	}
	return rt, nil
}

// Check fills in Terraform random's defaults and reports missing required inputs.
func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	rt, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	news, err := providerkit.Unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	for _, k := range rt.required {
		if v, ok := news[resource.PropertyKey(k)]; !ok || v.IsNull() {
			failures = append(failures, &pulumirpc.CheckFailure{Property: k, Reason: "Missing required argument " + k})
		}
	}
	// Validate what was given, before defaults: check may derive an input from another.
	if rt.check != nil {
		failures = append(failures, rt.check(news)...)
	}
	for k, v := range rt.defaults {
		if cur, ok := news[k]; !ok || cur.IsNull() {
			news[k] = v
		}
	}
	inputs, err := providerkit.Marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// Diff replaces the resource when any input differs: all of random's inputs are "force new".
// As upstream (which compares plain values), a value that only became secret or stopped being
// one, keepers entries that are null, an empty keepers map and overrideSpecial "" (the default set)
// change nothing: none of them may regenerate a password.
func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	rt, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	olds, news, err := providerkit.DiffInputs(req)
	if err != nil {
		return nil, err
	}
	changed := providerkit.ChangedKeys(rt.inputs, diffView(olds), diffView(news), req.GetIgnoreChanges())
	return providerkit.DiffResponse(changed, true), nil
}

// diffView is m as Diff compares it: without secret markers and without no-op values.
func diffView(m resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[k] = unsecret(v)
	}
	if k := out["keepers"]; k.IsObject() {
		kept := resource.PropertyMap{}
		for name, v := range k.ObjectValue() {
			if !v.IsNull() {
				kept[name] = v
			}
		}
		out["keepers"] = resource.NewObjectProperty(kept)
		if len(kept) == 0 {
			delete(out, "keepers")
		}
	}
	if o := out["overrideSpecial"]; o.IsNull() || (o.IsString() && o.StringValue() == "") {
		delete(out, "overrideSpecial")
	}
	return out
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return unsecret(v.SecretValue().Element)
	case v.IsArray():
		a := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			a[i] = unsecret(e)
		}
		return resource.NewArrayProperty(a)
	case v.IsObject():
		o := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			o[k] = unsecret(e)
		}
		return resource.NewObjectProperty(o)
	}
	return v
}

func (p *provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	rt, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	inputs, err := providerkit.Unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	id, outs, err := rt.create(providerkit.Plain(inputs))
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", req.GetType(), err)
	}
	// Secret: what upstream marks sensitive, and every generated value when a value it is derived
	// from was secret (keepers only trigger replacement, nothing is derived from them).
	derivedFromSecret := false
	for k, v := range inputs {
		derivedFromSecret = derivedFromSecret || (k != "keepers" && v.ContainsSecrets())
	}
	for k, v := range outs {
		if !v.IsSecret() && (derivedFromSecret || slices.Contains(rt.secrets, string(k))) {
			outs[k] = resource.MakeSecret(v)
		}
	}
	for k, v := range inputs {
		if _, ok := outs[k]; !ok {
			outs[k] = v
		}
	}
	props, err := providerkit.Marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Read returns the stored state unchanged: random values have no remote copy to refresh from.
func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, fmt.Errorf("fjord random provider: import of %s is not supported", req.GetType())
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Update is only reached for changes Diff does not report (ignored ones); keep the old outputs.
func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return &pulumirpc.UpdateResponse{Properties: req.GetOlds()}, nil
}

func (p *provider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
