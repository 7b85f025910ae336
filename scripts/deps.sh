#!/usr/bin/env bash
# Debian packages the real-server tests, e2e tests and benchmarks use. Idempotent; root only.
# Services are not started on install: tests start their own instances on loopback.
set -euo pipefail

PACKAGES=(
  nginx openssl curl ca-certificates
  postgresql postgresql-contrib mariadb-server mariadb-client sysbench
  prometheus prometheus-node-exporter
  openssh-server openssh-client nftables iproute2
  wrk docker.io debootstrap
  # database backups to S3 (pgBackRest; mariabackup streamed through zstd and rclone)
  pgbackrest mariadb-backup rclone zstd
  # the Kubernetes test cluster's nodes (testkit/cluster): runtime, CNI, kube-proxy, kube-router
  containerd runc containernetworking-plugins iptables ipset conntrack gcc libc6-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[deps] all ${#PACKAGES[@]} Debian packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "[deps] missing: ${missing[*]}; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "[deps] installing ${missing[*]}"
# Keep package scripts from starting system services (port 80, 5432, 3306, 9090 stay free).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[deps] done"
