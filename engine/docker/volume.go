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

type volumeArgs struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	DriverOpts map[string]string `json:"driverOpts"`
	Labels     []label           `json:"labels"`
}

type volumeKind struct{}

var volumeKeys = set("name", "driver", "driverOpts", "labels")

func (volumeKind) check(news resource.PropertyMap) []*pulumirpc.CheckFailure {
	fails := checkKeys("Volume", news, volumeKeys)
	var a volumeArgs
	if err := decode(news, &a); err != nil {
		fails = append(fails, failure("", "Volume: "+err.Error()))
	}
	return fails
}

func (volumeKind) inPlace() map[string]bool { return nil }
func (volumeKind) fixedName() string        { return "name" }
func (volumeKind) computed() []string       { return []string{"name", "driver", "mountpoint"} }

type volumeInspect struct {
	Name       string
	Driver     string
	Mountpoint string
}

func (v volumeInspect) outputs() map[string]any {
	return map[string]any{"name": v.Name, "driver": v.Driver, "mountpoint": v.Mountpoint}
}

// The volume's name is its ID, as upstream. Like upstream (and `docker volume create`), an
// existing volume of that name is adopted with its data, which is what a re-created dev stack wants.
func (volumeKind) create(ctx context.Context, c *client, in resource.PropertyMap) (string, map[string]any, error) {
	var a volumeArgs
	if err := decode(in, &a); err != nil {
		return "", nil, err
	}
	body := map[string]any{"Name": a.Name, "Driver": a.Driver, "DriverOpts": a.DriverOpts, "Labels": labelMap(a.Labels)}
	var v volumeInspect
	if err := c.do(ctx, http.MethodPost, "/volumes/create", nil, body, &v); err != nil {
		return "", nil, fmt.Errorf("volume %s: %w", a.Name, err)
	}
	return v.Name, v.outputs(), nil
}

func (volumeKind) read(ctx context.Context, c *client, id string, _ resource.PropertyMap) (map[string]any, bool, error) {
	var v volumeInspect
	if err := c.do(ctx, http.MethodGet, "/volumes/"+pathEscape(id), nil, nil, &v); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return v.outputs(), false, nil
}

func (volumeKind) update(context.Context, *client, string, resource.PropertyMap, resource.PropertyMap) error {
	return nil
}

// delete retries while a container that used the volume is still being removed.
func (volumeKind) delete(ctx context.Context, c *client, id string, _ resource.PropertyMap) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.do(ctx, http.MethodDelete, "/volumes/"+pathEscape(id), nil, nil, nil)
		if err == nil || isStatus(err, http.StatusNotFound) {
			return nil
		}
		if !isStatus(err, http.StatusConflict) && !strings.Contains(err.Error(), "in use") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
