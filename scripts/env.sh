# shellcheck shell=bash
# Source me (`source scripts/env.sh`) to use the project-local Pulumi engine from `npm run setup`:
#   PATH                    .tools/bin first (pulumi, pulumi-language-nodejs)
#   PULUMI_HOME             <repo>/.pulumi-home (resource plugins; nothing from ~/.pulumi)
#   PULUMI_BACKEND_URL      file://<repo>/.pulumi-state (local file backend, no Pulumi Cloud login)
#   PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION  (no network)
#   PULUMI_CONFIG_PASSPHRASE_FILE  <repo>/.pulumi-state/passphrase, generated once, unless
#                           PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE is already set
# It sets no shell options and is safe to source more than once.

_fjord_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"

case ":$PATH:" in
  *":$_fjord_root/.tools/bin:"*) ;;
  *) export PATH="$_fjord_root/.tools/bin:$PATH" ;;
esac
export PULUMI_HOME="$_fjord_root/.pulumi-home"
mkdir -p "$_fjord_root/.pulumi-state"
export PULUMI_BACKEND_URL="file://$_fjord_root/.pulumi-state"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

if [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  _fjord_pass="$_fjord_root/.pulumi-state/passphrase"
  if [ ! -s "$_fjord_pass" ]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$_fjord_pass")
    echo "[env] generated a local Pulumi passphrase in $_fjord_pass (git-ignored; keep it to decrypt this state)" >&2
  fi
  chmod 600 "$_fjord_pass"
  export PULUMI_CONFIG_PASSPHRASE_FILE="$_fjord_pass"
  unset _fjord_pass
fi
unset _fjord_root
