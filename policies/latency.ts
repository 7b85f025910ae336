/**
 * Latency: every gateway route's worst-case synchronous chain fits its budget, and no synchronous
 * call goes into a jurisdiction the data may not enter.
 *
 * The model comes from workload annotations (fjord.io/latency on services; fjord.io/routes,
 * fjord.io/region and fjord.io/rtt-ms on the gateway), written by fjord and writable by any
 * program; the arithmetic is the same pure analysis `npm run report` prints.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import {
  type AnnotatedWorkload,
  DEFAULT_RTT_MS,
  JURISDICTION_KEY,
  LATENCY_KEY,
  REGION_KEY,
  ROUTES_KEY,
  RTT_KEY,
  analyzeRoutes,
  callResidency,
  decodeLatencyModel,
  formatChain,
  formatHop,
  modelProblems,
  ms,
} from "../lib/latency";
import { type Ctx, type Setting, type StackResource, describe, stackPolicy } from "./lib/policy";
import { Jurisdictions, type ResidencyConfig, residencySettings } from "./lib/regions";
import { UNKNOWN, list, str, strMap } from "./lib/values";

const KEYS = [LATENCY_KEY, ROUTES_KEY, REGION_KEY, JURISDICTION_KEY, RTT_KEY];

interface Annotated extends AnnotatedWorkload {
  label: string;
  /** Our keys whose values are computed at preview. */
  unknown: string[];
}

/** fjord.io/* latency keys of one resource: k8s annotations, or Docker container labels. */
function annotationsOf(r: StackResource): Annotated | undefined {
  const found: Record<string, string> = {};
  const unknown: string[] = [];
  const take = (k: string, v: unknown) => {
    if (!KEYS.includes(k)) return;
    if (v === UNKNOWN) unknown.push(k);
    else if (typeof v === "string") found[k] = v;
  };
  if (r.type.startsWith("kubernetes:")) {
    const m = strMap(r.props, "metadata.annotations");
    if (m !== UNKNOWN) for (const [k, v] of Object.entries(m)) take(k, v);
  } else if (r.type === "docker:index/container:Container") {
    const labels = list(r.props, "labels");
    for (const l of labels === UNKNOWN ? [] : labels) {
      const k = str(l, "label");
      if (typeof k === "string") take(k, str(l, "value"));
    }
  } else {
    return undefined;
  }
  if (Object.keys(found).length === 0 && unknown.length === 0) return undefined;
  return { id: r.urn, annotations: found, label: describe(r.type, r.name, r.props), unknown };
}

function workloads(resources: StackResource[]): Annotated[] {
  return resources.map(annotationsOf).filter((w): w is Annotated => w !== undefined);
}

const noRoutes = (rs: StackResource[]): string | undefined =>
  workloads(rs).some(
    (w) => w.annotations[ROUTES_KEY] !== undefined || w.unknown.includes(ROUTES_KEY),
  )
    ? undefined
    : `No workload carries ${ROUTES_KEY}, so there are no gateway routes to check.`;

/**
 * The decoded model, with every reason it is incomplete already reported. With `whole`, a model
 * the analysis cannot run on (cycle, unknown callee) is reported and dropped; the residency check
 * needs only the edges, so it skips that (and leaves those findings to the budget policy).
 */
function decode<C>(
  resources: StackResource[],
  ctx: Ctx<C>,
  opts: { baseRtt?: Record<string, number>; whole: boolean },
) {
  const ws = workloads(resources);
  for (const w of ws) {
    if (w.unknown.length > 0)
      ctx.cannotVerify(
        `Cannot verify latency at preview: ${w.label} has computed ${w.unknown.join(", ")}.`,
        w.id,
      );
  }
  const decoded = decodeLatencyModel(ws, opts.baseRtt);
  for (const p of decoded.problems) {
    const w = ws.find((x) => x.id === p.id);
    ctx.violation(
      `${w?.label ?? "A workload"}: ${p.message}; fix it so the latency model can be checked.`,
      p.id,
    );
  }
  if (!decoded.model || !opts.whole) return decoded;
  const problems = modelProblems(decoded.model);
  for (const p of problems) ctx.violation(`Latency model: ${p}.`, decoded.gatewayId);
  return problems.length === 0 ? decoded : undefined;
}

interface BudgetConfig {
  rttMs: Record<string, number>;
}

const rttSetting: Setting<Record<string, number>> = {
  schema: {
    type: "object",
    additionalProperties: { type: "number", minimum: 0 },
    description:
      'Worst-case round trip in ms per region pair, keyed "regionA/regionB" (either order). Replaces the built-in table; the stack\'s fjord.io/rtt-ms overrides it.',
  },
  default: { ...DEFAULT_RTT_MS },
};

export const latencyRouteBudget: StackValidationPolicy = stackPolicy<BudgetConfig>({
  name: "latency-route-budget",
  description:
    "Each gateway route's worst-case synchronous call chain (round trips plus processing budgets, with fan-out) fits the route's latency budget.",
  severity: "medium",
  remediationSteps:
    "Place the chain's services in the same region, make fan-out parallel, lower processing budgets, or raise the route's budgetMs. `npm run report -- <stack>` shows the chain.",
  config: { rttMs: rttSetting },
  scope: noRoutes,
  validate: (resources, ctx) => {
    const decoded = decode(resources, ctx, { baseRtt: ctx.config.rttMs, whole: true });
    if (!decoded?.model) return;
    for (const r of analyzeRoutes(decoded.model)) {
      if (!r.overBudget) continue;
      ctx.violation(
        `Route ${r.path} takes up to ${ms(r.worstCaseMs)} ms, over its ${ms(r.budgetMs)} ms budget ` +
          `(${r.percent.toFixed(0)}%). Chain: ${formatChain(r.chain)}. Costliest hop: ${formatHop(r.costliest)}. ` +
          "Move these services into one region, make fan-out parallel, lower processing budgets, or raise the route's budgetMs.",
        decoded.gatewayId,
      );
    }
  },
});

type CallResidencyConfig = Pick<ResidencyConfig, "allowedJurisdictions" | "regions">;

export const latencyCallResidency: StackValidationPolicy = stackPolicy<CallResidencyConfig>({
  name: "latency-call-residency",
  description:
    "No synchronous call (gateway to service, or service to service) goes to a service in a jurisdiction outside the allowed ones.",
  severity: "critical",
  remediationSteps:
    "Move the callee to a region in an allowed jurisdiction, or stop calling it synchronously with request data.",
  config: {
    // Same keys and defaults as the residency module's, so one pack config block reads alike.
    allowedJurisdictions: {
      schema: residencySettings.allowedJurisdictions.schema,
      default: [...residencySettings.allowedJurisdictions.default],
    },
    regions: {
      schema: residencySettings.regions.schema,
      default: { ...residencySettings.regions.default },
    },
  },
  scope: noRoutes,
  validate: (resources, ctx) => {
    const decoded = decode(resources, ctx, { whole: false });
    if (!decoded?.model) return;
    const j = new Jurisdictions({ ...ctx.config, hostRegions: {} });
    // The pack's catalog decides a region's jurisdiction; the stack's own claim is only a fallback.
    const model = {
      ...decoded.model,
      services: decoded.model.services.map((s) => {
        const jurisdiction = j.of(s.region) ?? s.jurisdiction?.toUpperCase();
        return { ...s, ...(jurisdiction ? { jurisdiction } : {}) };
      }),
    };
    for (const f of callResidency(model, [...j.allowed])) {
      const where = f.jurisdiction
        ? `${f.toRegion} (${f.jurisdiction}), outside the allowed jurisdictions (${j.allowedText()})`
        : `${f.toRegion}, which is not in the region catalog; add it to the policy config regions with its jurisdiction`;
      const routes = f.routes.length
        ? ` Requests on ${f.routes.join(", ")} carry their data there.`
        : "";
      ctx.violation(
        `${f.from} (${f.fromRegion}) calls ${f.to} synchronously in ${where}.${routes} Move ${f.to} to an allowed region or stop sending it request data synchronously.`,
        f.from === "gateway" ? decoded.gatewayId : decoded.serviceIds[f.from],
      );
    }
  },
});

/** The latency module's policies, for policies/policies.ts. */
export const latencyPolicies = [latencyRouteBudget, latencyCallResidency];
