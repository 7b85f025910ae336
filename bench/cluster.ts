/**
 * Prod on a real Kubernetes cluster (testkit/cluster): the test cluster's start time, cold
 * (an empty containerd store on every node, so every image is imported and unpacked) and warm (the
 * store kept in the cache), and the wall time of the prod program's `up` and of a no-change
 * `preview` through the real provider for 3 and for 30 services.
 */
import { findLokiBinary } from "../testkit/images";
import { startTestCluster, type TestCluster } from "../testkit/cluster";
import { prodClusterConfig } from "../testkit/cluster/stack-config";
import { withEphemeralStack } from "../testkit/stack";
import { fmt, table, type Ratio, type SectionResult } from "./report";

const SIZES = (process.env.FJORD_BENCH_CLUSTER_SIZES ?? "3,30").split(",").map(Number);

/**
 * N services of one shape, so that only the count differs between sizes: one replica, a route, no
 * database (30 databases would measure the disk of a 2-core machine, not fjord or the provider).
 */
function services(cluster: TestCluster, n: number) {
  return Array.from({ length: n }, (_, i) => {
    const name = `svc${String(i + 1).padStart(2, "0")}`;
    return {
      name,
      image: cluster.images.local.sampleService,
      replicas: 1,
      resources: {
        requests: { cpu: "10m", memory: "32Mi" },
        limits: { cpu: "200m", memory: "96Mi" },
      },
      route: { path: `/${name}/`, budgetMs: 5000 },
    };
  });
}

interface SizeResult {
  services: number;
  resources: number;
  upS: number;
  previewS: number;
  destroyS: number;
}

async function measureSize(cluster: TestCluster, n: number): Promise<SizeResult> {
  const config = { ...prodClusterConfig(cluster), services: services(cluster, n) };
  let result: Omit<SizeResult, "destroyS"> | undefined;
  let destroyStart = 0;
  await withEphemeralStack(
    {
      name: `bench-k8s-${n}`,
      baseStack: "prod",
      config,
      secrets: { kubeconfig: cluster.kubeconfig },
    },
    async (e) => {
      let t = Date.now();
      const up = await e.stack.up();
      const upS = (Date.now() - t) / 1000;
      t = Date.now();
      const preview = await e.stack.preview();
      const previewS = (Date.now() - t) / 1000;
      if (Object.entries(preview.changeSummary).some(([op, c]) => op !== "same" && Number(c) > 0))
        throw new Error(
          `the no-change preview for ${n} services proposed changes: ${JSON.stringify(preview.changeSummary)}`,
        );
      result = { services: n, resources: up.summary.resourceChanges?.create ?? 0, upS, previewS };
      destroyStart = Date.now();
    },
  );
  return { ...result!, destroyS: (Date.now() - destroyStart) / 1000 };
}

export async function benchCluster(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  const binaries = { loki: findLokiBinary() };
  // Cold: a fresh, empty store per node, kept in the run's temp dir and dropped with it.
  const cold = await startTestCluster({ nodes: 3, binaries, imageStore: "temp" });
  const coldS = cold.startSeconds;
  const coldPhases = cold.phases;
  await cold.stop();
  // The first start on the cached store fills it (if an image changed); the second is the warm one.
  await (await startTestCluster({ nodes: 3, binaries })).stop();
  const cluster = await startTestCluster({ nodes: 3, binaries });
  const warmS = cluster.startSeconds;
  const warmPhases = cluster.phases;
  const sizes: SizeResult[] = [];
  try {
    for (const n of SIZES) {
      const r = await measureSize(cluster, n);
      sizes.push(r);
      console.log(
        `[bench cluster] ${n} services: up ${fmt(r.upS)} s, no-change preview ${fmt(r.previewS)} s`,
      );
    }
  } finally {
    await cluster.stop();
  }
  const [small, large] = [sizes[0]!, sizes[sizes.length - 1]!];
  const ratios: Ratio[] = [
    {
      name: "test cluster start, warm / cold",
      value: warmS / coldS,
      note: `${fmt(warmS)} s warm, ${fmt(coldS)} s cold`,
    },
    {
      name: `prod up, ${large.services} / ${small.services} services`,
      value: large.upS / small.upS,
      note: `${fmt(small.upS)} s and ${fmt(large.upS)} s; every rollout awaited by the provider`,
    },
    {
      name: `no-change preview, ${large.services} / ${small.services} services`,
      value: large.previewS / small.previewS,
      note: `${fmt(small.previewS)} s and ${fmt(large.previewS)} s`,
    },
  ];
  const phaseRow = (label: string, total: number, p: Record<string, number>) => [
    label,
    total,
    p.network ?? 0,
    p.controlPlane ?? 0,
    p.images ?? 0,
    p.nodes ?? 0,
    p.addons ?? 0,
  ];
  const body = [
    "### Method",
    "",
    "- The test cluster of `testkit/cluster` (etcd, kube-apiserver, kube-controller-manager, kube-scheduler; three nodes, each a network namespace with containerd, kubelet, kube-proxy and kube-router), started by this process and stopped after. **Cold**: every node's containerd store is empty, so every image is imported and unpacked (the Go binaries and the image root filesystems are already built: their cold build times are in engine/TIMINGS.md). **Warm**: the stores kept in `~/.cache/fjord/test-cluster/` from an earlier start, as in CI after its first run.",
    "- **up / preview**: the prod program in kubeconfig mode through the real engine and the real pulumi-kubernetes provider (v4.25.0) on the warm cluster, an ephemeral stack per size, destroyed after. Each size has N services of one shape (1 replica, a route, no database) plus the fixed platform (gateway, Prometheus, Alertmanager, Loki, node exporter). `up` includes the provider awaiting every rollout; the preview runs right after and must propose nothing.",
    "",
    table(
      ["start", "total s", "network s", "control plane s", "images s", "nodes s", "addons s"],
      [phaseRow("cold", coldS, coldPhases), phaseRow("warm", warmS, warmPhases)],
    ),
    "",
    table(
      ["services", "resources created", "up s", "no-change preview s", "destroy s"],
      sizes.map((r) => [r.services, r.resources, r.upS, r.previewS, r.destroyS]),
    ),
    "",
    "```",
    "npm run bench -- cluster   # FJORD_BENCH_CLUSTER_SIZES=3,30 (default)",
    "```",
  ].join("\n");
  return { section: "cluster", title: "Prod on a real Kubernetes cluster", ratios, body };
}
