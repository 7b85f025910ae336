/**
 * A memory-limited "container" for the database benches: a child memory cgroup of our own, the
 * same kernel mechanism `docker run --memory` sets up, without needing a daemon or an image. The
 * server joins it through a tiny shell wrapper before dropping privileges, so the postmaster or
 * mariadbd and everything they fork are charged to it, page cache included.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "fs";
import * as path from "path";

export interface MemCgroup {
  version: 1 | 2;
  dir: string;
  limitBytes: number;
  /** argv prefix for startProcess/launchers: joins this cgroup, then execs the rest. */
  wrap: string[];
  /** Highest usage seen since creation (v1 max_usage_in_bytes, v2 memory.peak), page cache included. */
  peakBytes(): number;
  /**
   * Highest anonymous + shared memory seen (sampled every 250 ms): what the kernel cannot reclaim
   * without swap, so what decides an OOM kill. Page cache fills any limit and is reclaimed.
   */
  peakUnreclaimableBytes(): number;
  /** Processes the kernel OOM-killed inside this cgroup. */
  oomKills(): number;
  /**
   * CPU time used by the processes in it, in ms (NaN where there is no CPU accounting). Unlike
   * throughput, CPU per transaction hardly moves when other work shares the machine.
   */
  cpuMs(): number;
  /** Removes the cgroup; its processes must be gone. */
  remove(): void;
}

function ownPath(controller: "memory" | "cpuacct" | ""): string | undefined {
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const [, ctrls, p] = line.split(":");
    if (ctrls === undefined || p === undefined) continue;
    if (controller === "" ? line.startsWith("0::") : ctrls.split(",").includes(controller))
      return p;
  }
  return undefined;
}

const read = (f: string) => readFileSync(f, "utf8").trim();

function counter(file: string, key: string): number {
  if (!existsSync(file)) return 0;
  const line = read(file)
    .split("\n")
    .find((l) => l.startsWith(`${key} `));
  return Number(line?.split(" ")[1] ?? 0);
}

/** Samples `read()` until stopped and keeps the maximum. */
function sampler(read: () => number): { max(): number; stop(): void } {
  let max = 0;
  const tick = () => {
    try {
      max = Math.max(max, read());
    } catch {
      // the cgroup is being removed
    }
  };
  tick();
  const t = setInterval(tick, 250);
  t.unref();
  return { max: () => (tick(), max), stop: () => clearInterval(t) };
}

const statSum = (dir: string, keys: string[]) => () =>
  keys.reduce((a, k) => a + counter(path.join(dir, "memory.stat"), k), 0);

/**
 * Creates `<own cgroup>/<name>` with a hard memory limit and swap disabled. Needs root and a
 * writable cgroup filesystem (v1 memory controller, or v2 with the memory controller delegated).
 */
export function createMemCgroup(name: string, limitBytes: number): MemCgroup {
  const v1root = "/sys/fs/cgroup/memory";
  const join = 'echo $$ > "$0/cgroup.procs" && exec "$@"';
  if (existsSync(path.join(v1root, "memory.limit_in_bytes"))) {
    const dir = path.join(v1root, ownPath("memory") ?? "/", name);
    mkdirSync(dir, { recursive: true });
    // v1 keeps CPU accounting in a separate hierarchy; join a twin group there too when it exists.
    const acctRoot = "/sys/fs/cgroup/cpuacct";
    const acct = existsSync(path.join(acctRoot, "cpuacct.usage"))
      ? path.join(acctRoot, ownPath("cpuacct") ?? "/", name)
      : undefined;
    if (acct) mkdirSync(acct, { recursive: true });
    writeFileSync(path.join(dir, "memory.limit_in_bytes"), String(limitBytes));
    // With memsw, the limit also covers swap, as docker --memory without --memory-swap does.
    const memsw = path.join(dir, "memory.memsw.limit_in_bytes");
    if (existsSync(memsw)) writeFileSync(memsw, String(limitBytes));
    const anon = sampler(statSum(dir, ["rss", "shmem"]));
    const join2 =
      'echo $$ > "$0/cgroup.procs" && echo $$ > "$1/cgroup.procs" && shift && exec "$@"';
    return {
      version: 1,
      dir,
      limitBytes,
      wrap: acct ? ["sh", "-c", join2, dir, acct] : ["sh", "-c", join, dir],
      peakBytes: () => Number(read(path.join(dir, "memory.max_usage_in_bytes"))),
      peakUnreclaimableBytes: anon.max,
      oomKills: () => counter(path.join(dir, "memory.oom_control"), "oom_kill"),
      cpuMs: () => (acct ? Number(read(path.join(acct, "cpuacct.usage"))) / 1e6 : NaN),
      remove: () => {
        anon.stop();
        rmdirSync(dir);
        if (acct) rmdirSync(acct);
      },
    };
  }
  const v2root = "/sys/fs/cgroup";
  if (!existsSync(path.join(v2root, "cgroup.controllers")))
    throw new Error("no writable cgroup memory controller (neither v1 memory nor cgroup v2)");
  const parent = path.join(v2root, ownPath("") ?? "/");
  const sub = path.join(parent, "cgroup.subtree_control");
  if (!read(sub).split(" ").includes("memory")) writeFileSync(sub, "+memory");
  const dir = path.join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "memory.max"), String(limitBytes));
  if (existsSync(path.join(dir, "memory.swap.max")))
    writeFileSync(path.join(dir, "memory.swap.max"), "0");
  const anon = sampler(statSum(dir, ["anon", "shmem"]));
  return {
    version: 2,
    dir,
    limitBytes,
    wrap: ["sh", "-c", join, dir],
    peakBytes: () =>
      existsSync(path.join(dir, "memory.peak")) ? Number(read(path.join(dir, "memory.peak"))) : NaN,
    oomKills: () => counter(path.join(dir, "memory.events"), "oom_kill"),
    peakUnreclaimableBytes: anon.max,
    cpuMs: () => counter(path.join(dir, "cpu.stat"), "usage_usec") / 1000,
    remove: () => {
      anon.stop();
      rmdirSync(dir);
    },
  };
}

/** Removes a cgroup once the processes in it have exited (the kernel needs a moment). */
export async function removeWhenEmpty(cg: MemCgroup): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      cg.remove();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
