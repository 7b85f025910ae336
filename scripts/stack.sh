#!/usr/bin/env bash
# npm run preview|up|destroy -- <stack> [pulumi flags…]
# Runs the Pulumi CLI on the project-local file backend, creating the stack on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
op=${1:?usage: npm run preview|up|destroy -- <stack> [pulumi flags]}
stack=${2:-}
if [ -z "$stack" ] || [[ "$stack" == -* ]]; then
  echo "fjord: name the stack, e.g. npm run $op -- dev (stacks: $(ls Pulumi.*.yaml | sed 's/Pulumi\.\(.*\)\.yaml/\1/' | tr '\n' ' '))" >&2
  exit 2
fi
shift 2
if [ ! -f "Pulumi.$stack.yaml" ]; then
  echo "fjord: there is no Pulumi.$stack.yaml; create it from Pulumi.dev.yaml or Pulumi.prod.yaml" >&2
  exit 2
fi
# shellcheck source=scripts/env.sh
source scripts/env.sh
if ! command -v pulumi >/dev/null; then
  echo "fjord: the Pulumi CLI is not set up; run: npm run setup" >&2
  exit 2
fi
pulumi stack select --create --secrets-provider passphrase "$stack" >/dev/null
case "$op" in
  preview) exec pulumi preview --stack "$stack" "$@" ;;
  up) exec pulumi up --stack "$stack" --yes "$@" ;;
  destroy) exec pulumi destroy --stack "$stack" --yes "$@" ;;
  *) echo "fjord: unknown operation $op (preview, up, destroy)" >&2; exit 2 ;;
esac
