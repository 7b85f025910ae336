/**
 * Host facts: a read-only script that prints one JSON line, its parser, and the preconditions a
 * node must meet before fjord changes anything on it.
 */
import type { Node } from "../config";
import { tryParseMemory } from "../config/units";

export interface DiskFacts {
  /** Kernel block device name, e.g. nvme0n1, vda, sda. */
  name: string;
  nvme: boolean;
  rotational: boolean;
  sizeBytes: number;
}

/** What a node really is, as measured over SSH. */
export interface NodeFacts {
  /** As `systemd-detect-virt` reports it: kvm, none, docker, openvz, lxc, ... */
  virtualization: string;
  kernel: string;
  vcpus: number;
  memoryBytes: number;
  swapBytes: number;
  disks: DiskFacts[];
  hasNvme: boolean;
  /** CPU time stolen by the hypervisor over the sampling window, in percent. */
  stealPercent: number;
  stealSampleSeconds: number;
}

/** Body of the facts step. Reads only; the one JSON line goes to stdout. */
export function renderFactsBody(sampleSeconds: number): string {
  return String.raw`
json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
virt=$(systemd-detect-virt 2>/dev/null || true)
if [ -z "$virt" ]; then
  # Without systemd-detect-virt, recognise the two container hypervisors that matter here.
  if [ -d /proc/vz ] && [ ! -d /proc/bc ]; then virt=openvz
  elif tr '\0' '\n' </proc/1/environ 2>/dev/null | grep -q '^container=lxc'; then virt=lxc
  else virt=unknown; fi
fi
disks=""
for d in /sys/block/*; do
  [ -e "$d" ] || continue
  n=${"$"}{d##*/}
  case "$n" in loop*|ram*|zram*|sr*|fd*|dm-*|md*|nbd*) continue ;; esac
  rot=$(cat "$d/queue/rotational" 2>/dev/null || echo 1)
  sectors=$(cat "$d/size" 2>/dev/null || echo 0)
  disks="$disks${"$"}{disks:+,}{\"name\":$(json_str "$n"),\"rotational\":$rot,\"sectors\":$sectors}"
done
stat1=$(grep '^cpu ' /proc/stat)
sleep ${sampleSeconds}
stat2=$(grep '^cpu ' /proc/stat)
mem=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
swap=$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)
cpus=$(nproc 2>/dev/null || grep -c '^processor' /proc/cpuinfo)
printf '{"virtualization":%s,"kernel":%s,"vcpus":%s,"memTotalKb":%s,"swapTotalKb":%s,"disks":[%s],"stat1":%s,"stat2":%s,"sampleSeconds":%s}\n' \
  "$(json_str "$virt")" "$(json_str "$(uname -r)")" "$cpus" "${"$"}{mem:-0}" "${"$"}{swap:-0}" "$disks" \
  "$(json_str "$stat1")" "$(json_str "$stat2")" ${sampleSeconds}
`;
}

interface RawFacts {
  virtualization: string;
  kernel: string;
  vcpus: number;
  memTotalKb: number;
  swapTotalKb: number;
  disks: { name: string; rotational: number; sectors: number }[];
  stat1: string;
  stat2: string;
  sampleSeconds: number;
}

/** Percent of CPU time stolen between two `cpu ` lines of /proc/stat. */
export function stealPercent(stat1: string, stat2: string): number {
  const fields = (line: string) => line.trim().split(/\s+/).slice(1, 9).map(Number); // user..steal; guest is already in user
  const a = fields(stat1);
  const b = fields(stat2);
  if (a.length < 8 || b.length < 8 || [...a, ...b].some((n) => !Number.isFinite(n))) {
    throw new Error(
      `not a /proc/stat cpu line: ${JSON.stringify(stat1)} / ${JSON.stringify(stat2)}`,
    );
  }
  const total = b.reduce((s, v) => s + v, 0) - a.reduce((s, v) => s + v, 0);
  if (total <= 0) return 0;
  return Math.round(((b[7] - a[7]) / total) * 10000) / 100;
}

/** Parses the facts script's stdout; the error names the node and shows what came back. */
export function parseFacts(node: string, stdout: string): NodeFacts {
  const line = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .pop();
  const fail = (why: string): never => {
    throw new Error(
      `fjord: node ${node}: facts failed: ${why}; got: ${JSON.stringify(stdout.slice(0, 300))}\n` +
        "hint: the facts script needs bash, awk and /proc and /sys mounted; run it by hand on the node to see why",
    );
  };
  if (!line) return fail("the facts script printed no JSON");
  let raw: RawFacts;
  try {
    raw = JSON.parse(line) as RawFacts;
  } catch (e) {
    return fail(`invalid JSON (${(e as Error).message})`);
  }
  const num = (v: unknown, what: string): number =>
    typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : fail(`${what} is not a number`);
  if (typeof raw.virtualization !== "string" || !raw.virtualization)
    fail("virtualization is missing");
  if (!Array.isArray(raw.disks)) fail("disks is missing");
  const disks: DiskFacts[] = raw.disks.map((d) => ({
    name: String(d.name),
    nvme: /^nvme\d+n\d+$/.test(String(d.name)),
    rotational: d.rotational === 1,
    sizeBytes: num(d.sectors, `size of disk ${d.name}`) * 512,
  }));
  let steal: number;
  try {
    steal = stealPercent(String(raw.stat1), String(raw.stat2));
  } catch (e) {
    return fail((e as Error).message);
  }
  return {
    virtualization: raw.virtualization,
    kernel: String(raw.kernel ?? ""),
    vcpus: num(raw.vcpus, "vcpus"),
    memoryBytes: num(raw.memTotalKb, "memTotalKb") * 1024,
    swapBytes: num(raw.swapTotalKb ?? 0, "swapTotalKb") * 1024,
    disks,
    hasNvme: disks.some((d) => d.nvme),
    stealPercent: steal,
    stealSampleSeconds: num(raw.sampleSeconds, "sampleSeconds"),
  };
}

export interface PreconditionOptions {
  /** @default 2 */
  maxStealPercent?: number;
}

export interface PreconditionResult {
  /** Each one stops the node before anything on it is changed. */
  errors: string[];
  warnings: string[];
}

/**
 * Compares measured facts with what the spec declares. Errors are for nodes that cannot run k3s
 * as declared; everything that merely costs performance is a warning.
 */
export function checkPreconditions(
  node: Pick<Node, "name" | "class" | "allowNonKvm">,
  facts: NodeFacts,
  opts: PreconditionOptions = {},
): PreconditionResult {
  const maxSteal = opts.maxStealPercent ?? 2;
  const errors: string[] = [];
  const warnings: string[] = [];
  const prefix = `fjord: node ${node.name}: preconditions`;
  const virt = facts.virtualization;
  if (virt !== "kvm") {
    if (!node.allowNonKvm) {
      errors.push(
        `${prefix} failed: virtualization is "${virt}", not kvm. k3s needs its own kernel ` +
          "(cgroups, netfilter, overlayfs), which OpenVZ/LXC containers do not give.\n" +
          `hint: move ${node.name} to a KVM VPS, or set allowNonKvm: true on this node in fjord:nodes ` +
          "if you accept an unsupported host; then run pulumi up again",
      );
    } else {
      warnings.push(`${prefix}: virtualization is "${virt}", not kvm (allowed by allowNonKvm)`);
    }
  }
  const diskList =
    facts.disks
      .map((d) => `${d.name} (${d.rotational ? "rotational" : "non-rotational"})`)
      .join(", ") || "none";
  if (node.class.disk === "nvme" && !facts.hasNvme) {
    errors.push(
      `${prefix} failed: class.disk is nvme but the node has no NVMe disk (disks: ${diskList}).\n` +
        `hint: set class.disk to "ssd" (or "hdd") for ${node.name} so databases are sized for it, or move ` +
        "the node to an NVMe plan; some providers expose NVMe storage as virtio (vda): declare ssd there",
    );
  }
  if (
    node.class.disk === "ssd" &&
    facts.disks.length > 0 &&
    facts.disks.every((d) => d.rotational)
  ) {
    warnings.push(
      `${prefix}: class.disk is ssd but every disk reports rotational (disks: ${diskList})`,
    );
  }
  if (facts.stealPercent > maxSteal) {
    warnings.push(
      `${prefix}: CPU steal is ${facts.stealPercent}% over ${facts.stealSampleSeconds}s (limit ${maxSteal}%): ` +
        "the hypervisor is oversubscribed and latency budgets will suffer; consider another plan or provider",
    );
  }
  if (facts.vcpus < node.class.vcpu) {
    warnings.push(`${prefix}: ${facts.vcpus} vCPUs, but class.vcpu declares ${node.class.vcpu}`);
  }
  const declared = tryParseMemory(node.class.memory);
  // The kernel keeps a few percent for itself, so MemTotal is always below the plan's nominal size.
  if (declared && facts.memoryBytes < declared * 0.9) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(1);
    warnings.push(
      `${prefix}: ${gib(facts.memoryBytes)} GiB memory, but class.memory declares ${node.class.memory}`,
    );
  }
  return { errors, warnings };
}

/** The facts step's outcome: the facts when they could be read, and every failed precondition. */
export interface FactsVerdict extends PreconditionResult {
  facts?: NodeFacts;
}

/**
 * Reads the facts step's stdout and checks it. Facts that cannot be read are one more failed
 * precondition (naming the node and what came back), not an exception: the caller fails its
 * preconditions step with the errors, which stops the update cleanly.
 */
export function judgeFacts(
  node: Pick<Node, "name" | "class" | "allowNonKvm">,
  stdout: string,
  opts: PreconditionOptions = {},
): FactsVerdict {
  let facts: NodeFacts;
  try {
    facts = parseFacts(node.name, stdout);
  } catch (e) {
    return { errors: [(e as Error).message], warnings: [] };
  }
  return { facts, ...checkPreconditions(node, facts, opts) };
}
