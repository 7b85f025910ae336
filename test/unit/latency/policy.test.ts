import { describe, expect, it } from "vitest";
import type { Spec } from "../../../components/config";
import { latencyAnnotations, LATENCY_KEY, ROUTES_KEY } from "../../../components/plan/latency";
import { latencyCallResidency, latencyRouteBudget } from "../../../policies/latency";
import { budget, specWith, unchecked } from "./fixtures";
import { runStackPolicy as run, type Finding } from "./run-policy";

const deployment = (name: string, namespace: string, annotations: Record<string, string>) => ({
  type: "kubernetes:apps/v1:Deployment",
  name: `${name}-deployment`,
  props: { metadata: { name, namespace, annotations } },
});

/**
 * The Deployments fjord would create for these services (only what the policies read); `change`
 * edits the validated spec into one the config would refuse.
 */
function stack(
  services: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
  change: (spec: Spec) => void = () => {},
) {
  const a = latencyAnnotations(unchecked(specWith(services, extra), change));
  return [
    ...Object.entries(a.services).map(([n, ann]) => deployment(n, `fjord-${n}`, ann)),
    deployment("gateway", "fjord-system", a.gateway),
  ];
}

const PROD_LIKE = [
  {
    name: "orders",
    route: { path: "/orders/" },
    processingBudgetMs: 25,
    calls: ["inventory", "payment"],
  },
  { name: "inventory", route: { path: "/inventory/", budgetMs: 150 }, processingBudgetMs: 15 },
  { name: "payment", processingBudgetMs: 40 },
];

describe("latency-route-budget", () => {
  it("GIVEN a prod-like stack whose chains fit their budgets WHEN latency-route-budget runs THEN it passes", async () => {
    expect(await run(latencyRouteBudget, stack(PROD_LIKE))).toEqual([]);
  });

  it("GIVEN a route the config would refuse as over budget WHEN latency-route-budget runs THEN it fails on the gateway at the configured level, naming the route, the chain and the costliest hop", async () => {
    const services = [
      PROD_LIKE[0],
      PROD_LIKE[1],
      { name: "payment", region: "us-east1", processingBudgetMs: 80 },
    ];
    // The config refuses a route it can show to be over budget: the pack must catch it too.
    const over = () =>
      stack(
        services,
        { allowedJurisdictions: ["NO", "US"], latency: { defaultRouteBudgetMs: 250 } },
        budget("/orders/", 200),
      );
    const found = (await run(latencyRouteBudget, over())) as Finding[];
    expect(found).toHaveLength(1);
    // 2 + 25 + (110 + 80)
    expect(found[0].message).toMatch(
      /^Route \/orders\/ takes up to 217 ms, over its 200 ms budget \(109%\)\./,
    );
    expect(found[0].message).toContain("Chain: gateway → orders → payment.");
    expect(found[0].message).toContain(
      "Costliest hop: orders → payment 190 ms = 110 ms RTT + 80 ms processing.",
    );
    // At the policy's configured level: mandatory in prod, advisory in dev (policies/config).
    expect(found[0].enforcementLevel).toBe("mandatory");
    const dev = (await run(latencyRouteBudget, over(), {}, "advisory")) as Finding[];
    expect(dev.map((f) => f.enforcementLevel)).toEqual(["advisory"]);
    expect(found[0].urn).toContain("gateway-deployment");
  });

  it("GIVEN a route to Frankfurt, a slower pack RTT table, then a stack override WHEN latency-route-budget runs THEN the pack's table decides unless the stack's own override is set", async () => {
    const services = [
      {
        name: "api",
        route: { path: "/api/", budgetMs: 60 },
        region: "de-fra1",
        processingBudgetMs: 20,
      },
    ];
    const inDe = { allowedJurisdictions: ["NO", "DE"] };
    expect(await run(latencyRouteBudget, stack(services, inDe))).toEqual([]); // 35 + 20
    const slow = (await run(latencyRouteBudget, stack(services, inDe), {
      rttMs: { "no-osl1/de-fra1": 45 },
    })) as Finding[];
    expect(slow.map((f) => f.message.slice(0, 48))).toEqual([
      "Route /api/ takes up to 65 ms, over its 60 ms bu",
    ]);
    const measured = stack(services, { ...inDe, latency: { rttMs: { "de-fra1/no-osl1": 30 } } });
    expect(await run(latencyRouteBudget, measured, { rttMs: { "no-osl1/de-fra1": 45 } })).toEqual(
      [],
    );
  });

  it("GIVEN a sequential and a parallel fan-out of 10 WHEN latency-route-budget runs THEN only the sequential one is over budget, counted 10 times", async () => {
    const feed = { name: "feed", route: { path: "/feed/", budgetMs: 100 }, processingBudgetMs: 10 };
    const post = { name: "post", processingBudgetMs: 5 };
    const seq = [{ ...feed, calls: [{ service: "post", fanOut: 10 }] }, post];
    const par = [{ ...feed, calls: [{ service: "post", fanOut: 10, mode: "parallel" }] }, post];
    const found = (await run(
      latencyRouteBudget,
      stack(seq, {}, budget("/feed/", 80)),
    )) as Finding[];
    expect(found).toHaveLength(1);
    expect(found[0].message).toContain("takes up to 82 ms"); // 2 + 10 + 10 × (2 + 5)
    expect(found[0].message).toContain("feed → post 70 ms = 10 × (2 ms RTT + 5 ms processing)");
    expect(await run(latencyRouteBudget, stack(par, {}, budget("/feed/", 80)))).toEqual([]);
  });

  it("GIVEN an annotation edited into a call cycle WHEN latency-route-budget runs THEN it reports the cycle and how to break it", async () => {
    const rs = stack(PROD_LIKE);
    const payment = rs.find((r) => r.name === "payment-deployment")!;
    const ann = payment.props.metadata.annotations as Record<string, string>;
    ann[LATENCY_KEY] = JSON.stringify({ ...JSON.parse(ann[LATENCY_KEY]), calls: ["orders"] });
    const found = (await run(latencyRouteBudget, rs)) as Finding[];
    expect(found.map((f) => f.message)).toEqual([
      "Latency model: synchronous call cycle orders → payment → orders: a request would never finish; make one of these calls asynchronous.",
    ]);
  });

  it("GIVEN a latency annotation that is not JSON WHEN latency-route-budget runs THEN it reports it on the workload that carries it", async () => {
    const rs = stack(PROD_LIKE);
    (rs[0].props.metadata.annotations as Record<string, string>)[LATENCY_KEY] = "{";
    const found = (await run(latencyRouteBudget, rs)) as Finding[];
    expect(found[0].urn).toContain("orders-deployment");
    expect(found[0].message).toContain(
      "Deployment fjord-orders/orders: annotation fjord.io/latency is not JSON",
    );
  });

  it("GIVEN a routes annotation still unknown at preview WHEN latency-route-budget runs THEN it reports, as advisory, that it cannot verify", async () => {
    const rs = stack(PROD_LIKE);
    (rs[3].props.metadata.annotations as Record<string, string>)[ROUTES_KEY] =
      "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const found = (await run(latencyRouteBudget, rs)) as Finding[];
    expect(found).toEqual([expect.objectContaining({ enforcementLevel: "advisory" })]);
    expect(found[0].message).toContain("Cannot verify latency at preview");
  });

  it("GIVEN a stack without the gateway's routes WHEN latency-route-budget runs THEN it is not applicable", async () => {
    expect(await run(latencyRouteBudget, stack(PROD_LIKE).slice(0, 3))).toMatch(
      /^not applicable: No workload carries fjord.io\/routes/,
    );
  });

  it("GIVEN the annotations as Docker container labels WHEN latency-route-budget runs THEN it passes, and fails both routes on the gateway once the pack's same-region RTT is 150 ms", async () => {
    const rs = stack(PROD_LIKE, {}).map((r) => ({
      type: "docker:index/container:Container",
      name: r.props.metadata.name as string,
      props: {
        name: r.props.metadata.name,
        labels: Object.entries(r.props.metadata.annotations).map(([label, value]) => ({
          label,
          value,
        })),
      },
    }));
    expect(await run(latencyRouteBudget, rs)).toEqual([]);
    // A 150 ms "same region" pushes both routes over: proof the labels were read.
    const found = (await run(latencyRouteBudget, rs, {
      rttMs: { "no-osl1/no-osl1": 150 },
    })) as Finding[];
    expect(found.map((f) => f.message.split(" takes")[0])).toEqual([
      "Route /orders/",
      "Route /inventory/",
    ]);
    expect(found[0].urn).toContain("docker:index/container:Container::gateway");
  });
});

describe("latency-call-residency", () => {
  it("GIVEN a prod-like stack whose calls stay in allowed jurisdictions WHEN latency-call-residency runs THEN it passes", async () => {
    expect(await run(latencyCallResidency, stack(PROD_LIKE))).toEqual([]);
  });

  it("GIVEN a call into US that the stack allows but the pack does not WHEN latency-call-residency runs THEN it fails on the caller with the fix, and passes once the pack allows US", async () => {
    const services = [PROD_LIKE[0], PROD_LIKE[1], { name: "payment", region: "us-east1" }];
    const found = (await run(
      latencyCallResidency,
      stack(services, { allowedJurisdictions: ["NO", "US"] }),
    )) as Finding[];
    expect(found).toHaveLength(1);
    expect(found[0].urn).toContain("orders-deployment");
    expect(found[0].message).toBe(
      "orders (no-osl1) calls payment synchronously in us-east1 (US), outside the allowed jurisdictions (NO). " +
        "Requests on /orders/ carry their data there. Move payment to an allowed region or stop sending it request data synchronously.",
    );
    expect(
      await run(latencyCallResidency, stack(services, { allowedJurisdictions: ["NO", "US"] }), {
        allowedJurisdictions: ["NO", "US"],
      }),
    ).toEqual([]);
  });

  it("GIVEN a stack that claims an unknown region is in NO WHEN latency-call-residency runs THEN the pack's catalog (US) decides, and the stack's claim counts only where the pack has none", async () => {
    const services = [{ name: "api", route: { path: "/api/" }, region: "eu-x1" }];
    const rs = stack(services, { regions: { "eu-x1": { jurisdiction: "NO", eea: true } } });
    const found = (await run(latencyCallResidency, rs, {
      regions: { "eu-x1": "US" },
    })) as Finding[];
    expect(found).toHaveLength(1);
    expect(found[0].message).toContain(
      "gateway (no-osl1) calls api synchronously in eu-x1 (US), outside",
    );
    expect(await run(latencyCallResidency, rs)).toEqual([]); // unknown to the pack: falls back to the stack's NO
  });
});
