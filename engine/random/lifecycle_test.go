package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func secret(v any) resource.PropertyValue { return resource.MakeSecret(resource.NewPropertyValue(v)) }

func unknown() resource.PropertyValue { return resource.MakeComputed(resource.NewStringProperty("")) }

// Impossible inputs fail Check (before anything is created) with one failure naming the property
// and the way out; none of them may reach Create, where some used to crash the plugin.
func TestCheckFailures(t *testing.T) {
	cases := []struct {
		typ      string
		in       resource.PropertyMap
		property string
		reason   string
	}{
		{passwordType, props(map[string]any{}), "length", "Missing required argument length"},
		{passwordType, props(map[string]any{"length": 0}), "length", "length must be a whole number >= 1, got 0"},
		{stringType, props(map[string]any{"length": -3}), "length", "length must be a whole number >= 1, got -3"},
		{passwordType, props(map[string]any{"length": 10.5}), "length", "whole number >= 1, got 10.5"},
		{passwordType, resource.PropertyMap{"length": secret(0)}, "length", "got [secret]"},
		{passwordType, props(map[string]any{"length": 4, "minLower": 2, "minUpper": 2, "minNumeric": 1}), "length",
			"length (4) is less than minLower + minUpper + minNumeric + minSpecial (5): raise length or lower the minimums"},
		{stringType, props(map[string]any{"length": 8, "minSpecial": -1}), "minSpecial",
			"minSpecial must be a whole number >= 0, got -1"},
		{passwordType, props(map[string]any{"length": 8, "special": false, "minSpecial": 2}), "minSpecial",
			"minSpecial is 2 but special is false: set special to true or minSpecial to 0"},
		{passwordType, props(map[string]any{"length": 8, "upper": false, "minUpper": 1}), "minUpper",
			"minUpper is 1 but upper is false"},
		{passwordType, props(map[string]any{"length": 8, "number": false, "minNumeric": 1}), "minNumeric",
			"minNumeric is 1 but numeric is false"},
		{passwordType, props(map[string]any{"length": 8, "lower": false, "upper": false, "numeric": false, "special": false}),
			"special", "lower, upper, numeric and special are all false: enable at least one character class"},
		{passwordType, props(map[string]any{"length": 8, "number": true, "numeric": false}), "number",
			"number and numeric differ: number is a deprecated alias of numeric; remove number"},
		{stringType, props(map[string]any{"length": 8, "overrideSpecial": "-€"}), "overrideSpecial",
			"overrideSpecial must hold ASCII characters only"},
		{"random:index/randomBytes:RandomBytes", props(map[string]any{"length": 0}), "length", "length must be a whole number >= 1"},
		{"random:index/randomId:RandomId", props(map[string]any{"byteLength": 0}), "byteLength",
			"byteLength must be a whole number >= 1, got 0"},
		{"random:index/randomInteger:RandomInteger", props(map[string]any{"min": 5, "max": 1}), "max",
			"max (1) must be >= min (5): the range is inclusive, swap them"},
		{"random:index/randomInteger:RandomInteger", props(map[string]any{"min": 1.5, "max": 3}), "min",
			"min must be a whole number, got 1.5"},
		{"random:index/randomShuffle:RandomShuffle", props(map[string]any{"inputs": []any{"a"}, "resultCount": -1}),
			"resultCount", "resultCount must be a whole number >= 0"},
		{"random:index/randomPet:RandomPet", props(map[string]any{"length": 0}), "length", "length must be a whole number >= 1"},
	}
	for _, c := range cases {
		_, fails := check(t, c.typ, c.in)
		if len(fails) != 1 || fails[0].GetProperty() != c.property || !strings.Contains(fails[0].GetReason(), c.reason) {
			t.Errorf("%s %v: got %v, want one failure on %s with %q", c.typ, c.in, fails, c.property, c.reason)
		}
	}
}

// Valid edge cases pass: length equal to the sum of the minimums, a minimum of 0 for a disabled
// class, RandomInteger min == max, the deprecated number agreeing with numeric.
func TestCheckAcceptsValidEdges(t *testing.T) {
	for _, in := range []map[string]any{
		{"length": 8, "minLower": 2, "minUpper": 2, "minNumeric": 2, "minSpecial": 2},
		{"length": 1, "special": false, "minSpecial": 0},
		{"length": 8, "number": false, "numeric": false},
		{"length": 8, "lower": false, "upper": false, "numeric": false},
	} {
		if _, fails := check(t, passwordType, props(in)); len(fails) > 0 {
			t.Errorf("%v: %v", in, fails)
		}
	}
	if _, fails := check(t, "random:index/randomInteger:RandomInteger", props(map[string]any{"min": 7, "max": 7})); len(fails) > 0 {
		t.Errorf("min == max: %v", fails)
	}
}

// During a preview, inputs from other resources are unknown: Check must neither fail on them nor
// overwrite them with defaults or derived values.
func TestCheckKeepsUnknowns(t *testing.T) {
	in := resource.PropertyMap{"length": unknown(), "minSpecial": unknown(), "special": resource.NewBoolProperty(false),
		"numeric": unknown(), "number": resource.NewBoolProperty(false), "keepers": unknown()}
	out, fails := check(t, passwordType, in)
	if len(fails) > 0 {
		t.Fatalf("failures on unknown inputs: %v", fails)
	}
	for _, k := range []resource.PropertyKey{"length", "minSpecial", "numeric", "keepers"} {
		if !out[k].IsComputed() {
			t.Errorf("%s: unknown became %v", k, out[k])
		}
	}
}

// Check fills upstream's defaults, and number/numeric (one an alias of the other) follow each
// other as upstream's plan modifier does, so the state says which characters were used.
func TestCheckDefaults(t *testing.T) {
	out, _ := check(t, passwordType, props(map[string]any{"length": 16}))
	want := props(map[string]any{"length": 16, "lower": true, "upper": true, "numeric": true, "number": true,
		"special": true, "minLower": 0, "minUpper": 0, "minNumeric": 0, "minSpecial": 0})
	if !out.DeepEquals(want) {
		t.Errorf("defaults: got %v\nwant %v", out, want)
	}
	for _, given := range []string{"numeric", "number"} {
		out, _ := check(t, stringType, props(map[string]any{"length": 16, given: false}))
		if out["number"].BoolValue() || out["numeric"].BoolValue() {
			t.Errorf("%s false alone: number=%v numeric=%v", given, out["number"], out["numeric"])
		}
	}
	out, _ = check(t, "random:index/randomPet:RandomPet", resource.PropertyMap{})
	if out["length"].NumberValue() != 2 || out["separator"].StringValue() != "-" {
		t.Errorf("pet defaults: %v", out)
	}
}

func diff(t *testing.T, typ string, olds, news resource.PropertyMap, ignore ...string) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := (&provider{}).Diff(context.Background(), &pulumirpc.DiffRequest{
		Type: typ, Olds: marshal(t, olds), OldInputs: marshal(t, olds), News: marshal(t, news), IgnoreChanges: ignore,
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// The inputs each type compares are exactly the @pulumi/random 4.21 input properties: one missing
// from the list would make its changes silently ignored (a stale value) instead of replacing.
func TestInputListsMatchTheSDK(t *testing.T) {
	str := "keepers length lower minLower minNumeric minSpecial minUpper number numeric overrideSpecial special upper"
	want := map[string]string{
		passwordType: str, stringType: str,
		"random:index/randomBytes:RandomBytes":     "keepers length",
		"random:index/randomId:RandomId":           "byteLength keepers prefix",
		"random:index/randomInteger:RandomInteger": "keepers max min seed",
		"random:index/randomShuffle:RandomShuffle": "inputs keepers resultCount seed",
		"random:index/randomPet:RandomPet":         "keepers length prefix separator",
		"random:index/randomUuid:RandomUuid":       "keepers",
		"random:index/randomUuid4:RandomUuid4":     "keepers",
		"random:index/randomUuid7:RandomUuid7":     "keepers",
	}
	if len(resourceTypes) != len(want) {
		t.Errorf("%d resource types, want %d", len(resourceTypes), len(want))
	}
	for typ, names := range want {
		rt, err := lookup(typ)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(rt.inputs)
		sort.Strings(got)
		if strings.Join(got, " ") != names {
			t.Errorf("%s inputs: %v, want %s", typ, got, names)
		}
	}
}

// Every input of every type forces replacement (as upstream: all are RequiresReplace), and the
// detailed diff says so; the same inputs give no diff.
func TestEveryInputChangeReplaces(t *testing.T) {
	for typ, rt := range resourceTypes {
		base := resource.PropertyMap{}
		for _, k := range rt.inputs {
			base[resource.PropertyKey(k)] = resource.NewStringProperty("a")
		}
		if d := diff(t, typ, base, base.Copy()); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE || len(d.GetReplaces()) > 0 {
			t.Errorf("%s unchanged: %v", typ, d)
		}
		for _, k := range rt.inputs {
			news := base.Copy()
			news[resource.PropertyKey(k)] = resource.NewStringProperty("b")
			d := diff(t, typ, base, news)
			if d.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || !slices.Equal(d.GetReplaces(), []string{k}) ||
				d.GetDetailedDiff()[k].GetKind() != pulumirpc.PropertyDiff_UPDATE_REPLACE {
				t.Errorf("%s change of %s: %v", typ, k, d)
			}
		}
	}
}

// What must and must not regenerate a password, on checked inputs as the engine stores them.
func TestPasswordDiff(t *testing.T) {
	base, _ := check(t, passwordType, props(map[string]any{"length": 32, "special": false,
		"keepers": map[string]any{"image": "v1"}}))
	with := func(k string, v resource.PropertyValue) resource.PropertyMap {
		m := base.Copy()
		if v.IsNull() {
			delete(m, resource.PropertyKey(k))
		} else {
			m[resource.PropertyKey(k)] = v
		}
		return m
	}
	keepers := func(m map[string]any) resource.PropertyValue { return resource.NewPropertyValue(m) }
	none := resource.NewNullProperty()
	cases := []struct {
		name       string
		olds, news resource.PropertyMap
		replaces   string
	}{
		{"unchanged", base, base.Copy(), ""},
		{"a keeper changes", base, with("keepers", keepers(map[string]any{"image": "v2"})), "keepers"},
		{"a keeper is added", base, with("keepers", keepers(map[string]any{"image": "v1", "b": "x"})), "keepers"},
		{"keepers removed", base, with("keepers", none), "keepers"},
		{"a keeper becomes unknown in preview", base, with("keepers", unknown()), "keepers"},
		{"length", base, with("length", resource.NewNumberProperty(33)), "length"},
		{"special back to true", base, with("special", resource.NewBoolProperty(true)), "special"},
		{"overrideSpecial set", base, with("overrideSpecial", resource.NewStringProperty("_")), "overrideSpecial"},
		{"a keeper becomes secret", base, with("keepers", resource.MakeSecret(keepers(map[string]any{"image": "v1"}))), ""},
		{"a keeper value becomes secret", base, with("keepers", resource.NewObjectProperty(
			resource.PropertyMap{"image": secret("v1")})), ""},
		{"length becomes secret", base, with("length", secret(32)), ""},
		{"secret becomes plain", with("length", secret(32)), base, ""},
		{"no keepers to empty keepers", with("keepers", none), with("keepers", keepers(map[string]any{})), ""},
		{"empty keepers to a null keeper", with("keepers", keepers(map[string]any{})),
			with("keepers", resource.NewObjectProperty(resource.PropertyMap{"k": none})), ""},
		{"overrideSpecial empty to unset", with("overrideSpecial", resource.NewStringProperty("")), base, ""},
	}
	for _, c := range cases {
		d := diff(t, passwordType, c.olds, c.news)
		if strings.Join(d.GetReplaces(), ",") != c.replaces || (c.replaces == "") != (d.GetChanges() == pulumirpc.DiffResponse_DIFF_NONE) {
			t.Errorf("%s: changes=%v replaces=%v, want replaces=%q", c.name, d.GetChanges(), d.GetReplaces(), c.replaces)
		}
	}
	if d := diff(t, passwordType, base, with("length", resource.NewNumberProperty(64)), "length"); d.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("ignoreChanges [length]: %v", d)
	}
	// Older engines send only the old state: its input properties are compared.
	id, state, inputs := create(t, passwordType, base)
	resp, err := (&provider{}).Diff(context.Background(), &pulumirpc.DiffRequest{Type: passwordType, Id: id,
		Olds: marshal(t, state), News: marshal(t, inputs)})
	if err != nil || resp.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
		t.Errorf("diff against the state alone: %v %v", resp, err)
	}
}

// Refresh (Read) and Update never regenerate: the stored password, hash and secrets come back as
// they are, however often it runs.
func TestReadAndUpdateKeepTheValue(t *testing.T) {
	p := &provider{}
	id, state, inputs := create(t, passwordType, props(map[string]any{"length": 24}))
	for i := 0; i < 3; i++ {
		r, err := p.Read(context.Background(), &pulumirpc.ReadRequest{Id: id, Type: passwordType,
			Properties: marshal(t, state), Inputs: marshal(t, inputs)})
		if err != nil {
			t.Fatal(err)
		}
		if got := unmarshal(t, r.GetProperties()); r.GetId() != id || !got.DeepEquals(state) ||
			!unmarshal(t, r.GetInputs()).DeepEquals(inputs) {
			t.Fatalf("refresh %d changed the resource: %v\nwas %v", i, got, state)
		}
	}
	news := inputs.Copy()
	news["length"] = resource.NewNumberProperty(40)
	u, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{Id: id, Type: passwordType,
		Olds: marshal(t, state), News: marshal(t, news), IgnoreChanges: []string{"length"}})
	if err != nil || !unmarshal(t, u.GetProperties()).DeepEquals(state) {
		t.Errorf("update changed the outputs: %v %v", u, err)
	}
	// `pulumi import` has no state to read from: a clear error, not an empty resource.
	_, err = p.Read(context.Background(), &pulumirpc.ReadRequest{Id: "none", Type: passwordType})
	if err == nil || !strings.Contains(err.Error(), "import of "+passwordType+" is not supported") {
		t.Errorf("import: %v", err)
	}
}

// notIn fails when text appears in a non-secret output or the ID.
func notIn(t *testing.T, what, text, id string, state resource.PropertyMap) {
	t.Helper()
	for k, v := range state {
		if !v.IsSecret() && strings.Contains(fmt.Sprint(v.Mappable()), text) {
			t.Errorf("%s leaks into non-secret output %s", what, k)
		}
	}
	if strings.Contains(id, text) {
		t.Errorf("%s leaks into the ID %q", what, id)
	}
}

// Secrets as upstream marks them (sensitive): RandomPassword's result and bcryptHash,
// RandomBytes' base64 and hex; RandomString's result is not. Secret inputs stay secret.
func TestSecretOutputs(t *testing.T) {
	id, state, _ := create(t, passwordType, resource.PropertyMap{
		"length": resource.NewNumberProperty(20), "keepers": secret(map[string]any{"db": "hunter2"})})
	for k, v := range state {
		if want := k == "result" || k == "bcryptHash" || k == "keepers"; v.IsSecret() != want {
			t.Errorf("password %s: secret=%v, want %v", k, v.IsSecret(), want)
		}
	}
	notIn(t, "the password", plain(state["result"]), id, state)
	notIn(t, "the hash", plain(state["bcryptHash"]), id, state)
	notIn(t, "a secret keeper", "hunter2", id, state)

	id, state, _ = create(t, "random:index/randomBytes:RandomBytes", props(map[string]any{"length": 32}))
	if !state["base64"].IsSecret() || !state["hex"].IsSecret() || state["length"].IsSecret() || id != "none" {
		t.Errorf("bytes: %v (id %q)", state, id)
	}
	notIn(t, "the bytes", plain(state["hex"]), id, state)

	// A secret keeper does not flow into RandomString's result; a secret overrideSpecial does.
	_, state, _ = create(t, stringType, resource.PropertyMap{"length": resource.NewNumberProperty(8),
		"keepers": secret(map[string]any{"k": "v"})})
	if state["result"].IsSecret() || !state["keepers"].IsSecret() {
		t.Errorf("string with a secret keeper: %v", state)
	}
	_, state, _ = create(t, stringType, resource.PropertyMap{"length": resource.NewNumberProperty(8),
		"overrideSpecial": secret("#")})
	if !state["result"].IsSecret() || !state["overrideSpecial"].IsSecret() {
		t.Errorf("string with a secret overrideSpecial: %v", state)
	}
}
