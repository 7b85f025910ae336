# shellcheck shell=bash
# Builds a Go program that is not a Debian package (Traefik, Loki) from the Go module proxy into
# fjord's cache. Sourced by testkit/tools/<tool>.sh, which picks the version, build flags and check.
#
# `go install pkg@version` refuses modules whose go.mod has replace directives, and a dependency's
# replaces and excludes are ignored, so a small wrapper module repeats them; without them
# `go mod tidy` picks versions the program does not build against. Local (=> ./...) replaces cannot
# be satisfied outside the program's tree: they are dropped, and the module then builds with the
# version of that package its go.mod requires, when the proxy serves it.
#
# MAIN_PACKAGE is a package of the module (github.com/traefik/traefik/v3/cmd/traefik), or an
# absolute path to a directory of our own package main (testkit/tools/rclone-s3) whose .go files
# are copied into the wrapper module and built there against the module: a main that imports only
# the parts of a program fjord uses.

export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0

# go_tool_build NAME MODULE VERSION MAIN_PACKAGE BIN [go build flags...]
# Idempotent and locked: a second caller waits for the first; an existing BIN is kept.
go_tool_build() {
  local name="$1" mod="$2" ver="$3" pkg="$4" bin="$5"
  shift 5
  local cache="${FJORD_CACHE:-$HOME/.cache/fjord}"
  local w="$cache/build/$name-$ver" t0 info gomod
  command -v go >/dev/null || { echo "[$name] ERROR: Go is needed (apt-get install golang-go, or go.dev)" >&2; return 1; }
  mkdir -p "$cache"
  # Tests and benches may call this at the same time; the second waits instead of wiping the build.
  exec 9>"$cache/$name.lock"
  if ! flock -n 9; then
    echo "[$name] another build is running; waiting for it..."
    flock 9
  fi
  [ -x "$bin" ] && return 0
  t0=$(date +%s)
  echo "[$name] building $mod $ver from the Go module proxy (a cold build takes several minutes)..."
  rm -rf "$w" && mkdir -p "$w"
  info="$(cd "$w" && GOFLAGS='' go mod download -json "$mod@$ver")" ||
    { echo "[$name] ERROR: go mod download $mod@$ver failed" >&2; return 1; }
  gomod="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).GoMod || "")' <<<"$info" 2>/dev/null ||
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' <<<"$info")"
  [ -f "$gomod" ] || { echo "[$name] ERROR: no go.mod for $mod@$ver in the module cache" >&2; return 1; }
  {
    printf 'module fjord.local/%s\n\ngo %s\n\nrequire %s %s\n\n' \
      "$name" "$(awk '$1=="go"{print $2; exit}' "$gomod")" "$mod" "$ver"
    awk '/^(replace|exclude)[ \t]*\($/ {blk=$1; print; next}
         blk && /^\)/ {blk=""; print; next}
         blk {print; next}
         /^(replace|exclude) / {print}' "$gomod" | grep -vE '=>[[:space:]]*\.' || true
  } >"$w/go.mod"
  if grep -qE '=>[[:space:]]*\.' "$gomod"; then
    echo "[$name] $ver has local replaces; dropped, so the versions its go.mod requires are used"
  fi
  if [[ "$pkg" == /* ]]; then
    [ -d "$pkg" ] || { echo "[$name] ERROR: no main package directory $pkg" >&2; return 1; }
    cp "$pkg"/*.go "$w/"
    pkg=.
  else
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$w/tools.go"
  fi
  echo "[$name] resolving dependencies (go mod tidy, log: $cache/$name-tidy.log)..."
  (cd "$w" && go mod tidy >"$cache/$name-tidy.log" 2>&1) || {
    tail -20 "$cache/$name-tidy.log" >&2
    echo "[$name] ERROR: go mod tidy failed (log: $cache/$name-tidy.log)" >&2
    return 1
  }
  go_tool_prune "$name" "$w" "$cache" || return 1
  echo "[$name] compiling (log: $cache/$name-build.log)..."
  mkdir -p "$(dirname "$bin")"
  (cd "$w" && go build -trimpath -o "$bin.tmp" "$@" "$pkg" >"$cache/$name-build.log" 2>&1) || {
    tail -30 "$cache/$name-build.log" >&2
    echo "[$name] ERROR: go build failed (log: $cache/$name-build.log)" >&2
    return 1
  }
  mv -f "$bin.tmp" "$bin"
  echo "[$name] $ver built in $(($(date +%s) - t0))s"
}

# GO_TOOL_PRUNE: entries "MODULE FILE REPLACEMENT", set by a tool script before go_tool_build.
# Each replaces one file of a dependency, at the version tidy selected, with a file of fjord's
# (testkit/tools/<tool>/), through a copy of that module and a replace directive: the way to leave
# out registries of plugins the tests never use (Prometheus' cloud service discoveries, lego's
# ~180 DNS providers), which are most of those programs' compile time. A -overlay cannot do it: Go
# refuses overlays of files in the module cache.
GO_TOOL_PRUNE=()
# go_tool_recipe FILE...: a short digest of the files that shape a build beyond its version, for
# the cache key, so a binary built before a pruning change is never taken for one built after it.
go_tool_recipe() { cat "$@" | sha256sum | cut -c1-8; }
go_tool_prune() {
  local name="$1" w="$2" cache="$3" entry mod file repl ver dir
  for entry in "${GO_TOOL_PRUNE[@]}"; do
    read -r mod file repl <<<"$entry"
    [ -f "$repl" ] || { echo "[$name] ERROR: no replacement file $repl" >&2; return 1; }
    ver="$(cd "$w" && go list -m -f '{{.Version}}' "$mod")" ||
      { echo "[$name] ERROR: $mod is not a dependency of this build" >&2; return 1; }
    dir="$(cd "$w" && go mod download -json "$mod@$ver" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
    [ -f "$dir/$file" ] || { echo "[$name] ERROR: $mod@$ver has no $file to replace" >&2; return 1; }
    echo "[$name] pruned: $mod@$ver $file <- ${repl#"${ROOT:-}/"}"
    rm -rf "$w/pruned/$mod" && mkdir -p "$(dirname "$w/pruned/$mod")"
    cp -r "$dir" "$w/pruned/$mod" && chmod -R u+w "$w/pruned/$mod"
    cp "$repl" "$w/pruned/$mod/$file"
    printf '\nreplace %s => ./pruned/%s\n' "$mod" "$mod" >>"$w/go.mod"
  done
  [ "${#GO_TOOL_PRUNE[@]}" = 0 ] && return 0
  # The pruned registry drops imports, so tidy again (warm: seconds) to drop their modules.
  (cd "$w" && go mod tidy >>"$cache/$name-tidy.log" 2>&1) || {
    tail -20 "$cache/$name-tidy.log" >&2
    echo "[$name] ERROR: go mod tidy after pruning failed (log: $cache/$name-tidy.log)" >&2
    return 1
  }
}

# go_tool_link NAME BIN PATTERN VERSION_ARGS...: links BIN as .tools/bin/NAME and checks that
# `NAME VERSION_ARGS...` prints something matching PATTERN (an extended regex).
go_tool_link() {
  local name="$1" bin="$2" pattern="$3" reported
  shift 3
  local tools
  tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.tools/bin"
  mkdir -p "$tools"
  ln -sfn "$bin" "$tools/$name"
  # Captured first: `| grep -q` would close the pipe early and pipefail would report the SIGPIPE.
  reported="$("$tools/$name" "$@" 2>&1 || true)"
  grep -qE "$pattern" <<<"$reported" || {
    echo "[$name] ERROR: $bin does not report the version: $reported" >&2
    return 1
  }
  echo "[$name] $tools/$name -> $bin"
}
