import { describe, expect, it } from "vitest";
import {
  ClusterPlanError,
  planCluster,
  renderK3sConfig,
  rewriteKubeconfig,
} from "../../../components/nodes";
import { KUBECONFIG, node } from "./fixtures";

describe("planCluster", () => {
  it("orders first server, the other servers one at a time, then agents", () => {
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
  ])("rejects node sets that cannot form a cluster %#", (nodes, msg) => {
    expect(() => planCluster(nodes)).toThrow(ClusterPlanError);
    expect(() => planCluster(nodes)).toThrow(msg);
  });
});

describe("renderK3sConfig", () => {
  it("renders the first server with etcd, secrets encryption, region label and 0600 kubeconfig", () => {
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

  it("renders an agent with only agent options and the server URL", () => {
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
  it("points the kubeconfig at the server's address", () => {
    expect(rewriteKubeconfig(KUBECONFIG, "192.0.2.11")).toContain(
      "server: https://192.0.2.11:6443",
    );
    expect(rewriteKubeconfig(KUBECONFIG, "2001:db8::1")).toContain(
      "server: https://[2001:db8::1]:6443",
    );
    expect(rewriteKubeconfig(KUBECONFIG, "192.0.2.11")).not.toContain("127.0.0.1");
  });
});
