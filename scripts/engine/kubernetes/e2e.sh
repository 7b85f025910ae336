#!/usr/bin/env bash
# End-to-end check of fjord's kubernetes stand-in with the real engine from `npm run setup`:
#   1. render mode: up writes the manifests (one autonamed), preview shows no changes, a ConfigMap
#      change replaces it (new autoname, old file gone) and updates the Deployment, destroy empties
#      the directory; the Secret's value is in the file but encrypted in the state;
#   2. a provider whose kubeconfig is unknown (a random.RandomString result) previews;
#   3. a known kubeconfig for a cluster that does not exist previews, and `up` fails with the
#      "only renders manifests" error instead of pretending.
# Temporary backend, passphrase and directories; leaves nothing behind. Takes 2-4 minutes.
# Usage: bash scripts/engine/kubernetes/e2e.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
# shellcheck source=/dev/null
source "$ROOT/scripts/env.sh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE="k8s-e2e" RENDER_DIR="$work/out"
unset PULUMI_CONFIG_PASSPHRASE_FILE KUBECONFIG
mkdir -p "$work/state" "$work/prog"
step() { echo "[k8s-e2e] $*"; }
fail() { echo "[k8s-e2e] FAILED: $*" >&2; exit 1; }
# q CMD...: run CMD, output without the language host's PATH warning, keeping CMD's exit status.
q() {
  local rc=0
  "$@" >"$work/q.out" 2>&1 || rc=$?
  # shellcheck disable=SC2016 # a literal $PATH in the message
  grep -vF 'pulumi-language-nodejs from $PATH' "$work/q.out" || true
  return "$rc"
}

cd "$work/prog"
ln -s "$ROOT/node_modules" node_modules
printf 'name: fjord-k8s-e2e\nruntime: nodejs\n' >Pulumi.yaml
printf '{"name":"fjord-k8s-e2e","version":"0.0.0","main":"index.ts"}\n' >package.json
cat >index.ts <<'EOF'
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
const cfg = new pulumi.Config();
const mode = cfg.get("mode") ?? "render";
const token = new random.RandomString("token", { length: 8, special: false });
const kubeconfig = (server: pulumi.Input<string>) => pulumi.interpolate`apiVersion: v1
kind: Config
current-context: c
contexts: [{name: c, context: {cluster: c, user: u}}]
clusters: [{name: c, cluster: {server: "${server}"}}]
users: [{name: u, user: {token: t}}]
`;
const provider =
  mode === "render" ? new k8s.Provider("k8s", { renderYamlToDirectory: process.env.RENDER_DIR! })
  : mode === "unknown" ? new k8s.Provider("k8s", { kubeconfig: kubeconfig(pulumi.interpolate`https://${token.result}:6443`) })
  : new k8s.Provider("k8s", { kubeconfig: kubeconfig("https://127.0.0.1:1") });
const opts = { provider };
const ns = new k8s.core.v1.Namespace("web", { metadata: { name: "web" } }, opts);
const cm = new k8s.core.v1.ConfigMap("settings", {
  metadata: { namespace: ns.metadata.name },
  data: { greeting: cfg.get("greeting") ?? "hello", "app.conf": "a = 1\nb = 2\n" },
}, opts);
const secret = new k8s.core.v1.Secret("db", {
  metadata: { name: "db", namespace: ns.metadata.name },
  stringData: { password: cfg.requireSecret("password") },
}, opts);
new k8s.apps.v1.Deployment("api", {
  metadata: { name: "api", namespace: ns.metadata.name },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "api" } },
    template: {
      metadata: { labels: { app: "api" } },
      spec: { containers: [{ name: "api", image: "nginx:1.27", envFrom: [{ configMapRef: { name: cm.metadata.name } }],
        env: [{ name: "PW", valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "password" } } }] }] },
    },
  },
}, opts);
export const configMap = cm.metadata.name;
EOF

manifests() { find "$RENDER_DIR" -type f -name '*.yaml' -printf '%P\n' 2>/dev/null | sort; }
no_changes() { q pulumi preview --expect-no-changes >"$work/preview.log" || { cat "$work/preview.log"; fail "$1"; }; }

pulumi stack init render >/dev/null 2>&1 || fail "stack init"
pulumi config set --secret password 'e2e-Pa55' >/dev/null
step "render: up"
q pulumi up --yes >"$work/up.log" || { cat "$work/up.log"; fail "render up"; }
cm1="$(pulumi stack output configMap)"
[[ "$cm1" =~ ^settings-[a-z0-9]{8}$ ]] || fail "ConfigMap not autonamed: $cm1"
want="1-manifest/apps_v1-deployment-web-api.yaml
1-manifest/v1-configmap-web-$cm1.yaml
1-manifest/v1-namespace-default-web.yaml
1-manifest/v1-secret-web-db.yaml"
[ "$(manifests)" = "$want" ] || fail "manifests after up:$(printf '\n%s' "$(manifests)")"
grep -q "name: $cm1" "$RENDER_DIR/1-manifest/apps_v1-deployment-web-api.yaml" || fail "Deployment does not reference $cm1"
grep -q 'password: e2e-Pa55' "$RENDER_DIR/1-manifest/v1-secret-web-db.yaml" || fail "Secret value not rendered"
! pulumi stack export | grep -q 'e2e-Pa55' || fail "Secret value in plain text in the state"
step "render: preview shows no changes"
no_changes "preview after up shows changes"

step "render: change the ConfigMap"
pulumi config set greeting hi >/dev/null
q pulumi up --yes >"$work/up2.log" || { cat "$work/up2.log"; fail "render update"; }
cm2="$(pulumi stack output configMap)"
[ "$cm2" != "$cm1" ] || fail "ConfigMap data change did not replace it"
grep -q 'greeting: hi' "$RENDER_DIR/1-manifest/v1-configmap-web-$cm2.yaml" || fail "new ConfigMap file"
[ ! -e "$RENDER_DIR/1-manifest/v1-configmap-web-$cm1.yaml" ] || fail "old ConfigMap file left behind"
grep -q "name: $cm2" "$RENDER_DIR/1-manifest/apps_v1-deployment-web-api.yaml" || fail "Deployment not updated"
no_changes "preview after the update shows changes"

step "render: destroy"
q pulumi destroy --yes >"$work/destroy.log" || { cat "$work/destroy.log"; fail "destroy"; }
[ -z "$(manifests)" ] || fail "files left after destroy: $(manifests)"
pulumi stack rm --yes render >/dev/null

step "unknown kubeconfig: preview"
pulumi stack init unknown >/dev/null 2>&1 && pulumi config set --secret password x >/dev/null && pulumi config set mode unknown >/dev/null
q pulumi preview >"$work/preview-unknown.log" || { cat "$work/preview-unknown.log"; fail "preview with an unknown kubeconfig"; }
grep -q '+ 7 to create' "$work/preview-unknown.log" || { cat "$work/preview-unknown.log"; fail "unexpected preview"; }
pulumi stack rm --yes unknown >/dev/null

step "live cluster: preview works, up refuses"
pulumi stack init live >/dev/null 2>&1 && pulumi config set --secret password x >/dev/null && pulumi config set mode live >/dev/null
q pulumi preview >"$work/preview-live.log" || { cat "$work/preview-live.log"; fail "preview against an absent cluster"; }
if q pulumi up --yes >"$work/up-live.log"; then fail "up against a live cluster succeeded"; fi
grep -q "only renders manifests (cluster.mode render) and previews" "$work/up-live.log" || { cat "$work/up-live.log"; fail "live up error"; }
q pulumi destroy --yes >/dev/null && pulumi stack rm --yes live >/dev/null
step "OK"
