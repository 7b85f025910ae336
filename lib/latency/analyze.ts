/**
 * Worst-case synchronous latency of every gateway route, computed before anything is deployed.
 *
 * A route costs the gateway→entry round trip plus the entry service's cost; a service costs its
 * processing budget plus its most expensive call. Distinct calls of one service are taken as one
 * chain each and the deepest chain counts (the spec has no way to say two different callees are
 * awaited in turn); repeated calls to one callee are what compound, so fan-out multiplies:
 * `sequential` n → n × (RTT + callee), `parallel` n → 1 × (RTT + callee).
 */
import { findCycle } from "../graph";
import { rttBetween, type RttSource } from "./rtt";
import type { CallMode, LatencyModel, LatencyService } from "./model";

/** The name the gateway has in chains and hops. */
export const GATEWAY = "gateway";

/** A model that cannot be analysed; each problem names what to fix. */
export class LatencyModelError extends Error {
  constructor(public readonly problems: string[]) {
    super(`fjord latency model is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "LatencyModelError";
  }
}

/** One edge of a route's critical chain. */
export interface Hop {
  from: string;
  to: string;
  fromRegion: string;
  toRegion: string;
  rttMs: number;
  rttSource: RttSource;
  /** The callee's own processing budget. */
  processingMs: number;
  fanOut: number;
  mode: CallMode;
  /** How many times one route request pays this hop (product of sequential fan-outs so far). */
  multiplier: number;
  /** multiplier × (rttMs + processingMs); the hops of a chain sum to its worst case. */
  costMs: number;
}

export interface RouteLatency {
  path: string;
  service: string;
  budgetMs: number;
  worstCaseMs: number;
  /** worstCaseMs as a percentage of budgetMs (unrounded). */
  percent: number;
  overBudget: boolean;
  /** ["gateway", entry, …, deepest callee]. */
  chain: string[];
  hops: Hop[];
  /** The hop that contributes most to the worst case (first one on a tie). */
  costliest: Hop;
}

/** Everything wrong with the model's shape, cycles included; empty when it can be analysed. */
export function modelProblems(model: LatencyModel): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  for (const s of model.services) {
    if (names.has(s.name)) out.push(`service "${s.name}" is declared twice`);
    names.add(s.name);
  }
  for (const s of model.services) {
    if (!(s.processingBudgetMs >= 0))
      out.push(`service "${s.name}" has processingBudgetMs ${s.processingBudgetMs}; use 0 or more`);
    for (const c of s.calls) {
      if (!names.has(c.service))
        out.push(`service "${s.name}" calls "${c.service}", which is not a service of this stack`);
      if (!Number.isInteger(c.fanOut) || c.fanOut < 1)
        out.push(`service "${s.name}" calls "${c.service}" with fanOut ${c.fanOut}; use 1 or more`);
    }
  }
  for (const r of model.routes) {
    if (!names.has(r.service))
      out.push(`route ${r.path} goes to "${r.service}", which is not a service of this stack`);
    if (!(r.budgetMs > 0)) out.push(`route ${r.path} has budgetMs ${r.budgetMs}; use more than 0`);
  }
  const cycle = findCycle(
    new Map(model.services.map((s) => [s.name, s.calls.map((c) => c.service)])),
  );
  if (cycle) {
    out.push(
      `synchronous call cycle ${cycle.join(" → ")}: a request would never finish; make one of these calls asynchronous`,
    );
  }
  return out;
}

interface Deepest {
  /** processing + deepest call, for one request to this service. */
  costMs: number;
  /** Hops below this service, multipliers relative to one request to it. */
  hops: Hop[];
}

/** Worst case of every route, in the model's route order; throws LatencyModelError if invalid. */
export function analyzeRoutes(model: LatencyModel): RouteLatency[] {
  const problems = modelProblems(model);
  if (problems.length > 0) throw new LatencyModelError(problems);
  const byName = new Map(model.services.map((s) => [s.name, s]));
  const memo = new Map<string, Deepest>();

  const deepest = (s: LatencyService): Deepest => {
    const known = memo.get(s.name);
    if (known) return known;
    let best: Deepest = { costMs: 0, hops: [] };
    for (const c of s.calls) {
      const callee = byName.get(c.service)!;
      const below = deepest(callee);
      const { ms, source } = rttBetween(model.rtt, s.region, callee.region);
      const times = c.mode === "sequential" ? c.fanOut : 1;
      const costMs = times * (ms + below.costMs);
      if (costMs <= best.costMs && best.hops.length > 0) continue;
      const hop: Hop = {
        from: s.name,
        to: callee.name,
        fromRegion: s.region,
        toRegion: callee.region,
        rttMs: ms,
        rttSource: source,
        processingMs: callee.processingBudgetMs,
        fanOut: c.fanOut,
        mode: c.mode,
        multiplier: times,
        costMs: times * (ms + callee.processingBudgetMs),
      };
      const scaled = below.hops.map((h) => ({
        ...h,
        multiplier: h.multiplier * times,
        costMs: h.costMs * times,
      }));
      best = { costMs, hops: [hop, ...scaled] };
    }
    const result = { costMs: s.processingBudgetMs + best.costMs, hops: best.hops };
    memo.set(s.name, result);
    return result;
  };

  return model.routes.map((r) => {
    const entry = byName.get(r.service)!;
    const { ms, source } = rttBetween(model.rtt, model.gateway.region, entry.region);
    const first: Hop = {
      from: GATEWAY,
      to: entry.name,
      fromRegion: model.gateway.region,
      toRegion: entry.region,
      rttMs: ms,
      rttSource: source,
      processingMs: entry.processingBudgetMs,
      fanOut: 1,
      mode: "sequential",
      multiplier: 1,
      costMs: ms + entry.processingBudgetMs,
    };
    const hops = [first, ...deepest(entry).hops];
    const worstCaseMs = hops.reduce((sum, h) => sum + h.costMs, 0);
    const costliest = hops.reduce((a, b) => (b.costMs > a.costMs ? b : a));
    return {
      path: r.path,
      service: r.service,
      budgetMs: r.budgetMs,
      worstCaseMs,
      percent: (worstCaseMs / r.budgetMs) * 100,
      overBudget: worstCaseMs > r.budgetMs,
      chain: [GATEWAY, ...hops.map((h) => h.to)],
      hops,
      costliest,
    };
  });
}

/** A synchronous call (or the gateway's forward) into a jurisdiction the stack may not use. */
export interface ResidencyFinding {
  from: string;
  to: string;
  fromRegion: string;
  toRegion: string;
  /** The callee's jurisdiction, or undefined when its region has none on record. */
  jurisdiction: string | undefined;
  /** Routes whose requests travel this call. */
  routes: string[];
}

/**
 * Every call whose callee runs outside `allowed`. Personal data in a request goes wherever the
 * request goes, so an allowed service calling a foreign one exports it on every request.
 */
export function callResidency(model: LatencyModel, allowed: readonly string[]): ResidencyFinding[] {
  const byName = new Map(model.services.map((s) => [s.name, s]));
  const ok = new Set(allowed);
  const reach = new Map<string, Set<string>>();
  const walk = (name: string, path: string, seen: Set<string>) => {
    if (seen.has(name)) return;
    seen.add(name);
    const routes = reach.get(name) ?? new Set<string>();
    routes.add(path);
    reach.set(name, routes);
    for (const c of byName.get(name)?.calls ?? []) walk(c.service, path, seen);
  };
  for (const r of model.routes) walk(r.service, r.path, new Set());

  const out: ResidencyFinding[] = [];
  const check = (from: string, fromRegion: string, to: LatencyService, routes: string[]) => {
    if (to.jurisdiction !== undefined && ok.has(to.jurisdiction)) return;
    out.push({
      from,
      to: to.name,
      fromRegion,
      toRegion: to.region,
      jurisdiction: to.jurisdiction,
      routes,
    });
  };
  for (const r of model.routes) {
    const entry = byName.get(r.service);
    if (entry) check(GATEWAY, model.gateway.region, entry, [r.path]);
  }
  for (const s of model.services) {
    for (const c of s.calls) {
      const callee = byName.get(c.service);
      if (callee) check(s.name, s.region, callee, [...(reach.get(s.name) ?? [])].sort());
    }
  }
  return out;
}

/** "gateway → orders → payment". */
export const formatChain = (chain: readonly string[]): string => chain.join(" → ");

/** "orders → payment 126 ms = 3 × (2 ms RTT + 40 ms processing)". */
export function formatHop(h: Hop): string {
  const parts = `${ms(h.rttMs)} ms RTT + ${ms(h.processingMs)} ms processing`;
  const body = h.multiplier > 1 ? `${h.multiplier} × (${parts})` : parts;
  const guessed =
    h.rttSource === "unknown-pair"
      ? ` [no RTT known for ${h.fromRegion}/${h.toRegion}: set fjord:latency.rttMs]`
      : "";
  return `${h.from} → ${h.to} ${ms(h.costMs)} ms = ${body}${guessed}`;
}

/** Whole milliseconds stay whole; fractional ones keep one decimal. */
export const ms = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
