import { describe, expect, it } from "vitest";
import {
  ClusterPlanError,
  planCluster,
  renderK3sConfig,
  rewriteKubeconfig,
} from "../../../components/nodes";
import { KUBECONFIG, node } from "./fixtures";

describe("planCluster", () => {
  it("GIVEN three servers and two agents in mixed order WHEN the cluster is planned THEN the first server comes first, the other servers one at a time, then the agents, with their server URL, peers and drain node", () => {
    const p = planCluster([
      node("a1", "agent", "192.0.2.21"),
      node("s1", "server", "192.0.2.11"),
      node("s2", "server", "192.0.2.12"),
      node("a2", "agent", "192.0.2.22"),
      node("s3", "server", "192.0.2.13"),
    ]);
    expect(p.first.name).toBe("s1");
    expect(p.nodes.map((n) => [n.node.name, n.after])).toEqual([
      ["s1", []],
      ["s2", ["s1"]],
      ["s3", ["s2"]],
      ["a1", ["s3"]],
      ["a2", ["s3"]],
    ]);
    const byName = Object.fromEntries(p.nodes.map((n) => [n.node.name, n]));
    expect(byName.s1.serverUrl).toBeUndefined();
    expect(byName.s1.first).toBe(true);
    expect(byName.a2.serverUrl).toBe("https://192.0.2.11:6443");
    expect(byName.s2.serverPeers).toEqual(["192.0.2.11", "192.0.2.13"]);
    expect(byName.a1.serverPeers).toEqual([]);
    expect(byName.a1.peers).toEqual(["192.0.2.11", "192.0.2.12", "192.0.2.22", "192.0.2.13"]);
    expect(byName.a1.drainVia.name).toBe("s1");
    expect(byName.s3.drainVia.name).toBe("s3");
  });

  it.each([
    [[], /no nodes/],
    [[node("a", "agent", "192.0.2.1")], /0 server nodes \(none\): use 1 server, or 3/],
    [
      [node("s1", "server", "192.0.2.1"), node("s2", "server", "192.0.2.2")],
      /2 server nodes \(s1, s2\)/,
    ],
    [
      [node("s1", "server", "192.0.2.1"), node("s1", "agent", "192.0.2.2")],
      /name s1 is used by both s1 and s1/,
    ],
    [
      [node("s1", "server", "192.0.2.1"), node("a", "agent", "192.0.2.1")],
      /host 192.0.2.1:22 is used by both s1 and a/,
    ],
    [[node("s1", "server", "osl-1.example.no")], /s1: host osl-1.example.no is not an IP address/],
  ])(
    "GIVEN node set %# that cannot form a cluster WHEN it is planned THEN a ClusterPlanError says why",
    (nodes, msg) => {
      expect(() => planCluster(nodes)).toThrow(ClusterPlanError);
      expect(() => planCluster(nodes)).toThrow(msg);
    },
  );
});

describe("renderK3sConfig", () => {
  it("GIVEN the first server on a gateway node WHEN its k3s config is rendered THEN it has etcd, secrets encryption, the region and gateway labels, a 0600 kubeconfig and no server URL", () => {
    const c = renderK3sConfig({
      node: "osl-1",
      role: "server",
      host: "192.0.2.11",
      region: "no-osl1",
      gateway: true,
      clusterInit: true,
    });
    expect(c).toContain('node-name: "osl-1"');
    expect(c).toContain('token-file: "/etc/rancher/k3s/fjord-token"');
    expect(c).toContain('  - "topology.kubernetes.io/region=no-osl1"');
    expect(c).toContain('  - "fjord.io/gateway=true"');
    expect(c).toContain("cluster-init: true");
    expect(c).toContain("secrets-encryption: true");
    expect(c).toContain('write-kubeconfig-mode: "0600"');
    expect(c).toContain('flannel-backend: "vxlan"');
    expect(c).toContain('disable:\n  - "traefik"');
    expect(c).toContain('node-ip: "192.0.2.11"');
    expect(c).not.toContain("server:");
  });

  it("GIVEN an agent WHEN its k3s config is rendered THEN it has the server URL and no server-only options", () => {
    const c = renderK3sConfig({
      node: "osl-2",
      role: "agent",
      host: "192.0.2.12",
      region: "no-osl1",
      gateway: false,
      serverUrl: "https://192.0.2.11:6443",
      clusterInit: false,
    });
    expect(c).toContain('server: "https://192.0.2.11:6443"');
    for (const key of [
      "cluster-init",
      "secrets-encryption",
      "write-kubeconfig-mode",
      "tls-san",
      "flannel-backend",
      "disable:",
    ]) {
      expect(c).not.toContain(key);
    }
  });
});

describe("rewriteKubeconfig", () => {
  it("GIVEN a kubeconfig and an IPv4 or IPv6 server address WHEN it is rewritten THEN it points at that address, not loopback", () => {
    expect(rewriteKubeconfig(KUBECONFIG, "192.0.2.11")).toContain(
      "server: https://192.0.2.11:6443",
    );
    expect(rewriteKubeconfig(KUBECONFIG, "2001:db8::1")).toContain(
      "server: https://[2001:db8::1]:6443",
    );
    expect(rewriteKubeconfig(KUBECONFIG, "192.0.2.11")).not.toContain("127.0.0.1");
  });
});
