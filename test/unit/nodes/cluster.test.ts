/** K3sCluster with Pulumi mocks: the commands it renders, their order inputs, and what is secret. */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, secretInput, setupMocks, valueOf, type Recorded } from "../../../testkit/mocks";
import { factsLine, KUBECONFIG, node } from "./fixtures";

const rec = await setupMocks({
  outputs: {
    "command:remote:Command": (r: Recorded) => ({
      stdout: r.name.endsWith("-facts")
        ? factsLine()
        : r.name.endsWith("-kubeconfig")
          ? KUBECONFIG
          : "",
      stderr: "",
    }),
  },
});
const { K3sCluster, K3sNodes, VpsNode } = await import("../../../components/nodes");

const nodes = [
  node("osl-1", "server", "192.0.2.11", { gateway: true }),
  node("osl-2", "agent", "192.0.2.12", { gateway: true }),
  node("osl-3", "agent", "192.0.2.13"),
];
const cluster = new K3sCluster("cluster", {
  nodes,
  privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK\n"),
  adminCidrs: ["198.51.100.0/24"],
  http3: true,
  k3sVersion: "v1.31.4+k3s1",
  airgap: {
    k3sBinary: "/airgap/k3s",
    imagesTarball: "/airgap/k3s-airgap-images-amd64.tar.zst",
    installScript: "/airgap/install.sh",
  },
});
await rec.settle();
const CMD = "command:remote:Command";

const isSecretInput = (v: unknown): boolean => {
  try {
    secretInput(v);
    return true;
  } catch {
    return false;
  }
};
const plain = (v: unknown): any => (isSecretInput(v) ? secretInput(v) : v); // eslint-disable-line @typescript-eslint/no-explicit-any
const input = (name: string, key: string) => plain(rec.get(CMD, name).inputs[key]);

describe("K3sCluster (mocks)", () => {
  it("GIVEN a three-node air-gapped cluster WHEN K3sCluster is built THEN every step of every node is a command, with the type tokens and names of the conventions, and the provider's kubeconfig is secret", () => {
    const names = rec
      .ofType(CMD)
      .map((r) => r.name)
      .sort();
    const expected = nodes.flatMap((n) =>
      ["facts", "prep", "firewall", "k3s", "drain"].map((s) => `cluster-nodes-${n.name}-${s}`),
    );
    expect(names).toEqual([...expected, "cluster-nodes-osl-1-kubeconfig"].sort());
    expect(rec.ofType("fjord:nodes:K3sCluster").map((r) => r.name)).toEqual(["cluster"]);
    expect(rec.ofType("fjord:nodes:K3sNodes").map((r) => r.name)).toEqual(["cluster-nodes"]);
    expect(
      rec
        .ofType("fjord:nodes:VpsNode")
        .map((r) => r.name)
        .sort(),
    ).toEqual(nodes.map((n) => `cluster-nodes-${n.name}`));
    expect(
      rec
        .ofType("command:remote:CopyToRemote")
        .map((r) => [r.name, r.inputs.remotePath])
        .sort(),
    ).toContainEqual([
      "cluster-nodes-osl-2-airgap-images",
      "/var/tmp/fjord-airgap/k3s-airgap-images-amd64.tar.zst",
    ]);
    const provider = rec.get("pulumi:providers:kubernetes", "cluster-provider").inputs;
    expect(isSecretInput(provider.kubeconfig)).toBe(true);
    expect(String(provider.enableServerSideApply)).toBe("true");
  });

  it("GIVEN the three-node cluster WHEN it is built THEN every command is tagged with the node and region, connects with a secret connection, and takes its script on stdin, not the command line", () => {
    for (const c of rec.ofType(CMD)) {
      expect(c.inputs.environment).toEqual({
        FJORD_NODE: expect.stringMatching(/^osl-\d$/),
        FJORD_REGION: "no-osl1",
      });
      expect(c.inputs.addPreviousOutputInEnv).toBe(false);
      // The private key makes the whole connection secret.
      expect(isSecretInput(c.inputs.connection)).toBe(true);
      expect(plain(c.inputs.connection)).toMatchObject({
        host: expect.stringMatching(/^192\.0\.2\.1\d$/),
        port: 22,
        user: "fjord",
      });
      expect(c.inputs.create).toContain("bash -s create");
      expect(c.inputs.create.length).toBeLessThan(1000);
      expect(plain(c.inputs.stdin)).toMatch(/^#!\/bin\/bash\n/);
    }
  });

  it("GIVEN the three-node cluster WHEN it is built THEN k3s is installed air-gapped with the role, server URL and region label, the token only on secret stdin, and no triggers that would uninstall", () => {
    const agent = { ...rec.get(CMD, "cluster-nodes-osl-3-k3s").inputs };
    expect(isSecretInput(agent.stdin)).toBe(true);
    agent.stdin = plain(agent.stdin);
    expect(agent.stdin).toContain("INSTALL_K3S_EXEC=agent INSTALL_K3S_SKIP_DOWNLOAD=true");
    expect(agent.stdin).toContain('server: "https://192.0.2.11:6443"');
    expect(agent.stdin).toContain('"topology.kubernetes.io/region=no-osl1"');
    expect(agent.stdin).toContain("mock-password-cluster-nodes-token");
    expect(agent.create + agent.update + agent.delete).not.toContain("mock-password");
    expect(agent.delete).toContain("bash -s delete");
    expect(agent.triggers).toBeUndefined(); // a replacement would uninstall
    expect(input("cluster-nodes-osl-1-k3s", "stdin")).toContain("cluster-init: true");
    expect(isSecretInput(rec.get(CMD, "cluster-nodes-osl-1-prep").inputs.stdin)).toBe(false);
    expect(rec.get(CMD, "cluster-nodes-osl-1-prep").inputs.triggers).toHaveLength(1);
  });

  it("GIVEN an agent and the first server WHEN the cluster is built THEN the agent is drained through the first server and the server through itself", () => {
    expect(input("cluster-nodes-osl-3-drain", "connection").host).toBe("192.0.2.11");
    expect(input("cluster-nodes-osl-3-drain", "stdin")).toContain("n='osl-3'");
    expect(input("cluster-nodes-osl-1-drain", "connection").host).toBe("192.0.2.11");
  });

  it("GIVEN a gateway agent and a plain agent WHEN the cluster is built THEN each node's firewall opens 80/443 only on the gateway and admits its peers", () => {
    const gw = input("cluster-nodes-osl-2-firewall", "stdin") as string;
    expect(gw).toContain("tcp dport { 80, 443 } accept");
    expect(gw).toContain("elements = { 192.0.2.11, 192.0.2.13 }");
    expect(input("cluster-nodes-osl-3-firewall", "stdin")).not.toContain("80, 443");
  });

  it("GIVEN a cluster whose gateway serves HTTP/3 and one whose gateway does not WHEN both are built THEN UDP 443 is open on the gateway nodes of the first only", async () => {
    // GIVEN the cluster above (http3: true) and one whose gateway serves no HTTP/3
    new K3sNodes("noh3", {
      nodes: [node("h-1", "server", "192.0.2.61", { gateway: true })],
      privateKey: pulumi.secret("KEY"),
      adminCidrs: [],
      http3: false,
      k3sVersion: "v1.31.4+k3s1",
    });
    await rec.settle();
    // THEN only the HTTP/3 gateway nodes accept UDP 443
    const udp = /^\s+udp dport 443 accept$/m;
    expect(input("cluster-nodes-osl-1-firewall", "stdin")).toMatch(udp);
    expect(input("cluster-nodes-osl-2-firewall", "stdin")).toMatch(udp);
    expect(input("cluster-nodes-osl-3-firewall", "stdin")).not.toMatch(udp);
    const off = input("noh3-h-1-firewall", "stdin") as string;
    expect(off).toContain("tcp dport { 80, 443 } accept");
    expect(off).not.toMatch(udp);
  });

  it("GIVEN the three-node cluster WHEN it is built THEN it outputs facts per node and a kubeconfig addressed by the first server's host", async () => {
    const facts = await valueOf(cluster.nodeFacts);
    expect(Object.keys(facts).sort()).toEqual(["osl-1", "osl-2", "osl-3"]);
    expect(facts["osl-2"]).toMatchObject({ virtualization: "kvm", hasNvme: true });
    expect(await valueOf(cluster.kubeconfig)).toContain("server: https://192.0.2.11:6443");
  });

  it("GIVEN no root, an image root per node, or root / WHEN the nodes are built THEN only no root and / change the live system, and an image root gets its own node's paths", async () => {
    for (const c of rec.ofType(CMD).filter((r) => r.name.startsWith("cluster-"))) {
      expect(plain(c.inputs.stdin)).toContain("\nFJORD_ROOT=''\nFJORD_LIVE=1\n");
    }
    new K3sNodes("img", {
      nodes: [node("i-1", "server", "192.0.2.41"), node("i-2", "agent", "192.0.2.42")],
      privateKey: pulumi.secret("KEY"),
      adminCidrs: ["198.51.100.0/24"],
      http3: false,
      k3sVersion: "v1.31.4+k3s1",
      airgap: {
        k3sBinary: "/airgap/k3s",
        imagesTarball: "/airgap/images.tar.zst",
        installScript: "/airgap/install.sh",
      },
      root: (n) => `/srv/images/${n}/`,
    });
    new K3sNodes("slash", {
      nodes: [node("s-1", "server", "192.0.2.51")],
      privateKey: pulumi.secret("KEY"),
      adminCidrs: ["198.51.100.0/24"],
      http3: false,
      k3sVersion: "v1.31.4+k3s1",
      root: "/",
    });
    await rec.settle();
    for (const n of ["i-1", "i-2"]) {
      for (const s of ["facts", "prep", "firewall", "k3s"]) {
        expect(input(`img-${n}-${s}`, "stdin")).toContain(
          `\nFJORD_ROOT='/srv/images/${n}'\nFJORD_LIVE=0\n`,
        );
      }
    }
    expect(
      rec.get("command:remote:CopyToRemote", "img-i-2-airgap-installer").inputs.remotePath,
    ).toBe("/srv/images/i-2/var/tmp/fjord-airgap/install.sh");
    expect(input("slash-s-1-prep", "stdin")).toContain("\nFJORD_ROOT=''\nFJORD_LIVE=1\n");
  });

  it("GIVEN a private key WHEN the nodes are built THEN the token, the kubeconfig, the install's stdin and connection are secret, and the kubeconfig command logs only stderr", async () => {
    expect(await isSecret(cluster.kubeconfig)).toBe(true);
    const inner = new K3sNodes("other", {
      nodes: [node("x-1", "server", "192.0.2.31")],
      privateKey: pulumi.secret("KEY"),
      adminCidrs: [],
      http3: false,
      k3sVersion: "v1.31.4+k3s1",
    });
    expect(await isSecret(inner.token)).toBe(true);
    expect(await isSecret(inner.kubeconfig)).toBe(true);
    const install = inner.nodes["x-1"].k3sInstall;
    expect(await isSecret(install.stdin as pulumi.Output<unknown>)).toBe(true);
    expect(await isSecret(install.connection as pulumi.Output<unknown>)).toBe(true);
    await rec.settle();
    expect(rec.get(CMD, "other-x-1-kubeconfig").inputs.logging).toBe("stderr");
  });

  it("GIVEN a k3s version that is not a release WHEN a node is built THEN a ResourceError names the node and the config key", () => {
    let error: unknown;
    try {
      new VpsNode("badversion-osl-1", {
        node: nodes[0],
        privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK\n",
        adminCidrs: [],
        http3: false,
        k3s: { version: "1.31", token: "t", clusterInit: true },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(pulumi.ResourceError);
    expect((error as pulumi.ResourceError).resource).toBeInstanceOf(VpsNode);
    expect((error as Error).message).toMatch(
      /^fjord:cluster\.k3sVersion: "1\.31" is not a k3s release/,
    );
  });
});
