#!/usr/bin/env bash
# Smoke test of the engine from `npm run setup`: a throwaway TypeScript program (random + command
# resources) goes through stack init / up / destroy on a file backend, and a policy pack runs with
# `pulumi preview --policy-pack`. Uses a temporary backend and passphrase; leaves nothing behind.
# Usage: bash engine/smoke.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=/dev/null
source "$ROOT/scripts/env.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE="smoke-test"
unset PULUMI_CONFIG_PASSPHRASE_FILE
mkdir -p "$work/state" "$work/prog" "$work/policy"
step() { echo "[smoke] $*"; }
fail() { echo "[smoke] FAILED: $*" >&2; exit 1; }

step "pulumi version: $(pulumi version)"
[ "$(pulumi version)" = "v$(node -p "require('$ROOT/node_modules/@pulumi/pulumi/package.json').version")" ] ||
  fail "pulumi version does not match @pulumi/pulumi"

cd "$work/prog"
ln -s "$ROOT/node_modules" node_modules
printf 'name: fjord-smoke\nruntime: nodejs\n' >Pulumi.yaml
printf '{"name":"fjord-smoke","version":"0.0.0","main":"index.ts"}\n' >package.json
cat >index.ts <<'EOF'
import * as command from "@pulumi/command";
import * as random from "@pulumi/random";
const pw = new random.RandomPassword("pw", { length: Number(process.env.SMOKE_PW_LENGTH ?? 24) });
const echo = new command.local.Command("echo", {
  create: "printf 'hello %s' \"$WHO\"",
  delete: "true",
  environment: { WHO: "fjord" },
});
export const passwordLength = pw.result.apply((r) => r.length);
export const greeting = echo.stdout;
EOF

cd "$work/policy"
ln -s "$ROOT/node_modules" node_modules
printf 'runtime: nodejs\nname: fjord-smoke-policy\nversion: 0.0.1\n' >PulumiPolicy.yaml
printf '{"name":"fjord-smoke-policy","version":"0.0.1","main":"index.ts"}\n' >package.json
cat >index.ts <<'EOF'
import { PolicyPack, validateResourceOfType } from "@pulumi/policy";
import * as random from "@pulumi/random";
new PolicyPack("fjord-smoke-policy", {
  policies: [{
    name: "password-length",
    description: "Random passwords have at least 16 characters.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(random.RandomPassword, (pw, _args, report) => {
      if (pw.length < 16) report(`length ${pw.length} < 16`);
    }),
  }],
});
EOF

cd "$work/prog"
pulumi stack init smoke >/dev/null 2>&1 || fail "stack init"
pulumi up --yes --skip-preview >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "pulumi up"; }
[ "$(pulumi stack output greeting)" = "hello fjord" ] || fail "command output: $(pulumi stack output greeting)"
[ "$(pulumi stack output passwordLength --show-secrets)" = "24" ] || fail "password length"
step "up: ok (command stdout and random password as expected)"

pulumi preview --policy-pack "$work/policy" >"$work/pol-ok.log" 2>&1 || { cat "$work/pol-ok.log"; fail "policy pack (passing case)"; }
if SMOKE_PW_LENGTH=8 pulumi preview --policy-pack "$work/policy" >"$work/pol-bad.log" 2>&1; then
  cat "$work/pol-bad.log"; fail "policy pack did not reject a short password"
fi
grep -q "length 8 < 16" "$work/pol-bad.log" || { cat "$work/pol-bad.log"; fail "policy violation not reported"; }
step "policy pack: ok (passes, and rejects an 8-character password)"

pulumi destroy --yes --skip-preview >"$work/destroy.log" 2>&1 || { cat "$work/destroy.log"; fail "pulumi destroy"; }
pulumi stack rm --yes smoke >/dev/null || fail "stack rm"
step "destroy: ok"
step "all checks passed"
