/**
 * How every host script reaches a node and reports failure. Scripts travel on stdin (never in the
 * command string, which the command provider repeats in its errors), run under bash as root, and
 * on failure print `fjord: node <name>: <step> failed: <reason>` first on stderr, then a hint.
 */

/** Single-quotes a value for POSIX sh. */
export function shq(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Whether a script is created, re-run after a change, or undone. */
export type StepAction = "create" | "update" | "delete";

export interface StepContext {
  /** Node name, as in the spec. */
  node: string;
  region: string;
  /** Step name used in error messages and resource names (facts, prep, firewall, k3s, ...). */
  step: string;
  /** Filesystem root every written path is placed under ("" = the live system). */
  root: string;
  /**
   * Whether to change the running system (kernel settings, nft, services) or only write files.
   * VpsNode sets it exactly when there is no root: with one, the running system is the host that
   * builds the image, not the image's.
   */
  live: boolean;
  /** What the operator should do when this step fails. */
  hint: string;
}

/**
 * The short command string run by the login shell: re-exec bash as root (directly or through
 * passwordless sudo, which resets the environment, so the deployer's address is passed explicitly)
 * and read the script from stdin.
 */
export function launcher(ctx: Pick<StepContext, "node" | "step">, action: StepAction): string {
  const fail = (why: string, hint: string) =>
    `{ echo ${shq(`fjord: node ${ctx.node}: ${ctx.step} failed: ${why}`)} >&2; echo ${shq(
      `hint: ${hint}`,
    )} >&2; exit 1; }`;
  const env = `env FJORD_SSH_CLIENT="\${SSH_CLIENT%% *}"`;
  return [
    `command -v bash >/dev/null 2>&1 || ${fail("bash is not installed", "install bash on the node (apt-get install bash), then run pulumi up again")}`,
    `if [ "$(id -u)" = 0 ]; then exec ${env} bash -s ${action}; fi`,
    `if sudo -n true 2>/dev/null; then exec sudo -n ${env} bash -s ${action}; fi`,
    fail(
      "the SSH user is not root and has no passwordless sudo",
      "log in as root or add '<user> ALL=(ALL) NOPASSWD:ALL' to /etc/sudoers.d/fjord, then run pulumi up again",
    ),
  ].join("\n");
}

// Helpers every script gets. They write under $FJORD_ROOT and only touch a file when its content
// changes, which is what makes a re-run converge instead of restarting services needlessly.
const HELPERS = String.raw`
fjord_warn() { echo "fjord: node $FJORD_NODE: $FJORD_STEP: warning: $*" >&2; }
fjord_die() { echo "$*" >&2; exit 1; }
fjord_live() { [ "$FJORD_LIVE" = 1 ]; }
fjord_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }
fjord_write() {
  fjord_dest="$FJORD_ROOT$1"
  mkdir -p "$(dirname "$fjord_dest")"
  cat >"$fjord_dest.fjord-new"
  if [ -f "$fjord_dest" ] && cmp -s "$fjord_dest.fjord-new" "$fjord_dest"; then
    rm -f "$fjord_dest.fjord-new"
    return 0
  fi
  chmod "$2" "$fjord_dest.fjord-new"
  mv -f "$fjord_dest.fjord-new" "$fjord_dest"
  FJORD_CHANGED=1
  echo "fjord: node $FJORD_NODE: $FJORD_STEP: wrote $1"
}
fjord_claims() { echo "$FJORD_ROOT/var/lib/fjord/claims/$1"; }
fjord_claim() {
  mkdir -p "$(dirname "$(fjord_claims "$1")")"
  fjord_n=$(cat "$(fjord_claims "$1")" 2>/dev/null || echo 0)
  echo $((fjord_n + 1)) >"$(fjord_claims "$1")"
}
fjord_release() {
  fjord_n=$(cat "$(fjord_claims "$1")" 2>/dev/null || echo 1)
  fjord_n=$((fjord_n - 1))
  if [ "$fjord_n" -gt 0 ]; then echo "$fjord_n" >"$(fjord_claims "$1")"; return 1; fi
  rm -f "$(fjord_claims "$1")"
}
`;

/**
 * Wraps a step body into a complete script. The body runs in a subshell with `set -eu` and its
 * stderr captured, so a failure anywhere is reported with the node, the step and the hint first.
 * `$FJORD_ACTION` tells the body whether it is creating, re-running or deleting.
 */
export function renderStep(ctx: StepContext, body: string): string {
  return `#!/bin/bash
# fjord ${ctx.step} for node ${ctx.node}; generated, do not edit.
set -eu
umask 077
export LC_ALL=C
FJORD_ACTION="\${1:-create}"
FJORD_NODE=${shq(ctx.node)}
FJORD_REGION=${shq(ctx.region)}
FJORD_STEP=${shq(ctx.step)}
FJORD_ROOT=${shq(ctx.root.replace(/\/+$/, ""))}
FJORD_LIVE=${ctx.live ? 1 : 0}
FJORD_CHANGED=0
export FJORD_ACTION FJORD_NODE FJORD_REGION FJORD_STEP FJORD_ROOT FJORD_LIVE
fjord_hint=${shq(ctx.hint)}
${HELPERS.trim()}
fjord_main() {
${body.trimEnd()}
}
fjord_err=$(mktemp)
set +e
( set -eu; fjord_main ) 2>"$fjord_err" </dev/null
fjord_rc=$?
set -e
if [ "$fjord_rc" -ne 0 ]; then
  fjord_last=$(grep -v '^[[:space:]]*$' "$fjord_err" | tail -n 1 || true)
  printf 'fjord: node %s: %s failed: %s (exit %s)\\n' "$FJORD_NODE" "$FJORD_STEP" "\${fjord_last:-no error output}" "$fjord_rc" >&2
  cat "$fjord_err" >&2
  printf 'hint: %s\\n' "$fjord_hint" >&2
  rm -f "$fjord_err"
  exit "$fjord_rc"
fi
cat "$fjord_err" >&2
rm -f "$fjord_err"
`;
}

function quotedHeredoc(content: string): string {
  const text = content.endsWith("\n") ? content : `${content}\n`;
  if (text.split("\n").includes("FJORD_EOF")) throw new Error("heredoc content contains FJORD_EOF");
  return `<<'FJORD_EOF'\n${text}FJORD_EOF`;
}

/** `cat` of `content` into `target` (a shell word) through a quoted heredoc: no expansion. */
export function heredoc(target: string, content: string): string {
  return `cat >${target} ${quotedHeredoc(content)}`;
}

/** Writes `content` to `path` (under the root) with `mode`, touching it only when it changed. */
export function writeFile(path: string, mode: string, content: string): string {
  return `fjord_write ${shq(path)} ${mode} ${quotedHeredoc(content)}`;
}
