/**
 * The latency model of a stack, built from its resolved config. It lives here, below the config,
 * so that the config can check route budgets before anything is planned and the plan writes the
 * same model into annotations: one builder, one verdict.
 */
import { rttTable } from "./rtt";
import type { LatencyCall, LatencyModel } from "./model";

/** What the builder reads of a resolved stack config (fjord's `Spec` has this shape). */
export interface LatencySpec {
  /** The stack's region: where the gateway runs. */
  region: string;
  regions: Readonly<Record<string, { jurisdiction: string }>>;
  services: ReadonlyArray<{
    name: string;
    region: string;
    processingBudgetMs: number;
    calls: readonly LatencyCall[];
    route?: { path: string; budgetMs: number };
  }>;
  latency: { rttMs: Readonly<Record<string, number>> };
}

/** The model of a stack, with the stack's `latency.rttMs` over the built-in table (or `baseRtt`). */
export function latencyModelFromSpec(
  spec: LatencySpec,
  baseRtt?: Readonly<Record<string, number>>,
): LatencyModel {
  const withJurisdiction = (region: string) => {
    const j = spec.regions[region]?.jurisdiction;
    return j ? { region, jurisdiction: j } : { region };
  };
  return {
    gateway: withJurisdiction(spec.region),
    services: spec.services.map((s) => ({
      name: s.name,
      ...withJurisdiction(s.region),
      processingBudgetMs: s.processingBudgetMs,
      calls: s.calls.map((c) => ({ service: c.service, fanOut: c.fanOut, mode: c.mode })),
    })),
    routes: spec.services
      .filter((s) => s.route)
      .map((s) => ({ path: s.route!.path, service: s.name, budgetMs: s.route!.budgetMs })),
    rtt: rttTable(spec.latency.rttMs, baseRtt),
  };
}
