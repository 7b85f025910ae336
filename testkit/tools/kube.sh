#!/usr/bin/env bash
# Provide a real Kubernetes control plane and node for the test cluster (testkit/cluster),
# built from Go modules: nothing is downloaded from GitHub or a registry.
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/kube-<ver>/   kube-apiserver kube-controller-manager
#                                                   kube-scheduler kubelet kube-proxy kubectl etcd
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/coredns-<ver>/coredns          cluster DNS (testkit/tools/coredns)
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/kube-router-<ver>/kube-router  NetworkPolicy enforcement
#   .tools/bin/<each>                                                 symlinks
#
# k8s.io/kubernetes replaces its staging modules (k8s.io/api, client-go, ...) with ./staging paths
# that a wrapper module cannot reach, so the wrapper replaces each one with its published v0.X.Y
# instead. etcd comes from the same module graph (kubernetes requires go.etcd.io/etcd/server/v3), so
# it costs seconds more. kubelet stays on 1.34: 1.35 refuses cgroup v1 by default.
# Idempotent: a second run only relinks. Cold build: ~6-8 min on 2 cores.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=testkit/tools/go-tool.sh
source "$ROOT/testkit/tools/go-tool.sh"
CACHE="${FJORD_CACHE:-$HOME/.cache/fjord}"
KVER="${FJORD_KUBE_VERSION:-v1.34.4}"
STAGING_VER="v0.${KVER#v1.}"
COREDNS_VER="${FJORD_COREDNS_VERSION:-v1.12.4}"
# The only kube-router v2 release the proxy here serves (v2.4-v2.6 answer 403).
ROUTER_VER="${FJORD_KUBE_ROUTER_VERSION:-v2.1.0}"
KDIR="$CACHE/kube-$KVER"
# A fresh machine has no cache yet, and CI runs this beside setup.sh, which would make it.
mkdir -p "$CACHE/build"
KBINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl etcd)
export CGO_ENABLED=0

# --- Kubernetes and etcd: one wrapper module, one go build for every binary -----------------------
build_kube() {
  local w="$CACHE/build/kube-$KVER" gomod staging t0 m
  exec 8>"$CACHE/kube.lock"
  flock -n 8 || { echo "[kube] another build is running; waiting for it..."; flock 8; }
  local b all=1
  for b in "${KBINS[@]}"; do [ -x "$KDIR/$b" ] || all=0; done
  [ "$all" = 1 ] && return 0
  t0=$(date +%s)
  echo "[kube] building k8s.io/kubernetes $KVER and etcd from the Go module proxy (cold: several minutes)..."
  rm -rf "$w" && mkdir -p "$w"
  gomod="$(cd "$w" && GOFLAGS='' go mod download -json "k8s.io/kubernetes@$KVER" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$gomod" ] || { echo "[kube] ERROR: go mod download k8s.io/kubernetes@$KVER failed" >&2; return 1; }
  staging="$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod")"
  {
    printf 'module fjord.local/kube\n\ngo %s\n\ngodebug default=go1.24\n\nrequire k8s.io/kubernetes %s\n\nreplace (\n' \
      "$(awk '$1=="go"{print $2; exit}' "$gomod")" "$KVER"
    for m in $staging; do
      # The sample-* modules are examples nothing imports; they are not published at every version.
      case "$m" in k8s.io/sample-*) continue ;; esac
      printf '\t%s => %s %s\n' "$m" "$m" "$STAGING_VER"
    done
    printf ')\n'
  } >"$w/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
    printf '\t_ "go.etcd.io/etcd/server/v3"\n)\n'
  } >"$w/tools.go"
  echo "[kube] resolving dependencies (log: $CACHE/kube-tidy.log)..."
  (cd "$w" && go mod tidy >"$CACHE/kube-tidy.log" 2>&1) || {
    tail -20 "$CACHE/kube-tidy.log" >&2
    echo "[kube] ERROR: go mod tidy failed (log: $CACHE/kube-tidy.log)" >&2
    return 1
  }
  local ld="k8s.io/component-base/version" gitv="$KVER" now
  now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local flags="-s -w -X $ld.gitVersion=$gitv -X $ld.gitMajor=1 -X $ld.gitMinor=$(cut -d. -f2 <<<"$KVER")"
  flags="$flags -X $ld.gitTreeState=clean -X $ld.buildDate=$now"
  flags="$flags -X k8s.io/client-go/pkg/version.gitVersion=$gitv"
  flags="$flags -X go.etcd.io/etcd/api/v3/version.GitSHA=module-proxy"
  echo "[kube] compiling (log: $CACHE/kube-build.log)..."
  mkdir -p "$w/out"
  (cd "$w" && go build -trimpath -tags providerless -ldflags "$flags" -o out/ \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubelet \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/cmd/kubectl go.etcd.io/etcd/server/v3 >"$CACHE/kube-build.log" 2>&1) || {
    tail -30 "$CACHE/kube-build.log" >&2
    echo "[kube] ERROR: go build failed (log: $CACHE/kube-build.log)" >&2
    return 1
  }
  mv -f "$w/out/server" "$w/out/etcd" # go names it after go.etcd.io/etcd/server/v3's "server"
  mkdir -p "$KDIR.tmp"
  for b in "${KBINS[@]}"; do mv -f "$w/out/$b" "$KDIR.tmp/$b"; done
  rm -rf "$KDIR" && mv "$KDIR.tmp" "$KDIR"
  echo "[kube] $KVER built in $(($(date +%s) - t0))s"
}

# --- CoreDNS: its own wrapper module around fjord's main with the plugins the test cluster uses ---
build_coredns() {
  local bin="$CACHE/coredns-$COREDNS_VER/coredns" w="$CACHE/build/coredns-$COREDNS_VER" gomod t0
  exec 7>"$CACHE/coredns.lock"
  flock -n 7 || { echo "[coredns] another build is running; waiting for it..."; flock 7; }
  [ -x "$bin" ] && return 0
  t0=$(date +%s)
  echo "[coredns] building github.com/coredns/coredns $COREDNS_VER (log: $CACHE/coredns-build.log)..."
  rm -rf "$w" && mkdir -p "$w"
  gomod="$(cd "$w" && GOFLAGS='' go mod download -json "github.com/coredns/coredns@$COREDNS_VER" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$gomod" ] || { echo "[coredns] ERROR: go mod download failed" >&2; return 1; }
  printf 'module fjord.local/coredns\n\ngo %s\n\nrequire github.com/coredns/coredns %s\n' \
    "$(awk '$1=="go"{print $2; exit}' "$gomod")" "$COREDNS_VER" >"$w/go.mod"
  cp "$ROOT/testkit/tools/coredns/main.go" "$w/main.go"
  (cd "$w" && go mod tidy && go build -trimpath -o "$bin.tmp" \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-proxy" .) \
    >"$CACHE/coredns-build.log" 2>&1 || {
    tail -30 "$CACHE/coredns-build.log" >&2
    echo "[coredns] ERROR: build failed (log: $CACHE/coredns-build.log)" >&2
    return 1
  }
  mv -f "$bin.tmp" "$bin"
  echo "[coredns] $COREDNS_VER built in $(($(date +%s) - t0))s"
}

build_kube
build_coredns
go_tool_build kube-router github.com/cloudnativelabs/kube-router/v2 "$ROUTER_VER" \
  github.com/cloudnativelabs/kube-router/v2/cmd/kube-router "$CACHE/kube-router-$ROUTER_VER/kube-router" \
  -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$ROUTER_VER"
go_tool_link coredns "$CACHE/coredns-$COREDNS_VER/coredns" "CoreDNS-${COREDNS_VER#v}" -version
go_tool_link kube-router "$CACHE/kube-router-$ROUTER_VER/kube-router" "${ROUTER_VER//./\\.}" --version
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
  go_tool_link "$b" "$KDIR/$b" "${KVER//./\\.}" --version
done
go_tool_link kubectl "$KDIR/kubectl" "${KVER//./\\.}" version --client
go_tool_link etcd "$KDIR/etcd" "etcd Version: 3\." --version
