/**
 * Worst-case network round-trip times between regions.
 *
 * The model is a budget check, not a forecast: every number is the upper end of what a healthy
 * path between the two places takes, so a chain that fits here fits on a normal day. Three rows
 * come straight from measured ranges (Oslo↔Oslo < 2 ms, Oslo↔Frankfurt 25–35 ms, Oslo↔US East
 * 90–110 ms); the others are derived from fibre distance and the usual Nordic/European routes
 * (see "Round-trip times" in docs/latency.md for the full table and the reasoning). Stack config
 * overrides any pair with `fjord:latency.rttMs`.
 */

/** Round trip inside one region (same data centre or metro): the "< 2 ms" Oslo↔Oslo row. */
export const SAME_REGION_RTT_MS = 2;

/**
 * Used for a pair nobody has measured (a region added in stack config without an rttMs entry).
 * Deliberately pessimistic: slower than any pair in the table, so an unmeasured hop can only make
 * a check fail, never pass by accident.
 */
export const UNKNOWN_PAIR_RTT_MS = 150;

/**
 * Cross-region worst cases for the built-in catalog, keyed by the sorted pair "a/b". Regions in
 * the same city (no-osl1/no-osl2) are metro links: same-region cost.
 */
export const DEFAULT_RTT_MS: Readonly<Record<string, number>> = {
  "no-osl1/no-osl2": 2,
  "no-osl1/no-svg1": 10,
  "no-osl2/no-svg1": 10,
  "no-osl1/se-sto1": 10,
  "no-osl2/se-sto1": 10,
  "fi-hel1/no-osl1": 20,
  "fi-hel1/no-osl2": 20,
  "nl-ams1/no-osl1": 20,
  "nl-ams1/no-osl2": 20,
  "de-fra1/no-osl1": 35,
  "de-fra1/no-osl2": 35,
  "no-osl1/us-east1": 110,
  "no-osl2/us-east1": 110,
  "no-svg1/se-sto1": 18,
  "fi-hel1/no-svg1": 28,
  "nl-ams1/no-svg1": 20,
  "de-fra1/no-svg1": 35,
  "no-svg1/us-east1": 110,
  "fi-hel1/se-sto1": 10,
  "nl-ams1/se-sto1": 28,
  "de-fra1/se-sto1": 30,
  "se-sto1/us-east1": 115,
  "de-fra1/fi-hel1": 35,
  "fi-hel1/nl-ams1": 35,
  "fi-hel1/us-east1": 125,
  "de-fra1/nl-ams1": 10,
  "de-fra1/us-east1": 95,
  "nl-ams1/us-east1": 90,
};

/** Where a hop's RTT came from, so reports can flag guessed numbers. */
export type RttSource = "table" | "override" | "same-region" | "unknown-pair";

/**
 * The RTTs one analysis uses: a base table (the built-in one, or the policy pack's configured
 * one) and the stack's own overrides on top, kept apart so a report can say which numbers the
 * stack chose.
 */
export interface RttTable {
  base: Readonly<Record<string, number>>;
  overrides: Readonly<Record<string, number>>;
}

/** "a/b" with the two regions sorted, so "b/a" and "a/b" name the same link. */
export function pairKey(a: string, b: string): string {
  return a <= b ? `${a}/${b}` : `${b}/${a}`;
}

/**
 * Normalizes user-given keys (either order) onto sorted pairs. When both orders are given with
 * different values the larger wins: this is a worst-case model, and silently picking the smaller
 * would let a typo hide a slow link.
 */
export function normalizeRtt(given: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, ms] of Object.entries(given)) {
    const [a, b, extra] = key.split("/");
    if (!a || !b || extra !== undefined || typeof ms !== "number" || !Number.isFinite(ms) || ms < 0)
      continue;
    const k = pairKey(a, b);
    out[k] = Math.max(out[k] ?? 0, ms);
  }
  return out;
}

export function rttTable(
  overrides: Readonly<Record<string, number>> = {},
  base: Readonly<Record<string, number>> = DEFAULT_RTT_MS,
): RttTable {
  return { base: normalizeRtt(base), overrides: normalizeRtt(overrides) };
}

/** The worst-case RTT between two regions and where the number came from. */
export function rttBetween(
  table: RttTable,
  a: string,
  b: string,
): { ms: number; source: RttSource } {
  const k = pairKey(a, b);
  const own = table.overrides[k];
  if (own !== undefined) return { ms: own, source: "override" };
  const base = table.base[k];
  if (base !== undefined) return { ms: base, source: "table" };
  if (a === b) return { ms: SAME_REGION_RTT_MS, source: "same-region" };
  return { ms: UNKNOWN_PAIR_RTT_MS, source: "unknown-pair" };
}
