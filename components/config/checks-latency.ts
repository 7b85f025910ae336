/**
 * Route budgets the latency model already shows cannot be met. The model and its analysis are
 * lib/latency's, the same the plan annotates workloads with and the policy pack judges.
 */
import {
  analyzeRoutes,
  formatChain,
  formatHop,
  latencyModelFromSpec,
  modelProblems,
  ms,
} from "../../lib/latency";
import { DEFAULT_REGIONS } from "../../lib/regions";
import { problem as p, type Check } from "./check";
import { resolve } from "./resolve";
import type { SpecProblem } from "./errors";

/**
 * Over-budget routes are refused in prod; in dev they are only `advisory`, as the policy pack's
 * latency-route-budget is there (a slow dev stack still deploys).
 */
export const routeBudgets: Check = (spec) => {
  const known = { ...DEFAULT_REGIONS, ...spec.regions };
  const regions = [spec.region, ...spec.services.map((s) => s.region ?? spec.region)];
  // An unknown region would cost the pessimistic unknown-pair RTT: a typo, reported elsewhere.
  if (regions.some((r) => !known[r])) return [];
  const model = latencyModelFromSpec(resolve(spec, ""));
  // Calls to no service and cycles are reported by their own checks; the analysis needs neither.
  if (modelProblems(model).length > 0) return [];
  const out: SpecProblem[] = [];
  for (const r of analyzeRoutes(model)) {
    if (!r.overBudget) continue;
    const i = spec.services.findIndex((s) => s.name === r.service);
    const own = spec.services[i].route?.budgetMs !== undefined;
    const budget = own
      ? `its ${ms(r.budgetMs)} ms budget`
      : `the default ${ms(r.budgetMs)} ms budget (fjord:latency.defaultRouteBudgetMs)`;
    out.push({
      ...p(
        ["services", i, "route", "budgetMs"],
        `route ${r.path} takes up to ${ms(r.worstCaseMs)} ms in the worst case, over ${budget}: ${formatChain(r.chain)}, costliest hop ${formatHop(r.costliest)}; raise budgetMs to at least ${Math.ceil(r.worstCaseMs)}, or shorten the chain (lower processingBudgetMs, place the services closer, or make a fan-out parallel)`,
      ),
      ...(spec.environment === "dev" ? { advisory: true } : {}),
    });
  }
  return out;
};
