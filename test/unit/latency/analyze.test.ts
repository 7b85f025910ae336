import { describe, expect, it } from "vitest";
import {
  DEFAULT_RTT_MS,
  LatencyModelError,
  SAME_REGION_RTT_MS,
  UNKNOWN_PAIR_RTT_MS,
  analyzeRoutes,
  callResidency,
  formatHop,
  latencyModelFromSpec,
  pairKey,
  rttBetween,
  rttTable,
} from "../../../components/plan/latency";
import { model, specWith, svc } from "./fixtures";

describe("RTT table", () => {
  it("GIVEN the default RTT table WHEN measured pairs are looked up THEN each gives the upper bound of its measured range", () => {
    const t = rttTable();
    expect(rttBetween(t, "no-osl1", "no-osl1").ms).toBe(2);
    expect(rttBetween(t, "no-osl1", "de-fra1").ms).toBe(35);
    expect(rttBetween(t, "no-osl1", "us-east1").ms).toBe(110);
    expect(rttBetween(t, "no-osl1", "se-sto1").ms).toBe(10);
    expect(rttBetween(t, "no-osl1", "nl-ams1").ms).toBe(20);
  });

  it("GIVEN the catalog regions WHEN every pair is looked up in the default table THEN each is known and symmetric, and every key is in canonical order", () => {
    const regions = [
      "no-osl1",
      "no-osl2",
      "no-svg1",
      "se-sto1",
      "fi-hel1",
      "de-fra1",
      "nl-ams1",
      "us-east1",
    ];
    const t = rttTable();
    for (const a of regions)
      for (const b of regions) {
        const ab = rttBetween(t, a, b);
        expect(ab.source, `${a}/${b}`).not.toBe("unknown-pair");
        expect(ab.ms).toBe(rttBetween(t, b, a).ms);
      }
    for (const k of Object.keys(DEFAULT_RTT_MS))
      expect(pairKey(...(k.split("/") as [string, string]))).toBe(k);
  });

  it("GIVEN stack overrides in either key order, two of them conflicting WHEN pairs are looked up THEN the overrides win, the larger conflicting one counts, and other pairs come from the table", () => {
    const t = rttTable({ "de-fra1/no-osl1": 28, "se-sto1/no-osl1": 12, "no-osl1/se-sto1": 15 });
    expect(rttBetween(t, "no-osl1", "de-fra1")).toEqual({ ms: 28, source: "override" });
    expect(rttBetween(t, "no-osl1", "se-sto1").ms).toBe(15);
    expect(rttBetween(t, "no-osl1", "us-east1").source).toBe("table");
  });

  it("GIVEN a region outside the catalog WHEN paired with itself and with a catalog region THEN it gets the same-region RTT, and a number above every measured one", () => {
    const t = rttTable();
    expect(rttBetween(t, "my-dc", "my-dc")).toEqual({
      ms: SAME_REGION_RTT_MS,
      source: "same-region",
    });
    expect(rttBetween(t, "my-dc", "no-osl1")).toEqual({
      ms: UNKNOWN_PAIR_RTT_MS,
      source: "unknown-pair",
    });
    expect(UNKNOWN_PAIR_RTT_MS).toBeGreaterThan(Math.max(...Object.values(DEFAULT_RTT_MS)));
  });
});

describe("analyzeRoutes", () => {
  it("GIVEN a service calling two others WHEN its route is analyzed THEN the worst case sums the gateway hop, processing and the costliest call chain, and names the costliest hop", () => {
    const m = model(
      [
        svc("a", { processingBudgetMs: 25, calls: ["b", "c"] }),
        svc("b", { processingBudgetMs: 15 }),
        svc("c", { processingBudgetMs: 40 }),
      ],
      [{ path: "/a/", service: "a" }],
    );
    const [r] = analyzeRoutes(m);
    // 2 + 25 + max(2 + 15, 2 + 40)
    expect(r.worstCaseMs).toBe(69);
    expect(r.chain).toEqual(["gateway", "a", "c"]);
    expect(r.hops.reduce((s, h) => s + h.costMs, 0)).toBe(r.worstCaseMs);
    expect(r.costliest).toMatchObject({ from: "a", to: "c", costMs: 42 });
    expect(r.percent).toBeCloseTo(34.5);
    expect(r.overBudget).toBe(false);
  });

  it("GIVEN a sequential fan-out of 3 to a service that calls another WHEN analyzed THEN the fan-out counts 3 times, including everything below the callee", () => {
    const m = model(
      [
        svc("a", {
          processingBudgetMs: 10,
          calls: [{ service: "b", fanOut: 3, mode: "sequential" }],
        }),
        svc("b", { processingBudgetMs: 5, calls: ["c"] }),
        svc("c", { processingBudgetMs: 4 }),
      ],
      [{ path: "/a/", service: "a" }],
    );
    const [r] = analyzeRoutes(m);
    // 2 + 10 + 3 × (2 + 5 + (2 + 4))
    expect(r.worstCaseMs).toBe(51);
    expect(r.hops.map((h) => h.multiplier)).toEqual([1, 3, 3]);
    expect(r.hops[2].costMs).toBe(18);
  });

  it("GIVEN a parallel fan-out of 8 WHEN analyzed THEN it counts once", () => {
    const m = model(
      [
        svc("a", {
          processingBudgetMs: 10,
          calls: [{ service: "b", fanOut: 8, mode: "parallel" }],
        }),
        svc("b", { processingBudgetMs: 5 }),
      ],
      [{ path: "/a/", service: "a" }],
    );
    const [r] = analyzeRoutes(m);
    expect(r.worstCaseMs).toBe(2 + 10 + 2 + 5);
    expect(r.hops[1]).toMatchObject({ fanOut: 8, mode: "parallel", multiplier: 1 });
  });

  it("GIVEN services in Frankfurt and US East behind an Oslo gateway WHEN analyzed THEN each hop is priced from its caller's region, gateway first, and the route is over budget", () => {
    const m = model(
      [
        svc("a", { region: "de-fra1", processingBudgetMs: 10, calls: ["b"] }),
        svc("b", { region: "us-east1", processingBudgetMs: 10 }),
      ],
      [{ path: "/a/", service: "a", budgetMs: 120 }],
    );
    const [r] = analyzeRoutes(m);
    // Oslo→Frankfurt 35, Frankfurt→US East 95
    expect(r.hops.map((h) => h.rttMs)).toEqual([35, 95]);
    expect(r.worstCaseMs).toBe(35 + 10 + 95 + 10);
    expect(r.overBudget).toBe(true);
    expect(r.percent).toBeCloseTo(125);
    expect(r.costliest).toMatchObject({
      from: "a",
      to: "b",
      fromRegion: "de-fra1",
      toRegion: "us-east1",
    });
  });

  it("GIVEN an RTT override for the gateway's hop WHEN analyzed THEN the worst case uses it and the hop says so", () => {
    const services = [svc("a", { region: "de-fra1", processingBudgetMs: 10 })];
    const base = analyzeRoutes(model(services, [{ path: "/a/", service: "a" }]))[0];
    const tuned = analyzeRoutes(
      model(services, [{ path: "/a/", service: "a" }], { rttMs: { "de-fra1/no-osl1": 28 } }),
    )[0];
    expect(base.worstCaseMs).toBe(45);
    expect(tuned.worstCaseMs).toBe(38);
    expect(tuned.hops[0].rttSource).toBe("override");
  });

  it("GIVEN one route at exactly its budget and one above WHEN analyzed THEN the first is within budget at 100% and the second over", () => {
    const m = model(
      [svc("a", { processingBudgetMs: 48 })],
      [
        { path: "/fits/", service: "a", budgetMs: 50 },
        { path: "/over/", service: "a", budgetMs: 40 },
      ],
    );
    const [fits, over] = analyzeRoutes(m);
    expect([fits.percent, fits.overBudget]).toEqual([100, false]);
    expect([over.percent, over.overBudget]).toEqual([125, true]);
  });

  it("GIVEN a call cycle WHEN analyzed THEN it is refused, naming the cycle", () => {
    const m = model(
      [svc("a", { calls: ["b"] }), svc("b", { calls: ["c"] }), svc("c", { calls: ["a"] })],
      [{ path: "/a/", service: "a" }],
    );
    expect(() => analyzeRoutes(m)).toThrow(LatencyModelError);
    expect(() => analyzeRoutes(m)).toThrow("synchronous call cycle a → b → c → a");
  });

  it("GIVEN a call and a route to services that do not exist WHEN analyzed THEN both are refused, each listed", () => {
    const m = model([svc("a", { calls: ["ghost"] })], [{ path: "/x/", service: "nobody" }]);
    try {
      analyzeRoutes(m);
      expect.unreachable();
    } catch (e) {
      expect((e as LatencyModelError).problems).toEqual([
        'service "a" calls "ghost", which is not a service of this stack',
        'route /x/ goes to "nobody", which is not a service of this stack',
      ]);
    }
  });

  it("GIVEN a sequential fan-out of 3 to US East WHEN the costliest hop is formatted THEN it shows its parts", () => {
    const m = model(
      [
        svc("a", { calls: [{ service: "b", fanOut: 3 }] }),
        svc("b", { region: "us-east1", processingBudgetMs: 10 }),
      ],
      [{ path: "/a/", service: "a" }],
    );
    expect(formatHop(analyzeRoutes(m)[0].costliest)).toBe(
      "a → b 360 ms = 3 × (110 ms RTT + 10 ms processing)",
    );
  });
});

describe("callResidency", () => {
  it("GIVEN calls into US and DE jurisdictions WHEN only NO is allowed THEN each such call is flagged with the routes it carries, and none when all are allowed", () => {
    const m = model(
      [
        svc("a", { jurisdiction: "NO", calls: ["b"] }),
        svc("b", { region: "us-east1", jurisdiction: "US" }),
        svc("c", { region: "de-fra1", jurisdiction: "DE" }),
      ],
      [
        { path: "/a/", service: "a" },
        { path: "/c/", service: "c" },
      ],
    );
    const found = callResidency(m, ["NO"]);
    expect(found.map((f) => `${f.from}>${f.to}:${f.jurisdiction}:${f.routes.join(",")}`)).toEqual([
      "gateway>c:DE:/c/",
      "a>b:US:/a/",
    ]);
    expect(callResidency(m, ["NO", "DE", "US"])).toEqual([]);
  });
});

describe("latencyModelFromSpec", () => {
  it("GIVEN a spec with regions, budgets, calls, a default route budget and an RTT override WHEN the latency model is built THEN all of them are taken from the spec", () => {
    const spec = specWith(
      [
        {
          name: "orders",
          route: { path: "/orders/" },
          processingBudgetMs: 25,
          calls: [{ service: "payment", fanOut: 2, mode: "parallel" }],
        },
        { name: "payment", region: "de-fra1" },
      ],
      {
        allowedJurisdictions: ["NO", "DE"],
        latency: { defaultRouteBudgetMs: 180, rttMs: { "no-osl1/de-fra1": 30 } },
      },
    );
    const m = latencyModelFromSpec(spec);
    expect(m.gateway).toEqual({ region: "no-osl1", jurisdiction: "NO" });
    expect(m.routes).toEqual([{ path: "/orders/", service: "orders", budgetMs: 180 }]);
    expect(m.services[1]).toEqual({
      name: "payment",
      region: "de-fra1",
      jurisdiction: "DE",
      processingBudgetMs: 20,
      calls: [],
    });
    expect(m.services[0].calls).toEqual([{ service: "payment", fanOut: 2, mode: "parallel" }]);
    expect(analyzeRoutes(m)[0].worstCaseMs).toBe(2 + 25 + 30 + 20);
  });
});
