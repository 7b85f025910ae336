#!/usr/bin/env bash
# Builds fjord's local images from Debian packages (debootstrap → chroot apt → docker import), so the
# dev stack and its e2e test run without any registry. Each image family is one root filesystem,
# cached as a tarball keyed by its package versions and these scripts; a warm run only imports.
#
# Usage: images/build.sh [--host DOCKER_HOST] [--traefik-binary PATH] [--loki-binary PATH]
#                                [--prometheus3-binary PATH]
#                                [--manifest FILE] [--no-import] [--oci-list FILE] [FAMILY...]
# Families: nginx postgres mariadb prometheus sample-service traefik loki prometheus3 (default: all
# but the last three, plus each of those whose binary is given; testkit/tools/traefik.sh, testkit/tools/loki.sh
# and testkit/tools/prometheus.sh build them from Go modules). prometheus3 then provides the prometheus
# role in place of Debian's Prometheus 2.42, which lacks kubernetes_sd.
# Env: FJORD_CACHE (default ~/.cache/fjord), FJORD_MIRROR (default: the bookworm mirror apt uses).
# The manifest is JSON: { "<spec.images role>": "<local image ref>", ... }.
# --oci-list FILE writes one JSON line per image, {role, ref, tar, changes}, for loaders that make
# OCI images from the cached root filesystems themselves (the Kubernetes test cluster's containerd);
# with --no-import, no Docker daemon is needed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE="${FJORD_CACHE:-$HOME/.cache/fjord}/images"
SUITE=bookworm
# Families built around one prebuilt binary (not Debian packages), by family name.
declare -A BINARY=([traefik]="${FJORD_TRAEFIK_BINARY:-}" [loki]="${FJORD_LOKI_BINARY:-}" [prometheus3]="")
MANIFEST=""
OCI_LIST=""
IMPORT=1
FAMILIES=()

while [ $# -gt 0 ]; do
  case "$1" in
    --host) export DOCKER_HOST="$2"; shift 2 ;;
    --traefik-binary) BINARY[traefik]="$2"; shift 2 ;;
    --loki-binary) BINARY[loki]="$2"; shift 2 ;;
    --prometheus3-binary) BINARY[prometheus3]="$2"; shift 2 ;;
    --manifest) MANIFEST="$2"; shift 2 ;;
    --no-import) IMPORT=0; shift ;;
    --oci-list) OCI_LIST="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) FAMILIES+=("$1"); shift ;;
  esac
done
if [ ${#FAMILIES[@]} -eq 0 ]; then
  FAMILIES=(nginx postgres mariadb prometheus sample-service)
  for f in traefik loki prometheus3; do [ -n "${BINARY[$f]}" ] && FAMILIES+=("$f"); done
fi

# Progress goes to stderr so stdout stays free for the manifest.
say() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap and chroot need root; run with sudo"
for b in debootstrap tar sha256sum apt-cache; do
  command -v "$b" >/dev/null || die "$b is missing; install it with: apt-get install -y debootstrap"
done
if [ "$IMPORT" = 1 ]; then
  command -v docker >/dev/null || die "docker CLI is missing; install it with: apt-get install -y docker.io"
  docker version >/dev/null 2>&1 || die "no Docker daemon at ${DOCKER_HOST:-unix:///var/run/docker.sock}: start Docker or pass --host"
fi
mkdir -p "$CACHE/debs" "$CACHE/logs"
# One build at a time: the chroots share the package cache (and apt's lock in it), and a second
# caller would only build the same tarballs again. It waits, then finds them cached.
exec 8>"$CACHE/build.lock"
if ! flock -n 8; then
  say "another images/build.sh is running; waiting for it..."
  flock 8
fi
if [ -n "$OCI_LIST" ]; then : >"$OCI_LIST" && export OCI_LIST; fi

# The bookworm mirror apt already uses here, so this works wherever apt-get does.
mirror() {
  if [ -n "${FJORD_MIRROR:-}" ]; then echo "$FJORD_MIRROR"; return; fi
  local m=""
  m=$(awk '/^URIs:/{u=$2} /^Suites:/{for(i=2;i<=NF;i++) if($i=="bookworm"){print u; exit}}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
  [ -n "$m" ] || m=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)
SECURITY_MIRROR="${MIRROR%/debian}/debian-security"

# Newest version in the Debian suites the chroot uses (madison lists newest first). Not apt's
# candidate: a package installed here from elsewhere (e.g. nodejs) would shadow Debian's.
pkgver() {
  local v
  v=$(apt-cache madison "$1" 2>/dev/null |
    awk -F'|' -v s="$SUITE" '$3 ~ (" " s "(-updates|-security)?/main ") {gsub(/ /, "", $2); print $2; exit}')
  [ -n "$v" ] || die "no $SUITE version of package $1 known to apt; run apt-get update first"
  echo "$v"
}
# The version actually inside a built family, from its package list.
builtver() { awk -v p="$2" '$1 == p {print $2; exit}' "${1%.tar}.packages"; }
# Upstream part of a Debian version, usable as a tag: 1:10.11.18-0+deb12u1 → 10.11.18
upstream() { local v="${1#*:}"; v="${v%%-*}"; v="${v%%+*}"; echo "${v//[^A-Za-z0-9_.-]/-}"; }

family_packages() {
  case "$1" in
    # wget: the health checks use it, as the official (busybox/alpine) images provide it.
    nginx) echo "nginx prometheus-nginx-exporter wget" ;;
    # pgbackrest: WAL archiving and backups (#15); busybox: the backup runner's metrics httpd.
    postgres) echo "postgresql prometheus-postgres-exporter pgbackrest busybox" ;;
    # mariadb-backup, zstd, rclone (S3 + client-side crypt): backups; busybox: metrics httpd.
    mariadb) echo "mariadb-server mariadb-client prometheus-mysqld-exporter mariadb-backup zstd rclone busybox" ;;
    prometheus) echo "prometheus prometheus-node-exporter prometheus-alertmanager wget" ;;
    sample-service) echo "nodejs postgresql-client mariadb-client wget" ;;
    traefik) echo "ca-certificates wget" ;;
    # Like grafana/loki: the static binary and CA certificates (no shell tools are used).
    loki) echo "ca-certificates" ;;
    # Prometheus 3 from Go modules (testkit/tools/prometheus.sh): Debian's 2.42 has no kubernetes_sd.
    prometheus3) echo "ca-certificates" ;;
    *) die "unknown family $1 (nginx postgres mariadb prometheus sample-service traefik loki prometheus3)" ;;
  esac
}

# Users the official images run as, created before the packages so their uids match.
family_users() {
  case "$1" in
    nginx) echo "nginx:101" ;;
    postgres) echo "postgres:999" ;;
    mariadb) echo "mysql:999" ;;
    sample-service) echo "app:10001" ;;
    traefik) echo "traefik:65532" ;;
    loki) echo "loki:10001" ;;
  esac
}

MOUNTS=()
cleanup() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  MOUNTS=()
  [ -n "${WORK:-}" ] && [ -d "$WORK" ] && ! grep -q " $WORK/" /proc/mounts && rm -rf "$WORK"
  return 0
}
trap cleanup EXIT

in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

# minbase once, shared by every family: the slow part of a cold build.
base_tarball() {
  local key tar
  key=$(printf '%s\n' "$SUITE" "$MIRROR" "$(debootstrap --version 2>/dev/null)" | sha256sum | cut -c1-12)
  tar="$CACHE/base-$SUITE-$key.tar"
  if [ ! -f "$tar" ]; then
    say "debootstrap $SUITE minbase from $MIRROR (once; log $CACHE/logs/base.log)"
    WORK=$(mktemp -d /tmp/fjord-rootfs.XXXXXX)
    ROOT="$WORK/root"
    debootstrap --variant=minbase --cache-dir="$CACHE/debs" "$SUITE" "$ROOT" "$MIRROR" \
      >"$CACHE/logs/base.log" 2>&1 || die "debootstrap failed; see $CACHE/logs/base.log"
    tar -C "$ROOT" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
    cleanup
  fi
  BASE="$tar"
}

family_key() {
  local f="$1" p
  {
    echo "$SUITE $MIRROR"
    for p in $(family_packages "$f"); do echo "$p=$(pkgver "$p")"; done
    sha256sum <"$0" | cut -c1-64
    # The Dockerfile is for machines with a registry; this image does not use it.
    if [ -d "$HERE/$f" ]; then find "$HERE/$f" -type f ! -name Dockerfile -print0 | sort -z | xargs -0 -r sha256sum | cut -c1-64; fi
    if [ -n "${BINARY[$f]:-}" ]; then sha256sum "${BINARY[$f]}" | cut -c1-64; fi
  } | sha256sum | cut -c1-12
}

customize() {
  local f="$1"
  case "$f" in
    nginx)
      # Like the official image: logs go to the container's stdio, no default site.
      ln -sf /dev/stdout "$ROOT/var/log/nginx/access.log"
      ln -sf /dev/stderr "$ROOT/var/log/nginx/error.log"
      rm -f "$ROOT/etc/nginx/sites-enabled/default"
      ;;
    postgres)
      # Our entrypoint initialises $PGDATA; the package's own cluster would only confuse pg_wrapper.
      rm -rf "$ROOT/var/lib/postgresql/15" "$ROOT/etc/postgresql/15"
      install -d -o 999 -g 999 -m 0700 "$ROOT/var/lib/postgresql/data"
      install -d -o 999 -g 999 -m 2775 "$ROOT/var/run/postgresql"
      install -m 0755 "$HERE/postgres/entrypoint.sh" "$ROOT/usr/local/bin/docker-entrypoint.sh"
      ;;
    mariadb)
      # 50-server.cnf is read after conf.d and would pin bind-address to 127.0.0.1.
      sed -i -E 's/^(bind-address|user\s|log-error|pid-file|socket)/#&/' "$ROOT/etc/mysql/mariadb.conf.d/50-server.cnf"
      printf '[mariadbd]\nskip-host-cache\nskip-name-resolve\n' >"$ROOT/etc/mysql/conf.d/docker.cnf"
      rm -rf "$ROOT/var/lib/mysql" && install -d -o 999 -g 999 -m 0750 "$ROOT/var/lib/mysql"
      install -d -o 999 -g 999 -m 0755 "$ROOT/run/mysqld"
      install -m 0755 "$HERE/mariadb/entrypoint.sh" "$ROOT/usr/local/bin/docker-entrypoint.sh"
      install -m 0755 "$HERE/mariadb/mysqld-exporter.sh" "$ROOT/usr/local/bin/mysqld-exporter"
      ;;
    prometheus)
      install -d -o 65534 -g 65534 "$ROOT/prometheus" "$ROOT/alertmanager"
      install -d "$ROOT/etc/prometheus" "$ROOT/etc/alertmanager"
      ;;
    sample-service)
      install -d "$ROOT/app"
      install -m 0644 "$HERE/sample-service/server.js" "$ROOT/app/server.js"
      ;;
    traefik)
      install -m 0755 "${BINARY[traefik]}" "$ROOT/usr/local/bin/traefik"
      ;;
    prometheus3)
      install -m 0755 "${BINARY[prometheus3]}" "$ROOT/bin/prometheus"
      install -d -o 65534 -g 65534 "$ROOT/prometheus"
      install -d "$ROOT/etc/prometheus"
      ;;
    loki)
      install -m 0755 "${BINARY[loki]}" "$ROOT/usr/bin/loki"
      # A new named volume takes this directory's owner, as with the official image.
      install -d -o 10001 -g 10001 "$ROOT/loki"
      ;;
  esac
  rm -rf "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/var/lib/apt/lists/* \
    "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/usr/sbin/policy-rc.d
}

# Sets TAR to the family's cached root filesystem, building it first when absent. Not run in a
# subshell, so the EXIT trap still unmounts and removes the work dir when a step fails.
build_family() {
  local f="$1" tar user name uid
  tar="$CACHE/$f-$(family_key "$f").tar"
  TAR="$tar"
  if [ -f "$tar" ]; then say "$f: cached $(basename "$tar")"; return; fi
  base_tarball
  local t0=$SECONDS
  say "$f: installing $(family_packages "$f") (log $CACHE/logs/$f.log)"
  WORK=$(mktemp -d /tmp/fjord-rootfs.XXXXXX)
  ROOT="$WORK/root"
  mkdir "$ROOT" && tar -C "$ROOT" -xf "$BASE"
  for user in $(family_users "$f"); do
    name=${user%%:*}; uid=${user#*:}
    in_root groupadd -r -g "$uid" "$name"
    in_root useradd -r -u "$uid" -g "$uid" -M -d /nonexistent -s /usr/sbin/nologin "$name"
  done
  # No service may start inside the chroot while packages install.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d" && chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SECURITY_MIRROR" "$SUITE" >"$ROOT/etc/apt/sources.list"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mount -t proc proc "$ROOT/proc" && MOUNTS+=("$ROOT/proc")
  mount --bind "$CACHE/debs" "$ROOT/var/cache/apt/archives" && MOUNTS+=("$ROOT/var/cache/apt/archives")
  # shellcheck disable=SC2046 # a list of package names, split on purpose
  {
    in_root apt-get update &&
      in_root apt-get install -y --no-install-recommends $(family_packages "$f")
  } >"$CACHE/logs/$f.log" 2>&1 || die "$f: apt-get install failed; see $CACHE/logs/$f.log"
  # Record what is inside, so a user can see exactly which versions an image carries.
  in_root dpkg-query -W >"${tar%.tar}.packages"
  cleanup_mounts
  customize "$f"
  : >"$ROOT/etc/resolv.conf"
  tar -C "$ROOT" --numeric-owner -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  cleanup
  say "$f: built $(basename "$tar") in $((SECONDS - t0))s"
}

cleanup_mounts() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount "${MOUNTS[$i]}" || umount -l "${MOUNTS[$i]}"; done
  MOUNTS=()
}

ENTRIES=()
# import_as ROLE REF TAR CHANGE...: lists ROLE → REF in the manifest and imports TAR as REF.
import_as() {
  local role="$1" ref="$2" tar="$3" args=() c
  shift 3
  ENTRIES+=("\"$role\": \"$ref\"")
  if [ -n "$OCI_LIST" ]; then
    node -e 'const [role, ref, tar, ...changes] = process.argv.slice(1);
      require("fs").appendFileSync(process.env.OCI_LIST, JSON.stringify({ role, ref, tar, changes }) + "\n")' \
      "$role" "$ref" "$tar" "$@" || die "cannot write $OCI_LIST"
  fi
  [ "$IMPORT" = 1 ] || return 0
  if docker image inspect "$ref" >/dev/null 2>&1; then say "$ref: present"; return; fi
  for c in "$@"; do args+=(-c "$c"); done
  docker import "${args[@]}" -c "LABEL fjord.image=$role" "$tar" "$ref" >/dev/null
  say "$ref: imported"
}
family_hash() { basename "$1" .tar | sed 's/.*-//'; }
# tag TAR ROLE NAME VERSION-PACKAGE CHANGE...: one image of a family, versioned by a package.
tag() {
  local tar="$1" role="$2" name="$3" pkg="$4"
  shift 4
  import_as "$role" "fjord-local/$name:$(upstream "$(builtver "$tar" "$pkg")")-$(family_hash "$tar")" "$tar" "$@"
}
# binary_tag TAR NAME VERSION CHANGE...: a family around one prebuilt binary, versioned by it.
binary_tag() {
  local tar="$1" name="$2" ver="$3"
  shift 3
  import_as "$name" "fjord-local/$name:$ver-$(family_hash "$tar")" "$tar" "$@"
}

NOBODY='USER 65534:65534'
for f in "${FAMILIES[@]}"; do
  if [ -n "${BINARY[$f]+set}" ] && [ ! -x "${BINARY[$f]}" ]; then
    say "$f: skipped (no binary; pass --$f-binary PATH)"; continue
  fi
  build_family "$f"
  tar="$TAR"
  case "$f" in
    nginx)
      tag "$tar" nginx nginx nginx 'CMD ["nginx", "-g", "daemon off;"]' 'EXPOSE 8080'
      tag "$tar" nginxExporter nginx-exporter prometheus-nginx-exporter "$NOBODY" \
        'ENTRYPOINT ["/usr/bin/prometheus-nginx-exporter"]' ;;
    postgres)
      tag "$tar" postgres postgres postgresql-15 'USER 999:999' \
        'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
        'ENV PGDATA=/var/lib/postgresql/data' 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
        'CMD ["postgres"]' 'VOLUME /var/lib/postgresql/data'
      tag "$tar" postgresExporter postgres-exporter prometheus-postgres-exporter "$NOBODY" \
        'ENTRYPOINT ["/usr/bin/prometheus-postgres-exporter"]' ;;
    mariadb)
      tag "$tar" mysql mariadb mariadb-server 'USER 999:999' \
        'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' 'CMD ["mariadbd"]' 'VOLUME /var/lib/mysql'
      tag "$tar" mysqlExporter mysqld-exporter prometheus-mysqld-exporter "$NOBODY" \
        'ENTRYPOINT ["/usr/local/bin/mysqld-exporter"]' ;;
    prometheus)
      # With a Prometheus 3 binary given, that family provides the prometheus role instead.
      [ -n "${BINARY[prometheus3]}" ] ||
        tag "$tar" prometheus prometheus prometheus "$NOBODY" 'WORKDIR /prometheus' \
          'ENTRYPOINT ["/usr/bin/prometheus"]' \
          'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]'
      tag "$tar" nodeExporter node-exporter prometheus-node-exporter "$NOBODY" \
        'ENTRYPOINT ["/usr/bin/prometheus-node-exporter"]'
      tag "$tar" alertmanager alertmanager prometheus-alertmanager "$NOBODY" 'WORKDIR /alertmanager' \
        'ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]' \
        'CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]' ;;
    sample-service)
      tag "$tar" sampleService sample-service nodejs 'USER 10001:10001' 'WORKDIR /app' \
        'ENTRYPOINT ["/usr/bin/node", "/app/server.js"]' 'EXPOSE 8080' ;;
    traefik)
      ver=$("${BINARY[traefik]}" version 2>/dev/null | awk '/^Version:/{print $2}' | tr -d v)
      binary_tag "$tar" traefik "${ver:-0}" 'USER 65532:65532' 'ENTRYPOINT ["/usr/local/bin/traefik"]' ;;
    prometheus3)
      ver=$("${BINARY[prometheus3]}" --version 2>/dev/null | awk '/version/{print $3; exit}')
      import_as prometheus "fjord-local/prometheus:${ver:-0}-$(family_hash "$tar")" "$tar" "$NOBODY" \
        'WORKDIR /prometheus' 'ENTRYPOINT ["/bin/prometheus"]' \
        'CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]' ;;
    loki)
      ver=$("${BINARY[loki]}" -version 2>/dev/null | awk '/version/{print $3; exit}')
      binary_tag "$tar" loki "${ver:-0}" 'USER 10001:10001' 'ENTRYPOINT ["/usr/bin/loki"]' \
        'CMD ["-config.file=/etc/loki/local-config.yaml"]' ;;
  esac
done

json="{ $(IFS=,; echo "${ENTRIES[*]}") }"
[ -n "$MANIFEST" ] && printf '%s\n' "$json" >"$MANIFEST"
say "done: $json"
