// Command pulumi-resource-command is fjord's stand-in for the Pulumi "command" resource provider.
//
// The upstream provider module (github.com/pulumi/pulumi-command/provider) is not served by the Go
// module proxy this project can reach, so scripts/setup.sh builds this provider instead and
// installs it under the version of the @pulumi/command npm package. It implements, with the
// @pulumi/command 1.x property names: command:local:Command, the command:local:run invoke,
// command:remote:Command (SSH), command:remote:CopyToRemote and the deprecated
// command:remote:CopyFile (SFTP). Where its behaviour differs from upstream's, see
// engine/README.md ("command provider").
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time with -ldflags "-X main.version=X.Y.Z" (no leading v).
var version = "0.0.0-dev"

const (
	localCommand  = "command:local:Command"
	remoteCommand = "command:remote:Command"
	copyToRemote  = "command:remote:CopyToRemote"
	copyFile      = "command:remote:CopyFile"
	localRun      = "command:local:run"
)

func main() {
	providerkit.Serve("command", newProvider())
}

type provider struct {
	providerkit.Base
	// log sends a message to the engine; ephemeral ones only show in the progress display.
	log func(ctx context.Context, sev pulumirpc.LogSeverity, urn, msg string, ephemeral bool)
}

func newProvider() *provider {
	return &provider{
		Base: providerkit.Base{Name: "command", Version: version},
		log: func(ctx context.Context, sev pulumirpc.LogSeverity, urn, msg string, ephemeral bool) {
			if ephemeral && sev == pulumirpc.LogSeverity_INFO {
				providerkit.EngineStatus(ctx, urn, msg)
			} else {
				providerkit.EngineLog(ctx, sev, urn, msg)
			}
		},
	}
}

func supported(typ string) error {
	switch typ {
	case localCommand, remoteCommand, copyToRemote, copyFile:
		return nil
	}
	return fmt.Errorf("fjord command provider: %s is not supported", typ)
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := supported(req.GetType()); err != nil {
		return nil, err
	}
	news, err := unmarshalHashing(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	fail := func(prop, reason string) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}
	switch req.GetType() {
	case remoteCommand, copyToRemote, copyFile:
		if msg := checkConnection(news["connection"]); msg != "" {
			fail("connection", msg)
		}
	}
	switch req.GetType() {
	case copyToRemote:
		if msg := checkSource(news["source"]); msg != "" {
			fail("source", msg)
		}
		fallthrough
	case copyFile:
		if v := news["remotePath"]; !v.ContainsUnknowns() && plainString(v) == "" {
			fail("remotePath", "remotePath is required")
		}
	}
	if req.GetType() == copyFile {
		if v := news["localPath"]; !v.ContainsUnknowns() && plainString(v) == "" {
			fail("localPath", "localPath is required")
		}
	}
	inputs, err := providerkit.Marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, news, err := providerkit.DiffInputs(req)
	if err != nil {
		return nil, err
	}
	return diff(req.GetType(), olds, news, req.GetIgnoreChanges()), nil
}

func (p *provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := providerkit.Unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	var outs resource.PropertyMap
	if isCopy(req.GetType()) {
		outs, err = p.copy(ctx, req.GetType(), req.GetUrn(), inputs)
	} else {
		outs, err = p.run(ctx, req.GetType(), req.GetUrn(), inputs, "create", nil)
	}
	if err != nil {
		return nil, err
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	props, err := providerkit.Marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: hex.EncodeToString(id), Properties: props}, nil
}

func (p *provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	state, err := providerkit.Unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	oldInputs, err := providerkit.Unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(oldInputs) == 0 {
		oldInputs = state
	}
	news, err := providerkit.Unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	outs := news.Copy()
	switch {
	case isCopy(req.GetType()):
		// Only credentials or dial settings changed (anything else replaces): nothing to copy.
	case len(changed(rerunKeys(req.GetType()), oldInputs, news, nil)) == 0:
		// Only settings that do not affect what runs (delete, logging, credentials) changed.
		outs["stdout"], outs["stderr"] = state["stdout"], state["stderr"]
		for _, k := range []resource.PropertyKey{"assets", "archive"} {
			if v, ok := state[k]; ok {
				outs[k] = v
			}
		}
	default:
		step := "update"
		if plainString(news["update"]) == "" {
			step = "create"
		}
		if outs, err = p.run(ctx, req.GetType(), req.GetUrn(), news, step, state); err != nil {
			return nil, err
		}
	}
	props, err := providerkit.Marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// Delete runs the delete command; copies leave the remote files in place (as upstream does).
func (p *provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if isCopy(req.GetType()) {
		return &emptypb.Empty{}, nil
	}
	state, err := providerkit.Unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if _, err := p.run(ctx, req.GetType(), req.GetUrn(), state, "delete", state); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, fmt.Errorf("fjord command provider: import is not supported")
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Invoke implements command:local:run: run `command` once and return its output.
func (p *provider) Invoke(ctx context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	if req.GetTok() != localRun {
		return nil, fmt.Errorf("fjord command provider: function %s is not supported", req.GetTok())
	}
	args, err := providerkit.Unmarshal(req.GetArgs())
	if err != nil {
		return nil, err
	}
	outs, err := p.run(ctx, localCommand, "", args, "command", nil)
	if err != nil {
		return nil, err
	}
	ret, err := providerkit.Marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

func isCopy(typ string) bool { return typ == copyToRemote || typ == copyFile }
