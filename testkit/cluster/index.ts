/**
 * A real Kubernetes test cluster, started by a test and torn down after it (a test harness, not a
 * way to run fjord): etcd, kube-apiserver, kube-controller-manager and kube-scheduler, and two or
 * more nodes, each a network namespace with its own containerd, kubelet, kube-proxy and kube-router
 * NetworkPolicy controller. Certificates are made per run; images are imported, never pulled.
 *
 * Needs root (namespaces, mounts, cgroups, iptables), cgroups (v1 or v2), br_netfilter, and the
 * binaries of `bash testkit/tools/kube.sh`; each missing piece fails with one message saying what to do.
 */
import { execFileSync, spawnSync } from "child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "fs";
import { homedir, tmpdir } from "os";
import * as path from "path";
import { ensurePackages } from "../apt";
import { findPrometheus3Binary } from "../images";
import {
  isRoot,
  makeTempDir,
  removeDir,
  run,
  startProcess,
  tail,
  waitUntilReady,
  type ServerProcess,
} from "../proc";
import { KubeApi, waitFor, type KubeObject } from "./api";
import { coreDnsObjects, reconcileOnce, storageObjects } from "./addons";
import { diagnose } from "./diagnose";
import { kubeBinary, startControlPlane } from "./control-plane";
import { importImages, prepareClusterImages, type ClusterImages } from "./images";
import { createClusterNetwork, inNode, NET, removeClusterNetwork } from "./net";
import { startContainerd, startNodeAgents, startPolicyAgent } from "./node";
import { createClusterPki } from "./pki";
import { normalizeRef } from "../oci";

export { NET } from "./net";
export type { KubeApi, KubeObject } from "./api";

export interface TestCluster {
  api: KubeApi;
  /** An admin kubeconfig with everything inlined: what `fjord:kubeconfig` is given. */
  kubeconfig: string;
  /** Tags an imported image under another name on every node (a "new release" without a registry). */
  retag(from: string, to: string): Promise<void>;
  /**
   * What a person would look at when a rollout hangs: every pod that is not Ready, with its
   * containers' states and the last lines each one logged (the previous run's when it restarted).
   */
  diagnose(): Promise<string>;
  /** `kubectl port-forward` to a pod's port; answers the local port on 127.0.0.1. */
  portForward(
    namespace: string,
    pod: string,
    port: number,
  ): Promise<{ port: number; stop(): Promise<void> }>;
  /** Runs the Go-built kubectl as the admin (exec, port-forward: what a platform engineer uses). */
  kubectl(args: string[], timeoutMs?: number): Promise<string>;
  server: string;
  nodes: string[];
  images: ClusterImages;
  /** Seconds from start to a cluster with every node Ready and DNS answering. */
  startSeconds: number;
  /** Per phase, in seconds (network, control plane, images, nodes, addons). */
  phases: Record<string, number>;
  /** Images imported into the nodes' containerd stores (0 on a warm start). */
  imagesImported: number;
  /** The tail of a component's log (`kube-apiserver`, `node1/kubelet`, ...), for failure messages. */
  log(name: string, lines?: number): string;
  stop(): Promise<void>;
}

const LOCK = "/run/fjord-test-cluster.pid";
const CACHE = process.env.FJORD_CACHE ?? path.join(homedir(), ".cache/fjord");

/**
 * Node `i`'s containerd root (content, snapshots, metadata), kept across runs in the cache so a warm
 * start imports nothing; `imageStore: "temp"` keeps it in the run's temp dir instead (a cold start,
 * as the benchmark measures).
 */
let storeDir: (i: number) => string;

/** One test cluster per machine: the network plan is fixed. A stale lock (dead pid) is taken over. */
function takeLock(): void {
  if (existsSync(LOCK)) {
    const pid = Number(readFileSync(LOCK, "utf8"));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = pid !== process.pid;
    } catch {
      alive = false;
    }
    if (alive)
      throw new Error(
        `another fjord test cluster runs on this machine (pid ${pid}); run the cluster tests one at a time`,
      );
  }
  writeFileSync(LOCK, String(process.pid));
}

/** Prometheus 3 from testkit/tools/prometheus.sh, or one message saying how to build it. */
function prometheus3(): string {
  const bin = findPrometheus3Binary();
  if (!bin)
    throw new Error(
      "the test cluster's Prometheus needs kubernetes_sd (Debian's 2.42 has none): run 'bash testkit/tools/prometheus.sh' (builds Prometheus 3 from Go modules)",
    );
  return bin;
}

function preflight(): void {
  if (!isRoot())
    throw new Error(
      "the Kubernetes test cluster needs root (network namespaces, mounts, cgroups, iptables); run the e2e tests as root",
    );
  if (!existsSync("/sys/fs/cgroup/memory") && !existsSync("/sys/fs/cgroup/cgroup.controllers"))
    throw new Error(
      "the Kubernetes test cluster needs cgroups (v1 with the memory controller, or v2) mounted at /sys/fs/cgroup",
    );
  ensurePackages({
    containerd: "containerd",
    ctr: "containerd",
    runc: "runc",
    "/usr/lib/cni/bridge": "containernetworking-plugins",
    iptables: "iptables",
    ipset: "ipset",
    conntrack: "conntrack",
    nsenter: "util-linux",
    tar: "tar",
  });
  // A pod that mounts a host path with HostToContainer propagation (node-exporter's "/") needs "/"
  // to be a shared or slave mount. systemd makes it shared at boot; some containers and VMs do not.
  spawnSync("mount", ["--make-rshared", "/"], { stdio: "ignore" });
}

/** Mounts under `dir` (kubelet volumes, container root filesystems), deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .map((m) => m.replace(/\\040/g, " "))
    .filter((m) => m === dir || m.startsWith(dir + "/"))
    .sort((a, b) => b.length - a.length);
}

/** Removes a cgroup subtree in every v1 hierarchy (or v2), children first. */
function removeCgroups(name: string): void {
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((c) => path.join("/sys/fs/cgroup", c));
  const rm = (d: string): void => {
    if (!existsSync(d)) return;
    // Containers of a killed run are still in here; their processes carry nothing to find them by.
    for (const pid of readFileSync(path.join(d, "cgroup.procs"), "utf8")
      .split("\n")
      .filter(Boolean))
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone already
      }
    for (const e of readdirSync(d, { withFileTypes: true }))
      if (e.isDirectory()) rm(path.join(d, e.name));
    for (let attempt = 0; attempt < 20 && existsSync(d); attempt++) {
      try {
        rmdirSync(d);
      } catch {
        // killed processes take a moment to leave the cgroup
        spawnSync("sleep", ["0.1"]);
      }
    }
  };
  for (const r of roots) rm(path.join(r, name));
}

/**
 * What a killed run (SIGKILL, a CI timeout) left: its processes (every one has its temp dir in its
 * arguments), mounts, cgroups and network. Runs only once the lock shows no live owner.
 */
function removeStaleCluster(): void {
  spawnSync("pkill", ["-9", "-f", `${tmpdir()}/fjord-cluster-`], { stdio: "ignore" });
  for (const m of readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? ""))
    if (m.startsWith(`${tmpdir()}/fjord-cluster-`))
      spawnSync("umount", ["-l", m], { stdio: "ignore" });
  for (let i = 0; i < 8; i++) removeCgroups(`fjord-test-${NET.nodeName(i)}`);
  removeClusterNetwork();
  // The lock is ours, so every cluster directory left in tmp is from a run that was killed.
  for (const d of readdirSync(tmpdir()))
    if (d.startsWith("fjord-cluster-")) removeDir(path.join(tmpdir(), d));
}

export async function startTestCluster(
  opts: {
    nodes?: number;
    binaries?: { traefik?: string; loki?: string; s3?: string };
    imageStore?: "cache" | "temp";
  } = {},
): Promise<TestCluster> {
  preflight();
  takeLock();
  removeStaleCluster();
  const count = opts.nodes ?? 3;
  const t0 = Date.now();
  const phases: Record<string, number> = {};
  let mark = Date.now();
  const phase = (name: string) => {
    phases[name] = (Date.now() - mark) / 1000;
    mark = Date.now();
  };
  const dir = makeTempDir("fjord-cluster-");
  storeDir = (i) =>
    opts.imageStore === "temp"
      ? path.join(dir, NET.nodeName(i), "containerd-root")
      : path.join(CACHE, "test-cluster", `containerd-${NET.nodeName(i)}`);
  let imagesImported = 0;
  const netnsBefore = new Set(existsSync("/run/netns") ? readdirSync("/run/netns") : []);
  const procs: ServerProcess[] = [];
  const containerds: Array<{ sock: string; proc: ServerProcess }> = [];
  let timer: NodeJS.Timeout | undefined;
  let api: KubeApi | undefined;

  const stop = async () => {
    if (timer) clearInterval(timer);
    const errors: string[] = [];
    const step = async (what: string, fn: () => unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(`${what}: ${(err as Error).message}`);
      }
    };
    // Agents first (kubelet would restart what is killed under it), then every container while
    // containerd still answers, then containerd and its shims, then the control plane in reverse
    // (the API server before etcd), then what they left: mounts, pod namespaces, cgroups.
    const ctrds = new Set(containerds.map((c) => c.proc));
    const agents = procs.filter((p) => !controlPlane.includes(p) && !ctrds.has(p));
    await step("agents", () => Promise.all(agents.map((p) => p.stop("SIGTERM", 10_000))));
    for (const c of containerds)
      await step(`containers of ${c.sock}`, () =>
        spawnSync(
          "sh",
          [
            "-c",
            `for t in $(ctr -a ${c.sock} -n k8s.io task ls -q); do ctr -a ${c.sock} -n k8s.io task kill -a -s SIGKILL $t; done; sleep 1`,
          ],
          { stdio: "ignore" },
        ),
      );
    await step("containerd", () =>
      Promise.all(containerds.map((c) => c.proc.stop("SIGTERM", 10_000))),
    );
    for (const c of containerds)
      spawnSync("pkill", ["-9", "-f", `containerd-shim-runc-v2.*${c.sock}`], { stdio: "ignore" });
    await step("control plane", async () => {
      for (const p of [...controlPlane].reverse()) await p.stop("SIGTERM", 10_000);
    });
    api?.close();
    await step("mounts", () => {
      // kubelet makes its root dir a shared bind mount of itself, and mounts stack: repeat until none.
      for (let pass = 0; pass < 5 && mountsUnder(dir).length > 0; pass++)
        for (const m of mountsUnder(dir)) spawnSync("umount", ["-l", m], { stdio: "ignore" });
      const left = mountsUnder(dir);
      if (left.length) throw new Error(`still mounted: ${left.join(", ")}`);
    });
    for (const ns of existsSync("/run/netns") ? readdirSync("/run/netns") : [])
      if (ns.startsWith("cni-") && !netnsBefore.has(ns))
        spawnSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    for (let i = 0; i < count; i++) removeCgroups(`fjord-test-${NET.nodeName(i)}`);
    await step("network", () => removeClusterNetwork());
    await step("files", () => removeDir(dir));
    rmSync(LOCK, { force: true });
    if (errors.length)
      throw new Error(`the test cluster did not stop cleanly:\n  ${errors.join("\n  ")}`);
  };

  const controlPlane: ServerProcess[] = [];

  try {
    createClusterNetwork(count);
    phase("network");
    const pki = createClusterPki(path.join(dir, "pki"), [NET.hubIp, NET.apiServiceIp, "127.0.0.1"]);
    const cp = await startControlPlane(dir, pki);
    controlPlane.push(...cp.procs);
    procs.push(...cp.procs);
    api = cp.api;
    const adminConfig = pki.kubeconfig("admin", cp.admin, cp.server);
    phase("controlPlane");

    const nodeDirs = Array.from({ length: count }, (_, i) => path.join(dir, NET.nodeName(i)));
    nodeDirs.forEach((d) => mkdirSync(d, { recursive: true }));
    const [images] = await Promise.all([
      prepareClusterImages({ ...opts.binaries, prometheus3: prometheus3() }),
      ...nodeDirs.map(async (d, i) => containerds.push(await startContainerd(i, d, storeDir(i)))),
    ]);
    containerds.forEach((c) => procs.push(c.proc));
    const imported = await Promise.all(containerds.map((c) => importImages(images.all, c.sock)));
    imagesImported = imported.reduce((a, b) => a + b, 0);
    phase("images");

    nodeDirs.forEach((d, i) => {
      const c = containerds.find((x) => x.sock === path.join(d, "containerd.sock"))!;
      procs.push(...startNodeAgents(i, d, c.sock, pki, cp.server));
    });
    const nodes = nodeDirs.map((_, i) => NET.nodeName(i));
    for (const [i, name] of nodes.entries()) {
      await waitFor(`node ${name} to register`, () => api!.find(`/api/v1/nodes/${name}`), 90_000);
      // The pod subnet is planned here (net.ts routes it), so the node is told rather than asked.
      await api.mergePatch(`/api/v1/nodes/${name}`, {
        spec: { podCIDR: NET.podCidr(i), podCIDRs: [NET.podCidr(i)] },
      });
      procs.push(startPolicyAgent(i, nodeDirs[i]!, pki, cp.server));
    }
    for (const name of nodes)
      await waitFor(
        `node ${name} to be Ready`,
        async () => {
          const n = await api!.get<
            KubeObject & { status: { conditions: Array<{ type: string; status: string }> } }
          >(`/api/v1/nodes/${name}`);
          return (
            n.status.conditions.some((c) => c.type === "Ready" && c.status === "True") || undefined
          );
        },
        120_000,
      );
    phase("nodes");

    for (const obj of [...coreDnsObjects(images.coredns), ...storageObjects(nodeDirs)])
      await api.apply(obj);
    timer = setInterval(() => void reconcileOnce(api!, count).catch(() => undefined), 1000);
    await waitFor(
      "CoreDNS to be ready",
      async () => {
        const d = await api!.get<KubeObject & { status?: { readyReplicas?: number } }>(
          "/apis/apps/v1/namespaces/kube-system/deployments/coredns",
        );
        return (d.status?.readyReplicas ?? 0) >= 1 || undefined;
      },
      180_000,
    );
    // A NetworkPolicy the cluster silently ignores would let an isolation test pass for the wrong
    // reason: wait until every node's policy controller has put its chains in place.
    for (const [i, name] of nodes.entries())
      await waitFor(
        `kube-router on ${name} to install its NetworkPolicy chains`,
        () =>
          Promise.resolve(
            inNode(i, "iptables", ["-S"]).includes("KUBE-ROUTER-FORWARD") || undefined,
          ),
        60_000,
      );
    const dead = procs.filter((p) => !p.running());
    if (dead.length)
      throw new Error(
        `cluster processes exited during start:\n${dead.map((p) => `  ${p.logPath}:\n${tail(p.logPath)}`).join("\n")}`,
      );
    phase("addons");

    return {
      api,
      kubeconfig: pki.inlineKubeconfig(cp.admin, cp.server),
      retag: async (from, to) => {
        for (const c of containerds)
          await run("ctr", [
            "-a",
            c.sock,
            "-n",
            "k8s.io",
            "images",
            "tag",
            "--force",
            normalizeRef(from),
            normalizeRef(to),
          ]);
      },
      diagnose: () =>
        diagnose(api!, (args) =>
          run(kubeBinary("kubectl"), ["--kubeconfig", adminConfig, ...args]),
        ),
      portForward: async (namespace, pod, port) => {
        const log = path.join(dir, `port-forward-${pod}-${port}-${Date.now()}.log`);
        // prettier-ignore
        const p = startProcess(kubeBinary("kubectl"), [
          "--kubeconfig", adminConfig, "port-forward", "--address", "127.0.0.1", "-n", namespace, `pod/${pod}`, `:${port}`,
        ], { logPath: log });
        let local = 0;
        await waitUntilReady(
          p,
          () => {
            local = Number(
              /Forwarding from 127\.0\.0\.1:(\d+)/.exec(readFileSync(log, "utf8"))?.[1] ?? 0,
            );
            return Promise.resolve(local > 0);
          },
          `port-forward to ${namespace}/${pod}:${port}`,
          30_000,
        );
        return { port: local, stop: () => p.stop() };
      },
      kubectl: (args, timeoutMs = 60_000) =>
        run(kubeBinary("kubectl"), ["--kubeconfig", adminConfig, ...args], { timeoutMs }),
      server: cp.server,
      nodes,
      images,
      startSeconds: (Date.now() - t0) / 1000,
      phases,
      imagesImported,
      log: (name, lines = 60) => {
        const file = path.join(dir, `${name}.log`);
        return existsSync(file)
          ? execFileSync("tail", [`-n${lines}`, file], { encoding: "utf8" })
          : `(no log ${name})`;
      },
      stop,
    };
  } catch (err) {
    const logs = ["kube-apiserver", "etcd"].map((n) => path.join(dir, `${n}.log`));
    const nodeLogs = Array.from({ length: count }, (_, i) =>
      ["kubelet", "containerd"].map((n) => path.join(dir, NET.nodeName(i), `${n}.log`)),
    ).flat();
    const tails = [...logs, ...nodeLogs]
      .filter((f) => existsSync(f))
      .map(
        (f) =>
          `--- ${path.relative(dir, f)}\n${execFileSync("tail", ["-n15", f], { encoding: "utf8" })}`,
      )
      .join("\n");
    await stop().catch(() => undefined);
    throw new Error(`the test cluster did not start: ${(err as Error).message}\n${tails}`);
  }
}
