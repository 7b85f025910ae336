/**
 * Host preparation for a microservices k3s node: kernel settings, NVMe I/O scheduler, time sync
 * and swap off. Every renderer is pure; the scripts converge when run again.
 */
import { writeFile } from "./shell";

export const SYSCTL_PATH = "/etc/sysctl.d/90-fjord.conf";
export const MODULES_PATH = "/etc/modules-load.d/90-fjord.conf";
export const UDEV_NVME_PATH = "/etc/udev/rules.d/60-fjord-nvme-scheduler.rules";
export const TIMESYNC_PATH = "/etc/systemd/timesyncd.conf.d/90-fjord.conf";

/** Ports k3s and its add-ons listen on; kept out of the ephemeral range so they never collide. */
export const RESERVED_PORTS = "6443,10250,30000-32767,51820-51821";

export type SysctlValue = string | number;

/** [key, value, why] for each setting; the why is written as a comment into the file. */
const SYSCTLS: [string, SysctlValue, string][] = [
  ["net.core.somaxconn", 65535, "deep accept queues for gateways and services under bursts"],
  ["net.core.netdev_max_backlog", 16384, "absorb packet bursts before the stack drops them"],
  ["net.ipv4.tcp_max_syn_backlog", 8192, "more half-open connections during connection storms"],
  ["net.ipv4.tcp_tw_reuse", 1, "reuse TIME_WAIT sockets for outgoing service-to-service calls"],
  ["net.ipv4.tcp_fin_timeout", 15, "release closed connections sooner"],
  ["net.ipv4.ip_local_port_range", "10240 65535", "more ephemeral ports for many upstream calls"],
  ["net.ipv4.ip_local_reserved_ports", RESERVED_PORTS, "never hand out k3s and NodePort ports"],
  ["net.ipv4.tcp_keepalive_time", 300, "notice dead peers within minutes, not hours"],
  ["net.ipv4.tcp_slow_start_after_idle", 0, "keep-alive connections stay fast after a pause"],
  ["net.ipv4.ip_forward", 1, "pods are routed through the host"],
  ["net.ipv6.conf.all.forwarding", 1, "pods are routed through the host (IPv6)"],
  ["net.bridge.bridge-nf-call-iptables", 1, "kube-proxy must see bridged pod traffic"],
  ["net.bridge.bridge-nf-call-ip6tables", 1, "kube-proxy must see bridged pod traffic (IPv6)"],
  ["fs.inotify.max_user_watches", 524288, "many containers each watch their config"],
  ["fs.inotify.max_user_instances", 8192, "one inotify instance per watching process"],
  ["fs.file-max", 2097152, "sockets and files of many services"],
  ["vm.swappiness", 1, "swap is off for the kubelet; never prefer swapping if some appears"],
  ["vm.max_map_count", 262144, "databases and JVMs map many regions"],
  ["vm.overcommit_memory", 1, "kubelet --protect-kernel-defaults expects it"],
  ["kernel.panic", 10, "reboot after a panic (kubelet --protect-kernel-defaults expects it)"],
  ["kernel.panic_on_oops", 1, "kubelet --protect-kernel-defaults expects it"],
];

/** The sysctl.d file. `overrides` replace or add keys (e.g. from a benchmark). */
export function renderSysctl(overrides: Record<string, SysctlValue> = {}): string {
  const lines = ["# Managed by fjord: kernel settings for a k3s microservices node."];
  const seen = new Set<string>();
  for (const [key, value, why] of SYSCTLS) {
    seen.add(key);
    lines.push(`# ${why}`, `${key} = ${overrides[key] ?? value}`);
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (!/^[a-z0-9_.-]+$/.test(key)) throw new Error(`not a sysctl key: ${JSON.stringify(key)}`);
    if (!seen.has(key)) lines.push(`${key} = ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** NVMe has no seek time; the kernel's scheduler only adds latency, so pass requests straight on. */
export function renderUdevNvmeRule(): string {
  return [
    "# Managed by fjord: no I/O scheduler on NVMe.",
    'ACTION=="add|change", KERNEL=="nvme[0-9]*n[0-9]*", ATTR{queue/scheduler}="none"',
    "",
  ].join("\n");
}

/** NTP servers near Oslo; clock skew breaks TLS, etcd leases and log ordering. */
export const DEFAULT_NTP = ["0.no.pool.ntp.org", "1.no.pool.ntp.org", "2.no.pool.ntp.org"];

export interface PrepOptions {
  /** Write the NVMe udev rule (class.disk nvme or an NVMe disk present). */
  nvme: boolean;
  /** @default DEFAULT_NTP */
  ntpServers?: string[];
  sysctl?: Record<string, SysctlValue>;
}

/** Body of the prep step (see shell.renderStep for the environment it runs in). */
export function renderPrepBody(opts: PrepOptions): string {
  const ntp = opts.ntpServers ?? DEFAULT_NTP;
  const parts: string[] = [
    "# Kernel settings and the modules they need.",
    writeFile(SYSCTL_PATH, "0644", renderSysctl(opts.sysctl)),
    writeFile(MODULES_PATH, "0644", "overlay\nbr_netfilter\n"),
    String.raw`if fjord_live; then
  modprobe overlay 2>/dev/null || fjord_warn "could not load overlay"
  modprobe br_netfilter 2>/dev/null || fjord_warn "could not load br_netfilter; bridge-nf settings skipped"
  # -e: a key this kernel lacks is skipped instead of failing the step.
  sysctl -q -e -p "$FJORD_ROOT${SYSCTL_PATH}" >/dev/null
fi`,
  ];
  if (opts.nvme) {
    parts.push(
      "# I/O scheduler none for NVMe, now and on every boot.",
      writeFile(UDEV_NVME_PATH, "0644", renderUdevNvmeRule()),
      String.raw`if fjord_live; then
  for q in /sys/block/nvme*n*/queue/scheduler; do
    [ -w "$q" ] || continue
    grep -q '\[none\]' "$q" || echo none >"$q"
  done
fi`,
    );
  }
  parts.push(
    "# Time sync: chrony when installed, otherwise systemd-timesyncd.",
    writeFile(TIMESYNC_PATH, "0644", `[Time]\nNTP=${ntp.join(" ")}\n`),
    String.raw`if fjord_live; then
  if ! fjord_systemd; then
    fjord_warn "no systemd: time sync is not managed here"
  elif command -v chronyd >/dev/null 2>&1; then
    systemctl enable --now chrony >/dev/null 2>&1 || systemctl enable --now chronyd >/dev/null
  else
    if [ ! -e /lib/systemd/system/systemd-timesyncd.service ] && [ ! -e /usr/lib/systemd/system/systemd-timesyncd.service ]; then
      command -v apt-get >/dev/null 2>&1 || fjord_die "neither chrony nor systemd-timesyncd is installed; install one"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q systemd-timesyncd >/dev/null
    fi
    systemctl enable systemd-timesyncd >/dev/null 2>&1 || true
    if [ "$FJORD_CHANGED" = 1 ]; then systemctl restart systemd-timesyncd; else systemctl start systemd-timesyncd; fi
    timedatectl set-ntp true >/dev/null 2>&1 || true
  fi
fi`,
    "# Swap off: the kubelet's memory accounting assumes none.",
    String.raw`fstab="$FJORD_ROOT/etc/fstab"
if [ -f "$fstab" ] && grep -Eq '^[^#[:space:]][^#]*[[:space:]]swap[[:space:]]' "$fstab"; then
  cp -p "$fstab" "$fstab.fjord-bak"
  sed -i -E 's|^([^#[:space:]][^#]*[[:space:]]swap[[:space:]].*)$|# fjord: swap off for the kubelet: \1|' "$fstab"
  echo "fjord: node $FJORD_NODE: $FJORD_STEP: disabled swap in /etc/fstab"
fi
if fjord_live; then
  swapoff -a
  if fjord_systemd; then systemctl mask swap.target >/dev/null 2>&1 || true; fi
fi`,
  );
  return parts.join("\n");
}
