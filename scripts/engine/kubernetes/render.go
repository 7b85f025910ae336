package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"gopkg.in/yaml.v3"
)

// Keys the official provider adds to the state next to the object. Keeping its checkpoint format
// means a stack rendered here can later be driven by the official plugin without spurious diffs.
const (
	inputsKey            = "__inputs"
	initialAPIVersionKey = "__initialApiVersion"
	fieldManagerKey      = "__fieldManager"
)

// checkpoint is the state of an object: the object itself (what a cluster would return; in render
// mode the inputs with defaults applied), the inputs, and the provider's bookkeeping. Secret inputs
// stay secret wherever they land, and the payload of a v1 Secret is always secret.
func checkpoint(obj resource.PropertyMap, initialAPIVersion, fieldManager string) resource.PropertyMap {
	out, ins := obj.Copy(), obj.Copy()
	secretPayload(out)
	secretPayload(ins)
	out[inputsKey] = resource.NewObjectProperty(ins)
	out[initialAPIVersionKey] = resource.NewStringProperty(initialAPIVersion)
	out[fieldManagerKey] = resource.NewStringProperty(fieldManager)
	return out
}

func secretPayload(obj resource.PropertyMap) {
	if apiVersion, kind, _, _ := objectMeta(obj); apiVersion != "v1" || kind != "Secret" {
		return
	}
	for _, k := range []resource.PropertyKey{"data", "stringData"} {
		if v, ok := obj[k]; ok && !v.IsNull() && !v.IsSecret() {
			obj[k] = resource.MakeSecret(v)
		}
	}
}

// splitState separates a checkpoint into the object and the inputs it was made from. States
// without __inputs (written by something else) count as their own inputs.
func splitState(state resource.PropertyMap) (obj, inputs resource.PropertyMap) {
	obj = state.Copy()
	for _, k := range []resource.PropertyKey{inputsKey, initialAPIVersionKey, fieldManagerKey} {
		delete(obj, k)
	}
	if in := object(state, inputsKey); in != nil {
		return obj, in
	}
	return obj, obj
}

func stateString(state resource.PropertyMap, k resource.PropertyKey, def string) string {
	if s, ok := known(state, k); ok && s != "" {
		return s
	}
	return def
}

// manifestYAML is the object as a manifest: keys sorted like the official provider's JSON-to-YAML
// output, two-space indents, multi-line strings as literal blocks.
func manifestYAML(obj resource.PropertyMap) ([]byte, error) {
	p, err := plain(resource.NewObjectProperty(obj))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(p); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeManifest renders obj under dir and returns the file written. Owner-only permissions, as
// upstream: the files hold Secret payloads in plain text. Written to a temporary file and renamed,
// so an interrupted run never leaves half a manifest for `kubectl apply` to choke on.
func writeManifest(dir string, obj resource.PropertyMap) (string, error) {
	apiVersion, kind, namespace, name := objectMeta(obj)
	if apiVersion == "" || kind == "" || name == "" {
		return "", fmt.Errorf("cannot render an object without a known apiVersion, kind and metadata.name")
	}
	data, err := manifestYAML(obj)
	if err != nil {
		return "", fmt.Errorf("rendering %s %s: %w", kind, name, err)
	}
	for _, sub := range []string{"0-crd", "1-manifest"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return "", fmt.Errorf("creating the render directory: %w", err)
		}
	}
	path := renderPath(dir, apiVersion, kind, namespace, name)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".render-*")
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return "", fmt.Errorf("writing %s: %w", path, err)
	}
	return path, nil
}

// removeManifest deletes obj's file; one already gone is fine (someone cleaned the directory).
func removeManifest(dir string, obj resource.PropertyMap) (string, error) {
	apiVersion, kind, namespace, name := objectMeta(obj)
	path := renderPath(dir, apiVersion, kind, namespace, name)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return path, fmt.Errorf("deleting %s: %w", path, err)
	}
	return path, nil
}
