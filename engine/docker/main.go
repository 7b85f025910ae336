// Command pulumi-resource-docker is fjord's stand-in for the Pulumi "docker" resource provider.
//
// The upstream provider module (github.com/pulumi/pulumi-docker/provider) is not served by the Go
// module proxy this project can reach (engine/DOCKER-PROVIDER.md), so scripts/setup.sh
// builds this provider instead and installs it under the version of the @pulumi/docker npm
// package. It serves Container, Network, Volume and RemoteImage with the tokens and property names
// of @pulumi/docker 5.2.0, talking to the Docker Engine API over its unix socket (or tcp://).
// Check and Diff never contact the daemon, so previews work without one; inputs the provider
// does not implement are rejected by Check, naming the property.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time with -ldflags "-X main.version=X.Y.Z" (no leading v).
var version = "0.0.0-dev"

func main() {
	providerkit.Serve("docker", newProvider())
}

// kind is one resource type. Its check and diff are pure; the rest talk to the daemon.
type kind interface {
	check(news resource.PropertyMap) []*pulumirpc.CheckFailure
	// inPlace lists inputs whose change is an update, not a replacement.
	inPlace() map[string]bool
	// fixedName is the input that names the object on the daemon (two objects cannot share it).
	fixedName() string
	computed() []string
	create(ctx context.Context, c *client, in resource.PropertyMap) (string, map[string]any, error)
	// read returns the computed outputs, or gone=true when the object no longer exists.
	read(ctx context.Context, c *client, id string, in resource.PropertyMap) (out map[string]any, gone bool, err error)
	update(ctx context.Context, c *client, id string, olds, news resource.PropertyMap) error
	delete(ctx context.Context, c *client, id string, state resource.PropertyMap) error
}

var kinds = map[string]kind{
	"docker:index/container:Container":     containerKind{},
	"docker:index/network:Network":         networkKind{},
	"docker:index/volume:Volume":           volumeKind{},
	"docker:index/remoteImage:RemoteImage": imageKind{},
}

type provider struct {
	providerkit.Base
	mu     sync.Mutex
	host   string
	client *client
	cfgErr error
}

func newProvider() *provider {
	return &provider{Base: providerkit.Base{Name: "docker", Version: version}}
}

func lookup(typ string) (kind, error) {
	k, ok := kinds[typ]
	if !ok {
		names := make([]string, 0, len(kinds))
		for n := range kinds {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("fjord docker provider: %s is not implemented (only %v); see engine/DOCKER-PROVIDER.md", typ, names)
	}
	return k, nil
}

// daemon returns the client; a bad host setting is reported here, not in Configure, so previews
// that never reach the daemon still work.
func (p *provider) daemon() (*client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfgErr != nil {
		return nil, p.cfgErr
	}
	if p.client == nil {
		p.client, p.cfgErr = newClient(resolveHost(p.host))
	}
	return p.client, p.cfgErr
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	k, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	news, err := providerkit.Unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	olds, err := providerkit.Unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	if autonamed[req.GetType()] {
		autoname(req, olds, news)
	}
	inputs, err := providerkit.Marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: k.check(news)}, nil
}

// Docker requires these names, and the SDK makes them optional: the Pulumi bridge names them
// after the resource plus a random suffix, kept across updates. Volumes are named by Docker.
var autonamed = set("docker:index/container:Container", "docker:index/network:Network")

func autoname(req *pulumirpc.CheckRequest, olds, news resource.PropertyMap) {
	if v, ok := news["name"]; ok && !v.IsNull() {
		return
	}
	if o := olds["name"]; o.IsString() && o.StringValue() != "" {
		news["name"] = o
		return
	}
	an := req.GetAutonaming()
	switch {
	case an != nil && an.GetMode() == pulumirpc.CheckRequest_AutonamingOptions_DISABLE:
	case an != nil && an.GetProposedName() != "":
		news["name"] = resource.NewStringProperty(an.GetProposedName())
	default:
		seed := req.GetRandomSeed()
		sum := sha256.Sum256(append(append([]byte{}, seed...), req.GetUrn()...))
		news["name"] = resource.NewStringProperty(req.GetName() + "-" + hex.EncodeToString(sum[:])[:7])
	}
}

// Diff compares the recorded inputs with the new ones, without the daemon: drift is found by
// `pulumi refresh` (Read), as with the upstream provider.
func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	k, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	olds, news, err := providerkit.DiffInputs(req)
	if err != nil {
		return nil, err
	}
	return diffInputs(k, olds, news, req.GetIgnoreChanges()), nil
}

var limitKeys = set("memory", "memorySwap", "memoryReservation", "cpuShares", "cpus", "cpuSet", "cpuPeriod", "cpuQuota")

func diffInputs(k kind, olds, news resource.PropertyMap, ignore []string) *pulumirpc.DiffResponse {
	keySet := map[string]bool{}
	for key := range olds {
		keySet[string(key)] = true
	}
	for key := range news {
		keySet[string(key)] = true
	}
	keys := make([]string, 0, len(keySet))
	for key := range keySet {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	changed := providerkit.ChangedKeys(keys, olds, news, ignore)
	if len(changed) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}
	}
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Diffs: changed,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{}, HasDetailedDiff: true}
	inPlace := k.inPlace()
	for _, key := range changed {
		_, hasOld := olds[resource.PropertyKey(key)]
		_, hasNew := news[resource.PropertyKey(key)]
		d := &pulumirpc.PropertyDiff{InputDiff: true, Kind: pulumirpc.PropertyDiff_UPDATE}
		// Docker's update API cannot lift a limit (0 means "unchanged"), so removing one replaces.
		unset := hasOld && isSet(olds[resource.PropertyKey(key)]) && !isSet(news[resource.PropertyKey(key)])
		if !inPlace[key] || (unset && limitKeys[key]) {
			resp.Replaces = append(resp.Replaces, key)
			d.Kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
			if !hasOld {
				d.Kind = pulumirpc.PropertyDiff_ADD_REPLACE
			} else if !hasNew {
				d.Kind = pulumirpc.PropertyDiff_DELETE_REPLACE
			}
		} else if !hasOld {
			d.Kind = pulumirpc.PropertyDiff_ADD
		} else if !hasNew {
			d.Kind = pulumirpc.PropertyDiff_DELETE
		}
		resp.DetailedDiff[key] = d
	}
	// A replacement that keeps its daemon-side name cannot be created next to the old object.
	if n := resource.PropertyKey(k.fixedName()); len(resp.Replaces) > 0 && n != "" {
		o, n2 := olds[n], news[n]
		if isSet(o) && !n2.ContainsUnknowns() && o.DeepEquals(n2) {
			resp.DeleteBeforeReplace = true
		}
	}
	return resp
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	in, err := providerkit.Unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := providerkit.Marshal(withOutputs(in, unknowns(k.computed()...)))
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	c, err := p.daemon()
	if err != nil {
		return nil, err
	}
	id, computed, err := k.create(ctx, c, in)
	if err != nil {
		return nil, plainDaemonError(fmt.Errorf("creating %s: %w", shortType(req.GetType()), err))
	}
	props, err := providerkit.Marshal(withOutputs(in, computed))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Read refreshes the computed outputs; the recorded inputs are returned as they were (kinds may
// change them to provoke a fix on the next `up`, e.g. a stopped container).
func (p *provider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	k, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, fmt.Errorf("fjord docker provider: import of %s is not supported", req.GetType())
	}
	state, err := providerkit.Unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	in, err := providerkit.Unmarshal(req.GetInputs())
	if err != nil {
		return nil, err
	}
	c, err := p.daemon()
	if err != nil {
		return nil, err
	}
	computed, gone, err := k.read(ctx, c, req.GetId(), in)
	if err != nil {
		return nil, plainDaemonError(fmt.Errorf("reading %s %s: %w", shortType(req.GetType()), req.GetId(), err))
	}
	if gone {
		return &pulumirpc.ReadResponse{}, nil
	}
	out := state.Copy()
	for key, v := range withOutputs(resource.PropertyMap{}, computed) {
		if _, isInput := in[key]; !isInput {
			out[key] = v
		}
	}
	for key, v := range in { // inputs the kind changed (mustRun) show in the state too
		out[key] = v
	}
	props, err := providerkit.Marshal(out)
	if err != nil {
		return nil, err
	}
	inputs, err := providerkit.Marshal(in)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: inputs}, nil
}

func (p *provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	k, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	state, err := providerkit.Unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	olds, err := providerkit.Unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		olds = state
	}
	news, err := providerkit.Unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	if !req.GetPreview() {
		c, err := p.daemon()
		if err != nil {
			return nil, err
		}
		if err := k.update(ctx, c, req.GetId(), olds, news); err != nil {
			return nil, plainDaemonError(fmt.Errorf("updating %s %s: %w", shortType(req.GetType()), req.GetId(), err))
		}
	}
	props, err := providerkit.Marshal(withOutputs(news, keep(state, k.computed()...)))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	k, err := lookup(req.GetType())
	if err != nil {
		return nil, err
	}
	state, err := providerkit.Unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	c, err := p.daemon()
	if err != nil {
		return nil, err
	}
	if err := k.delete(ctx, c, req.GetId(), state); err != nil {
		return nil, plainDaemonError(fmt.Errorf("deleting %s %s: %w", shortType(req.GetType()), req.GetId(), err))
	}
	return &emptypb.Empty{}, nil
}
