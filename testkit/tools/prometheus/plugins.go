// Package plugins, as fjord's test build of Prometheus 3 has it: only the service discoveries
// fjord's configs use. Upstream's generated list registers every cloud's discovery (AWS, Azure,
// GCE, OpenStack, ...), over a third of the program's source. The file and HTTP discoveries come
// from minimum.go, which stays as it is.
package plugins

import (
	// Register the dns plugin (dns_sd_configs).
	_ "github.com/prometheus/prometheus/discovery/dns"

	// Register the kubernetes plugin (kubernetes_sd_configs, fjord's prod scrape config).
	_ "github.com/prometheus/prometheus/discovery/kubernetes"
)
