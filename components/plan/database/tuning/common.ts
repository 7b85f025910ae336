/** Arithmetic shared by the tuners. */
import { MiB } from "../../../config/units";
import type { MemoryBudget } from "./types";

export const KiB = 2 ** 10;

export const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Rounds down to a multiple of `unit` (servers store most sizes in whole pages or MiB). */
export const floorTo = (v: number, unit: number): number => Math.floor(v / unit) * unit;

/**
 * Memory the tuners never hand out: a share of the limit, but at least a fixed amount because the
 * kernel's per-cgroup costs (page tables, socket buffers) do not shrink with small limits.
 */
export const HEADROOM_FRACTION = 0.05;
export const HEADROOM_MIN_BYTES = 16 * MiB;

export const headroomFor = (limitBytes: number): number =>
  Math.max(HEADROOM_MIN_BYTES, Math.ceil(limitBytes * HEADROOM_FRACTION));

export function budgetTotal(b: MemoryBudget): number {
  return Object.values(b.fixed).reduce((a, v) => a + v, 0) + b.perConnectionBytes * b.slots;
}

export function budgetFits(b: MemoryBudget): boolean {
  return budgetTotal(b) + b.headroomBytes <= b.limitBytes;
}

/** Tuners call this last so a constant changed later cannot silently break the memory model. */
export function assertBudgetFits(engine: string, b: MemoryBudget): void {
  if (!budgetFits(b)) {
    const mib = (n: number) => `${Math.round(n / MiB)}MiB`;
    throw new Error(
      `${engine} memory model exceeds the limit: ${mib(budgetTotal(b))} + ${mib(b.headroomBytes)} headroom > ${mib(b.limitBytes)}`,
    );
  }
}

/** Major, minor and patch of a dotted version, optionally prefixed ("mariadb-10.11"); "15" is 15.0.0. */
export function parseVersion(version: string): { major: number; minor: number; patch: number } {
  const m = /^(?:[a-z]+-)?(\d+)(?:\.(\d+))?(?:\.(\d+))?/i.exec(version.trim());
  if (!m) throw new Error(`cannot read a server version from ${JSON.stringify(version)}`);
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0) };
}

export function validateInput(engine: string, limitBytes: number, cpuMillis: number): void {
  if (!Number.isFinite(limitBytes) || limitBytes <= 0)
    throw new RangeError(
      `${engine}: memory limit must be a positive byte count, got ${limitBytes}`,
    );
  if (!Number.isFinite(cpuMillis) || cpuMillis <= 0)
    throw new RangeError(`${engine}: CPU must be a positive millicore count, got ${cpuMillis}`);
}

/** Whole cores the server may keep busy; fractional limits round to the nearest core, at least one. */
export const coresFor = (cpuMillis: number): number => Math.max(1, Math.round(cpuMillis / 1000));
