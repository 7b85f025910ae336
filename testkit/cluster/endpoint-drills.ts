/**
 * The three drills of the gateway's per-pod upstreams on the test cluster, one stack, one after
 * another: kill a pod's process under load, freeze one (SIGSTOP: it accepts connections and never
 * answers, the worst kind of slow), and roll the Deployment. Returns the figures; the e2e test
 * asserts on them and the bench writes them to BENCHMARKS.md.
 */
import { type TestCluster, NET, type KubeObject } from ".";
import { DOMAIN, prodClusterConfig } from "./stack-config";
import { upOrExplain } from "./up";
import { withEphemeralStack } from "../stack";
import {
  failureList,
  killFigures,
  p99BySecond,
  percentile,
  podProcess,
  startLoad,
  until,
  type KillFigures,
  type Sample,
} from "../endpoint-drills";

export const DRILL = {
  service: "orders",
  namespace: "fjord-orders",
  replicas: 3,
  /** The route budget: the read timeout of one try and the cap on the whole retry sequence. */
  budgetMs: 1000,
  workers: 6,
  rpsPerWorker: 10,
  freezeSeconds: 8,
  /** nginx's defaults (fjord:gateway.upstream): the breaker window. */
  maxFails: 3,
  failTimeoutSeconds: 10,
} as const;

export interface FreezeFigures {
  requests: number;
  resent: number;
  failures: number;
  /** Failures sent after the first budget window, once the breaker had the chance to trip. */
  failuresAfterTrip: number;
  /** Whole seconds of the freeze in which no request got a 200. */
  secondsWithout200: number;
  p99Of200Ms: number;
  /** Share of the 200s the frozen pod answered, of requests sent over a budget before SIGCONT. */
  frozenShare: number;
}

export interface RolloutFigures {
  requests: number;
  resent: number;
  failures: number;
  /** The first failures: status or client error, seconds from the rollout's start. */
  failed: string[];
  p99Ms: number;
  rolloutSeconds: number;
  /** Address sets the gateway's watcher applied (each one nginx reload) during the rollout. */
  reloads: number;
  podsBefore: string[];
  podsAfter: string[];
}

export interface DrillFigures {
  upSeconds: number;
  kill: KillFigures;
  freeze: FreezeFigures;
  rollout: RolloutFigures;
}

interface Pod extends KubeObject {
  spec: { nodeName?: string };
  status: {
    phase?: string;
    containerStatuses?: Array<{ containerID?: string; ready: boolean }>;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function drillConfig(cluster: TestCluster): Record<string, unknown> {
  const base = prodClusterConfig(cluster);
  return {
    ...base,
    services: [
      {
        name: DRILL.service,
        image: cluster.images.local.sampleService,
        replicas: DRILL.replicas,
        resources: {
          requests: { cpu: "50m", memory: "64Mi" },
          limits: { cpu: "500m", memory: "128Mi" },
        },
        route: { path: `/${DRILL.service}/`, budgetMs: DRILL.budgetMs },
      },
    ],
    gateway: {
      ...(base.gateway as object),
      // One gateway, so one nginx holds the breaker state the drills read.
      replicas: 1,
      // The drills measure failure handling, not the rate limiter.
      rateLimit: { average: 10_000, burst: 10_000 },
    },
    observability: { enabled: false },
  };
}

export async function runEndpointDrills(cluster: TestCluster): Promise<DrillFigures> {
  let figures: DrillFigures | undefined;
  await withEphemeralStack(
    {
      name: "gw-endpoints",
      baseStack: "prod",
      config: drillConfig(cluster),
      secrets: { kubeconfig: cluster.kubeconfig },
    },
    async (e) => {
      const t = Date.now();
      const up = await upOrExplain(cluster, e);
      if (up.summary.result !== "succeeded") throw new Error(`up: ${up.summary.result}`);
      const upSeconds = (Date.now() - t) / 1000;
      figures = { upSeconds, ...(await drills(cluster)) };
    },
  );
  return figures!;
}

async function drills(cluster: TestCluster): Promise<Omit<DrillFigures, "upSeconds">> {
  const pods = () =>
    cluster.api.list<Pod>(
      `/api/v1/namespaces/${DRILL.namespace}/pods?labelSelector=app%3D${DRILL.service}`,
    );
  const [gw] = await cluster.api.list<Pod>(
    "/api/v1/namespaces/fjord-system/pods?labelSelector=app%3Dgateway",
  );
  const at = {
    host: NET.nodeIp(cluster.nodes.indexOf(gw!.spec.nodeName!)),
    port: 443,
    domain: DOMAIN,
  };
  const path = `/${DRILL.service}/drill`;
  const gatewayLog = () =>
    cluster.kubectl(["-n", "fjord-system", "logs", "deploy/gateway", "-c", "nginx"]);
  const load = () => startLoad(at, path, DRILL.workers, DRILL.rpsPerWorker);

  /** Waits until every pod answers through the gateway (each is its own upstream server). */
  const allServing = async () => {
    const names = (await pods()).map((p) => p.metadata.name).sort();
    const probe = load();
    try {
      await until(
        `all of ${names.join(", ")} to serve through the gateway`,
        () => {
          const recent = new Set(
            probe.samples.filter((s) => s.t > Date.now() - 2000).map((s) => s.pod),
          );
          return names.every((n) => recent.has(n)) && names.length === DRILL.replicas
            ? true
            : undefined;
        },
        90_000,
      );
    } finally {
      await probe.stop();
    }
  };
  const mainProcess = async (name: string) => {
    const pod = (await pods()).find((p) => p.metadata.name === name)!;
    return podProcess(pod.status.containerStatuses![0]!.containerID!, "server.js");
  };

  // (a) kill: SIGKILL a pod's process (a crash); kubelet restarts it in the same pod.
  await allServing();
  const victim = (await pods())[0]!.metadata.name;
  let l = load();
  await sleep(5000);
  const killAt = Date.now();
  process.kill(await mainProcess(victim), "SIGKILL");
  await until(
    `${victim} to serve again after the kill`,
    () => (l.samples.some((s) => s.t > killAt && s.pod === victim) ? true : undefined),
    90_000,
  );
  // Past the breaker window in any case, so the figures cover the time after it.
  await sleep(Math.max(3000, killAt + DRILL.failTimeoutSeconds * 1000 + 3000 - Date.now()));
  const kill = killFigures(await l.stop(), killAt, victim, DRILL.failTimeoutSeconds);

  // (b) freeze: SIGSTOP a pod's process for a while, then let it go on.
  await allServing();
  const frozen = (await pods())[1]!.metadata.name;
  const pid = await mainProcess(frozen);
  l = load();
  await sleep(3000);
  const freezeAt = Date.now();
  process.kill(pid, "SIGSTOP");
  let freezeSamples: Sample[];
  try {
    await sleep(DRILL.freezeSeconds * 1000);
  } finally {
    process.kill(pid, "SIGCONT");
  }
  const thawAt = Date.now();
  await sleep(DRILL.budgetMs + 500);
  freezeSamples = (await l.stop()).filter((s) => s.t >= freezeAt && s.t < thawAt);
  const ok = freezeSamples.filter((s) => s.status === 200);
  const perSecond = p99BySecond(ok, freezeAt, thawAt);
  const freeze: FreezeFigures = {
    requests: freezeSamples.length,
    resent: freezeSamples.filter((s) => s.resent).length,
    failures: freezeSamples.length - ok.length,
    failuresAfterTrip: freezeSamples.filter(
      (s) => s.status !== 200 && s.t > freezeAt + DRILL.budgetMs + 1000,
    ).length,
    secondsWithout200: perSecond.filter((p) => !Number.isFinite(p)).length,
    p99Of200Ms: percentile(
      ok.map((s) => s.ms),
      99,
    ),
    // Only requests that the freeze outlasted: one sent within a budget of SIGCONT may be answered.
    frozenShare:
      ok.filter((s) => s.pod === frozen && s.t < thawAt - DRILL.budgetMs).length /
      Math.max(1, ok.length),
  };
  freezeSamples = [];

  // (c) rolling update: a new pod template, replaced one pod at a time, under the same load.
  await allServing();
  const podsBefore = (await pods()).map((p) => p.metadata.name).sort();
  const reloadsBefore = (await gatewayLog())
    .split("\n")
    .filter((x) => x.includes("applied")).length;
  l = load();
  await sleep(3000);
  const t0 = Date.now();
  await cluster.kubectl([
    "-n",
    DRILL.namespace,
    "rollout",
    "restart",
    `deployment/${DRILL.service}`,
  ]);
  await cluster.kubectl(
    ["-n", DRILL.namespace, "rollout", "status", `deployment/${DRILL.service}`, "--timeout=240s"],
    250_000,
  );
  const rolloutSeconds = (Date.now() - t0) / 1000;
  await sleep(5000);
  const rolled = await l.stop();
  const reloads =
    (await gatewayLog()).split("\n").filter((x) => x.includes("applied")).length - reloadsBefore;
  const rollout: RolloutFigures = {
    requests: rolled.length,
    resent: rolled.filter((s) => s.resent).length,
    failures: rolled.filter((s) => s.status !== 200).length,
    failed: failureList(rolled, t0),
    p99Ms: percentile(
      rolled.map((s) => s.ms),
      99,
    ),
    rolloutSeconds,
    reloads,
    podsBefore,
    podsAfter: (await pods())
      .filter((p) => !p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name)
      .sort(),
  };
  return { kill, freeze, rollout };
}
