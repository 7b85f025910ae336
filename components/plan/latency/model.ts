import type { Spec } from "../../config";
import { rttTable } from "../../../lib/latency/rtt";
import type { LatencyModel } from "../../../lib/latency/model";

/** The model of a validated stack, with the stack's `latency.rttMs` over the built-in table. */
export function latencyModelFromSpec(
  spec: Spec,
  baseRtt?: Readonly<Record<string, number>>,
): LatencyModel {
  const jurisdiction = (region: string): string | undefined => spec.regions[region]?.jurisdiction;
  const withJurisdiction = (region: string) => {
    const j = jurisdiction(region);
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
