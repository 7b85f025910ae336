#!/usr/bin/env bash
# Provide Grafana Loki for the real log tests and the dev e2e's local image, built from Go modules
# (nothing is downloaded from GitHub or a container registry).
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/loki-<ver>/loki   the cached binary (one per version)
#   .tools/bin/loki                                      symlink to it
#
# Version: FJORD_LOKI_VERSION, else v3.3.2, the version of fjord's image default (images.loki,
# grafana/loki:3.3.2). Loki's one local replace (github.com/grafana/loki/pkg/push => ./pkg/push)
# is dropped, and the pseudo-version Loki requires for that module comes from the proxy instead.
# Idempotent: a second run only relinks. Cold build: several minutes on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=testkit/tools/go-tool.sh
source "$ROOT/testkit/tools/go-tool.sh"
MOD=github.com/grafana/loki/v3
VER="${FJORD_LOKI_VERSION:-v3.3.2}"
BIN="${FJORD_CACHE:-$HOME/.cache/fjord}/loki-$VER/loki"
V="$MOD/pkg/util/build"

go_tool_build loki "$MOD" "$VER" "$MOD/cmd/loki" "$BIN" -tags netgo \
  -ldflags "-s -w -X $V.Version=${VER#v} -X $V.Branch=release -X $V.Revision=module-proxy"

go_tool_link loki "$BIN" "version ${VER#v}[[:space:],]" -version
