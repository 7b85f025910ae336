#!/usr/bin/env bash
# npm run setup: provide the Pulumi engine for fjord, built from Go modules (no GitHub downloads).
#
#   .tools/bin/pulumi                  CLI, github.com/pulumi/pulumi/pkg/v3 at the @pulumi/pulumi version
#   .tools/bin/pulumi-language-nodejs  Node.js language host (fjord's own, engine/langhost)
#   .pulumi-home/plugins/resource-*    resource plugins at the versions of the @pulumi/* npm packages
#
# Versions come from package-lock.json (else node_modules/@pulumi/*/package.json); nothing is pinned
# here. Binaries are cached per version in ${FJORD_CACHE:-$HOME/.cache/fjord}, so a fresh clone on
# the same machine (CI) reuses them; a second run only checks what is there. See
# engine/README.md for what is built from where and why some providers cannot be.
# Env: FJORD_CACHE (cache dir), FJORD_SETUP_STRICT=1 (exit 1 when a provider plugin is missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE_SRC="$ROOT/engine"
CACHE="${FJORD_CACHE:-$HOME/.cache/fjord}"
TOOLS="$ROOT/.tools/bin"
export PULUMI_HOME="$ROOT/.pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Go: never fetch a toolchain; pkg/v3 releases are not always in sum.golang.org, so checksums of
# github.com/pulumi/pulumi modules come from the proxy alone (the proxy is still the only source).
export GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false"
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/pulumi"

STEP="start"
log() { echo "[setup] $*"; }
die() { echo "[setup] ERROR in step '$STEP': $*" >&2; exit 1; }
# shellcheck disable=SC2317 # on_exit runs from the EXIT trap
on_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] || echo "[setup] FAILED in step '$STEP' (exit $rc); see the output above" >&2
}
trap on_exit EXIT

# --- versions --------------------------------------------------------------------------------------
npm_version() { # npm_version NAME -> version of @pulumi/NAME, without a leading v
  local v
  v="$(node -e '
    const fs = require("fs"), [root, name] = process.argv.slice(1);
    let v = "";
    try { v = JSON.parse(fs.readFileSync(root + "/package-lock.json")).packages["node_modules/@pulumi/" + name].version; } catch {}
    if (!v) try { v = JSON.parse(fs.readFileSync(root + "/node_modules/@pulumi/" + name + "/package.json")).version; } catch {}
    process.stdout.write(String(v || "").replace(/^v/, ""));' "$ROOT" "$1")"
  [ -n "$v" ] || die "no version for @pulumi/$1 in package-lock.json or node_modules (run npm install first)"
  echo "$v"
}

STEP="read versions"
command -v node >/dev/null || die "node is not on PATH"
PV="$(npm_version pulumi)"
log "Pulumi v$PV (from package-lock.json); cache: $CACHE"
mkdir -p "$TOOLS" "$PULUMI_HOME" "$CACHE"
exec 9>"$CACHE/setup.lock" # one setup at a time per cache (e.g. CI and a developer)
flock -n 9 || { log "waiting for another setup run to finish..."; flock 9; }

need_go() {
  command -v go >/dev/null || die "Go >= 1.25 is needed to build the engine and is not on PATH (Debian's golang-go is too old)"
  local minor
  minor="$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')"
  [ "${minor:-0}" -ge 25 ] || die "Go >= 1.25 is needed, found $(go env GOVERSION)"
}

mod_json() { # mod_json MODULE@VERSION FIELD -> field of `go mod download -json`
  local out
  out="$(cd "$CACHE" && go mod download -json "$1" 2>&1)" || die "go mod download $1 failed: $out"
  node -e 'const j = JSON.parse(require("fs").readFileSync(0)); if (j.Error) { console.error(j.Error); process.exit(1) }
    process.stdout.write(String(j[process.argv[1]] ?? ""))' "$2" <<<"$out" || die "cannot fetch $1 from the Go module proxy"
}

# Replace directives of a go.mod that point at other modules (not ../local paths), one per line.
remote_replaces() {
  awk '/^replace[ \t]*\($/ {blk=1; next} blk && /^\)/ {blk=0; next}
       /^replace / {sub(/^replace[ \t]+/, ""); print; next} blk && NF && $1 !~ /^\/\// {print}' "$1" |
    awk -F'=>' '{t=$2; sub(/^[ \t]+/, "", t); if (t !~ /^(\.|\/)/) print}'
}

# atomic_build OUT_FILE LOGNAME -- go build args... : build into OUT_FILE.tmp, then rename.
atomic_build() {
  local out="$1" name="$2"; shift 3
  mkdir -p "$(dirname "$out")"
  if ! go build -trimpath -o "$out.tmp" "$@" >"$CACHE/$name.log" 2>&1; then
    tail -40 "$CACHE/$name.log" >&2
    die "go build failed (full log: $CACHE/$name.log)"
  fi
  mv -f "$out.tmp" "$out"
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
link_to() { [ "$(readlink "$2" 2>/dev/null)" = "$1" ] || ln -sfn "$1" "$2"; } # relink only on change

# --- 1. Pulumi CLI ---------------------------------------------------------------------------------
STEP="pulumi CLI"
sys_pulumi="$(PATH="$(tr ':' '\n' <<<"$PATH" | grep -vxF "$TOOLS" | paste -sd: -)" command -v pulumi || true)"
if [ -n "$sys_pulumi" ] && [ "$("$sys_pulumi" version 2>/dev/null)" = "v$PV" ]; then
  log "pulumi CLI v$PV: using $sys_pulumi from PATH"
  rm -f "$TOOLS/pulumi"
else
  cli="$CACHE/pulumi-cli/v$PV/pulumi"
  if [ ! -x "$cli" ]; then
    need_go
    t0=$(date +%s)
    log "building pulumi CLI v$PV (cold build takes minutes)..."
    w="$CACHE/build/pulumi-cli-v$PV"
    rm -rf "$w" && mkdir -p "$w"
    pkgmod="$(mod_json "github.com/pulumi/pulumi/pkg/v3@v$PV" GoMod)"
    {
      printf 'module fjord.local/pulumi-cli\n\ngo %s\n\nrequire (\n' "$(awk '$1=="go"{print $2; exit}' "$pkgmod")"
      printf '\tgithub.com/pulumi/pulumi/pkg/v3 v%s\n\tgithub.com/pulumi/pulumi/sdk/v3 v%s\n)\n\n' "$PV" "$PV"
      remote_replaces "$pkgmod" | sed 's/^/replace /'
    } >"$w/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >"$w/tools.go"
    (cd "$w" && go mod tidy >"$CACHE/pulumi-cli-tidy.log" 2>&1) || die "go mod tidy failed: $(tail -5 "$CACHE/pulumi-cli-tidy.log")"
    (cd "$w" && atomic_build "$cli" pulumi-cli -- \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PV" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    log "pulumi CLI v$PV built in $(elapsed "$t0")"
  fi
  # A hard link (or a copy), not a symlink: the CLI looks for its bundled language host beside its
  # own resolved path, so behind a symlink it looked in the cache, found fjord's host only on
  # $PATH, and warned "using pulumi-language-nodejs from $PATH" on every run.
  if [ -L "$TOOLS/pulumi" ] || [ ! "$TOOLS/pulumi" -ef "$cli" ]; then
    ln -f "$cli" "$TOOLS/pulumi.new" 2>/dev/null || cp "$cli" "$TOOLS/pulumi.new"
    mv -f "$TOOLS/pulumi.new" "$TOOLS/pulumi"
  fi
  log "pulumi CLI v$PV: $TOOLS/pulumi (linked from $cli)"
fi
PULUMI="$(PATH="$TOOLS:$PATH" command -v pulumi)"
[ "$("$PULUMI" version)" = "v$PV" ] || die "$PULUMI reports $("$PULUMI" version), expected v$PV"

# --- 2. fjord engine module: language host + stand-in providers ------------------------------------
# One Go module (generated in the cache) holds fjord's own programs from engine/*/, built
# against github.com/pulumi/pulumi/sdk/v3 at the CLI's version. Keyed by a hash of the sources.
STEP="engine sources"
# shellcheck source=engine/module.sh
source "$ENGINE_SRC/module.sh" # engine_src_hash, engine_module_write (shared with engine/test.sh)
src_hash="$(engine_src_hash "$ENGINE_SRC" "$PV")"
ENG="$CACHE/engine-v$PV-$src_hash"
ENG_BUILD="$CACHE/build/engine-v$PV-$src_hash"

engine_module() { # generate the module once per source hash
  [ -f "$ENG_BUILD/.ready" ] && return 0
  need_go
  engine_module_write "$ENGINE_SRC" "$PV" "$ENG_BUILD" "$CACHE/engine-tidy.log" ||
    die "go mod tidy of the engine module failed: $(tail -5 "$CACHE/engine-tidy.log")"
  touch "$ENG_BUILD/.ready"
}

engine_bin() { # engine_bin DIR BINARY VERSION -> path of the built binary (cached)
  local out="$ENG/$2-$3"
  if [ ! -x "$out" ]; then
    local t0; t0=$(date +%s)
    engine_module
    log "building $2 $3 (fjord, engine/$1)..." >&2
    (cd "$ENG_BUILD" && atomic_build "$out" "$2" -- -ldflags "-s -w -X main.version=$3" "./$1")
    log "$2 built in $(elapsed "$t0")" >&2
  fi
  echo "$out"
}

STEP="language host"
lh="$(engine_bin langhost pulumi-language-nodejs "v$PV")"
link_to "$lh" "$TOOLS/pulumi-language-nodejs"
log "language host: $TOOLS/pulumi-language-nodejs -> $lh"

# Dynamic providers (pulumi.dynamic.Resource) run through this shim from the SDK's release files.
STEP="dynamic provider shim"
if [ ! -x "$TOOLS/pulumi-resource-pulumi-nodejs" ]; then
  shim_src="$CACHE/pulumi-resource-pulumi-nodejs-v$PV"
  if [ ! -f "$shim_src" ]; then
    need_go
    sdkdir="$(mod_json "github.com/pulumi/pulumi/sdk/v3@v$PV" Dir)"
    cp "$sdkdir/nodejs/dist/pulumi-resource-pulumi-nodejs" "$shim_src.tmp" && mv -f "$shim_src.tmp" "$shim_src"
  fi
  install -m 0755 "$shim_src" "$TOOLS/pulumi-resource-pulumi-nodejs"
fi

# --- 3. resource plugins -----------------------------------------------------------------------------
install_plugin() { # install_plugin NAME VERSION BINARY
  local dir="$PULUMI_HOME/plugins/resource-$1-v$2"
  if cmp -s "$3" "$dir/pulumi-resource-$1"; then
    log "plugin $1 v$2: installed"
    return 0
  fi
  "$PULUMI" plugin install resource "$1" "v$2" --file "$3" --reinstall >"$CACHE/plugin-$1.log" 2>&1 ||
    die "pulumi plugin install resource $1 v$2 failed: $(tail -5 "$CACHE/plugin-$1.log")"
  [ -x "$dir/pulumi-resource-$1" ] || die "plugin $1 v$2 is not at $dir after install"
  log "plugin $1 v$2: installed into $dir"
}

# Pulumi's own plugin whenever it can be had (a machine that reaches get.pulumi.com); offline, the
# kubernetes provider is built from its Go module and the others are fjord's stand-ins from
# engine/<name>. FJORD_STANDIN_PLUGINS=1 forces the local builds.
official_plugin() { # official_plugin NAME VERSION
  local dir="$PULUMI_HOME/plugins/resource-$1-v$2" marker="$PULUMI_HOME/plugins/resource-$1-v$2/.fjord-official"
  [ "${FJORD_STANDIN_PLUGINS:-0}" = 1 ] && return 1
  if [ -f "$marker" ]; then
    log "plugin $1 v$2: official plugin installed"
    return 0
  fi
  [ -f "$CACHE/offline" ] && return 1
  log "plugin $1 v$2: trying the official plugin..."
  if timeout 300 "$PULUMI" plugin install resource "$1" "v$2" --reinstall >"$CACHE/official-$1.log" 2>&1; then
    touch "$marker"
    log "plugin $1 v$2: official plugin installed into $dir"
    return 0
  fi
  # Remember for a day that downloads fail here, so a re-run stays fast.
  touch "$CACHE/offline"
  log "plugin $1 v$2: official plugin unreachable ($(grep -m1 -o 'dial tcp[^"]*\|no such host' "$CACHE/official-$1.log" || echo "download failed")); building it here instead"
  return 1
}
find "$CACHE" -maxdepth 1 -name offline -mmin +1440 -delete 2>/dev/null || true

# --- 4. the real pulumi-kubernetes provider ---------------------------------------------------------
# Pulumi tags provider releases only as vX.Y.Z and sdk/vX.Y.Z, so the provider module is reachable
# only by the pseudo-version of a release commit; the proxy here serves v4.25.0's (f47bc2d6f199) and
# refuses every later release's (engine/README.md lists them). The version of @pulumi/kubernetes
# in package-lock.json picks the entry below; the SDK and the plugin must be the same release.
k8s_provider_pseudo() { # VERSION -> pseudo-version of that release's commit
  case "$1" in
    4.25.0) echo v4.0.0-20260115033456-f47bc2d6f199 ;;
    *) return 1 ;;
  esac
}

# A wrapper module, because the provider's go.mod replaces sdk/v4 with ../sdk and its main package
# embeds schema-embed.json and terraform-mapping-embed.json, which are generated upstream by
# `go generate` and so are not in the module zip. The wrapper holds a copy of the main package with
# those two files made from the zip's schema.json (with the version set) and terraform-mapping.json.
build_k8s_provider() { # VERSION OUT
  local v="$1" out="$2" pseudo w gomod dir t0
  pseudo="$(k8s_provider_pseudo "$v")" ||
    die "@pulumi/kubernetes $v has no known provider commit; fjord builds the provider for 4.25.0 (pin that version)"
  need_go
  t0=$(date +%s)
  log "building the pulumi-kubernetes provider v$v ($pseudo) from the Go module proxy (cold: ~9 min)..."
  w="$CACHE/build/kubernetes-provider-v$v"
  rm -rf "$w" && mkdir -p "$w/cmd"
  gomod="$(mod_json "github.com/pulumi/pulumi-kubernetes/provider/v4@$pseudo" GoMod)"
  dir="$(mod_json "github.com/pulumi/pulumi-kubernetes/provider/v4@$pseudo" Dir)"
  {
    printf 'module fjord.local/kubernetes-provider\n\ngo %s\n\n' "$(awk '$1=="go"{print $2; exit}' "$gomod")"
    printf 'require (\n\tgithub.com/pulumi/pulumi-kubernetes/provider/v4 %s\n\tgithub.com/pulumi/pulumi-kubernetes/sdk/v4 v%s\n)\n\n' "$pseudo" "$v"
    remote_replaces "$gomod" | sed 's/^/replace /'
  } >"$w/go.mod"
  cp "$dir/cmd/pulumi-resource-kubernetes/main.go" "$w/cmd/"
  chmod u+w "$w/cmd/main.go"
  node -e '
    const fs = require("fs"), [dir, out, v] = process.argv.slice(1);
    const schema = JSON.parse(fs.readFileSync(dir + "/schema.json"));
    schema.version = v;
    fs.writeFileSync(out + "/schema-embed.json", JSON.stringify(schema));
    fs.writeFileSync(out + "/terraform-mapping-embed.json",
      JSON.stringify(JSON.parse(fs.readFileSync(dir + "/terraform-mapping.json"))));' \
    "$dir/cmd/pulumi-resource-kubernetes" "$w/cmd" "$v" || die "cannot generate the provider's embedded schema"
  (cd "$w" && go mod tidy >"$CACHE/kubernetes-provider-tidy.log" 2>&1) ||
    die "go mod tidy of the kubernetes provider failed: $(tail -5 "$CACHE/kubernetes-provider-tidy.log")"
  (cd "$w" && atomic_build "$out" kubernetes-provider -- \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$v" ./cmd)
  log "pulumi-kubernetes provider v$v built in $(elapsed "$t0")"
}

STEP="plugin kubernetes"
kv="$(npm_version kubernetes)"
if ! official_plugin kubernetes "$kv"; then
  kbin="$CACHE/kubernetes-provider/v$kv/pulumi-resource-kubernetes"
  [ -x "$kbin" ] || build_k8s_provider "$kv" "$kbin"
  install_plugin kubernetes "$kv" "$kbin"
fi

# --- 5. fjord's own plugins where the upstream module is not served --------------------------------
missing=()
for name in command random docker; do
  STEP="plugin $name"
  v="$(npm_version "$name")"
  if official_plugin "$name" "$v"; then
    continue
  elif [ -d "$ENGINE_SRC/$name" ]; then
    bin="$(engine_bin "$name" "pulumi-resource-$name" "$v")"
    install_plugin "$name" "$v" "$bin"
  elif [ -x "$PULUMI_HOME/plugins/resource-$name-v$v/pulumi-resource-$name" ]; then
    log "plugin $name v$v: installed (provided outside setup.sh)"
  else
    echo "[setup] WARNING plugin $name v$v: NOT PROVIDED - the upstream provider module is not on the Go" \
      "module proxy; see engine/README.md. Programs that create $name resources will fail." >&2
    missing+=("$name")
  fi
done

STEP="done"
log "ready: source scripts/env.sh, then pulumi ... (engine v$PV)"
if [ ${#missing[@]} -gt 0 ]; then
  log "missing provider plugins: ${missing[*]}"
  [ "${FJORD_SETUP_STRICT:-0}" = 1 ] && exit 1
fi
exit 0
