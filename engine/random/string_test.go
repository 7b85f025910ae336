package main

import (
	"context"
	"fjord.local/engine/kittest"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
)

const (
	passwordType = "random:index/randomPassword:RandomPassword"
	stringType   = "random:index/randomString:RandomString"
	lowerSet     = "abcdefghijklmnopqrstuvwxyz"
	upperSet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digitSet     = "0123456789"
	specialSet   = "!@#$%&*()-_=+[]{}<>:?" // upstream's default special characters
)

// props builds inputs the way the SDK sends them (numbers as float64).
func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

var marshal = kittest.Marshal

var unmarshal = kittest.Unmarshal

// check runs Check over gRPC types and returns the checked inputs and the failures.
func check(t *testing.T, typ string, news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	t.Helper()
	resp, err := (&provider{}).Check(context.Background(), &pulumirpc.CheckRequest{Type: typ, News: marshal(t, news)})
	if err != nil {
		t.Fatal(err)
	}
	return unmarshal(t, resp.GetInputs()), resp.GetFailures()
}

// create does what the engine does: Check (which must pass), then Create with the checked inputs.
// It returns the ID, the state and the checked inputs.
func create(t *testing.T, typ string, news resource.PropertyMap) (string, resource.PropertyMap, resource.PropertyMap) {
	t.Helper()
	inputs, fails := check(t, typ, news)
	if len(fails) > 0 {
		t.Fatalf("Check(%v) failed: %v", news, fails)
	}
	resp, err := (&provider{}).Create(context.Background(), &pulumirpc.CreateRequest{
		Type: typ, Urn: "urn:pulumi:dev::fjord::" + typ + "::test", Properties: marshal(t, inputs),
	})
	if err != nil {
		t.Fatalf("Create(%v): %v", news, err)
	}
	return resp.GetId(), unmarshal(t, resp.GetProperties()), inputs
}

// plain returns the string in v, unwrapping a secret.
func plain(v resource.PropertyValue) string {
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// generate creates n RandomStrings (no bcrypt cost) and returns their results.
func generate(t *testing.T, n int, in map[string]any) []string {
	t.Helper()
	out := make([]string, n)
	for i := range out {
		_, state, _ := create(t, stringType, props(in))
		out[i] = plain(state["result"])
	}
	return out
}

// Every result must draw from exactly the documented set: nothing outside it, and over many draws
// every character of it shows up (a missing or extra class, or a wrong default, fails).
func TestStringCharacterSets(t *testing.T) {
	cases := []struct {
		name string
		in   map[string]any
		set  string
	}{
		{"defaults", map[string]any{}, lowerSet + upperSet + digitSet + specialSet},
		{"special false", map[string]any{"special": false}, lowerSet + upperSet + digitSet},
		{"lower and special only", map[string]any{"upper": false, "numeric": false}, lowerSet + specialSet},
		{"numeric false", map[string]any{"numeric": false, "special": false}, lowerSet + upperSet},
		{"deprecated number false", map[string]any{"number": false, "special": false}, lowerSet + upperSet},
		{"digits only", map[string]any{"lower": false, "upper": false, "special": false}, digitSet},
		{"overrideSpecial", map[string]any{"overrideSpecial": "_-."}, lowerSet + upperSet + digitSet + "_-."},
		{"overrideSpecial empty is the default set", map[string]any{"overrideSpecial": ""},
			lowerSet + upperSet + digitSet + specialSet},
		{"overrideSpecial needs special", map[string]any{"overrideSpecial": "_", "special": false},
			lowerSet + upperSet + digitSet},
		{"specials only", map[string]any{"lower": false, "upper": false, "numeric": false, "overrideSpecial": "#"}, "#"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := map[string]any{"length": 64}
			for k, v := range c.in {
				in[k] = v
			}
			seen := map[rune]bool{}
			for _, s := range generate(t, 150, in) {
				if len(s) != 64 {
					t.Fatalf("length %d, want 64: %q", len(s), s)
				}
				for _, r := range s {
					if !strings.ContainsRune(c.set, r) {
						t.Fatalf("%q has %q, outside %q", s, r, c.set)
					}
					seen[r] = true
				}
			}
			for _, r := range c.set {
				if !seen[r] {
					t.Errorf("%q never drawn from %q in 150x64 characters", r, c.set)
				}
			}
		})
	}
}

func count(s, set string) int {
	n := 0
	for _, r := range s {
		if strings.ContainsRune(set, r) {
			n++
		}
	}
	return n
}

// Minimums hold in every result, and the guaranteed characters are shuffled in, not left in
// front (every class reaches the first position).
func TestStringMinimums(t *testing.T) {
	in := map[string]any{"length": 8, "minLower": 2, "minUpper": 2, "minNumeric": 2, "minSpecial": 2}
	first := map[string]bool{}
	for _, s := range generate(t, 400, in) {
		for _, set := range []string{lowerSet, upperSet, digitSet, specialSet} {
			if n := count(s, set); n != 2 { // the minimums add up to the length: exactly 2 each
				t.Fatalf("%q has %d of %q, want 2", s, n, set)
			}
			if strings.ContainsRune(set, rune(s[0])) {
				first[set] = true
			}
		}
	}
	if len(first) != 4 {
		t.Errorf("only %d classes ever came first: minimums are not shuffled", len(first))
	}
	// A minimum above the share a class would get by chance: 20 digits of 24 every time.
	for _, s := range generate(t, 100, map[string]any{"length": 24, "minNumeric": 20, "overrideSpecial": "%"}) {
		if count(s, digitSet) < 20 || len(s) != 24 {
			t.Fatalf("%q: fewer than 20 digits", s)
		}
	}
	// minSpecial draws from overrideSpecial, not from the default set.
	for _, s := range generate(t, 100, map[string]any{"length": 6, "minSpecial": 6, "overrideSpecial": "^~"}) {
		if count(s, "^~") != 6 {
			t.Fatalf("%q: minSpecial ignored overrideSpecial", s)
		}
	}
}

// Characters are uniform over the set (chi-square): a modulo-biased or skewed pick would mark some
// characters as more likely, which weakens passwords without failing any set test.
func TestStringUniform(t *testing.T) {
	set := lowerSet + upperSet + digitSet + specialSet
	freq := map[rune]int{}
	total := 0
	for _, s := range generate(t, 1000, map[string]any{"length": 64}) {
		for _, r := range s {
			freq[r]++
			total++
		}
	}
	want := float64(total) / float64(len(set))
	chi2 := 0.0
	for _, r := range set {
		d := float64(freq[r]) - want
		chi2 += d * d / want
	}
	// 82 degrees of freedom: mean 82, p(chi2 > 180) < 1e-8. A byte%83 pick would score ~500 here.
	if chi2 > 180 {
		t.Errorf("chi-square %.1f over %d characters: distribution is skewed: %v", chi2, total, freq)
	}
}

// Results differ from each other (no fixed seed, no reuse between resources).
func TestStringsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range generate(t, 500, map[string]any{"length": 16}) {
		if seen[s] {
			t.Fatalf("%q generated twice", s)
		}
		seen[s] = true
	}
}

// RandomPassword: exact length at every size, including past bcrypt's 72-byte limit (upstream
// hashes the first 72 bytes; x/crypto refuses longer input), a DefaultCost hash that verifies.
func TestPasswordLengthAndHash(t *testing.T) {
	for _, n := range []int{1, 2, 16, 32, 72, 73, 128, 256} {
		id, state, _ := create(t, passwordType, props(map[string]any{"length": n}))
		pw, hash := plain(state["result"]), plain(state["bcryptHash"])
		if len(pw) != n || id != "none" {
			t.Fatalf("length %d: got %d characters, id %q", n, len(pw), id)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
			t.Errorf("length %d: bcryptHash does not verify: %v", n, err)
		}
		if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != bcrypt.DefaultCost {
			t.Errorf("length %d: bcrypt cost %d, %v", n, cost, err)
		}
		other := "x" + pw[1:] // differs within the hashed first 72 bytes
		if pw[0] == 'x' {
			other = "y" + pw[1:]
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte(other)) == nil {
			t.Errorf("length %d: hash also verifies a different password", n)
		}
	}
}

// fjord's own calls: { length: 32 | 48, special: false } must give alphanumerics only.
func TestPasswordAsFjordUsesIt(t *testing.T) {
	for _, n := range []int{32, 48} {
		for i := 0; i < 5; i++ {
			_, state, _ := create(t, passwordType, props(map[string]any{"length": n, "special": false}))
			pw := plain(state["result"])
			if len(pw) != n || count(pw, lowerSet+upperSet+digitSet) != n {
				t.Fatalf("%q: want %d alphanumerics", pw, n)
			}
		}
	}
}
