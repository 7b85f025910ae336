#!/usr/bin/env bash
# Provide an S3-compatible server for the backup tests: `rclone serve s3` over a local directory,
# built from Go modules (no S3 mock, and nothing is downloaded from GitHub).
#
#   ${FJORD_CACHE:-$HOME/.cache/fjord}/rclone-<ver>/rclone   the cached binary (one per version)
#   .tools/bin/rclone-s3                                     symlink to it
#
# Linked as rclone-s3, not rclone: Debian's rclone (scripts/deps.sh) stays the client the tests
# and the backup jobs use. Version: FJORD_RCLONE_VERSION, else the pinned v1.76.0 (Debian's 1.60
# has no `serve s3`). The main is testkit/tools/rclone-s3/main.go: `serve s3`, `version` and the
# local backend only, instead of upstream's every backend and command (a 19 MB binary). The cache
# is keyed by version only: after editing main.go, delete the cached binary. Idempotent: a second
# run only relinks. Cold build (empty module and build caches, niced on 2 busy cores): ~2 min.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=testkit/tools/go-tool.sh
source "$ROOT/testkit/tools/go-tool.sh"
MOD=github.com/rclone/rclone
VER="${FJORD_RCLONE_VERSION:-v1.76.0}"
BIN="${FJORD_CACHE:-$HOME/.cache/fjord}/rclone-$VER/rclone"

go_tool_build rclone "$MOD" "$VER" "$ROOT/testkit/tools/rclone-s3" "$BIN" \
  -ldflags "-s -w -X $MOD/fs.VersionTag=$VER -X $MOD/fs.VersionSuffix="

go_tool_link rclone-s3 "$BIN" "^rclone $VER\$" version
