package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

type imageArgs struct {
	Name        string   `json:"name"`
	KeepLocally bool     `json:"keepLocally"`
	ForceRemove bool     `json:"forceRemove"`
	Platform    string   `json:"platform"`
	PullTrigs   []string `json:"pullTriggers"`
}

// RemoteImage is "ensure present": fjord's images are built locally (images/build.sh)
// and there is no registry here, so a local image is used as is and a pull is the fallback.
type imageKind struct{}

var imageKeys = set("name", "keepLocally", "forceRemove", "platform", "pullTriggers", "triggers")

func (imageKind) check(news resource.PropertyMap) []*pulumirpc.CheckFailure {
	fails := checkKeys("RemoteImage", news, imageKeys)
	if !isUnknown(news, "name") && !isSet(news["name"]) {
		fails = append(fails, failure("name", "RemoteImage.name is required"))
	}
	var a imageArgs
	if err := decode(news, &a); err != nil {
		fails = append(fails, failure("", "RemoteImage: "+err.Error()))
	}
	return fails
}

// keepLocally and forceRemove only matter on delete; everything else asks for another image.
func (imageKind) inPlace() map[string]bool { return set("keepLocally", "forceRemove") }
func (imageKind) fixedName() string        { return "" }
func (imageKind) computed() []string       { return []string{"imageId", "repoDigest"} }

type imageInspect struct {
	ID          string `json:"Id"`
	RepoDigests []string
}

func (i imageInspect) outputs() map[string]any {
	digest := ""
	if len(i.RepoDigests) > 0 {
		digest = i.RepoDigests[0]
	}
	return map[string]any{"imageId": i.ID, "repoDigest": digest}
}

// ensureImage returns the local image `ref`, pulling it only when the daemon does not have it.
func ensureImage(ctx context.Context, c *client, ref, platform string) (imageInspect, error) {
	var img imageInspect
	err := c.do(ctx, http.MethodGet, "/images/"+pathEscape(ref)+"/json", nil, nil, &img)
	if err == nil || !isStatus(err, http.StatusNotFound) {
		return img, err
	}
	q := url.Values{"fromImage": {ref}}
	if platform != "" {
		q.Set("platform", platform)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	resp, perr := c.raw(pctx, http.MethodPost, "/images/create", q, nil)
	if perr == nil {
		perr = stream(resp.Body)
		_ = resp.Body.Close()
	}
	if perr == nil {
		perr = c.do(ctx, http.MethodGet, "/images/"+pathEscape(ref)+"/json", nil, nil, &img)
	}
	if perr != nil {
		return img, fmt.Errorf("image %s is not in the local Docker and could not be pulled: %v; build it with images/build.sh or docker load", ref, perr)
	}
	return img, nil
}

func (imageKind) create(ctx context.Context, c *client, in resource.PropertyMap) (string, map[string]any, error) {
	var a imageArgs
	if err := decode(in, &a); err != nil {
		return "", nil, err
	}
	img, err := ensureImage(ctx, c, a.Name, a.Platform)
	if err != nil {
		return "", nil, err
	}
	return img.ID + a.Name, img.outputs(), nil // upstream's ID: image ID followed by the name
}

// read follows the name: a re-built or re-loaded image gets a new imageId here, which replaces
// the containers that use it on the next `up` (after `pulumi refresh` or `up --refresh`).
func (imageKind) read(ctx context.Context, c *client, _ string, in resource.PropertyMap) (map[string]any, bool, error) {
	var a imageArgs
	if err := decode(in, &a); err != nil {
		return nil, false, err
	}
	var img imageInspect
	if err := c.do(ctx, http.MethodGet, "/images/"+pathEscape(a.Name)+"/json", nil, nil, &img); err != nil {
		if isStatus(err, http.StatusNotFound) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return img.outputs(), false, nil
}

func (imageKind) update(context.Context, *client, string, resource.PropertyMap, resource.PropertyMap) error {
	return nil
}

func (imageKind) delete(ctx context.Context, c *client, _ string, state resource.PropertyMap) error {
	var a imageArgs
	if err := decode(state, &a); err != nil {
		return err
	}
	if a.KeepLocally {
		return nil
	}
	q := url.Values{}
	if a.ForceRemove {
		q.Set("force", "1")
	}
	err := c.do(ctx, http.MethodDelete, "/images/"+pathEscape(a.Name), q, nil, nil)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("removing image %s (set keepLocally to leave it): %w", a.Name, err)
	}
	return nil
}
