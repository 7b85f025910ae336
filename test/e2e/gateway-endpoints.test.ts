/**
 * The gateway's per-pod upstreams on a real Kubernetes cluster (testkit/cluster): the prod program
 * with one service of three pods behind the nginx gateway, a bounded load from loopback, and the
 * three faults of issue #16 (testkit/cluster/endpoint-drills.ts). `npm run bench -- endpoints`
 * runs the same drills and writes their figures to BENCHMARKS.md.
 *
 * Needs root and `bash testkit/tools/kube.sh` (see testkit/cluster/index.ts for the rest).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type TestCluster } from "../../testkit/cluster";
import { DRILL, runEndpointDrills, type DrillFigures } from "../../testkit/cluster/endpoint-drills";

let cluster: TestCluster;
let figures: DrillFigures;

beforeAll(async () => {
  cluster = await startTestCluster({ nodes: 3 });
  // GIVEN the prod program up with orders (3 pods, one per node) behind one nginx gateway
  // WHEN each drill runs under 60 requests/s from 6 keep-alive clients
  figures = await runEndpointDrills(cluster);
  console.log("[gateway-endpoints] figures", JSON.stringify(figures));
});

afterAll(async () => {
  await cluster?.stop();
});

describe("per-pod upstreams on a real cluster", () => {
  it("GIVEN the prod program with orders' 3 pods behind nginx on a 3-node cluster, under load WHEN a pod's process is killed THEN no request sent after the kill fails, p99 after the breaker window is within budget, and the pod answers again", () => {
    const k = figures.kill;
    // THEN no request sent after the kill failed (the retry went to another pod)
    expect(k.failuresAfterKill, JSON.stringify(k)).toBe(0);
    expect(k.requests).toBeGreaterThan(300);
    // ... and once the breaker window had passed no request waited out a timeout (the timing
    // itself is a benchmark figure: npm run bench -- endpoints)
    expect(k.p99AfterWindowMs, JSON.stringify(k)).toBeLessThan(DRILL.budgetMs);
    // ... and the restarted pod answered again
    expect(Number.isFinite(k.backSeconds), JSON.stringify(k)).toBe(true);
  });

  it("GIVEN the prod program with orders' 3 pods behind nginx on a 3-node cluster, under load WHEN a pod's process is frozen THEN every second has answers, none from the frozen pod, and after its first timeouts at most one failure per fail_timeout window", () => {
    const f = figures.freeze;
    // THEN every second of the freeze had answers from the other pods, never from the frozen one
    expect(f.secondsWithout200, JSON.stringify(f)).toBe(0);
    expect(f.frozenShare).toBe(0);
    // ... and once max_fails was reached, at most one probe per fail_timeout window still failed
    const windows = Math.ceil(DRILL.freezeSeconds / DRILL.failTimeoutSeconds);
    expect(f.failuresAfterTrip, JSON.stringify(f)).toBeLessThanOrEqual(windows);
    expect(f.failures, "the first requests to the frozen pod time out").toBeGreaterThan(0);
  });

  it("GIVEN the prod program with orders' 3 pods behind nginx on a 3-node cluster, under load WHEN the Deployment is rolled THEN no request fails, every pod is replaced, and nginx reloads at least once and at most twice per pod", () => {
    const r = figures.rollout;
    expect(r.failures, JSON.stringify(r)).toBe(0);
    expect(r.requests).toBeGreaterThan(300);
    // ... every pod was replaced
    expect(r.podsAfter.filter((p) => r.podsBefore.includes(p))).toEqual([]);
    expect(r.podsAfter).toHaveLength(DRILL.replicas);
    // ... and the gateway reloaded at most once per pod leaving and once per pod arriving
    expect(r.reloads, JSON.stringify(r)).toBeGreaterThan(0);
    expect(r.reloads).toBeLessThanOrEqual(2 * DRILL.replicas);
  });
});
