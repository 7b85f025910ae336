// Command pulumi-resource-kubernetes is fjord's offline stand-in for the Pulumi "kubernetes"
// resource plugin, installed under the version of the @pulumi/kubernetes npm package.
//
// The upstream provider module (github.com/pulumi/pulumi-kubernetes/provider/v4) is not served by
// the Go module proxy this project can reach (scripts/engine/README.md). This plugin covers what
// fjord needs without a cluster: render mode (renderYamlToDirectory: every object written as YAML
// the way the official provider names and lays out the files), and previews against any provider
// configuration, including a kubeconfig that is unknown or a cluster that does not exist yet.
// Check, Diff and state follow the official provider (autonaming, default namespace, immutable
// fields, delete-before-replace, its checkpoint format). It never talks to a cluster: creating,
// updating, reading or deleting objects in a live cluster fails with an explanation.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time with -ldflags "-X main.version=X.Y.Z" (no leading v).
var version = "0.0.0-dev"

func main() {
	providerkit.Serve("kubernetes", newProvider())
}

type provider struct {
	providerkit.Base
	mu  sync.RWMutex
	cfg config
}

func newProvider() *provider {
	return &provider{
		Base: providerkit.Base{Name: "kubernetes", Version: version},
		cfg:  parseConfig(nil, os.Getenv),
	}
}

func (p *provider) config() config {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cfg
}

func liveClusterError(op string) error {
	return fmt.Errorf("%s: fjord's offline kubernetes plugin only renders manifests (cluster.mode render) and "+
		"previews; install the official plugin with `pulumi plugin install resource kubernetes v%s` "+
		"(npm run setup does this on a machine that can reach get.pulumi.com)", op, version)
}

// Configure is only called once every provider input is known; with an unknown kubeconfig the
// engine skips the plugin altogether during preview (Check passes inputs through, Diff reports
// "unknown"), which is exactly the official provider's behaviour too.
func (p *provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	cfg := parseConfig(configVars(req), os.Getenv)
	p.mu.Lock()
	p.cfg = cfg
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true,
		SupportsAutonamingConfiguration: true}, nil
}

// CheckConfig rejects what the official provider rejects: render mode together with a cluster
// selection (kubeconfig, context, cluster), which would be silently ignored.
func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	set := func(k resource.PropertyKey) bool {
		v, _ := reveal(news[k])
		return (v.IsString() && v.StringValue() != "") || (v.IsBool() && v.BoolValue())
	}
	var failures []*pulumirpc.CheckFailure
	if set("renderYamlToDirectory") {
		for _, k := range []resource.PropertyKey{"cluster", "context", "kubeconfig"} {
			if set(k) {
				failures = append(failures, &pulumirpc.CheckFailure{Property: string(k),
					Reason: fmt.Sprintf("%q arg is not compatible with \"renderYamlToDirectory\" arg", k)})
			}
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, news, err := providerkit.DiffInputs(req)
	if err != nil {
		return nil, err
	}
	return diffConfig(olds, news, os.Getenv), nil
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	state, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	oldIn, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(oldIn) == 0 {
		_, oldIn = splitState(state)
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	detailed := diffInputs(forceNewFields(p.config(), oldIn, news), oldIn, news)
	return diffResponse(detailed, req.GetIgnoreChanges(), oldIn, news)
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	cfg := p.config()
	// A preview shows the object as it will be created: the checked inputs are exactly that.
	if req.GetPreview() {
		return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
	}
	if !cfg.render() {
		return nil, liveClusterError("creating " + req.GetType())
	}
	obj, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	path, err := writeManifest(cfg.renderDir, obj)
	if err != nil {
		return nil, err
	}
	p.rendered(ctx, req.GetUrn(), path, obj)
	props, err := providerkit.Marshal(checkpoint(obj, stringOr(obj, "apiVersion"), p.fieldManager(cfg, nil)))
	if err != nil {
		return nil, err
	}
	_, _, ns, name := objectMeta(obj)
	return &pulumirpc.CreateResponse{Id: fqName(ns, name), Properties: props}, nil
}

func (p *provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	cfg := p.config()
	if req.GetPreview() {
		return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
	}
	if !cfg.render() {
		return nil, liveClusterError("updating " + req.GetType())
	}
	state, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	obj, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	path, err := writeManifest(cfg.renderDir, obj)
	if err != nil {
		return nil, err
	}
	// Name and namespace changes are replacements; only an apiVersion change moves the file here.
	old, _ := splitState(state)
	if oldPath := pathOf(cfg.renderDir, old); oldPath != path {
		if _, err := removeManifest(cfg.renderDir, old); err != nil {
			return nil, err
		}
	}
	p.rendered(ctx, req.GetUrn(), path, obj)
	initial := stateString(state, initialAPIVersionKey, stringOr(old, "apiVersion"))
	props, err := providerkit.Marshal(checkpoint(obj, initial, p.fieldManager(cfg, state)))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	cfg := p.config()
	if !cfg.render() {
		return nil, liveClusterError("deleting " + req.GetType())
	}
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	obj, _ := splitState(state)
	path, err := removeManifest(cfg.renderDir, obj)
	if err != nil {
		return nil, err
	}
	providerkit.EngineStatus(ctx, req.GetUrn(), "deleted "+path)
	return &emptypb.Empty{}, nil
}

// Read (refresh) in render mode returns the state: the rendered files are an output of this
// program, not a live object that can drift. Importing (no state) needs a cluster.
func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	cfg := p.config()
	if !cfg.render() {
		return nil, liveClusterError("reading " + req.GetType() + " " + req.GetId())
	}
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, fmt.Errorf("fjord's offline kubernetes plugin cannot import or get %s %q: render mode has no "+
			"cluster to read it from", req.GetType(), req.GetId())
	}
	inputs := req.GetInputs()
	if len(inputs.GetFields()) == 0 {
		state, err := unmarshal(req.GetProperties())
		if err != nil {
			return nil, err
		}
		_, in := splitState(state)
		if inputs, err = providerkit.Marshal(in); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: inputs}, nil
}

func (p *provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, unsupported("the function " + req.GetTok())
}

func (p *provider) Call(_ context.Context, req *pulumirpc.CallRequest) (*pulumirpc.CallResponse, error) {
	return nil, unsupported("the method " + req.GetTok())
}

func (p *provider) Construct(_ context.Context, req *pulumirpc.ConstructRequest) (*pulumirpc.ConstructResponse, error) {
	return nil, unsupported("the component " + req.GetType())
}

func unsupported(what string) error {
	return errors.New(what + " is not supported offline: fjord's kubernetes plugin only renders manifests " +
		"and previews (install the official plugin for Helm, YAML/kustomize components and cluster queries)")
}

// rendered reports the file in the CLI, and warns when a secret went into it in plain text.
func (p *provider) rendered(ctx context.Context, urn, path string, obj resource.PropertyMap) {
	if obj.ContainsSecrets() {
		providerkit.EngineLog(ctx, pulumirpc.LogSeverity_WARNING, urn,
			fmt.Sprintf("rendered file %s contains a secret value in plaintext", path))
	}
	providerkit.EngineStatus(ctx, urn, "rendered "+path)
}

// fieldManager names this program's server-side apply field manager; it is part of the state so
// the official plugin, if it takes over the stack, keeps applying under the same name.
func (p *provider) fieldManager(cfg config, state resource.PropertyMap) string {
	if !cfg.serverSideApply {
		return "pulumi-kubernetes"
	}
	if s := stateString(state, fieldManagerKey, ""); s != "" {
		return s
	}
	name, _ := resource.NewUniqueName(nil, "pulumi-kubernetes-", 8, 0, nil)
	return name
}

func pathOf(dir string, obj resource.PropertyMap) string {
	apiVersion, kind, ns, name := objectMeta(obj)
	return renderPath(dir, apiVersion, kind, ns, name)
}

func stringOr(m resource.PropertyMap, k resource.PropertyKey) string {
	s, _ := known(m, k)
	return s
}
