/** Quantity parsing shared by the spec (validation) and the plan (sizing maths). */

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

const MEMORY_RE = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;
const CPU_RE = /^([0-9]+(?:\.[0-9]+)?)(m)?$/;
const DURATION_RE = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 };

/** Bytes from a Kubernetes memory quantity ("512Mi", "2Gi", "1G") or a byte count; undefined if malformed. */
export function tryParseMemory(q: string | number): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) && q > 0 ? Math.floor(q) : undefined;
  const m = MEMORY_RE.exec(q.trim());
  if (!m) return undefined;
  const bytes = Math.floor(Number(m[1]) * MEMORY_UNITS[m[2] ?? ""]);
  return bytes > 0 ? bytes : undefined;
}

/** Millicores from a Kubernetes CPU quantity ("250m", "1", "1.5"); undefined if malformed. */
export function tryParseCpu(q: string | number): number | undefined {
  if (typeof q === "number") return Number.isFinite(q) && q > 0 ? Math.round(q * 1000) : undefined;
  const m = CPU_RE.exec(q.trim());
  if (!m) return undefined;
  const millis = m[2] ? Number(m[1]) : Number(m[1]) * 1000;
  return millis > 0 && Number.isInteger(Math.round(millis)) ? Math.round(millis) : undefined;
}

/** Milliseconds from a duration such as "10s", "250ms", "15d"; undefined if malformed. */
export function tryParseDuration(d: string): number | undefined {
  const m = DURATION_RE.exec(d.trim());
  return m ? Number(m[1]) * DURATION_UNITS[m[2]] : undefined;
}

function must<T>(v: T | undefined, what: string, input: unknown): T {
  if (v === undefined) throw new Error(`${JSON.stringify(input)} is not a valid ${what}`);
  return v;
}

export const parseMemory = (q: string | number): number =>
  must(tryParseMemory(q), "memory quantity", q);
export const parseCpu = (q: string | number): number => must(tryParseCpu(q), "CPU quantity", q);
export const parseDuration = (d: string): number => must(tryParseDuration(d), "duration", d);

/** The largest binary unit that represents the value exactly ("512Mi"), else plain bytes. */
export function formatMemory(bytes: number): string {
  for (const [unit, size] of [
    ["Ti", 2 ** 40],
    ["Gi", 2 ** 30],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Kubernetes CPU quantity from millicores ("250m", "2"). */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

export const MiB = 2 ** 20;
export const GiB = 2 ** 30;

/** The shortest exact duration string ("1s", "250ms", "5m"). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 8.64e7],
    ["h", 3.6e6],
    ["m", 6e4],
    ["s", 1e3],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
