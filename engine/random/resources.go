package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"math/big"
	mrand "math/rand"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
)

// resourceType describes one random resource: its inputs (all force-new), required inputs,
// defaults applied by Check, the outputs upstream marks sensitive (secret), an optional extra
// validation, and how to create it. check sees the inputs as given, before defaults, and may derive
// one input from another (number/numeric).
type resourceType struct {
	inputs   []string
	required []string
	defaults resource.PropertyMap
	secrets  []string
	check    func(resource.PropertyMap) []*pulumirpc.CheckFailure
	create   func(in resource.PropertyMap) (string, resource.PropertyMap, error)
}

var stringDefaults = resource.PropertyMap{
	"lower": resource.NewBoolProperty(true), "upper": resource.NewBoolProperty(true),
	"numeric": resource.NewBoolProperty(true), "number": resource.NewBoolProperty(true),
	"special":  resource.NewBoolProperty(true),
	"minLower": resource.NewNumberProperty(0), "minUpper": resource.NewNumberProperty(0),
	"minNumeric": resource.NewNumberProperty(0), "minSpecial": resource.NewNumberProperty(0),
}

var stringInputs = []string{"keepers", "length", "lower", "upper", "numeric", "number", "special",
	"minLower", "minUpper", "minNumeric", "minSpecial", "overrideSpecial"}

var uuidType = func(gen func() ([]byte, error)) *resourceType {
	return &resourceType{inputs: []string{"keepers"}, create: func(resource.PropertyMap) (string, resource.PropertyMap, error) {
		u, err := gen()
		if err != nil {
			return "", nil, err
		}
		s := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		return s, resource.PropertyMap{"result": resource.NewStringProperty(s)}, nil
	}}
}

var resourceTypes = map[string]*resourceType{
	"random:index/randomPassword:RandomPassword": {
		inputs: stringInputs, required: []string{"length"}, defaults: stringDefaults, check: checkString,
		secrets: []string{"result", "bcryptHash"},
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			s, err := randomString(in)
			if err != nil {
				return "", nil, err
			}
			// bcrypt reads at most 72 bytes and x/crypto refuses longer input; upstream hashes the
			// first 72 bytes (pulumi-random#393), so long passwords work.
			hash, err := bcrypt.GenerateFromPassword([]byte(s)[:min(len(s), 72)], bcrypt.DefaultCost)
			if err != nil {
				return "", nil, err
			}
			return "none", resource.PropertyMap{
				"result": resource.NewStringProperty(s), "bcryptHash": resource.NewStringProperty(string(hash)),
			}, nil
		},
	},
	"random:index/randomString:RandomString": {
		inputs: stringInputs, required: []string{"length"}, defaults: stringDefaults, check: checkString,
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			s, err := randomString(in)
			return s, resource.PropertyMap{"result": resource.NewStringProperty(s)}, err
		},
	},
	"random:index/randomBytes:RandomBytes": {
		inputs: []string{"keepers", "length"}, required: []string{"length"}, secrets: []string{"base64", "hex"},
		check: func(in resource.PropertyMap) []*pulumirpc.CheckFailure { return nonNil(atLeast(in, "length", 1)) },
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			b, err := randomBytes(num(in, "length"))
			return "none", resource.PropertyMap{
				"base64": resource.NewStringProperty(base64.StdEncoding.EncodeToString(b)),
				"hex":    resource.NewStringProperty(hex.EncodeToString(b)),
			}, err
		},
	},
	"random:index/randomId:RandomId": {
		inputs: []string{"keepers", "byteLength", "prefix"}, required: []string{"byteLength"},
		check: func(in resource.PropertyMap) []*pulumirpc.CheckFailure {
			return nonNil(atLeast(in, "byteLength", 1))
		},
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			b, err := randomBytes(num(in, "byteLength"))
			prefix := str(in, "prefix")
			id := base64.RawURLEncoding.EncodeToString(b)
			return id, resource.PropertyMap{
				"b64Url": resource.NewStringProperty(prefix + id),
				"b64Std": resource.NewStringProperty(prefix + base64.StdEncoding.EncodeToString(b)),
				"hex":    resource.NewStringProperty(prefix + hex.EncodeToString(b)),
				"dec":    resource.NewStringProperty(prefix + new(big.Int).SetBytes(b).String()),
			}, err
		},
	},
	"random:index/randomInteger:RandomInteger": {
		inputs: []string{"keepers", "min", "max", "seed"}, required: []string{"min", "max"}, check: checkInteger,
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			lo, hi := num(in, "min"), num(in, "max")
			if hi < lo {
				return "", nil, fmt.Errorf("max (%d) must be >= min (%d)", hi, lo)
			}
			r := rng(in)
			v := lo + r.Intn(hi-lo+1)
			return strconv.Itoa(v), resource.PropertyMap{"result": resource.NewNumberProperty(float64(v))}, nil
		},
	},
	"random:index/randomShuffle:RandomShuffle": {
		inputs: []string{"keepers", "inputs", "resultCount", "seed"}, required: []string{"inputs"},
		check: func(in resource.PropertyMap) []*pulumirpc.CheckFailure {
			return nonNil(atLeast(in, "resultCount", 0))
		},
		// As upstream: resultCount (default: all) items from successive permutations, so a count
		// above len(inputs) repeats items, each at most once per round.
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			var items []resource.PropertyValue
			if v := in["inputs"]; v.IsArray() {
				items = v.ArrayValue()
			}
			n := num(in, "resultCount")
			if n == 0 {
				n = len(items)
			}
			results := []resource.PropertyValue{}
			for r := rng(in); len(items) > 0 && len(results) < n; {
				for _, i := range r.Perm(len(items)) {
					if results = append(results, items[i]); len(results) == n {
						break
					}
				}
			}
			return "-", resource.PropertyMap{"results": resource.NewArrayProperty(results)}, nil
		},
	},
	"random:index/randomPet:RandomPet": {
		inputs:   []string{"keepers", "length", "prefix", "separator"},
		check:    func(in resource.PropertyMap) []*pulumirpc.CheckFailure { return nonNil(atLeast(in, "length", 1)) },
		defaults: resource.PropertyMap{"length": resource.NewNumberProperty(2), "separator": resource.NewStringProperty("-")},
		create: func(in resource.PropertyMap) (string, resource.PropertyMap, error) {
			n := num(in, "length")
			words := make([]string, 0, n+1)
			if p := str(in, "prefix"); p != "" {
				words = append(words, p)
			}
			for i := 0; i < n; i++ {
				list := adjectives
				if i == n-1 {
					list = animals
				}
				k, err := rand.Int(rand.Reader, big.NewInt(int64(len(list))))
				if err != nil {
					return "", nil, err
				}
				words = append(words, list[k.Int64()])
			}
			return strings.Join(words, str(in, "separator")), resource.PropertyMap{}, nil
		},
	},
	"random:index/randomUuid:RandomUuid":   uuidType(uuid4),
	"random:index/randomUuid4:RandomUuid4": uuidType(uuid4),
	"random:index/randomUuid7:RandomUuid7": uuidType(uuid7),
}

func num(in resource.PropertyMap, k string) int {
	if v, ok := in[resource.PropertyKey(k)]; ok && v.IsNumber() {
		return int(v.NumberValue())
	}
	return 0
}

func str(in resource.PropertyMap, k string) string {
	if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
		return v.StringValue()
	}
	return ""
}

func enabled(in resource.PropertyMap, k string) bool {
	v, ok := in[resource.PropertyKey(k)]
	return !ok || !v.IsBool() || v.BoolValue()
}

// rng is seeded from `seed` when given, as upstream does (CRC-64/ISO of the string into
// math/rand), so seeded results equal the official provider's; else from crypto/rand.
func rng(in resource.PropertyMap) *mrand.Rand {
	var seed int64
	if s := str(in, "seed"); s != "" {
		seed = int64(crc64.Checksum([]byte(s), crc64.MakeTable(crc64.ISO)))
	} else {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = int64(binary.LittleEndian.Uint64(b[:]))
	}
	return mrand.New(mrand.NewSource(seed))
}

func randomBytes(n int) ([]byte, error) {
	if n < 1 {
		return nil, fmt.Errorf("length must be at least 1, got %d", n)
	}
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}

// randomString draws min* characters from each enabled class, fills up from all enabled classes,
// then shuffles, like Terraform's random_string/random_password.
func randomString(in resource.PropertyMap) (string, error) {
	special := "!@#$%&*()-_=+[]{}<>:?"
	if o := str(in, "overrideSpecial"); o != "" { // "" means the default set, as upstream
		special = o
	}
	classes := []struct {
		on    bool
		chars string
		min   int
	}{
		{enabled(in, "lower"), "abcdefghijklmnopqrstuvwxyz", num(in, "minLower")},
		{enabled(in, "upper"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", num(in, "minUpper")},
		{enabled(in, "numeric") && enabled(in, "number"), "0123456789", num(in, "minNumeric")},
		{enabled(in, "special"), special, num(in, "minSpecial")},
	}
	pick := func(chars string, n int) ([]byte, error) {
		out := make([]byte, n)
		for i := range out {
			k, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
			if err != nil {
				return nil, err
			}
			out[i] = chars[k.Int64()]
		}
		return out, nil
	}
	var result []byte
	all := ""
	for _, c := range classes {
		if !c.on || c.chars == "" {
			continue
		}
		all += c.chars
		b, err := pick(c.chars, c.min)
		if err != nil {
			return "", err
		}
		result = append(result, b...)
	}
	length := num(in, "length")
	if all == "" {
		return "", fmt.Errorf("at least one character class must be enabled")
	}
	if rest := length - len(result); rest > 0 {
		b, err := pick(all, rest)
		if err != nil {
			return "", err
		}
		result = append(result, b...)
	}
	for i := len(result) - 1; i > 0; i-- {
		k, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		j := int(k.Int64())
		result[i], result[j] = result[j], result[i]
	}
	return string(result), nil
}

func uuid4() ([]byte, error) {
	u := make([]byte, 16)
	if _, err := rand.Read(u); err != nil {
		return nil, err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u, nil
}

func uuid7() ([]byte, error) {
	u, err := uuid4()
	if err != nil {
		return nil, err
	}
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x70
	return u, nil
}

var adjectives = []string{"able", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "daring",
	"eager", "fair", "fancy", "fast", "gentle", "glad", "grand", "happy", "humble", "jolly", "keen", "kind",
	"lively", "lucky", "merry", "mighty", "modest", "neat", "noble", "polite", "proud", "quick", "quiet",
	"rapid", "ready", "sharp", "shy", "smart", "solid", "steady", "sunny", "swift", "tidy", "upright",
	"valid", "vital", "warm", "wise", "witty", "young", "zesty"}

var animals = []string{"badger", "beaver", "bison", "bobcat", "camel", "cod", "condor", "crane", "deer",
	"dingo", "eagle", "egret", "elk", "falcon", "ferret", "finch", "fox", "gecko", "gull", "hare", "heron",
	"ibis", "jackal", "koala", "lemur", "lynx", "marten", "mink", "moose", "newt", "ocelot", "orca", "otter",
	"owl", "panda", "puffin", "quail", "raven", "reindeer", "salmon", "seal", "shrew", "stoat", "swan",
	"tapir", "trout", "walrus", "whale", "wolf", "yak"}
