/**
 * The control plane: etcd on loopback, then kube-apiserver on the hub address (with PodSecurity
 * admission, which is on by default, and the Node and RBAC authorizers), kube-controller-manager
 * and kube-scheduler. All are the binaries testkit/tools/kube.sh builds from Go modules.
 */
import { existsSync } from "fs";
import * as path from "path";
import { freePort } from "../ports";
import { startProcess, waitUntilReady, type ServerProcess } from "../proc";
import { ROOT } from "../stack";
import { KubeApi } from "./api";
import { NET } from "./net";
import type { ClusterPki, Pair } from "./pki";

/** A binary from testkit/tools/kube.sh, or one clear error saying how to get it. */
export function kubeBinary(name: string): string {
  const bin = path.join(ROOT, ".tools/bin", name);
  if (!existsSync(bin))
    throw new Error(
      `the test cluster needs ${name}, which is not built: run 'bash testkit/tools/kube.sh' ` +
        "(builds Kubernetes, etcd, CoreDNS and kube-router from Go modules, several minutes cold)",
    );
  return bin;
}

export interface ControlPlane {
  server: string;
  admin: Pair;
  api: KubeApi;
  procs: ServerProcess[];
}

export async function startControlPlane(dir: string, pki: ClusterPki): Promise<ControlPlane> {
  const procs: ServerProcess[] = [];
  const log = (n: string) => path.join(dir, `${n}.log`);
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${clientPort}`;
  // prettier-ignore
  const etcd = startProcess(kubeBinary("etcd"), [
    "--name", "fjord-test", "--data-dir", path.join(dir, "etcd"),
    "--listen-client-urls", etcdUrl, "--advertise-client-urls", etcdUrl,
    "--listen-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-advertise-peer-urls", `http://127.0.0.1:${peerPort}`,
    "--initial-cluster", `fjord-test=http://127.0.0.1:${peerPort}`,
    // A throwaway cluster: fsync per write only costs time here.
    "--unsafe-no-fsync", "--log-level", "warn",
  ], { logPath: log("etcd") });
  procs.push(etcd);
  await waitUntilReady(etcd, async () => (await fetch(`${etcdUrl}/health`)).ok, "etcd", 30_000);

  const server = `https://${NET.hubIp}:6443`;
  const kubeletClient = pki.client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", [
    "system:masters",
  ]);
  // prettier-ignore
  const apiserver = startProcess(kubeBinary("kube-apiserver"), [
    "--etcd-servers", etcdUrl,
    "--bind-address", NET.hubIp, "--advertise-address", NET.hubIp, "--secure-port", "6443",
    "--service-cluster-ip-range", NET.serviceCidr,
    "--client-ca-file", pki.ca.cert,
    "--tls-cert-file", pki.apiserver.cert, "--tls-private-key-file", pki.apiserver.key,
    "--service-account-key-file", pki.saPub, "--service-account-signing-key-file", pki.saKey,
    "--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
    "--kubelet-client-certificate", kubeletClient.cert, "--kubelet-client-key", kubeletClient.key,
    // Node names (node1, ...) are not in any DNS the API server uses; logs and exec go by address.
    "--kubelet-preferred-address-types", "InternalIP",
    "--authorization-mode", "Node,RBAC",
    "--enable-admission-plugins", "NodeRestriction",
    "--anonymous-auth=false", "--profiling=false", "--allow-privileged=true",
  ], { logPath: log("kube-apiserver") });
  procs.push(apiserver);

  const admin = pki.client("admin", "fjord-admin", ["system:masters"]);
  const api = new KubeApi(server, { ca: pki.ca.cert, ...admin });
  await waitUntilReady(
    apiserver,
    async () => await api.request<string>("GET", "/readyz").then(() => true),
    "kube-apiserver",
    90_000,
  );

  const cm = pki.client("controller-manager", "system:kube-controller-manager");
  const cmConfig = pki.kubeconfig("controller-manager", cm, server);
  // prettier-ignore
  procs.push(startProcess(kubeBinary("kube-controller-manager"), [
    "--kubeconfig", cmConfig,
    "--authentication-kubeconfig", cmConfig, "--authorization-kubeconfig", cmConfig,
    "--bind-address", "127.0.0.1", "--secure-port", String(await freePort()),
    "--root-ca-file", pki.ca.cert, "--service-account-private-key-file", pki.saKey,
    "--cluster-signing-cert-file", pki.ca.cert, "--cluster-signing-key-file", pki.ca.key,
    "--use-service-account-credentials", "--leader-elect=false",
    "--service-cluster-ip-range", NET.serviceCidr,
  ], { logPath: log("kube-controller-manager") }));

  const sched = pki.client("scheduler", "system:kube-scheduler");
  const schedConfig = pki.kubeconfig("scheduler", sched, server);
  // prettier-ignore
  procs.push(startProcess(kubeBinary("kube-scheduler"), [
    "--kubeconfig", schedConfig,
    "--authentication-kubeconfig", schedConfig, "--authorization-kubeconfig", schedConfig,
    "--bind-address", "127.0.0.1", "--secure-port", String(await freePort()),
    "--leader-elect=false",
  ], { logPath: log("kube-scheduler") }));

  return { server, admin, api, procs };
}
