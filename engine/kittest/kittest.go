// Package kittest holds what the stand-ins' tests share: property maps to and from the gRPC
// structs the engine sends, failing the test instead of returning errors.
package kittest

import (
	"testing"

	"fjord.local/engine/providerkit"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"google.golang.org/protobuf/types/known/structpb"
)

// Marshal is providerkit.Marshal for tests.
func Marshal(t testing.TB, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := providerkit.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Unmarshal is providerkit.Unmarshal for tests.
func Unmarshal(t testing.TB, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := providerkit.Unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
