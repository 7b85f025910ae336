package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestBytesEncodings(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{1, 16, 32, 64, 100} {
		_, state, _ := create(t, "random:index/randomBytes:RandomBytes", props(map[string]any{"length": n}))
		b, err := base64.StdEncoding.DecodeString(plain(state["base64"]))
		h, err2 := hex.DecodeString(plain(state["hex"]))
		if err != nil || err2 != nil || len(b) != n || !bytes.Equal(b, h) {
			t.Errorf("length %d: base64 %q and hex %q are not the same %d bytes (%v, %v)",
				n, plain(state["base64"]), plain(state["hex"]), n, err, err2)
		}
		if seen[plain(state["hex"])] {
			t.Errorf("length %d: repeated bytes", n)
		}
		seen[plain(state["hex"])] = true
	}
}

// All RandomId encodings carry the same bytes; the prefix is on every output but not on the ID,
// and dec is the unpadded big-endian number, as upstream.
func TestIdEncodings(t *testing.T) {
	for _, n := range []int{1, 2, 4, 8, 16, 32} {
		for _, prefix := range []string{"", "svc-"} {
			in := map[string]any{"byteLength": n}
			if prefix != "" {
				in["prefix"] = prefix
			}
			id, state, _ := create(t, "random:index/randomId:RandomId", props(in))
			raw, err := base64.RawURLEncoding.DecodeString(id)
			if err != nil || len(raw) != n {
				t.Fatalf("byteLength %d: id %q is not %d bytes of unpadded base64url: %v", n, id, n, err)
			}
			want := map[string]string{
				"b64Url": prefix + id,
				"b64Std": prefix + base64.StdEncoding.EncodeToString(raw),
				"hex":    prefix + hex.EncodeToString(raw),
				"dec":    prefix + new(big.Int).SetBytes(raw).String(),
			}
			for k, v := range want {
				if got := state[resource.PropertyKey(k)]; got.IsSecret() || plain(got) != v {
					t.Errorf("byteLength %d prefix %q: %s = %v, want %q", n, prefix, k, got, v)
				}
			}
			if strings.ContainsAny(id, "+/=") {
				t.Errorf("id %q is not URL-safe", id)
			}
		}
	}
	// A secret prefix is in every output, so they all become secret.
	_, state, _ := create(t, "random:index/randomId:RandomId", resource.PropertyMap{
		"byteLength": resource.NewNumberProperty(4), "prefix": secret("tenant-")})
	for _, k := range []resource.PropertyKey{"b64Url", "b64Std", "hex", "dec"} {
		if !state[k].IsSecret() {
			t.Errorf("secret prefix: %s is not secret", k)
		}
	}
}

func integer(t *testing.T, in map[string]any) (string, int) {
	t.Helper()
	id, state, _ := create(t, "random:index/randomInteger:RandomInteger", props(in))
	v := state["result"]
	if !v.IsNumber() || v.NumberValue() != float64(int(v.NumberValue())) || id != strconv.Itoa(int(v.NumberValue())) {
		t.Fatalf("%v: result %v, id %q", in, v, id)
	}
	return id, int(v.NumberValue())
}

// Bounds are inclusive and every value in them occurs; a seed gives upstream's value (the numbers
// are from terraform-provider-random's acceptance tests), every time.
func TestInteger(t *testing.T) {
	for _, r := range [][2]int{{1, 3}, {-5, -3}, {-1, 1}, {7, 7}, {-3_000_000_001, -2_999_999_999}} {
		seen := map[int]bool{}
		for i := 0; i < 200; i++ {
			_, v := integer(t, map[string]any{"min": r[0], "max": r[1]})
			if v < r[0] || v > r[1] {
				t.Fatalf("%d outside [%d, %d]", v, r[0], r[1])
			}
			seen[v] = true
		}
		if len(seen) != r[1]-r[0]+1 {
			t.Errorf("[%d, %d]: only %v drawn", r[0], r[1], seen)
		}
	}
	for seed, want := range map[string]int{"12345": 3, "123456": 2} {
		for i := 0; i < 3; i++ {
			if _, v := integer(t, map[string]any{"min": 1, "max": 3, "seed": seed}); v != want {
				t.Errorf("seed %q: %d, upstream gives %d", seed, v, want)
			}
		}
	}
}

func shuffle(t *testing.T, in map[string]any) []string {
	t.Helper()
	id, state, _ := create(t, "random:index/randomShuffle:RandomShuffle", props(in))
	if id != "-" {
		t.Errorf("id %q, upstream uses \"-\"", id)
	}
	var out []string
	for _, v := range state["results"].ArrayValue() {
		out = append(out, v.StringValue())
	}
	return out
}

// Seeded shuffles equal upstream's (expected orders from terraform-provider-random's acceptance
// tests); resultCount above the input count repeats items round by round, as upstream.
func TestShuffle(t *testing.T) {
	abcde := []any{"a", "b", "c", "d", "e"}
	cases := []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"inputs": abcde, "seed": "-"}, "a c b e d"},
		{map[string]any{"inputs": abcde, "seed": "-", "resultCount": 3}, "a c b"},
		{map[string]any{"inputs": abcde, "seed": "-", "resultCount": 12}, "a c b e d a e d c b a b"},
		{map[string]any{"inputs": []any{}, "seed": "-", "resultCount": 12}, ""},
		{map[string]any{"inputs": []any{"a"}, "seed": "-", "resultCount": 1}, "a"},
	}
	for _, c := range cases {
		if got := strings.Join(shuffle(t, c.in), " "); got != c.want {
			t.Errorf("%v: %q, upstream gives %q", c.in, got, c.want)
		}
	}
	// Unseeded: a permutation of the inputs, and not always the same one.
	orders := map[string]bool{}
	for i := 0; i < 50; i++ {
		got := shuffle(t, map[string]any{"inputs": abcde})
		order := strings.Join(got, "")
		sort.Strings(got)
		if strings.Join(got, "") != "abcde" {
			t.Fatalf("%q is not a permutation of abcde", order)
		}
		orders[order] = true
	}
	if len(orders) < 10 {
		t.Errorf("50 unseeded shuffles gave only %d orders", len(orders))
	}
	// Secret inputs: the results are those values, so they are secret too.
	_, state, _ := create(t, "random:index/randomShuffle:RandomShuffle", resource.PropertyMap{
		"inputs": secret([]any{"x", "y"})})
	if !state["results"].IsSecret() {
		t.Errorf("results of secret inputs are not secret: %v", state["results"])
	}
}

// The pet name is the ID: prefix, then adjectives and an animal, joined by the separator.
func TestPet(t *testing.T) {
	cases := []struct {
		in    map[string]any
		sep   string
		words int
		first string
	}{
		{map[string]any{}, "-", 2, ""},
		{map[string]any{"length": 1}, "-", 1, ""},
		{map[string]any{"length": 3, "separator": "_", "prefix": "fjord"}, "_", 4, "fjord"},
	}
	for _, c := range cases {
		for i := 0; i < 30; i++ {
			id, _, _ := create(t, "random:index/randomPet:RandomPet", props(c.in))
			w := strings.Split(id, c.sep)
			if len(w) != c.words || (c.first != "" && w[0] != c.first) || !slices.Contains(animals, w[len(w)-1]) {
				t.Fatalf("%v: %q", c.in, id)
			}
			for _, a := range w[:len(w)-1] {
				if a != c.first && !slices.Contains(adjectives, a) {
					t.Fatalf("%v: %q has %q", c.in, id, a)
				}
			}
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-([47])[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// RFC 9562 layout (version, variant); UUIDv7 starts with the creation time in milliseconds.
func TestUuids(t *testing.T) {
	for typ, version := range map[string]string{"random:index/randomUuid:RandomUuid": "4",
		"random:index/randomUuid4:RandomUuid4": "4", "random:index/randomUuid7:RandomUuid7": "7"} {
		seen := map[string]bool{}
		for i := 0; i < 100; i++ {
			before := time.Now().UnixMilli()
			id, state, _ := create(t, typ, resource.PropertyMap{})
			after := time.Now().UnixMilli()
			m := uuidRE.FindStringSubmatch(id)
			if m == nil || m[1] != version || plain(state["result"]) != id || seen[id] {
				t.Fatalf("%s: %q (result %v), want a new version %s UUID", typ, id, state["result"], version)
			}
			seen[id] = true
			if version == "7" {
				ms, _ := strconv.ParseInt(strings.ReplaceAll(id, "-", "")[:12], 16, 64)
				if ms < before || ms > after {
					t.Fatalf("%q: timestamp %d outside [%d, %d]", id, ms, before, after)
				}
			}
		}
	}
}

func TestUnsupportedType(t *testing.T) {
	_, err := (&provider{}).Check(context.Background(), &pulumirpc.CheckRequest{Type: "random:index/randomIp:RandomIp"})
	if err == nil || !strings.Contains(err.Error(), `unsupported resource type "random:index/randomIp:RandomIp"`) {
		t.Errorf("got %v", err)
	}
}
