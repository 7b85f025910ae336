package main

import (
	"fmt"
	"math"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"google.golang.org/protobuf/types/known/structpb"
)

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) { return providerkit.Unmarshal(s) }

// reveal unwraps a secret; callers that change the value must re-wrap it with keepSecret.
func reveal(v resource.PropertyValue) (resource.PropertyValue, bool) {
	if v.IsSecret() {
		return v.SecretValue().Element, true
	}
	return v, false
}

func keepSecret(v resource.PropertyValue, secret bool) resource.PropertyValue {
	if secret {
		return resource.MakeSecret(v)
	}
	return v
}

// known returns a string property's value when it is a known string (secret or not).
func known(m resource.PropertyMap, k resource.PropertyKey) (string, bool) {
	v, _ := reveal(m[k])
	if v.IsString() {
		return v.StringValue(), true
	}
	return "", false
}

// object returns a nested object (nil when absent or not an object, e.g. unknown during preview).
func object(m resource.PropertyMap, k resource.PropertyKey) resource.PropertyMap {
	v, _ := reveal(m[k])
	if v.IsObject() {
		return v.ObjectValue()
	}
	return nil
}

// editObject lets fn change the object at m[k], creating it when absent, keeping it secret if it
// was. It reports false (and leaves m alone) when the value is unknown or not an object: during
// preview a computed metadata or annotations map cannot be amended, only passed through.
func editObject(m resource.PropertyMap, k resource.PropertyKey, fn func(resource.PropertyMap)) bool {
	cur, ok := m[k]
	if !ok || cur.IsNull() {
		obj := resource.PropertyMap{}
		fn(obj)
		m[k] = resource.NewObjectProperty(obj)
		return true
	}
	v, secret := reveal(cur)
	if !v.IsObject() {
		return false
	}
	obj := v.ObjectValue().Copy()
	fn(obj)
	m[k] = keepSecret(resource.NewObjectProperty(obj), secret)
	return true
}

// objectMeta reads apiVersion, kind, metadata.name and metadata.namespace, as far as known.
func objectMeta(obj resource.PropertyMap) (apiVersion, kind, namespace, name string) {
	apiVersion, _ = known(obj, "apiVersion")
	kind, _ = known(obj, "kind")
	md := object(obj, "metadata")
	namespace, _ = known(md, "namespace")
	name, _ = known(md, "name")
	return
}

// plain converts a property value to what YAML/JSON encoders take. Secrets are revealed (render
// mode writes them, as documented upstream); whole numbers become integers so replicas: 3 is not
// written as 3.0; an unknown value is an error because a manifest cannot hold one.
func plain(v resource.PropertyValue) (any, error) {
	v, _ = reveal(v)
	switch {
	case v.IsNull():
		return nil, nil
	case v.IsBool():
		return v.BoolValue(), nil
	case v.IsNumber():
		n := v.NumberValue()
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), nil
		}
		return n, nil
	case v.IsString():
		return v.StringValue(), nil
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			p, err := plain(e)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	case v.IsObject():
		out := map[string]any{}
		for k, e := range v.ObjectValue() {
			if e.IsNull() {
				continue
			}
			p, err := plain(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[string(k)] = p
		}
		return out, nil
	case v.ContainsUnknowns():
		return nil, fmt.Errorf("value is not known yet")
	}
	return nil, fmt.Errorf("unsupported value of type %s", v.TypeString())
}

// plainMap is plain for a whole property map, dropping values it cannot convert.
func plainMap(m resource.PropertyMap) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if p, err := plain(v); err == nil && p != nil {
			out[string(k)] = p
		}
	}
	return out
}
