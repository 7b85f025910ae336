/**
 * One node of the test cluster, in its own network namespace: Debian's containerd (its own root,
 * state and socket, so kubelets never see each other's containers) with runc and the CNI bridge,
 * then kubelet 1.34 (cgroup v1 still works there; 1.35 refuses it by default), kube-proxy in
 * iptables mode and kube-router's NetworkPolicy controller. Only the network namespace is
 * separate: kubelet and containerd must share the mount namespace for volumes to reach containers.
 */
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { findBinary } from "../apt";
import { startProcess, waitUntilReady, type ServerProcess } from "../proc";
import { kubeBinary } from "./control-plane";
import { inNode, NET, nodeWrap, writeCniConfig } from "./net";
import type { ClusterPki } from "./pki";

export interface TestNode {
  index: number;
  name: string;
  ip: string;
  dir: string;
  /** containerd's socket, for `ctr -a`. */
  containerd: string;
  procs: ServerProcess[];
}

export const SNAPSHOTTER = "overlayfs";
export const PAUSE_IMAGE = "docker.io/fjord-local/pause:3.10";

function containerdConfig(dir: string, root: string, sock: string): string {
  return `version = 2
root = "${root}"
state = "${dir}/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${sock}"
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  enable_selinux = false
  # Lowering an oom_score_adj needs CAP_SYS_RESOURCE, which some sandboxes (this CI's) withhold;
  # the kubelet asks -998 for every pause container. Clamp to containerd's own value instead.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "${SNAPSHOTTER}"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
`;
}

/**
 * Starts containerd for node `i` and waits for its socket to answer. `root` (images, snapshots,
 * metadata) may outlive the run, so a warm start finds its images already unpacked; containers a
 * killed run left in it are removed before any kubelet can see them.
 */
export async function startContainerd(
  i: number,
  dir: string,
  root: string,
): Promise<{ sock: string; proc: ServerProcess }> {
  for (const d of ["containerd", "cni", "cni-ipam"])
    mkdirSync(path.join(dir, d), { recursive: true });
  mkdirSync(root, { recursive: true });
  const sock = path.join(dir, "containerd.sock");
  writeFileSync(path.join(dir, "containerd.toml"), containerdConfig(dir, root, sock));
  writeCniConfig(i, path.join(dir, "cni"), path.join(dir, "cni-ipam"));
  const proc = startProcess(
    findBinary("containerd") ?? "containerd",
    ["--config", path.join(dir, "containerd.toml")],
    {
      logPath: path.join(dir, "containerd.log"),
      wrap: nodeWrap(i),
    },
  );
  const ctr = findBinary("ctr") ?? "ctr";
  await waitUntilReady(
    proc,
    async () => {
      execFileSync(ctr, ["-a", sock, "version"], { stdio: "ignore", timeout: 5000 });
      return true;
    },
    `containerd of ${NET.nodeName(i)}`,
    30_000,
  );
  const ctrArgs = ["-a", sock, "-n", "k8s.io"];
  const stale = execFileSync(ctr, [...ctrArgs, "containers", "ls", "-q"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);
  // A task may or may not exist for each: failures here only mean there was nothing to remove.
  for (const id of stale)
    spawnSync(ctr, [...ctrArgs, "tasks", "rm", "-f", id], { stdio: "ignore" });
  if (stale.length) spawnSync(ctr, [...ctrArgs, "containers", "rm", ...stale], { stdio: "ignore" });
  return { sock, proc };
}

/** kubelet wants its cgroup root to exist already, in every hierarchy (cgroup v1) or in the one (v2). */
function makeCgroup(name: string): void {
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup", { withFileTypes: true })
        .filter((d) => d.isDirectory() && d.name !== "unified")
        .map((d) => path.join("/sys/fs/cgroup", d.name));
  for (const r of roots) {
    const dir = path.join(r, name);
    mkdirSync(dir, { recursive: true });
    // A new v1 cpuset starts with no CPUs and no memory nodes, and nothing can join it until it
    // has some: inherit the parent's (runc fails with "can't get final child's PID" otherwise).
    for (const f of ["cpuset.cpus", "cpuset.mems"])
      if (existsSync(path.join(r, f)))
        writeFileSync(path.join(dir, f), readFileSync(path.join(r, f)));
  }
}

/** Starts kubelet and kube-proxy for node `i`; containerd must be running. */
export function startNodeAgents(
  i: number,
  dir: string,
  sock: string,
  pki: ClusterPki,
  server: string,
): ServerProcess[] {
  const name = NET.nodeName(i);
  const nodeIp = NET.nodeIp(i);
  const log = (n: string) => ({ logPath: path.join(dir, `${n}.log`), wrap: nodeWrap(i) });
  // The Node authorizer knows a kubelet by this user and group.
  const kubeletCert = pki.client(`kubelet-${name}`, `system:node:${name}`, ["system:nodes"]);
  const resolv = path.join(dir, "resolv.conf");
  writeFileSync(resolv, "# pods get the cluster DNS from the kubelet; the host has none here\n");
  writeFileSync(
    path.join(dir, "kubelet.yaml"),
    stringify({
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      address: nodeIp,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: false },
        x509: { clientCAFile: pki.ca.cert },
      },
      authorization: { mode: "AlwaysAllow" },
      cgroupDriver: "cgroupfs",
      // Each kubelet its own cgroup subtree: they share one kernel.
      cgroupRoot: `/fjord-test-${name}`,
      containerRuntimeEndpoint: `unix://${sock}`,
      clusterDNS: [NET.dnsIp],
      clusterDomain: "cluster.local",
      resolvConf: resolv,
      failSwapOn: false,
      podLogsDir: path.join(dir, "pod-logs"),
      serializeImagePulls: false,
      // Nothing is ever pulled: the images are imported. Keep them whatever the disk usage.
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: {
        "memory.available": "100Mi",
        "nodefs.available": "1%",
        "imagefs.available": "1%",
        "nodefs.inodesFree": "1%",
      },
    }),
  );
  makeCgroup(`fjord-test-${name}`);
  // prettier-ignore
  const kubelet = startProcess(kubeBinary("kubelet"), [
    "--config", path.join(dir, "kubelet.yaml"),
    "--kubeconfig", pki.kubeconfig(`kubelet-${name}`, kubeletCert, server),
    "--root-dir", path.join(dir, "kubelet"),
    "--hostname-override", name, "--node-ip", nodeIp,
    "--node-labels", "topology.kubernetes.io/region=no-osl1",
  ], log("kubelet"));

  const proxyCert = pki.client(`kube-proxy-${name}`, "system:kube-proxy");
  writeFileSync(
    path.join(dir, "kube-proxy.yaml"),
    stringify({
      apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
      kind: "KubeProxyConfiguration",
      clientConnection: { kubeconfig: pki.kubeconfig(`kube-proxy-${name}`, proxyCert, server) },
      mode: "iptables",
      clusterCIDR: NET.clusterCidr,
      hostnameOverride: name,
      bindAddress: nodeIp,
      healthzBindAddress: "127.0.0.1:10256",
      metricsBindAddress: "127.0.0.1:10249",
      iptables: { localhostNodePorts: false },
      // 0: leave the kernel's conntrack settings alone (they are not per namespace).
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    }),
  );
  const proxy = startProcess(
    kubeBinary("kube-proxy"),
    ["--config", path.join(dir, "kube-proxy.yaml")],
    log("kube-proxy"),
  );

  return [kubelet, proxy];
}

/**
 * Starts kube-router's NetworkPolicy controller for node `i`. It looks its Node object up once at
 * start and exits when there is none, so it is started after the kubelet has registered the node.
 */
export function startPolicyAgent(
  i: number,
  dir: string,
  pki: ClusterPki,
  server: string,
): ServerProcess {
  const name = NET.nodeName(i);
  const log = (n: string) => ({ logPath: path.join(dir, `${n}.log`), wrap: nodeWrap(i) });
  // kube-router reads NetworkPolicies, pods and namespaces cluster-wide; system:masters is simplest
  // for a harness whose API server lives only as long as the test.
  const routerCert = pki.client(`kube-router-${name}`, `kube-router-${name}`, ["system:masters"]);
  // prettier-ignore
  return startProcess(kubeBinary("kube-router"), [
    "--kubeconfig", pki.kubeconfig(`kube-router-${name}`, routerCert, server),
    "--hostname-override", name,
    "--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
    "--enable-cni=false", "--enable-ipv4=true", "--enable-ipv6=false",
    "--metrics-port=0", "--health-port=0",
    "--service-cluster-ip-range", NET.serviceCidr,
  ], log("kube-router"));
}

/** True when the node's pods can be reached: its pod bridge exists and has the gateway address. */
export function nodeBridgeUp(i: number): boolean {
  try {
    return inNode(i, "ip", ["-4", "-o", "addr", "show", "cni0"]).includes("inet ");
  } catch {
    return false;
  }
}
