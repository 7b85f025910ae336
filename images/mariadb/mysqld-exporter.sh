#!/bin/bash
# Debian's mysqld_exporter (0.14) only reads DATA_SOURCE_NAME; the official image fjord targets
# (0.15+) takes --mysqld.address, --mysqld.username and MYSQLD_EXPORTER_PASSWORD. Translate.
set -euo pipefail
addr=127.0.0.1:3306
user=root
args=()
for a in "$@"; do
  case "$a" in
    --mysqld.address=*) addr=${a#*=} ;;
    --mysqld.username=*) user=${a#*=} ;;
    *) args+=("$a") ;;
  esac
done
export DATA_SOURCE_NAME="${user}:${MYSQLD_EXPORTER_PASSWORD:-}@(${addr})/"
exec /usr/bin/prometheus-mysqld-exporter "${args[@]}"
