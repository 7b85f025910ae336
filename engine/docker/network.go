package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type label struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

func labelMap(ls []label) map[string]string {
	if len(ls) == 0 {
		return nil
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Label] = l.Value
	}
	return m
}

type ipamConfig struct {
	Subnet     string            `json:"subnet,omitempty"`
	IPRange    string            `json:"ipRange,omitempty"`
	Gateway    string            `json:"gateway,omitempty"`
	AuxAddress map[string]string `json:"auxAddress,omitempty"`
}

type networkArgs struct {
	Name        string            `json:"name"`
	Driver      string            `json:"driver"`
	Internal    bool              `json:"internal"`
	Attachable  bool              `json:"attachable"`
	Ingress     bool              `json:"ingress"`
	IPv6        bool              `json:"ipv6"`
	IpamDriver  string            `json:"ipamDriver"`
	IpamOptions map[string]string `json:"ipamOptions"`
	IpamConfigs []ipamConfig      `json:"ipamConfigs"`
	Labels      []label           `json:"labels"`
	Options     map[string]string `json:"options"`
}

type networkKind struct{}

var networkKeys = set("name", "driver", "internal", "attachable", "ingress", "ipv6", "ipamDriver",
	"ipamOptions", "ipamConfigs", "labels", "options")

func (networkKind) check(news resource.PropertyMap) []*pulumirpc.CheckFailure {
	fails := checkKeys("Network", news, networkKeys)
	var a networkArgs
	if err := decode(news, &a); err != nil {
		fails = append(fails, failure("", "Network: "+err.Error()))
	}
	return fails
}

// Like upstream, every input of a network forces a new one: Docker cannot change them in place.
func (networkKind) inPlace() map[string]bool { return nil }
func (networkKind) fixedName() string        { return "name" }
func (networkKind) computed() []string {
	return []string{"driver", "ipamDriver", "ipamConfigs", "options", "scope"}
}

type networkInspect struct {
	ID     string `json:"Id"`
	Name   string
	Driver string
	Scope  string
	IPAM   struct {
		Driver string
		Config []struct {
			Subnet, IPRange, Gateway string
			AuxiliaryAddresses       map[string]string
		}
	}
	Options map[string]string
}

func (networkKind) create(ctx context.Context, c *client, in resource.PropertyMap) (string, map[string]any, error) {
	var a networkArgs
	if err := decode(in, &a); err != nil {
		return "", nil, err
	}
	body := map[string]any{
		"Name": a.Name, "CheckDuplicate": true, "Driver": a.Driver, "Internal": a.Internal,
		"Attachable": a.Attachable, "Ingress": a.Ingress, "EnableIPv6": a.IPv6,
		"Options": a.Options, "Labels": labelMap(a.Labels),
	}
	if a.IpamDriver != "" || len(a.IpamConfigs) > 0 || len(a.IpamOptions) > 0 {
		cfgs := []map[string]any{}
		for _, p := range a.IpamConfigs {
			cfgs = append(cfgs, map[string]any{"Subnet": p.Subnet, "IPRange": p.IPRange, "Gateway": p.Gateway,
				"AuxiliaryAddresses": p.AuxAddress})
		}
		body["IPAM"] = map[string]any{"Driver": a.IpamDriver, "Config": cfgs, "Options": a.IpamOptions}
	}
	var created struct {
		ID string `json:"Id"`
	}
	if err := c.do(ctx, http.MethodPost, "/networks/create", nil, body, &created); err != nil {
		return "", nil, fmt.Errorf("network %s: %w", a.Name, err)
	}
	out, _, err := networkKind{}.read(ctx, c, created.ID, in)
	return created.ID, out, err
}

func (networkKind) read(ctx context.Context, c *client, id string, _ resource.PropertyMap) (map[string]any, bool, error) {
	var n networkInspect
	if err := c.do(ctx, http.MethodGet, "/networks/"+pathEscape(id), nil, nil, &n); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, true, nil
		}
		return nil, false, err
	}
	cfgs := []any{}
	for _, p := range n.IPAM.Config {
		m := map[string]any{}
		for k, v := range map[string]string{"subnet": p.Subnet, "ipRange": p.IPRange, "gateway": p.Gateway} {
			if v != "" {
				m[k] = v
			}
		}
		if len(p.AuxiliaryAddresses) > 0 {
			aux := map[string]any{}
			for k, v := range p.AuxiliaryAddresses {
				aux[k] = v
			}
			m["auxAddress"] = aux
		}
		cfgs = append(cfgs, m)
	}
	opts := map[string]any{}
	for k, v := range n.Options {
		opts[k] = v
	}
	return map[string]any{"driver": n.Driver, "ipamDriver": n.IPAM.Driver, "ipamConfigs": cfgs,
		"options": opts, "scope": n.Scope}, false, nil
}

func (networkKind) update(context.Context, *client, string, resource.PropertyMap, resource.PropertyMap) error {
	return nil // nothing is updated in place (Diff replaces)
}

// delete retries while containers are still leaving the network: their removal and the
// network's endpoint cleanup are not one transaction in the daemon.
func (networkKind) delete(ctx context.Context, c *client, id string, _ resource.PropertyMap) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.do(ctx, http.MethodDelete, "/networks/"+pathEscape(id), nil, nil, nil)
		if err == nil || isStatus(err, http.StatusNotFound) {
			return nil
		}
		if !strings.Contains(err.Error(), "active endpoints") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
