/** The latency annotations fjord writes on its workloads (decoded by lib/latency/annotations). */
import type { Spec } from "../../config";
import { latencyModelFromSpec } from "../../../lib/latency/from-spec";
import {
  JURISDICTION_KEY,
  LATENCY_KEY,
  REGION_KEY,
  ROUTES_KEY,
  RTT_KEY,
} from "../../../lib/latency/annotations";

export interface LatencyAnnotations {
  /** Service name → annotations for its Deployment. */
  services: Record<string, Record<string, string>>;
  gateway: Record<string, string>;
}

/** The annotations fjord writes for a stack. */
export function latencyAnnotations(spec: Spec): LatencyAnnotations {
  const model = latencyModelFromSpec(spec);
  const services: Record<string, Record<string, string>> = {};
  for (const s of model.services) {
    const body = {
      service: s.name,
      region: s.region,
      ...(s.jurisdiction ? { jurisdiction: s.jurisdiction } : {}),
      processingBudgetMs: s.processingBudgetMs,
      calls: s.calls,
    };
    services[s.name] = { [LATENCY_KEY]: JSON.stringify(body) };
  }
  const gateway: Record<string, string> = {
    [ROUTES_KEY]: JSON.stringify(model.routes),
    [REGION_KEY]: model.gateway.region,
    ...(model.gateway.jurisdiction ? { [JURISDICTION_KEY]: model.gateway.jurisdiction } : {}),
    [RTT_KEY]: JSON.stringify(model.rtt.overrides),
  };
  return { services, gateway };
}
