/** Small latency models and specs; each test states only the services and routes it is about. */
import { parseSpec, type Spec } from "../../../components/config";
import {
  rttTable,
  type LatencyCall,
  type LatencyModel,
  type LatencyService,
} from "../../../components/plan/latency";

type Svc = Partial<Omit<LatencyService, "calls">> & { calls?: (string | Partial<LatencyCall>)[] };

/** A service in no-osl1 spending 10 ms, calling `calls` once each, sequentially. */
export function svc(name: string, s: Svc = {}): LatencyService {
  return {
    name,
    region: s.region ?? "no-osl1",
    ...(s.jurisdiction ? { jurisdiction: s.jurisdiction } : {}),
    processingBudgetMs: s.processingBudgetMs ?? 10,
    calls: (s.calls ?? []).map((c) =>
      typeof c === "string"
        ? { service: c, fanOut: 1, mode: "sequential" as const }
        : { service: c.service!, fanOut: c.fanOut ?? 1, mode: c.mode ?? "sequential" },
    ),
  };
}

export function model(
  services: LatencyService[],
  routes: { path: string; service: string; budgetMs?: number }[],
  opts: { gatewayRegion?: string; rttMs?: Record<string, number> } = {},
): LatencyModel {
  return {
    gateway: { region: opts.gatewayRegion ?? "no-osl1" },
    services,
    routes: routes.map((r) => ({ ...r, budgetMs: r.budgetMs ?? 200 })),
    rtt: rttTable(opts.rttMs ?? {}),
  };
}

const resources = {
  requests: { cpu: "100m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "128Mi" },
};

/** A validated render-mode stack with these services (name, image and resources filled in). */
export function specWith(
  services: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Spec {
  return parseSpec({
    stack: "test",
    values: {
      environment: "prod",
      target: "kubernetes",
      cluster: { mode: "render" },
      gateway: { domains: ["api.example.no"] },
      services: services.map((s) => ({
        image: `registry.example.no/${String(s.name)}:1.0.0`,
        resources,
        ...s,
      })),
      ...extra,
    },
    secrets: {},
    dryRun: true,
  }).spec;
}

/**
 * `spec` with `change` applied after validation: what a hand-edited stack or a program fjord did
 * not write hands the policy pack, such as a route over its budget, which the config refuses.
 */
export function unchecked(spec: Spec, change: (spec: Spec) => void): Spec {
  const copy = structuredClone(spec);
  change(copy);
  return copy;
}

/** Sets the budget of the route at `path` (the config would refuse it if it cannot be met). */
export const budget =
  (path: string, budgetMs: number) =>
  (spec: Spec): void => {
    spec.services.find((s) => s.route?.path === path)!.route!.budgetMs = budgetMs;
  };
