// Package providerkit holds what fjord's stand-in resource providers share: serving gRPC the way
// the Pulumi engine launches plugins, property (un)marshalling, and the provider-level RPCs that
// have no configuration to act on.
package providerkit

import (
	"context"
	"flag"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Serve starts the provider's gRPC server, prints its port for the engine and blocks.
func Serve(name string, srv pulumirpc.ResourceProviderServer) {
	flag.String("tracing", "", "ignored")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(s, srv)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("starting the %s provider: %w", name, err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("%s provider stopped serving: %w", name, err))
	}
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

// Unmarshal decodes a gRPC property struct, keeping unknowns and secrets.
func Unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, opts)
}

// Marshal encodes a property map for gRPC, keeping unknowns and secrets.
func Marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, opts)
}

// Plain returns a copy of m with top-level secrets unwrapped.
func Plain(m resource.PropertyMap) resource.PropertyMap {
	out := m.Copy()
	for k, v := range out {
		if v.IsSecret() {
			out[k] = v.SecretValue().Element
		}
	}
	return out
}

// Base implements the provider RPCs that do not depend on resource types. Embed it.
type Base struct {
	pulumirpc.UnimplementedResourceProviderServer
	Name    string
	Version string // without a leading v
}

func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: b.Version}, nil
}

func (b *Base) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":%q,"version":%q}`, b.Name, b.Version)}, nil
}

func (b *Base) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (b *Base) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure accepts secrets; previews get unknown outputs from the engine (no preview support).
func (b *Base) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: false}, nil
}

func (b *Base) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// DiffInputs are what a Diff compares: the recorded inputs (the old state when the engine sent
// none, as for resources written before it recorded them) and the new inputs.
func DiffInputs(req *pulumirpc.DiffRequest) (olds, news resource.PropertyMap, err error) {
	olds, err = Unmarshal(req.GetOldInputs())
	if err == nil && len(olds) == 0 {
		olds, err = Unmarshal(req.GetOlds())
	}
	if err != nil {
		return nil, nil, err
	}
	news, err = Unmarshal(req.GetNews())
	if err != nil {
		return nil, nil, err
	}
	return olds, news, nil
}

// ChangedKeys lists the keys among keys whose values differ between olds and news (unknown new
// values count as changed), skipping ignored ones.
func ChangedKeys(keys []string, olds, news resource.PropertyMap, ignore []string) []string {
	skip := map[string]bool{}
	for _, k := range ignore {
		skip[k] = true
	}
	var changed []string
	for _, k := range keys {
		o, hasOld := olds[resource.PropertyKey(k)]
		n, hasNew := news[resource.PropertyKey(k)]
		if skip[k] || (!hasOld && !hasNew) {
			continue
		}
		if hasOld && hasNew && !n.ContainsUnknowns() && o.DeepEquals(n) {
			continue
		}
		changed = append(changed, k)
	}
	return changed
}

// DiffResponse builds a detailed diff for changed keys; replace marks them as replacements.
func DiffResponse(changed []string, replace bool) *pulumirpc.DiffResponse {
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}
	}
	kind := pulumirpc.PropertyDiff_UPDATE
	if replace {
		kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
	}
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for _, k := range changed {
		detailed[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	resp := &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed, DetailedDiff: detailed, HasDetailedDiff: true,
	}
	if replace {
		resp.Replaces = changed
	}
	return resp
}
