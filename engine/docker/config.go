package main

import (
	"context"
	"encoding/json"
	"strings"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Provider settings the stand-in can honour. TLS, SSH, contexts and registry logins are not
// implemented; setting them is an error rather than a silently different connection.
var configKeys = set("host", "disableDockerDaemonCheck", "version")

// configSet says whether a provider setting is set; the SDK sends list settings JSON-encoded.
func configSet(v resource.PropertyValue) bool {
	if s := unwrap(v); s.IsString() {
		t := strings.TrimSpace(s.StringValue())
		var x any
		if json.Unmarshal([]byte(t), &x) == nil {
			switch y := x.(type) {
			case nil:
				return false
			case []any:
				return len(y) > 0
			case map[string]any:
				return len(y) > 0
			}
		}
		return t != ""
	}
	return isSet(v)
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := providerkit.Unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var fails []*pulumirpc.CheckFailure
	for _, k := range news.StableKeys() {
		if !configKeys[string(k)] && configSet(news[k]) {
			fails = append(fails, failure(string(k), "docker provider setting "+string(k)+
				" is not implemented by fjord's docker provider (engine/docker): only host (unix:// or tcp://) is"))
		}
	}
	if h := unwrap(news["host"]); h.IsString() && h.StringValue() != "" {
		if _, err := newClient(h.StringValue()); err != nil {
			fails = append(fails, failure("host", err.Error()))
		}
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: fails}, nil
}

// DiffConfig: a new host is an update of the provider, as upstream; resources are not replaced.
func (p *provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, news, err := providerkit.DiffInputs(req)
	if err != nil {
		return nil, err
	}
	return providerkit.DiffResponse(providerkit.ChangedKeys([]string{"host"}, olds, news, req.GetIgnoreChanges()), false), nil
}

// Configure only records the host: the daemon is first contacted by an operation that needs it,
// so a preview runs without one.
func (p *provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	host := ""
	if args := req.GetArgs(); args != nil {
		if m, err := providerkit.Unmarshal(args); err == nil {
			if h := unwrap(m["host"]); h.IsString() {
				host = h.StringValue()
			}
		}
	}
	if host == "" {
		host = req.GetVariables()["docker:config:host"]
	}
	p.mu.Lock()
	p.host, p.client, p.cfgErr = host, nil, nil
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}
