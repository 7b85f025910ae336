/**
 * The gateway's per-pod upstreams under faults, on the real test cluster: the drills of
 * test/e2e/gateway-endpoints.test.ts (testkit/cluster/endpoint-drills.ts), with their figures.
 */
import { startTestCluster } from "../testkit/cluster";
import { DRILL, runEndpointDrills } from "../testkit/cluster/endpoint-drills";
import { fmt, table, type Ratio, type SectionResult } from "./report";

export async function benchEndpoints(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  const cluster = await startTestCluster({ nodes: 3 });
  let f;
  try {
    f = await runEndpointDrills(cluster);
  } finally {
    await cluster.stop();
  }
  console.log("[bench endpoints] figures", JSON.stringify(f));
  const { kill, freeze, rollout } = f;
  const window = DRILL.failTimeoutSeconds;
  const ratios: Ratio[] = [
    {
      name: "kill one of 3 pods: requests sent after the kill that failed",
      value: kill.failuresAfterKill,
      unit: "requests",
      goalMax: 1,
      note: `${kill.failures} of ${kill.requests} failed in all (requests in flight at the kill are retried on another pod); ${kill.resent} sent again by the client after a reload closed its idle kept-alive connection${kill.failed.length ? `; failed: ${kill.failed.join(", ")}` : ""}`,
    },
    {
      name: "kill: p99 recovery time / breaker window (fail_timeout)",
      value: kill.recoverySeconds / window,
      goalMax: 1,
      note: `p99 back under 2× the ${fmt(kill.baselineP99Ms, 0)} ms baseline after ${kill.recoverySeconds} s (worst second ${fmt(kill.worstP99Ms, 0)} ms, ${fmt(kill.p99AfterWindowMs, 0)} ms after the window); the pod served again ${fmt(kill.backSeconds, 1)} s after the kill (p99 of the 3 s from its return ${fmt(kill.returnP99Ms, 0)} ms)`,
    },
    {
      name: "frozen pod: seconds without a 200 from the other pods",
      value: freeze.secondsWithout200,
      unit: "s",
      goalMax: 1,
      note: `${freeze.failures} of ${freeze.requests} requests timed out at the ${DRILL.budgetMs} ms budget, ${freeze.failuresAfterTrip} after the breaker tripped (one probe per ${window} s window); p99 of the 200s ${fmt(freeze.p99Of200Ms, 0)} ms`,
    },
    {
      name: "rolling update of 3 pods under load: failed requests",
      value: rollout.failures,
      unit: "requests",
      goalMax: 1,
      note: `${rollout.requests} requests over a ${fmt(rollout.rolloutSeconds, 1)} s rollout; p99 ${fmt(rollout.p99Ms, 0)} ms; ${rollout.resent} sent again by the client after a reload closed its idle kept-alive connection (before any answer)${rollout.failed.length ? `; failed: ${rollout.failed.join(", ")}` : ""}`,
    },
    {
      name: "rolling update: gateway reloads per replaced pod",
      value: rollout.reloads / DRILL.replicas,
      goalMax: 2.01,
      note: `${rollout.reloads} reloads for ${DRILL.replicas} pods (one when a pod leaves, one when its successor is ready, fewer when they fall in one settle period)`,
    },
  ];
  const body = [
    "### Method",
    "",
    `- The test cluster of \`testkit/cluster\` (three kubelet nodes, CoreDNS), the prod program through the real engine and provider, with one service of ${DRILL.replicas} sample-service pods (one per node) behind one nginx gateway (Debian's 1.22). Each pod is its own upstream server: the gateway's watcher (\`endpoints.sh\`, rendered from the plan) resolves the service's headless Service every 2 s and reloads nginx once a new address set has held for 2 polls.`,
    `- Load: ${DRILL.workers} HTTPS keep-alive clients on the host, each at most ${DRILL.rpsPerWorker} requests/s (${DRILL.workers * DRILL.rpsPerWorker}/s in all), GET through the gateway; like browsers and Go's client, a request whose kept-alive connection is closed under it before any answer is sent once more on a new connection (Node's \`req.reusedSocket\` pattern), and counted. Route budget ${DRILL.budgetMs} ms; nginx's defaults max_fails=${DRILL.maxFails}, fail_timeout=${window} s, 2 tries per request.`,
    "- **kill**: SIGKILL of one pod's process after 5 s of load (a crash; kubelet restarts it in the same pod). **freeze**: SIGSTOP of another pod's process for " +
      `${DRILL.freezeSeconds} s (it accepts connections and never answers), then SIGCONT. **rolling update**: \`kubectl rollout restart\` (maxUnavailable 1, maxSurge 0), load from 3 s before to 5 s after.`,
    "",
    table(
      ["drill", "requests", "failed", "p99 ms", "other"],
      [
        [
          "kill",
          kill.requests,
          kill.failures,
          kill.worstP99Ms,
          `baseline p99 ${fmt(kill.baselineP99Ms, 0)} ms, recovered in ${kill.recoverySeconds} s, pod back after ${fmt(kill.backSeconds, 1)} s`,
        ],
        [
          "freeze",
          freeze.requests,
          freeze.failures,
          freeze.p99Of200Ms,
          `${freeze.failuresAfterTrip} failed after the trip; frozen pod's share of 200s ${fmt(freeze.frozenShare * 100, 0)} %`,
        ],
        [
          "rolling update",
          rollout.requests,
          rollout.failures,
          rollout.p99Ms,
          `${fmt(rollout.rolloutSeconds, 1)} s rollout, ${rollout.reloads} reloads`,
        ],
      ],
    ),
    "",
    "```",
    "npm run bench -- endpoints",
    "```",
  ].join("\n");
  return {
    section: "endpoints",
    title: "Per-pod upstreams under faults (kill, freeze, rolling update)",
    ratios,
    body,
  };
}
