/**
 * k3s on a node: its config file, install (downloaded or air-gapped), readiness, removal, the
 * drain run on a server before a node goes away, and reading back the admin kubeconfig.
 */
import { isIP } from "net";
import { shq, writeFile } from "./shell";

export const K3S_CONFIG_PATH = "/etc/rancher/k3s/config.yaml";
export const K3S_TOKEN_PATH = "/etc/rancher/k3s/fjord-token";
export const K3S_KUBECONFIG_PATH = "/etc/rancher/k3s/k3s.yaml";
export const K3S_INSTALLER_PATH = "/usr/local/lib/fjord/k3s-install.sh";
export const K3S_BINARY_PATH = "/usr/local/bin/k3s";
export const K3S_IMAGES_DIR = "/var/lib/rancher/k3s/agent/images";
/** Where air-gap files are uploaded (as the SSH user) before being installed as root. */
export const AIRGAP_STAGING_DIR = "/var/tmp/fjord-airgap";

export interface AirgapFiles {
  /** Local path of the k3s binary for the node's architecture. */
  k3sBinary: string;
  /** Local path of k3s-airgap-images-<arch>.tar(.zst|.gz). */
  imagesTarball: string;
  /** Local path of the k3s install.sh matching the binary. */
  installScript: string;
}

export interface K3sConfigOptions {
  node: string;
  role: "server" | "agent";
  host: string;
  region: string;
  gateway: boolean;
  /** https://<first server>:6443; absent only on the first server. */
  serverUrl?: string;
  /** Start embedded etcd (the first server), so servers can be added later. */
  clusterInit: boolean;
  /** @default "vxlan" */
  flannelBackend?: "vxlan" | "wireguard-native";
  /** Packaged components to skip: fjord ships its own gateway. @default ["traefik"] */
  disable?: string[];
}

/** The k3s config file (YAML; every string JSON-quoted, which YAML reads verbatim). */
export function renderK3sConfig(o: K3sConfigOptions): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    `# Managed by fjord for node ${o.node}; overwritten on every pulumi up.`,
    `node-name: ${q(o.node)}`,
    // The token lives in its own 0600 file so it never appears in a command line or unit file.
    `token-file: ${q(K3S_TOKEN_PATH)}`,
    "node-label:",
    `  - ${q(`topology.kubernetes.io/region=${o.region}`)}`,
    `  - ${q(`fjord.io/gateway=${o.gateway}`)}`,
    "protect-kernel-defaults: true",
  ];
  if (isIP(o.host)) lines.push(`node-ip: ${q(o.host)}`);
  if (o.serverUrl) lines.push(`server: ${q(o.serverUrl)}`);
  if (o.role === "server") {
    if (o.clusterInit) lines.push("cluster-init: true");
    lines.push(
      'write-kubeconfig-mode: "0600"',
      "secrets-encryption: true",
      `tls-san:\n  - ${q(o.host)}`,
      `flannel-backend: ${q(o.flannelBackend ?? "vxlan")}`,
    );
    const disable = o.disable ?? ["traefik"];
    if (disable.length > 0) lines.push("disable:", ...disable.map((d) => `  - ${q(d)}`));
  }
  return `${lines.join("\n")}\n`;
}

export interface K3sInstallOptions {
  role: "server" | "agent";
  /** Pinned release, e.g. v1.31.4+k3s1. */
  version: string;
  config: string;
  /** Cluster join token (secret: the script goes to the node on stdin only). */
  token: string;
  /** Names of the uploaded files in the staging dir; absent means download from get.k3s.io. */
  airgap?: { stagingDir: string; imagesFile: string };
  /** @default 300 */
  readyTimeoutSeconds?: number;
}

/** A k3s release tag such as v1.31.4+k3s1: the install script and the download URL need one. */
export const isK3sRelease = (version: string): boolean => /^v\d+\.\d+\.\d+\+k3s\d+$/.test(version);

/**
 * Body of the k3s step. create/update converge on the pinned version and config; a no-op run
 * (same version, same files, service active) restarts nothing. delete uninstalls, unless a newer
 * copy of this resource already claimed the node (a replacement, e.g. after a key rotation).
 */
export function renderK3sBody(o: K3sInstallOptions): string {
  if (!isK3sRelease(o.version)) throw new Error(`not a k3s release: ${o.version}`);
  const svc = o.role === "server" ? "k3s" : "k3s-agent";
  const uninstall = `/usr/local/bin/${o.role === "server" ? "k3s-uninstall.sh" : "k3s-agent-uninstall.sh"}`;
  const timeout = o.readyTimeoutSeconds ?? 300;
  const env = [
    `INSTALL_K3S_VERSION=${o.version}`,
    `INSTALL_K3S_EXEC=${o.role}`,
    ...(o.airgap ? ["INSTALL_K3S_SKIP_DOWNLOAD=true"] : []),
  ].join(" ");
  const images = o.airgap ? `${K3S_IMAGES_DIR}/${o.airgap.imagesFile}` : "";
  const place = o.airgap
    ? String.raw`stage=${shq(o.airgap.stagingDir)}
for f in k3s ${shq(o.airgap.imagesFile)} install.sh; do
  [ -f "$stage/$f" ] || fjord_die "air-gap file $stage/$f is missing; the upload step did not finish"
done
place() { if ! cmp -s "$1" "$FJORD_ROOT$2"; then install -D -m "$3" "$1" "$FJORD_ROOT$2"; FJORD_CHANGED=1; fi; }
place "$stage/k3s" ${K3S_BINARY_PATH} 0755
place "$stage/"${shq(o.airgap.imagesFile)} ${shq(images)} 0644
place "$stage/install.sh" ${K3S_INSTALLER_PATH} 0755`
    : String.raw`if [ ! -s "$FJORD_ROOT${K3S_INSTALLER_PATH}" ]; then
  mkdir -p "$(dirname "$FJORD_ROOT${K3S_INSTALLER_PATH}")"
  curl -sfL https://get.k3s.io -o "$FJORD_ROOT${K3S_INSTALLER_PATH}.new" || fjord_die "could not download https://get.k3s.io; for hosts without internet use cluster.airgap"
  chmod 0755 "$FJORD_ROOT${K3S_INSTALLER_PATH}.new"
  mv -f "$FJORD_ROOT${K3S_INSTALLER_PATH}.new" "$FJORD_ROOT${K3S_INSTALLER_PATH}"
fi`;
  const ready =
    o.role === "server"
      ? `k3s kubectl get --raw=/readyz >/dev/null 2>&1`
      : `systemctl is-active -q ${svc}`;
  return String.raw`if [ "$FJORD_ACTION" = delete ]; then
  if ! fjord_release k3s; then
    echo "fjord: node $FJORD_NODE: k3s is claimed by a newer deployment of this node; not uninstalling"
    exit 0
  fi
  if fjord_live && [ -x "$FJORD_ROOT${uninstall}" ]; then "$FJORD_ROOT${uninstall}"; fi
  rm -f "$FJORD_ROOT${K3S_TOKEN_PATH}" "$FJORD_ROOT${K3S_CONFIG_PATH}" "$FJORD_ROOT${K3S_INSTALLER_PATH}"
  if ! fjord_live; then rm -f "$FJORD_ROOT${K3S_BINARY_PATH}"${images ? ` "$FJORD_ROOT"${shq(images)}` : ""}; fi
  echo "fjord: node $FJORD_NODE: k3s removed"
  exit 0
fi
${writeFile(K3S_TOKEN_PATH, "0600", o.token)}
${writeFile(K3S_CONFIG_PATH, "0600", o.config)}
${place}
cmd=${shq(env)}
if [ -n "$FJORD_ROOT" ]; then
  # Image building: the installer writes its binaries and units under the root too, and starts nothing.
  cmd="$cmd INSTALL_K3S_BIN_DIR=$FJORD_ROOT/usr/local/bin INSTALL_K3S_SYSTEMD_DIR=$FJORD_ROOT/etc/systemd/system"
fi
if ! fjord_live; then cmd="$cmd INSTALL_K3S_SKIP_ENABLE=true INSTALL_K3S_SKIP_START=true"; fi
cmd="$cmd sh $FJORD_ROOT${K3S_INSTALLER_PATH}"
if fjord_live; then
  current=$(k3s --version 2>/dev/null | awk 'NR == 1 {print $3}' || true)
  if [ "$current" = ${shq(o.version)} ] && [ "$FJORD_CHANGED" = 0 ] && systemctl is-active -q ${svc} 2>/dev/null; then
    echo "fjord: node $FJORD_NODE: k3s ${o.version} already running with this config"
  else
    env $cmd
  fi
  waited=0
  until ${ready}; do
    [ "$waited" -lt ${timeout} ] || fjord_die "k3s (${svc}) not ready after ${timeout}s; see journalctl -u ${svc}"
    sleep 5; waited=$((waited + 5))
  done
  state=ready
else
  # The k3s on PATH and its service belong to the host, not to the image, so they cannot tell
  # whether the image is current; and nothing in the image runs yet, so there is nothing to wait for.
  env $cmd
  state="installed under $FJORD_ROOT, not started"
fi
if [ "$FJORD_ACTION" = create ]; then fjord_claim k3s; fi
echo "fjord: node $FJORD_NODE: k3s ${o.version} ${o.role} $state"`;
}

export interface DrainOptions {
  /** The node to drain and delete from the cluster. */
  target: string;
  /** @default 300 */
  timeoutSeconds?: number;
}

/**
 * Body of the drain step, which runs on a server. It does nothing until deleted; then it drains
 * the target and deletes its Node object, so pods move before k3s is uninstalled on the target.
 */
export function renderDrainBody(o: DrainOptions): string {
  const t = o.timeoutSeconds ?? 300;
  const n = shq(o.target);
  return String.raw`n=${n}
if [ "$FJORD_ACTION" != delete ]; then
  if [ "$FJORD_ACTION" = create ]; then fjord_claim "drain-$n"; fi
  echo "fjord: node $FJORD_NODE: will drain $n before it is removed"
  exit 0
fi
if ! fjord_release "drain-$n"; then echo "fjord: drain of $n is claimed by a newer deployment; skipped"; exit 0; fi
if ! command -v k3s >/dev/null 2>&1 || ! k3s kubectl get --raw=/readyz >/dev/null 2>&1; then
  fjord_warn "the Kubernetes API does not answer here; $n is removed without a drain"
  exit 0
fi
if ! k3s kubectl get node "$n" >/dev/null 2>&1; then echo "fjord: $n is not in the cluster"; exit 0; fi
others=$(k3s kubectl get nodes --no-headers | awk -v n="$n" '$1 != n' | wc -l)
if [ "$others" -gt 0 ]; then
  k3s kubectl drain "$n" --ignore-daemonsets --delete-emptydir-data --timeout=${t}s ||
    fjord_die "could not drain $n within ${t}s: a PodDisruptionBudget blocks eviction or no other node has room"
else
  echo "fjord: $n is the last node; nothing to drain to"
fi
k3s kubectl delete node "$n" --ignore-not-found --wait=true`;
}

/**
 * Body of the kubeconfig read: waits for k3s to write it, then prints it (stdout is secret). An
 * image's k3s never started, so there is none to read and the output stays empty.
 */
export function renderKubeconfigBody(o: { timeoutSeconds?: number } = {}): string {
  const t = o.timeoutSeconds ?? 120;
  return String.raw`if ! fjord_live; then
  echo "fjord: node $FJORD_NODE: k3s is not running under $FJORD_ROOT; no kubeconfig" >&2
  exit 0
fi
f="$FJORD_ROOT${K3S_KUBECONFIG_PATH}"
waited=0
until [ -s "$f" ]; do
  [ "$waited" -lt ${t} ] || fjord_die "k3s did not write ${K3S_KUBECONFIG_PATH} within ${t}s"
  sleep 2; waited=$((waited + 2))
done
cat "$f"`;
}

/** Points a k3s kubeconfig (server: https://127.0.0.1:6443) at the server's public address. */
export function rewriteKubeconfig(kubeconfig: string, host: string): string {
  const addr = isIP(host) === 6 ? `[${host}]` : host;
  return kubeconfig.replace(
    /(server:\s*)https:\/\/(127\.0\.0\.1|localhost|\[::1\]):6443/g,
    `$1https://${addr}:6443`,
  );
}
