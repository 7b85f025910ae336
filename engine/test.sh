#!/usr/bin/env bash
# Go tests of fjord's engine sources (engine/*/*_test.go). They only compile inside the
# generated module fjord.local/engine, so this generates it like `npm run setup` does (module.sh),
# in its own cache folder, and runs `go test` there.
# Usage: bash engine/test.sh [go test args...]   (default: ./...)
#   e.g. bash engine/test.sh -run TestDiff -v ./random
# Env: FJORD_CACHE (as for setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE_SRC="$ROOT/engine"
CACHE="${FJORD_CACHE:-$HOME/.cache/fjord}"
# Same Go settings as setup.sh: no toolchain downloads, proxy-only checksums for pulumi modules.
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi"
# shellcheck source=engine/module.sh
source "$ENGINE_SRC/module.sh"

command -v go >/dev/null || { echo "[engine-test] go is not on PATH" >&2; exit 1; }
PV="$(node -e '
  const fs = require("fs"), root = process.argv[1];
  let v = "";
  try { v = JSON.parse(fs.readFileSync(root + "/package-lock.json")).packages["node_modules/@pulumi/pulumi"].version; } catch {}
  if (!v) try { v = JSON.parse(fs.readFileSync(root + "/node_modules/@pulumi/pulumi/package.json")).version; } catch {}
  process.stdout.write(String(v || ""));' "$ROOT")"
[ -n "$PV" ] || { echo "[engine-test] no @pulumi/pulumi version in package-lock.json or node_modules" >&2; exit 1; }

# Tests run often while editing: key the module by the sources, keep the last few, drop older ones.
mod="$CACHE/build/engine-test-v$PV-$(engine_src_hash "$ENGINE_SRC" "$PV")"
if [ ! -f "$mod/.ready" ]; then
  mkdir -p "$CACHE/build"
  engine_module_write "$ENGINE_SRC" "$PV" "$mod" "$CACHE/engine-test-tidy.log" || {
    tail -20 "$CACHE/engine-test-tidy.log" >&2
    echo "[engine-test] go mod tidy failed (log: $CACHE/engine-test-tidy.log)" >&2
    exit 1
  }
  touch "$mod/.ready"
  # shellcheck disable=SC2012 # names are ours, no odd characters
  ls -dt "$CACHE/build/engine-test-v"* 2>/dev/null | tail -n +4 | xargs -r rm -rf
fi

cd "$mod"
[ $# -gt 0 ] || set -- ./...
echo "[engine-test] go test $* (module: $mod)"
go test "$@"
