#!/usr/bin/env bash
# Provide Grafana Loki for the real log tests, built from Go modules (nothing is downloaded from
# GitHub or a container registry).
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/loki-<ver>/loki   the cached binary (one per version)
#   .tools/bin/loki                                      symlink to it
#
# Version: FJORD_LOKI_VERSION, else v3.3.2, the version of fjord's image default (images.loki,
# grafana/loki:3.3.2). `go install pkg@version` refuses Loki (its go.mod has replace directives), so
# a small wrapper module carries Loki's replaces and excludes. The one local replace
# (github.com/grafana/loki/pkg/push => ./pkg/push) cannot be satisfied outside Loki's tree: it is
# dropped and the pseudo-version Loki requires for that module is used from the proxy instead.
# Idempotent: a second run only relinks. Cold build: several minutes on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FJORD_CACHE:-$HOME/.cache/fjord}"
TOOLS="$ROOT/.tools/bin"
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
MOD=github.com/grafana/loki/v3

log() { echo "[loki] $*"; }
die() { echo "[loki] ERROR: $*" >&2; exit 1; }
command -v go >/dev/null || die "Go >= 1.23 is needed (apt-get install golang-go, or go.dev)"
mkdir -p "$TOOLS" "$CACHE"

VER="${FJORD_LOKI_VERSION:-v3.3.2}"
BIN="$CACHE/loki-$VER/loki"

# Tests may call this at the same time; the second waits instead of wiping the first's build.
exec 9>"$CACHE/loki.lock"
if ! flock -n 9; then
  log "another build is running; waiting for it..."
  flock 9
fi

if [ ! -x "$BIN" ]; then
  t0=$(date +%s)
  log "building Loki $VER from the Go module proxy (cold build takes several minutes)..."
  W="$CACHE/build/loki-$VER"
  rm -rf "$W" && mkdir -p "$W"
  info="$(cd "$W" && GOFLAGS='' go mod download -json "$MOD@$VER")" || die "go mod download $MOD@$VER failed"
  gomod="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).GoMod || "")' <<<"$info" 2>/dev/null ||
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")"
  [ -f "$gomod" ] || die "no go.mod for $MOD@$VER in the module cache"
  # A dependency's replace/exclude directives are ignored, so the wrapper repeats them; local
  # (=> ./...) replaces are dropped (see above).
  {
    printf 'module fjord.local/loki\n\ngo %s\n\nrequire %s %s\n\n' \
      "$(awk '$1=="go"{print $2; exit}' "$gomod")" "$MOD" "$VER"
    awk '/^(replace|exclude)[ \t]*\($/ {blk=$1; print; next}
         blk && /^\)/ {blk=""; print; next}
         blk {print; next}
         /^(replace|exclude) / {print}' "$gomod" | grep -vE '=>[[:space:]]*\.' || true
  } >"$W/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/loki"\n' "$MOD" >"$W/tools.go"
  log "resolving dependencies (go mod tidy, log: $CACHE/loki-tidy.log)..."
  (cd "$W" && go mod tidy >"$CACHE/loki-tidy.log" 2>&1) || {
    tail -20 "$CACHE/loki-tidy.log" >&2
    die "go mod tidy failed (log: $CACHE/loki-tidy.log)"
  }
  log "compiling (log: $CACHE/loki-build.log)..."
  mkdir -p "$(dirname "$BIN")"
  V="$MOD/pkg/util/build"
  (cd "$W" && go build -trimpath -tags netgo -o "$BIN.tmp" \
    -ldflags "-s -w -X $V.Version=${VER#v} -X $V.Branch=release -X $V.Revision=module-proxy" \
    "$MOD/cmd/loki" >"$CACHE/loki-build.log" 2>&1) || {
    tail -30 "$CACHE/loki-build.log" >&2
    die "go build failed (log: $CACHE/loki-build.log)"
  }
  mv -f "$BIN.tmp" "$BIN"
  log "Loki $VER built in $(( $(date +%s) - t0 ))s"
fi

ln -sfn "$BIN" "$TOOLS/loki"
# Captured first: `| grep -q` would close the pipe early and pipefail would report the SIGPIPE.
reported="$("$TOOLS/loki" -version 2>&1 || true)"
grep -q "version ${VER#v}[[:space:],]" <<<"$reported" || die "$BIN does not report ${VER#v}: $reported"
log "Loki $VER: $TOOLS/loki -> $BIN"
