import { GATEWAY_DEFAULTS } from "../../config/defaults";
import type { GatewayPlan, GatewayPlanInput, GatewaySettings } from "./types";

/** The config's gateway defaults, checked against the plan's type here (config knows no plan). */
export const defaultGatewaySettings: GatewaySettings = GATEWAY_DEFAULTS;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Arrays replace rather than merge: a caller listing stripHeaders means exactly that list.
function merge<T>(base: T, over: unknown): T {
  if (!isRecord(base) || !isRecord(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v !== undefined) out[k] = merge(out[k], v);
  }
  return out as T;
}

/** Fills a partial plan with `defaultGatewaySettings` (deep merge; arrays are replaced). */
export function makeGatewayPlan(input: GatewayPlanInput): GatewayPlan {
  return merge(structuredClone(defaultGatewaySettings), input) as GatewayPlan;
}
