#!/usr/bin/env bash
# Provide Prometheus 3 for the Kubernetes test cluster's image, built from Go modules. Debian's
# prometheus (2.42, used by the real tests and the dev stack) is built without the kubernetes
# service discovery, which fjord's prod config relies on (kubernetes_sd_configs).
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/prometheus-<ver>-<recipe>/prometheus   the cached binary
#   .tools/bin/prometheus3                                           symlink to it
#
# Version: FJORD_PROMETHEUS_VERSION, else v3.1.0, the version of fjord's image default
# (images.prometheus, prom/prometheus:v3.1.0). Prometheus 3 publishes its Go module as v0.3XY.Z
# (3.1.0 is v0.301.0). The web UI's assets are generated upstream and not in the module, so this
# build serves the API and no UI. Idempotent: a second run only relinks. Cold build: several minutes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=testkit/tools/go-tool.sh
source "$ROOT/testkit/tools/go-tool.sh"
MOD=github.com/prometheus/prometheus
VER="${FJORD_PROMETHEUS_VERSION:-v3.1.0}"
IFS=. read -r major minor patch <<<"${VER#v}"
MODVER="v0.$((major * 100 + minor)).$patch"
PRUNED="$ROOT/testkit/tools/prometheus/plugins.go"
BIN="${FJORD_CACHE:-$HOME/.cache/fjord}/prometheus-$VER-$(go_tool_recipe "$PRUNED")/prometheus"
V=github.com/prometheus/common/version

GO_TOOL_PRUNE=("$MOD plugins/plugins.go $PRUNED")
go_tool_build prometheus "$MOD" "$MODVER" "$MOD/cmd/prometheus" "$BIN" -tags netgo \
  -ldflags "-s -w -X $V.Version=${VER#v} -X $V.Branch=release -X $V.Revision=module-proxy"

go_tool_link prometheus3 "$BIN" "prometheus, version ${VER#v} " --version
