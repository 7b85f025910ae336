package main

import (
	"fmt"
	"math"
	"strconv"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// nonNil drops the nils of checks that passed.
func nonNil(fs ...*pulumirpc.CheckFailure) []*pulumirpc.CheckFailure {
	var out []*pulumirpc.CheckFailure
	for _, f := range fs {
		if f != nil {
			out = append(out, f)
		}
	}
	return out
}

// atLeast fails when in[k] is a known number that is not a whole number >= lo (-Inf: any whole
// number). Absent and unknown (preview) values pass; a secret one is not echoed.
func atLeast(in resource.PropertyMap, k string, lo float64) *pulumirpc.CheckFailure {
	v, ok := in[resource.PropertyKey(k)]
	got := "[secret]"
	if ok && v.IsSecret() {
		v = v.SecretValue().Element
	} else if ok && v.IsNumber() {
		got = strconv.FormatFloat(v.NumberValue(), 'f', -1, 64)
	}
	if !ok || !v.IsNumber() || (v.NumberValue() == math.Trunc(v.NumberValue()) && v.NumberValue() >= lo) {
		return nil
	}
	if math.IsInf(lo, -1) {
		return &pulumirpc.CheckFailure{Property: k, Reason: fmt.Sprintf("%s must be a whole number, got %s", k, got)}
	}
	return &pulumirpc.CheckFailure{Property: k, Reason: fmt.Sprintf("%s must be a whole number >= %v, got %s", k, lo, got)}
}

func checkInteger(in resource.PropertyMap) []*pulumirpc.CheckFailure {
	fs := nonNil(atLeast(in, "min", math.Inf(-1)), atLeast(in, "max", math.Inf(-1)))
	p := providerkit.Plain(in)
	lo, hi := p["min"], p["max"]
	if len(fs) == 0 && lo.IsNumber() && hi.IsNumber() && hi.NumberValue() < lo.NumberValue() {
		fs = append(fs, &pulumirpc.CheckFailure{Property: "max", Reason: fmt.Sprintf(
			"max (%v) must be >= min (%v): the range is inclusive, swap them", hi.NumberValue(), lo.NumberValue())})
	}
	return fs
}

// absent: not given at all (an unknown value is given, just not known yet).
func absent(in resource.PropertyMap, k string) bool {
	v, ok := in[resource.PropertyKey(k)]
	return !ok || v.IsNull()
}

// isFalse: a known false bool (unknown values during preview are not).
func isFalse(p resource.PropertyMap, k string) bool {
	v, ok := p[resource.PropertyKey(k)]
	return ok && v.IsBool() && !v.BoolValue()
}

// checkString validates RandomString/RandomPassword inputs as upstream's schema does, plus what
// upstream lets through to a surprise (a minimum for a disabled class: upstream then emits that
// class anyway, terraform-provider-random#323) or a failure at create (a negative minimum crashed
// this plugin; multi-byte specials give invalid UTF-8).
func checkString(in resource.PropertyMap) []*pulumirpc.CheckFailure {
	// number is the deprecated alias of numeric: as upstream, one given sets the other.
	p := providerkit.Plain(in)
	nb, nc := p["number"], p["numeric"]
	var fs []*pulumirpc.CheckFailure
	fail := func(prop, format string, args ...any) {
		fs = append(fs, &pulumirpc.CheckFailure{Property: prop, Reason: fmt.Sprintf(format, args...)})
	}
	switch {
	case nb.IsBool() && nc.IsBool() && nb.BoolValue() != nc.BoolValue():
		fail("number", "number and numeric differ: number is a deprecated alias of numeric; remove number")
	case nb.IsBool() && absent(in, "numeric"):
		in["numeric"], p["numeric"] = in["number"], nb
	case nc.IsBool() && absent(in, "number"):
		in["number"], p["number"] = in["numeric"], nc
	}
	counts := nonNil(atLeast(in, "length", 1))
	mins := 0
	for _, c := range [][2]string{{"minLower", "lower"}, {"minUpper", "upper"}, {"minNumeric", "numeric"}, {"minSpecial", "special"}} {
		if f := atLeast(in, c[0], 0); f != nil {
			counts = append(counts, f)
			continue
		}
		mins += num(p, c[0])
		if num(p, c[0]) > 0 && isFalse(p, c[1]) {
			fail(c[0], "%s is %d but %s is false: set %s to true or %s to 0", c[0], num(p, c[0]), c[1], c[1], c[0])
		}
	}
	if l := p["length"]; len(counts) == 0 && l.IsNumber() && int(l.NumberValue()) < mins {
		fail("length", "length (%d) is less than minLower + minUpper + minNumeric + minSpecial (%d): "+
			"raise length or lower the minimums", int(l.NumberValue()), mins)
	}
	fs = append(fs, counts...)
	if isFalse(p, "lower") && isFalse(p, "upper") && isFalse(p, "numeric") && isFalse(p, "special") {
		fail("special", "lower, upper, numeric and special are all false: enable at least one character class")
	}
	if s := p["overrideSpecial"]; s.IsString() {
		for i := 0; i < len(s.StringValue()); i++ {
			if s.StringValue()[i] >= 0x80 {
				fail("overrideSpecial", "overrideSpecial must hold ASCII characters only: characters "+
					"are drawn byte by byte, so a multi-byte one would be split into invalid UTF-8")
				break
			}
		}
	}
	return fs
}
