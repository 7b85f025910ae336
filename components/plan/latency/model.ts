/**
 * The latency model: where each service runs, what it may spend per request, whom it calls
 * synchronously, and what each gateway route may take end to end. Built from the spec for reports
 * and annotations, or decoded from annotations by the policy pack; the analysis takes either.
 */
import type { Spec } from "../../spec";
import { rttTable, type RttTable } from "./rtt";

export type CallMode = "sequential" | "parallel";

export interface LatencyCall {
  service: string;
  /** Calls one request makes to the callee. */
  fanOut: number;
  /** `sequential` costs fanOut calls one after another; `parallel` costs one. */
  mode: CallMode;
}

export interface LatencyService {
  name: string;
  region: string;
  /** ISO country code of the region's jurisdiction, when known (for the residency check). */
  jurisdiction?: string;
  /** Worst-case time spent in the service itself, excluding its calls. */
  processingBudgetMs: number;
  calls: LatencyCall[];
}

export interface LatencyRoute {
  path: string;
  /** The entry service the gateway forwards the route to. */
  service: string;
  budgetMs: number;
}

export interface LatencyModel {
  /** The gateway runs in the stack's region; the first hop of every route starts there. */
  gateway: { region: string; jurisdiction?: string };
  services: LatencyService[];
  routes: LatencyRoute[];
  rtt: RttTable;
}

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
