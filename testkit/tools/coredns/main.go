// CoreDNS for fjord's test cluster, with only the plugins its Corefile uses. The upstream main
// imports every plugin, cloud back ends included, which triples the build for nothing here.
// Copied into the kube wrapper module by testkit/tools/kube.sh and built with Kubernetes' client-go.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
)

// The directive order is CoreDNS's own (core/dnsserver/zdirectives.go); plugins not compiled in
// are simply never configured.
var _ = dnsserver.Directives

func main() {
	coremain.Run()
}
