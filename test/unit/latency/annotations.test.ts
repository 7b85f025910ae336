import { describe, expect, it } from "vitest";
import {
  LATENCY_KEY,
  REGION_KEY,
  ROUTES_KEY,
  RTT_KEY,
  decodeLatencyModel,
  latencyAnnotations,
  latencyModelFromSpec,
} from "../../../components/plan/latency";
import { specWith } from "./fixtures";

const spec = specWith(
  [
    {
      name: "orders",
      route: { path: "/orders/", budgetMs: 150 },
      processingBudgetMs: 25,
      calls: ["inventory", { service: "payment", fanOut: 3, mode: "parallel" }],
    },
    { name: "inventory", route: { path: "/inventory/" } },
    { name: "payment", region: "se-sto1", processingBudgetMs: 40 },
  ],
  { allowedJurisdictions: ["NO", "SE"], latency: { rttMs: { "se-sto1/no-osl1": 9 } } },
);

function workloads() {
  const a = latencyAnnotations(spec);
  return [
    ...Object.entries(a.services).map(([name, annotations]) => ({
      id: `urn:${name}`,
      annotations,
    })),
    { id: "urn:gateway", annotations: a.gateway },
  ];
}

describe("latency annotations", () => {
  it("GIVEN a spec with routes, calls and an RTT override WHEN annotations are made THEN each service carries its own model and the gateway the routes, region and overrides, all as strings", () => {
    const a = latencyAnnotations(spec);
    expect(JSON.parse(a.services.payment[LATENCY_KEY])).toEqual({
      service: "payment",
      region: "se-sto1",
      jurisdiction: "SE",
      processingBudgetMs: 40,
      calls: [],
    });
    expect(JSON.parse(a.gateway[ROUTES_KEY])).toEqual([
      { path: "/orders/", service: "orders", budgetMs: 150 },
      { path: "/inventory/", service: "inventory", budgetMs: 200 },
    ]);
    expect(a.gateway[REGION_KEY]).toBe("no-osl1");
    expect(JSON.parse(a.gateway[RTT_KEY])).toEqual({ "no-osl1/se-sto1": 9 });
    for (const v of [
      ...Object.values(a.services).flatMap(Object.values),
      ...Object.values(a.gateway),
    ])
      expect(typeof v).toBe("string");
  });

  it("GIVEN the annotated workloads WHEN decoded THEN they give the spec's latency model and the ids of the gateway and services", () => {
    const decoded = decodeLatencyModel(workloads());
    expect(decoded.problems).toEqual([]);
    expect(decoded.model).toEqual(latencyModelFromSpec(spec));
    expect(decoded.gatewayId).toBe("urn:gateway");
    expect(decoded.serviceIds.payment).toBe("urn:payment");
  });

  it("GIVEN every workload twice under other ids (one Docker container per replica) WHEN decoded THEN each service counts once", () => {
    const ws = workloads();
    const decoded = decodeLatencyModel([...ws, ...ws.map((w) => ({ ...w, id: `${w.id}-2` }))]);
    expect(decoded.problems).toEqual([]);
    expect(decoded.model!.services.map((s) => s.name)).toEqual(["orders", "inventory", "payment"]);
  });

  it("GIVEN a base RTT table WHEN the workloads are decoded over it THEN the gateway's overrides are layered on top of it", () => {
    const decoded = decodeLatencyModel(workloads(), {
      "no-osl1/se-sto1": 50,
      "de-fra1/no-osl1": 31,
    });
    expect(decoded.model!.rtt.overrides).toEqual({ "no-osl1/se-sto1": 9 });
    expect(decoded.model!.rtt.base).toEqual({ "no-osl1/se-sto1": 50, "de-fra1/no-osl1": 31 });
  });

  it("GIVEN malformed JSON, missing fields, a bad call mode, routes without a region and bad route and RTT entries WHEN decoded THEN each is a problem on its workload, nothing throws", () => {
    const decoded = decodeLatencyModel([
      { id: "u1", annotations: { [LATENCY_KEY]: "{not json" } },
      {
        id: "u2",
        annotations: { [LATENCY_KEY]: JSON.stringify({ service: "x", region: "no-osl1" }) },
      },
      {
        id: "u3",
        annotations: {
          [LATENCY_KEY]: JSON.stringify({
            service: "y",
            region: "no-osl1",
            processingBudgetMs: 5,
            calls: [{ service: "x", mode: "later" }],
          }),
        },
      },
      { id: "gw", annotations: { [ROUTES_KEY]: "[]" } },
      {
        id: "gw2",
        annotations: {
          [ROUTES_KEY]: '[{"path": "/a/"}]',
          [REGION_KEY]: "no-osl1",
          [RTT_KEY]: '{"a/b": "fast"}',
        },
      },
    ]);
    expect(decoded.problems.map((p) => p.id)).toEqual(["u1", "u2", "u3", "gw", "gw2", "gw2"]);
    expect(decoded.problems[2].message).toContain('mode "later"');
    expect(decoded.problems[3].message).toContain(`${REGION_KEY} is missing`);
    expect(decoded.model?.routes).toEqual([]);
  });

  it("GIVEN no gateway workload WHEN decoded THEN there is no model to check and no problem", () => {
    const decoded = decodeLatencyModel(workloads().filter((w) => w.id !== "urn:gateway"));
    expect(decoded.model).toBeUndefined();
    expect(decoded.problems).toEqual([]);
  });
});
