/**
 * End to end without an engine: the prod stack file → Platform under mocks → the Deployments'
 * annotations → the latency policies, so the writer and the reader cannot drift apart.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKUP_KEYS, setupMocks, stackConfig } from "../../../testkit/mocks";
import { parseSpec } from "../../../components/config";
import {
  LATENCY_KEY,
  ROUTES_KEY,
  analyzeRoutes,
  latencyModelFromSpec,
} from "../../../components/plan/latency";
import { latencyCallResidency, latencyRouteBudget } from "../../../policies/latency";
import { runStackPolicy } from "./run-policy";

const rec = await setupMocks({ stack: "prod" });
const { Platform } = await import("../../../components/kubernetes");

const decode = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
const values = Object.fromEntries(
  Object.entries(stackConfig("prod")).map(([k, v]) => [k.slice("fjord:".length), decode(v)]),
);
const spec = parseSpec({ stack: "prod", values, secrets: {}, dryRun: true }).spec;

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

beforeAll(async () => {
  new Platform("fjord", { spec, backupKeys: TEST_BACKUP_KEYS });
  await rec.settle();
});

describe("latency annotations on the prod Platform", () => {
  it("GIVEN the prod Platform under mocks WHEN its Deployments are read THEN every service carries its latency model and the gateway its routes", () => {
    for (const s of spec.services) {
      const ann = rec.get(DEPLOYMENT, `${s.name}-deployment`).inputs.metadata.annotations;
      expect(JSON.parse(ann[LATENCY_KEY])).toMatchObject({ service: s.name, region: s.region });
    }
    const gw = rec.get(DEPLOYMENT, "fjord-gateway-deployment").inputs.metadata.annotations;
    expect(JSON.parse(gw[ROUTES_KEY]).map((r: { path: string }) => r.path)).toEqual([
      "/orders/",
      "/inventory/",
    ]);
  });

  it("GIVEN the prod Platform's Deployments WHEN the latency policies run THEN they pass as the analysis of the spec does, and fail /orders/ once the pack's RTT table is tightened", async () => {
    const resources = rec
      .ofType(DEPLOYMENT)
      .map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
    expect(analyzeRoutes(latencyModelFromSpec(spec)).every((r) => !r.overBudget)).toBe(true);
    expect(await runStackPolicy(latencyRouteBudget, resources)).toEqual([]);
    expect(await runStackPolicy(latencyCallResidency, resources)).toEqual([]);
    // Tighten the pack's table until /orders/ (2 hops + 65 ms processing) no longer fits 200 ms.
    const slow = await runStackPolicy(latencyRouteBudget, resources, {
      rttMs: { "no-osl1/no-osl1": 70 },
    });
    expect(slow).toEqual([
      expect.objectContaining({
        message: expect.stringContaining("Route /orders/ takes up to 205 ms"),
      }),
    ]);
  });
});
