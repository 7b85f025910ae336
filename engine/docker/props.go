package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// unknownValue stands for a value not known yet (preview); plain() never lets it reach the API.
type unknownValue struct{}

// plain turns a property value into JSON-shaped Go values with secrets unwrapped, so request
// bodies can be built from typed structs. Secrets stay wrapped in what is returned to the engine.
func plain(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsComputed():
		return unknownValue{}
	case v.IsOutput():
		if !v.OutputValue().Known {
			return unknownValue{}
		}
		return plain(v.OutputValue().Element)
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		return v.NumberValue()
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		out := make([]any, 0, len(v.ArrayValue()))
		for _, e := range v.ArrayValue() {
			out = append(out, plain(e))
		}
		return out
	case v.IsObject():
		return plainMap(v.ObjectValue())
	}
	return nil
}

func plainMap(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[string(k)] = plain(e)
	}
	return out
}

// known drops unknowns (Check runs on preview inputs, where they are normal).
func known(v any) any {
	switch x := v.(type) {
	case unknownValue:
		return nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			out = append(out, known(e))
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if e = known(e); e != nil {
				out[k] = e
			}
		}
		return out
	}
	return v
}

// decode fills out (a struct with the SDK's camelCase names as json tags) from inputs.
func decode(inputs resource.PropertyMap, out any) error {
	buf, err := json.Marshal(known(plainMap(inputs)))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(buf, out); err != nil {
		var te *json.UnmarshalTypeError
		if asTypeErr(err, &te) {
			return fmt.Errorf("property %s: a %s does not fit (expected %s)", te.Field, te.Value, te.Type)
		}
		return err
	}
	return nil
}

func asTypeErr(err error, target **json.UnmarshalTypeError) bool {
	te, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*target = te
	}
	return ok
}

// isSet says whether a value means anything: null, false, 0, "" and empty lists/maps do not,
// so `attach: false` passes where `attach: true` is rejected.
func isSet(v resource.PropertyValue) bool {
	switch x := plain(v).(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true // unknown: it will have some value
}

// checkKeys reports every set input that is not in supported, naming it, so nothing the
// program asks for is silently dropped.
func checkKeys(typ string, news resource.PropertyMap, supported map[string]bool) []*pulumirpc.CheckFailure {
	var fails []*pulumirpc.CheckFailure
	keys := news.StableKeys()
	for _, k := range keys {
		if !supported[string(k)] && isSet(news[k]) {
			fails = append(fails, failure(string(k), fmt.Sprintf("%s.%s is not implemented by fjord's docker provider (engine/docker); remove it or extend the provider", shortType(typ), k)))
		}
	}
	return fails
}

// checkSubKeys is checkKeys for the objects of a list (or a single object) property.
func checkSubKeys(typ, prop string, v resource.PropertyValue, supported ...string) []*pulumirpc.CheckFailure {
	ok := map[string]bool{}
	for _, s := range supported {
		ok[s] = true
	}
	var items []resource.PropertyValue
	switch p := unwrap(v); {
	case p.IsArray():
		items = p.ArrayValue()
	case p.IsObject():
		items = []resource.PropertyValue{p}
	}
	var fails []*pulumirpc.CheckFailure
	seen := map[string]bool{}
	for _, it := range items {
		if it = unwrap(it); !it.IsObject() {
			continue
		}
		for k, e := range it.ObjectValue() {
			if !ok[string(k)] && isSet(e) && !seen[string(k)] {
				seen[string(k)] = true
				fails = append(fails, failure(prop, fmt.Sprintf("%s.%s[].%s is not implemented by fjord's docker provider (engine/docker)", shortType(typ), prop, k)))
			}
		}
	}
	return fails
}

func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func failure(prop, reason string) *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: prop, Reason: reason}
}

func shortType(typ string) string {
	if i := strings.LastIndex(typ, ":"); i >= 0 {
		return typ[i+1:]
	}
	return typ
}

func set(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// isUnknown says whether any part of a top-level input is not known yet; validation of such an
// input waits for the real value (Check runs again before Create).
func isUnknown(m resource.PropertyMap, k string) bool {
	v, ok := m[resource.PropertyKey(k)]
	return ok && v.ContainsUnknowns()
}

// withOutputs returns inputs (secrets kept) plus computed outputs; a computed value never
// overrides an input the program set.
func withOutputs(inputs resource.PropertyMap, computed map[string]any) resource.PropertyMap {
	out := inputs.Copy()
	keys := make([]string, 0, len(computed))
	for k := range computed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pk := resource.PropertyKey(k)
		if cur, ok := out[pk]; ok && !cur.IsNull() {
			continue
		}
		if pv, ok := computed[k].(resource.PropertyValue); ok {
			out[pk] = pv
			continue
		}
		out[pk] = resource.NewPropertyValue(computed[k])
	}
	return out
}

// unknowns marks the named outputs as not known (previews of creates).
func unknowns(names ...string) map[string]any {
	m := map[string]any{}
	for _, n := range names {
		m[n] = resource.MakeComputed(resource.NewStringProperty(""))
	}
	return m
}

// keep copies the named outputs from a previous state (updates that do not recompute them).
func keep(olds resource.PropertyMap, names ...string) map[string]any {
	m := map[string]any{}
	for _, n := range names {
		if v, ok := olds[resource.PropertyKey(n)]; ok {
			m[n] = v
		}
	}
	return m
}
