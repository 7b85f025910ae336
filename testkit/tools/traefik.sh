#!/usr/bin/env bash
# Provide Traefik v3 for the real-gateway tests and benchmarks, built from Go modules (Traefik is not
# a Debian package and nothing is downloaded from GitHub).
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/traefik-<ver>-<recipe>/traefik   the cached binary
#   .tools/bin/traefik                                         symlink to it
#
# Version: FJORD_TRAEFIK_VERSION, else the pinned v3.6.12 (images.traefik matches it). v3.6 because
# v3.7's go.mod adds a local (../) replace that a wrapper module cannot satisfy. The web UI embed is
# committed upstream as a placeholder, so a plain CGO_ENABLED=0 build works. Idempotent: a second
# run only relinks. Cold build: ~5-10 min on 2 cores (it is a big dependency tree).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=testkit/tools/go-tool.sh
source "$ROOT/testkit/tools/go-tool.sh"
MOD=github.com/traefik/traefik/v3
VER="${FJORD_TRAEFIK_VERSION:-v3.6.12}"
PRUNED="$ROOT/testkit/tools/traefik/dns_providers.go"
BIN="${FJORD_CACHE:-$HOME/.cache/fjord}/traefik-$VER-$(go_tool_recipe "$PRUNED")/traefik"

GO_TOOL_PRUNE=("github.com/go-acme/lego/v4 providers/dns/zz_gen_dns_providers.go $PRUNED")
go_tool_build traefik "$MOD" "$VER" "$MOD/cmd/traefik" "$BIN" \
  -ldflags "-s -w -X $MOD/pkg/version.Version=$VER"

go_tool_link traefik "$BIN" "Version:[[:space:]]*$VER\$" version
