/**
 * The budget is checked twice: before deploy (worst case, policies/latency.ts) and in production
 * (measured p99, the observability alert rules). Both must read the same per-route budget.
 */
import { describe, expect, it } from "vitest";
import { latencyModelFromSpec } from "../../../components/plan/latency";
import { alertCatalogue } from "../../../components/plan/observability";
import { observabilityModel } from "../../../components/plan/observability";
import { specWith } from "./fixtures";

describe("latency budgets and p99 alerts", () => {
  it("GIVEN one route with its own budget and one on the default WHEN the alerts are built THEN each route has one p99 alert at exactly the budget the latency model checks", () => {
    const spec = specWith(
      [
        { name: "orders", route: { path: "/orders/", budgetMs: 250 }, calls: ["payment"] },
        { name: "inventory", route: { path: "/inventory/" } },
        { name: "payment" },
      ],
      { latency: { defaultRouteBudgetMs: 180 } },
    );
    const rules = alertCatalogue(observabilityModel(spec)).filter(
      (r) => r.name === "GatewayRouteLatencyOverBudget",
    );
    for (const route of latencyModelFromSpec(spec).routes) {
      const rule = rules.find((r) => r.labels?.route === route.service);
      expect(rule, route.path).toBeDefined();
      expect(rule!.labels?.budget_ms).toBe(String(route.budgetMs));
      expect(rule!.expr).toMatch(new RegExp(`> ${route.budgetMs / 1000}$`));
    }
    expect(rules).toHaveLength(2);
  });
});
