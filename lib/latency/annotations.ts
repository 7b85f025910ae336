/**
 * The latency model as workload annotations: the keys, and the decoder the policy pack uses.
 *
 * The pack must also judge programs fjord did not write, so fjord writes the model where any
 * policy can read it: on each service's workload and on the gateway's. Any program that writes
 * the same keys gets the same checks. The decoder is pure and never throws: a malformed
 * annotation is a problem to report, not a crash of the policy run.
 */
import type { LatencyCall, LatencyModel } from "./model";
import { normalizeRtt, rttTable } from "./rtt";

/** On a service workload: JSON {service, region, jurisdiction?, processingBudgetMs, calls}. */
export const LATENCY_KEY = "fjord.io/latency";
/** On the gateway workload: JSON [{path, service, budgetMs}]. */
export const ROUTES_KEY = "fjord.io/routes";
/** On the gateway workload: the region (and jurisdiction) the gateway, so every route, starts in. */
export const REGION_KEY = "fjord.io/region";
export const JURISDICTION_KEY = "fjord.io/jurisdiction";
/** On the gateway workload: the stack's RTT overrides, JSON {"regionA/regionB": ms}. */
export const RTT_KEY = "fjord.io/rtt-ms";

/** One annotated workload as a policy sees it (known string values only). */
export interface AnnotatedWorkload {
  /** Where a problem should be reported (a URN in the policy pack). */
  id: string;
  annotations: Readonly<Record<string, string>>;
}

export interface DecodeProblem {
  id: string;
  message: string;
}

export interface DecodedModel {
  /** Undefined when no workload carries routes: there is nothing to check. */
  model?: LatencyModel;
  problems: DecodeProblem[];
  /** Service name → the workload that declared it, so findings land on the right resource. */
  serviceIds: Record<string, string>;
  gatewayId?: string;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function decodeCall(v: unknown): LatencyCall | string {
  if (typeof v === "string") return { service: v, fanOut: 1, mode: "sequential" };
  if (!isObj(v) || typeof v.service !== "string") return "a call without a service name";
  const fanOut = v.fanOut ?? 1;
  const mode = v.mode ?? "sequential";
  if (!isNum(fanOut)) return `call to "${v.service}" has a non-numeric fanOut`;
  if (mode !== "sequential" && mode !== "parallel")
    return `call to "${v.service}" has mode ${JSON.stringify(mode)}; use "sequential" or "parallel"`;
  return { service: v.service, fanOut, mode };
}

/**
 * Rebuilds the model from annotated workloads. `baseRtt` is the pack's RTT table; the gateway's
 * `fjord.io/rtt-ms` overrides it. Identical copies of one annotation (one Docker container per
 * replica) count once; conflicting copies are a problem.
 */
export function decodeLatencyModel(
  workloads: readonly AnnotatedWorkload[],
  baseRtt?: Readonly<Record<string, number>>,
): DecodedModel {
  const problems: DecodeProblem[] = [];
  const bad = (id: string, key: string, what: string) =>
    problems.push({ id, message: `annotation ${key} ${what}` });
  const services = new Map<string, { json: string; value: LatencyModel["services"][number] }>();
  const serviceIds: Record<string, string> = {};
  const routes = new Map<string, LatencyModel["routes"][number]>();
  let gateway: { id: string; region: string; jurisdiction?: string } | undefined;
  let overrides: Record<string, number> = {};

  for (const w of workloads) {
    const raw = w.annotations[LATENCY_KEY];
    if (raw !== undefined) {
      const v = parse(raw);
      if (!isObj(v) || typeof v.service !== "string" || typeof v.region !== "string") {
        bad(w.id, LATENCY_KEY, "is not JSON {service, region, processingBudgetMs, calls}");
      } else if (!isNum(v.processingBudgetMs)) {
        bad(w.id, LATENCY_KEY, `of "${v.service}" has no numeric processingBudgetMs`);
      } else {
        const calls = (Array.isArray(v.calls) ? v.calls : []).map(decodeCall);
        const broken = calls.filter((c): c is string => typeof c === "string");
        for (const b of broken) bad(w.id, LATENCY_KEY, `of "${v.service}" has ${b}`);
        const value = {
          name: v.service,
          region: v.region,
          ...(typeof v.jurisdiction === "string" ? { jurisdiction: v.jurisdiction } : {}),
          processingBudgetMs: v.processingBudgetMs,
          calls: calls.filter((c): c is LatencyCall => typeof c !== "string"),
        };
        const json = JSON.stringify(value);
        const seen = services.get(v.service);
        if (seen && seen.json !== json) {
          bad(w.id, LATENCY_KEY, `declares "${v.service}" differently from another workload`);
        } else if (!seen && broken.length === 0) {
          services.set(v.service, { json, value });
          serviceIds[v.service] = w.id;
        }
      }
    }

    const rawRoutes = w.annotations[ROUTES_KEY];
    if (rawRoutes === undefined) continue;
    const region = w.annotations[REGION_KEY];
    if (!region) {
      bad(w.id, REGION_KEY, `is missing; the gateway's region is where every route starts`);
      continue;
    }
    if (gateway && gateway.region !== region) {
      bad(w.id, REGION_KEY, `is ${region}, but another gateway says ${gateway.region}`);
      continue;
    }
    const jurisdiction = w.annotations[JURISDICTION_KEY];
    gateway ??= { id: w.id, region, ...(jurisdiction ? { jurisdiction } : {}) };
    const list = parse(rawRoutes);
    if (!Array.isArray(list)) {
      bad(w.id, ROUTES_KEY, "is not a JSON list of {path, service, budgetMs}");
      continue;
    }
    for (const r of list) {
      if (
        !isObj(r) ||
        typeof r.path !== "string" ||
        typeof r.service !== "string" ||
        !isNum(r.budgetMs)
      ) {
        bad(
          w.id,
          ROUTES_KEY,
          `has an entry that is not {path, service, budgetMs}: ${JSON.stringify(r)}`,
        );
        continue;
      }
      const prev = routes.get(r.path);
      if (prev && (prev.service !== r.service || prev.budgetMs !== r.budgetMs))
        bad(w.id, ROUTES_KEY, `declares route ${r.path} differently from another gateway`);
      else routes.set(r.path, { path: r.path, service: r.service, budgetMs: r.budgetMs });
    }
    const rawRtt = w.annotations[RTT_KEY];
    if (rawRtt !== undefined) {
      const rtt = parse(rawRtt);
      if (!isObj(rtt) || !Object.values(rtt).every(isNum)) {
        bad(w.id, RTT_KEY, 'is not JSON {"regionA/regionB": ms}');
      } else {
        overrides = { ...overrides, ...normalizeRtt(rtt as Record<string, number>) };
      }
    }
  }

  if (!gateway) return { problems, serviceIds };
  return {
    model: {
      gateway: {
        region: gateway.region,
        ...(gateway.jurisdiction ? { jurisdiction: gateway.jurisdiction } : {}),
      },
      services: [...services.values()].map((s) => s.value),
      routes: [...routes.values()],
      rtt: rttTable(overrides, baseRtt),
    },
    problems,
    serviceIds,
    gatewayId: gateway.id,
  };
}
