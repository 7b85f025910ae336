/**
 * The latency model: where each service runs, what it may spend per request, whom it calls
 * synchronously, and what each gateway route may take end to end. fjord builds it from its config
 * (components/plan/latency); the policy pack decodes it from annotations; the analysis takes either.
 */
import type { RttTable } from "./rtt";

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
