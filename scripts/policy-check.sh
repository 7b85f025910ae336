#!/usr/bin/env bash
# npm run policy-check: preview fjord's dev and prod stacks with the policy pack and each
# environment's config (both must pass), then a deliberately non-compliant program (it must fail
# with exactly the violations in test/fixtures/noncompliant/expected-violations.json).
#
# Each preview runs on an ephemeral stack of a throwaway project under out/policy/projects/, whose
# Pulumi.yaml points back at the real program and whose stack file is a copy of Pulumi.<env>.yaml:
# the user's stacks, state and stack files are never touched.
#
# Writes to out/policy/: <run>.jsonl (engine events), <run>.stderr, summary.txt, junit.xml,
# policy.sarif (dev, prod), policy-fixtures.sarif (noncompliant), residency-evidence-<run>.json.
# Env: POLICY_CHECK_RUNS="dev prod noncompliant" runs a subset; POLICY_CHECK_DOCKERD=0 never
# starts a private Docker daemon for the dev preview.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh
if ! command -v pulumi >/dev/null; then
  echo "policy-check: the Pulumi CLI is not set up; run: npm run setup" >&2
  exit 2
fi

OUT="$ROOT/out/policy"
mkdir -p "$OUT/projects"
# The pack and the programs are type-checked by `npm run typecheck`; here they only need to run.
export PULUMI_NODEJS_TRANSPILE_ONLY=true
# One JSON engine event per line, policy violations included (plain --json has none).
export PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true

# The dev stack targets Docker, and its program refuses to preview without a daemon. Use the one
# DOCKER_HOST (or the default socket) points at; else start a private one with the test launcher
# (needs root) and stop it on exit.
DOCKERD_PID=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
stop_dockerd() {
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
  fi
}
trap stop_dockerd EXIT
ensure_docker() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then return 0; fi
  [ "${POLICY_CHECK_DOCKERD:-1}" = 1 ] || return 0
  echo "policy-check: no Docker daemon answers; starting a private one for the dev preview" >&2
  : >"$OUT/dockerd.host"
  "$ROOT/node_modules/.bin/tsx" -e '
    import { startDockerd } from "./testkit/dockerd";
    startDockerd().then((d) => {
      console.log(d.host);
      const stop = () => d.stop().then(() => process.exit(0));
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      setInterval(() => {}, 1 << 30);
    }, (e) => { console.error(e.message); process.exit(1); });' >"$OUT/dockerd.host" 2>"$OUT/dockerd.log" &
  DOCKERD_PID=$!
  for _ in $(seq 1 120); do
    if [ -s "$OUT/dockerd.host" ]; then
      DOCKER_HOST="$(head -1 "$OUT/dockerd.host")"
      export DOCKER_HOST
      return 0
    fi
    kill -0 "$DOCKERD_PID" 2>/dev/null || break
    sleep 1
  done
  echo "policy-check: could not start dockerd (see $OUT/dockerd.log); the dev preview will fail" >&2
}

# preview RUN PROJECT_FILE STACK_FILE ENTRY ENV -> $OUT/RUN.jsonl; the report decides pass/fail.
# PROJECT_FILE is the Pulumi.yaml to copy, STACK_FILE the stack config to copy (or ""), ENTRY the
# program relative to the repository root, ENV the policy config to use.
preview() {
  local run="$1" project="$2" stackfile="$3" entry="$4" env="$5"
  local dir="$OUT/projects/$run" stack="policy-check-$run"
  rm -rf "$dir" && mkdir -p "$dir"
  sed "/^main:/d" "$project" >"$dir/Pulumi.yaml"
  echo "main: ../../../../$entry" >>"$dir/Pulumi.yaml"
  [ -z "$stackfile" ] || cp "$stackfile" "$dir/Pulumi.$stack.yaml"
  echo "policy-check: previewing $run with policies/config/$env.json" >&2
  pulumi stack select --cwd "$dir" --create --secrets-provider passphrase "$stack" >/dev/null
  FJORD_RESIDENCY_EVIDENCE="$OUT/residency-evidence-$run.json" \
    pulumi preview --cwd "$dir" --stack "$stack" --non-interactive --json \
    --policy-pack "$ROOT/policies" --policy-pack-config "$ROOT/policies/config/$env.json" \
    >"$OUT/$run.jsonl" 2>"$OUT/$run.stderr" || true
  pulumi stack rm --cwd "$dir" --stack "$stack" --yes --force >/dev/null 2>&1 || true
}

runs="${POLICY_CHECK_RUNS:-dev prod noncompliant}"
args=()
for run in $runs; do
  case "$run" in
    dev | prod)
      [ "$run" = dev ] && ensure_docker
      preview "$run" Pulumi.yaml "Pulumi.$run.yaml" stacks/ "$run"
      args+=("$run=$OUT/$run.jsonl:Pulumi.$run.yaml")
      ;;
    noncompliant)
      # Judged as production: everything mandatory.
      preview noncompliant test/fixtures/noncompliant/Pulumi.yaml "" test/fixtures/noncompliant/index.ts prod
      args+=(--expect "noncompliant=$ROOT/test/fixtures/noncompliant/expected-violations.json")
      args+=("noncompliant=$OUT/noncompliant.jsonl:test/fixtures/noncompliant/index.ts")
      ;;
    *)
      echo "policy-check: unknown run '$run' (dev, prod, noncompliant)" >&2
      exit 2
      ;;
  esac
done

status=0
"$ROOT/node_modules/.bin/tsx" scripts/policy-report.ts --out "$OUT" "${args[@]}" || status=$?
[ "$status" -eq 0 ] || echo "policy-check: FAILED (engine stderr: $OUT/<run>.stderr)" >&2
exit "$status"
