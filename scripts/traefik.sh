#!/usr/bin/env bash
# Provide Traefik v3 for the real-gateway tests and benchmarks, built from Go modules (Traefik is not
# a Debian package and nothing is downloaded from GitHub).
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/traefik-<ver>/traefik   the cached binary (one per version)
#   .tools/bin/traefik                                         symlink to it
#
# Version: FJORD_TRAEFIK_VERSION, else the pinned v3.6.12. v3.6 because v3.7's
# go.mod adds a local (../) replace that a wrapper module cannot satisfy. The web UI embed is
# committed upstream as a placeholder, so a plain CGO_ENABLED=0 build works. Idempotent: a second
# run only relinks. Cold build: ~5-10 min on 2 cores (it is a big dependency tree).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FJORD_CACHE:-$HOME/.cache/fjord}"
TOOLS="$ROOT/.tools/bin"
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
MOD=github.com/traefik/traefik/v3

log() { echo "[traefik] $*"; }
die() { echo "[traefik] ERROR: $*" >&2; exit 1; }
command -v go >/dev/null || die "Go >= 1.24 is needed (apt-get install golang-go, or go.dev)"
mkdir -p "$TOOLS" "$CACHE"

# Pinned like every other dependency; the image default in the spec (images.traefik) matches it.
VER="${FJORD_TRAEFIK_VERSION:-v3.6.12}"
BIN="$CACHE/traefik-$VER/traefik"

# Tests and benches may call this at the same time; the second waits instead of wiping the first's build.
exec 9>"$CACHE/traefik.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it..."
  flock 9
fi

if [ ! -x "$BIN" ]; then
  t0=$(date +%s)
  log "building Traefik $VER from the Go module proxy (cold build takes several minutes)..."
  W="$CACHE/build/traefik-$VER"
  rm -rf "$W" && mkdir -p "$W"
  info="$(cd "$W" && GOFLAGS='' go mod download -json "$MOD@$VER")" || die "go mod download $MOD@$VER failed"
  gomod="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).GoMod || "")' <<<"$info" 2>/dev/null ||
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")"
  [ -f "$gomod" ] || die "no go.mod for $MOD@$VER in the module cache"
  # The wrapper module must carry Traefik's replaces and excludes: a dependency's go.mod directives
  # are ignored, and without them `go mod tidy` picks versions Traefik does not build against.
  {
    printf 'module fjord.local/traefik\n\ngo %s\n\nrequire %s %s\n\n' \
      "$(awk '$1=="go"{print $2; exit}' "$gomod")" "$MOD" "$VER"
    awk '/^(replace|exclude)[ \t]*\($/ {blk=$1; print; next}
         blk && /^\)/ {blk=""; print; next}
         blk {print; next}
         /^(replace|exclude) / {print}' "$gomod" | grep -vE '=>[[:space:]]*\.' || true
  } >"$W/go.mod"
  if grep -qE '=>[[:space:]]*\.' "$gomod"; then
    log "WARNING: $VER has local replaces (dropped); the build may fail - set FJORD_TRAEFIK_VERSION=v3.6.x"
  fi
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/traefik"\n' "$MOD" >"$W/tools.go"
  log "resolving dependencies (go mod tidy)..."
  (cd "$W" && go mod tidy >"$CACHE/traefik-tidy.log" 2>&1) || {
    tail -20 "$CACHE/traefik-tidy.log" >&2
    die "go mod tidy failed (log: $CACHE/traefik-tidy.log)"
  }
  log "compiling (log: $CACHE/traefik-build.log)..."
  mkdir -p "$(dirname "$BIN")"
  (cd "$W" && go build -trimpath -o "$BIN.tmp" \
    -ldflags "-s -w -X $MOD/pkg/version.Version=$VER" "$MOD/cmd/traefik" >"$CACHE/traefik-build.log" 2>&1) || {
    tail -30 "$CACHE/traefik-build.log" >&2
    die "go build failed (log: $CACHE/traefik-build.log)"
  }
  mv -f "$BIN.tmp" "$BIN"
  log "Traefik $VER built in $(( $(date +%s) - t0 ))s"
fi

ln -sfn "$BIN" "$TOOLS/traefik"
# Captured first: `| grep -q` would close the pipe early and pipefail would report the SIGPIPE.
reported="$("$TOOLS/traefik" version 2>/dev/null || true)"
grep -q "Version:[[:space:]]*$VER\$" <<<"$reported" || die "$BIN does not report $VER: $reported"
log "Traefik $VER: $TOOLS/traefik -> $BIN"
