/**
 * Host firewall (nftables). fjord owns one table, `inet fjord`, and replaces only that table, so
 * the tables k3s (kube-proxy, flannel, the network policy controller) adds are never flushed.
 */
import { isIP } from "net";
import { heredoc } from "./shell";

export const NFTABLES_PATH = "/etc/nftables.conf";

export interface FirewallOptions {
  /** Node name, for the header comment. */
  node: string;
  role: "server" | "agent";
  sshPort: number;
  /**
   * CIDRs allowed to reach SSH and the Kubernetes API. Empty means anywhere: that avoids locking
   * the deployer out, at the price of an SSH port open to the internet.
   */
  adminCidrs: string[];
  /** Gateway nodes accept HTTP and HTTPS from anywhere (and UDP 443 when `http3`). */
  gateway: boolean;
  /**
   * The gateway serves HTTP/3 (fjord:gateway.http3, resolved from its kind). No default: UDP 443
   * is opened only when the gateway listens on it, so the caller must say which.
   */
  http3: boolean;
  /** Addresses of the other cluster nodes. */
  peers: string[];
  /** Addresses of the other server nodes (etcd peers). */
  serverPeers: string[];
  /** Open WireGuard ports for flannel's wireguard-native backend. @default false */
  wireguard?: boolean;
  /** @default "10.42.0.0/16" (k3s default) */
  podCidr?: string;
  /** @default "10.43.0.0/16" (k3s default) */
  serviceCidr?: string;
}

function splitFamilies(addrs: string[], what: string): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of addrs) {
    const ip = a.split("/")[0];
    const fam = isIP(ip);
    if (fam === 0) {
      throw new Error(
        `fjord: firewall: ${what} ${JSON.stringify(a)} is not an IP address or CIDR; the host firewall ` +
          "admits peers by address: use the node's IP as its host",
      );
    }
    (fam === 4 ? v4 : v6).push(a);
  }
  return { v4: [...new Set(v4)].sort(), v6: [...new Set(v6)].sort() };
}

function set(name: string, type: "ipv4_addr" | "ipv6_addr", elements: string[]): string {
  const els = elements.length > 0 ? ` elements = { ${elements.join(", ")} }` : "";
  return `  set ${name} { type ${type}; flags interval;${els} }`;
}

/** The complete ruleset file; `nft -f` loads it in one transaction. */
export function renderNftables(o: FirewallOptions): string {
  const admin = splitFamilies(o.adminCidrs, "admin CIDR");
  const peers = splitFamilies(o.peers, "peer");
  const servers = splitFamilies(o.serverPeers, "server peer");
  const podCidr = o.podCidr ?? "10.42.0.0/16";
  const serviceCidr = o.serviceCidr ?? "10.43.0.0/16";
  const pods = splitFamilies([podCidr, serviceCidr], "cluster CIDR");
  const anyAdmin = o.adminCidrs.length === 0;
  const k3sTcp = o.role === "server" ? "6443, 9100, 10250" : "9100, 10250";
  const fromBoth = (setBase: string, rule: string) => [
    `    ip saddr @${setBase}4 ${rule}`,
    `    ip6 saddr @${setBase}6 ${rule}`,
  ];

  const rules: string[] = [
    "    ct state established,related accept",
    "    ct state invalid drop",
    '    iifname "lo" accept',
    "    meta l4proto icmp accept",
    "    meta l4proto ipv6-icmp accept",
    `    # SSH and the Kubernetes API: admin CIDRs and the deployer's address of the last run.`,
    ...fromBoth("deployer", `tcp dport ${o.sshPort} accept`),
  ];
  if (anyAdmin) {
    rules.push(
      "    # No admin CIDRs configured: SSH is open to anyone (set fjord:ssh.adminCidrs to close it).",
      `    tcp dport ${o.sshPort} accept`,
    );
    if (o.role === "server") rules.push("    tcp dport 6443 accept");
  } else {
    rules.push(...fromBoth("admin", `tcp dport ${o.sshPort} accept`));
    if (o.role === "server") {
      rules.push(
        ...fromBoth("admin", "tcp dport 6443 accept"),
        ...fromBoth("deployer", "tcp dport 6443 accept"),
      );
    }
  }
  if (o.gateway) {
    rules.push("    # Gateway: public HTTP and HTTPS.", "    tcp dport { 80, 443 } accept");
    if (o.http3)
      rules.push(
        "    # HTTP/3 (QUIC): the gateway listens on UDP 443.",
        "    udp dport 443 accept",
      );
  }
  rules.push(
    "    # k3s between cluster nodes only: API, node-exporter, kubelet, flannel VXLAN.",
    ...fromBoth("peers", `tcp dport { ${k3sTcp} } accept`),
    ...fromBoth("peers", "udp dport 8472 accept"),
  );
  if (o.role === "server") {
    rules.push(
      "    # etcd between servers only.",
      ...fromBoth("servers", "tcp dport 2379-2380 accept"),
    );
  }
  if (o.wireguard) {
    rules.push(
      "    # flannel wireguard-native.",
      ...fromBoth("peers", "udp dport { 51820, 51821 } accept"),
    );
  }
  rules.push(
    "    # Pods and services reach host-network endpoints (kubelet, API, DNS, node-exporter).",
    '    iifname { "cni0", "flannel.1", "flannel-wg", "flannel-wg-v6" } accept',
    ...pods.v4.map((c) => `    ip saddr ${c} accept`),
    ...pods.v6.map((c) => `    ip6 saddr ${c} accept`),
  );

  return [
    "#!/usr/sbin/nft -f",
    `# Managed by fjord for node ${o.node} (${o.role}${o.gateway ? ", gateway" : ""}). Inbound is`,
    "# denied unless a rule below admits it. Only table inet fjord is replaced on load.",
    "table inet fjord {}",
    "delete table inet fjord",
    "table inet fjord {",
    set("admin4", "ipv4_addr", admin.v4),
    set("admin6", "ipv6_addr", admin.v6),
    set("deployer4", "ipv4_addr", []),
    set("deployer6", "ipv6_addr", []),
    set("peers4", "ipv4_addr", peers.v4),
    set("peers6", "ipv6_addr", peers.v6),
    set("servers4", "ipv4_addr", servers.v4),
    set("servers6", "ipv6_addr", servers.v6),
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    ...rules,
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * Body of the firewall step. The deployer's address (seen by sshd for this very session) is added
 * to the ruleset so applying it cannot cut off the connection that applies it. The ruleset is
 * checked with `nft -c` before anything is loaded, then loaded atomically and persisted.
 */
export function renderFirewallBody(ruleset: string): string {
  return [
    String.raw`rules="$(mktemp)"
trap 'rm -f "$rules"' EXIT`,
    heredoc('"$rules"', ruleset),
    String.raw`dep="${"$"}{FJORD_SSH_CLIENT:-}"
if ! printf '%s' "$dep" | grep -Eq '^[0-9A-Fa-f:.]+$'; then
  fjord_warn "cannot see the deployer's address; only adminCidrs reach SSH after this"
elif [ "${"$"}{dep#*:}" != "$dep" ]; then
  echo "add element inet fjord deployer6 { $dep }" >>"$rules"
else
  echo "add element inet fjord deployer4 { $dep }" >>"$rules"
fi
if ! command -v nft >/dev/null 2>&1; then
  if fjord_live && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables >/dev/null
  else
    fjord_die "nft is not installed; install the nftables package"
  fi
fi
nft -c -f "$rules" || fjord_die "the rendered ruleset does not pass nft -c; nothing was changed"
if fjord_live; then nft -f "$rules"; fi
fjord_write ${NFTABLES_PATH} 0755 <"$rules"
if fjord_live && fjord_systemd; then systemctl enable nftables.service >/dev/null 2>&1 || fjord_warn "could not enable nftables.service; the ruleset may not survive a reboot"; fi`,
  ].join("\n");
}
