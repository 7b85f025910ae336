/**
 * Nodes against real SSH hosts: two sshd servers, each in its own network namespace, reached at
 * 10.213.x.2 over a veth pair. The hosts share this machine's filesystem, so every node writes
 * under its own temp root (the `root` option), as when building an image: nothing live changes,
 * except in the firewall check below, which loads the ruleset for real inside the host's
 * namespace. k3s itself cannot run here: the air-gapped install places every file and runs the
 * test's own installer (testkit/k3s-installer.ts), which records how it was called.
 *
 * Part 1 runs the rendered scripts through the OpenSSH client; part 2 runs K3sNodes on the real
 * engine (ephemeral stack): precondition failure, up, no-change preview, an sshd stopped between
 * runs, the re-run that converges, and destroy.
 */
import { execFileSync, spawnSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import {
  checkPreconditions,
  launcher,
  parseFacts,
  renderFactsBody,
  renderFirewallBody,
  renderK3sBody,
  renderK3sConfig,
  renderNftables,
  renderPrepBody,
  renderStep,
  type StepContext,
} from "../../components/nodes";
import type { Node } from "../../components/config";
import { ensurePackages } from "../../testkit/apt";
import { readInstallRecord, writeFakeAirgap } from "../../testkit/k3s-installer";
import { createNetns, type TestNetns } from "../../testkit/netns";
import { generateKeyPair, startSshd, type KeyPair, type Sshd } from "../../testkit/sshd";
import { ROOT, withEphemeralStack } from "../../testkit/stack";

const work = mkdtempSync(path.join(tmpdir(), "fjord-nodes-e2e-"));
const hosts: { name: string; ns: TestNetns; sshd: Sshd; root: string }[] = [];
let key: KeyPair;

beforeAll(async () => {
  ensurePackages({ ssh: "openssh-client", nft: "nftables", "systemd-detect-virt": "systemd" });
  key = generateKeyPair(work);
  for (const name of ["n1", "n2"]) {
    const ns = createNetns(name);
    const sshd = await startSshd({
      netns: ns.name,
      address: ns.address,
      authorizedKeys: [key.publicKey],
    });
    const root = path.join(work, `root-${name}`);
    mkdirSync(root);
    hosts.push({ name, ns, sshd, root });
  }
});
afterAll(async () => {
  for (const h of hosts) {
    await h.sshd.dispose();
    h.ns.destroy();
  }
  rmSync(work, { recursive: true, force: true });
});

const host = (name: string) => hosts.find((h) => h.name === name)!;
const ctx = (name: string, step: string, live = false): StepContext => ({
  node: name,
  region: "no-osl1",
  step,
  root: host(name).root,
  live,
  hint: "see above",
});

function ssh(name: string, args: string[], input?: string) {
  const h = host(name);
  return spawnSync(
    "ssh",
    [
      "-i",
      key.privateKeyPath,
      "-p",
      String(h.sshd.port),
      "-o",
      "StrictHostKeyChecking=no",
      "-o",
      "UserKnownHostsFile=/dev/null",
      "-o",
      "BatchMode=yes",
      "-o",
      "ConnectTimeout=5",
      "-o",
      "LogLevel=ERROR",
      `root@${h.sshd.host}`,
      ...args,
    ],
    { input: input ?? "", encoding: "utf8" },
  );
}
/** One step the way the command provider runs it: the launcher as command, the script on stdin. */
const step = (c: StepContext, body: string, action: "create" | "update" | "delete" = "create") =>
  ssh(c.node, [launcher(c, action)], renderStep(c, body));

function localVirt(): string {
  const r = spawnSync("systemd-detect-virt", { encoding: "utf8" });
  return r.stdout.trim() || "unknown";
}
const memTotalBytes = () =>
  Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync("/proc/meminfo", "utf8"))![1]) * 1024;

function node(name: string, role: "server" | "agent", allowNonKvm: boolean): Node {
  return {
    name,
    role,
    host: host(name).ns.address,
    port: 22,
    user: "root",
    gateway: role === "server",
    region: "no-osl1",
    allowNonKvm,
    class: { vcpu: 1, memory: "1Gi", disk: "hdd", virtualization: "kvm" },
  };
}

describe("host scripts over real SSH", () => {
  it("GIVEN an SSH host WHEN the facts script runs over SSH THEN the facts match this machine and pass the preconditions where non-KVM is allowed, and on a non-KVM machine fail them otherwise", () => {
    const r = step(ctx("n1", "facts"), renderFactsBody(1));
    expect(r.stderr).toBe("");
    const facts = parseFacts("n1", r.stdout);
    expect(facts.virtualization).toBe(localVirt());
    expect(facts.memoryBytes).toBe(memTotalBytes());
    expect(facts.vcpus).toBeGreaterThan(0);
    expect(checkPreconditions(node("n1", "server", true), facts).errors).toEqual([]);
    if (facts.virtualization !== "kvm") {
      expect(checkPreconditions(node("n1", "server", false), facts).errors[0]).toMatch(
        /^fjord: node n1: preconditions failed/,
      );
    }
  });

  it("GIVEN an SSH host WHEN the prep script runs twice THEN the first run writes the sysctl file under the node's root and the second changes and prints nothing", () => {
    const first = step(ctx("n1", "prep"), renderPrepBody({ nvme: false }));
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("wrote /etc/sysctl.d/90-fjord.conf");
    expect(
      readFileSync(path.join(host("n1").root, "etc/sysctl.d/90-fjord.conf"), "utf8"),
    ).toContain("net.core.somaxconn = 65535");
    expect(step(ctx("n1", "prep"), renderPrepBody({ nvme: false }))).toMatchObject({
      status: 0,
      stdout: "",
      stderr: "",
    });
  });

  it("GIVEN an SSH host in its own namespace and admin CIDRs without the deployer WHEN the firewall step loads the ruleset live THEN nft lists the deployer's address, SSH still works, the persisted ruleset admits the deployer, and a second run succeeds", () => {
    const rules = renderNftables({
      node: "n1",
      role: "server",
      sshPort: 22,
      adminCidrs: ["198.51.100.0/24"],
      gateway: true,
      http3: true,
      peers: [host("n2").ns.address],
      serverPeers: [],
    });
    const r = step(ctx("n1", "firewall", true), renderFirewallBody(rules));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const listed = execFileSync(
      "ip",
      ["netns", "exec", host("n1").ns.name, "nft", "list", "table", "inet", "fjord"],
      { encoding: "utf8" },
    );
    expect(listed).toContain(host("n1").ns.peerAddress);
    // Our address is not in adminCidrs: SSH still works only because the deployer is admitted.
    expect(ssh("n1", ["true"]).status).toBe(0);
    expect(readFileSync(path.join(host("n1").root, "etc/nftables.conf"), "utf8")).toContain(
      `add element inet fjord deployer4 { ${host("n1").ns.peerAddress} }`,
    );
    // Applying again converges (same table, same rules).
    expect(step(ctx("n1", "firewall", true), renderFirewallBody(rules)).status).toBe(0);
  });

  it("GIVEN fake air-gap files staged on an SSH host WHEN the k3s step installs an agent and then deletes it THEN the installer is told to skip download and start and to use the node's root, the token is never printed, and k3s is removed", () => {
    const stage = path.join(host("n2").root, "var/tmp/fjord-airgap");
    mkdirSync(stage, { recursive: true });
    writeFakeAirgap(stage);
    const body = renderK3sBody({
      role: "agent",
      version: "v1.31.4+k3s1",
      token: "e2e-token",
      config: renderK3sConfig({
        node: "n2",
        role: "agent",
        host: host("n2").ns.address,
        region: "no-osl1",
        gateway: false,
        serverUrl: `https://${host("n1").ns.address}:6443`,
        clusterInit: false,
      }),
      airgap: { stagingDir: stage, imagesFile: "k3s-airgap-images-amd64.tar.zst" },
    });
    const r = step(ctx("n2", "k3s"), body);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readInstallRecord(host("n2").root).env).toMatchObject({
      INSTALL_K3S_VERSION: "v1.31.4+k3s1",
      INSTALL_K3S_EXEC: "agent",
      INSTALL_K3S_SKIP_DOWNLOAD: "true",
      INSTALL_K3S_SKIP_START: "true",
      INSTALL_K3S_BIN_DIR: `${host("n2").root}/usr/local/bin`,
    });
    expect(r.stdout + r.stderr).not.toContain("e2e-token");
    expect(step(ctx("n2", "k3s"), body, "delete").stdout).toContain("k3s removed");
  });

  it("GIVEN an SSH host WHEN a script fails, then its sshd is stopped, then started again THEN the failure names the node and step, the downed host fails with connection refused, and the re-run succeeds", async () => {
    const bad = step(ctx("n2", "firewall"), renderFirewallBody("table inet fjord { nonsense }\n"));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(
      /^fjord: node n2: firewall failed: the rendered ruleset does not pass nft -c/,
    );
    expect(bad.stderr).toContain("hint: see above");
    await host("n2").sshd.stop();
    const down = step(ctx("n2", "prep"), renderPrepBody({ nvme: false }));
    expect(down.status).toBe(255);
    expect(down.stderr).toMatch(/Connection refused/);
    await host("n2").sshd.start();
    expect(step(ctx("n2", "prep"), renderPrepBody({ nvme: false })).status).toBe(0);
  });
});

describe("K3sNodes on the real engine", () => {
  beforeAll(() => {
    if (!existsSync(path.join(ROOT, ".tools/bin/pulumi")))
      throw new Error("no engine: run npm run setup first");
    for (const h of hosts) {
      rmSync(h.root, { recursive: true, force: true });
      mkdirSync(h.root);
    }
  });

  it("GIVEN two SSH hosts and K3sNodes on the real engine WHEN it goes up (on a non-KVM machine first refused), is previewed, goes up with one sshd down, then with it back, and is destroyed THEN it deploys, previews with no change, fails naming the downed host's step, converges, and destroy removes the k3s config", async () => {
    const airgapDir = path.join(work, "airgap");
    mkdirSync(airgapDir, { recursive: true });
    const airgap = writeFakeAirgap(airgapDir);
    const roots = Object.fromEntries(hosts.map((h) => [h.name, h.root]));

    const program = async () => {
      const { K3sNodes } = await import("../../components/nodes");
      const cfg = new pulumi.Config("fjord");
      const allow = cfg.requireBoolean("allowNonKvm");
      const cluster = new K3sNodes("e2e", {
        nodes: [node("n1", "server", allow), node("n2", "agent", allow)],
        privateKey: cfg.requireSecret("sshPrivateKey"),
        adminCidrs: ["198.51.100.0/24"],
        http3: false,
        k3sVersion: "v1.31.4+k3s1",
        airgap,
        root: (n) => roots[n],
        dialErrorLimit: 1,
        stealSampleSeconds: cfg.requireNumber("stealSampleSeconds"),
      });
      return { facts: cluster.nodeFacts, kubeconfig: cluster.kubeconfig };
    };

    const sysctl = (n: string) => path.join(roots[n], "etc/sysctl.d/90-fjord.conf");
    await withEphemeralStack(
      {
        name: "nodes",
        program,
        config: { allowNonKvm: localVirt() === "kvm", stealSampleSeconds: 1 },
        secrets: { sshPrivateKey: key.privateKey },
      },
      async (e) => {
        if (localVirt() !== "kvm") {
          const err = await e.stack.up().then(
            () => undefined,
            (x: Error) => x,
          );
          if (/command:remote:Command is not supported/.test(String(err))) {
            throw new Error(
              "this engine's command provider does not implement command:remote:* (SSH), which the nodes " +
                "e2e needs: see engine/command",
            );
          }
          expect(String(err)).toMatch(
            /fjord: node n[12]: preconditions failed: virtualization is "[a-z-]+", not kvm/,
          );
          expect(existsSync(sysctl("n1"))).toBe(false);
          await e.stack.setConfig("fjord:allowNonKvm", { value: "true" });
        }

        const r = await e.up();
        const facts = r.outputs.facts.value as Record<
          string,
          { virtualization: string; memoryBytes: number }
        >;
        expect(facts.n1.virtualization).toBe(localVirt());
        expect(facts.n2.memoryBytes).toBe(memTotalBytes());
        expect(r.outputs.kubeconfig).toMatchObject({ secret: true, value: "" });
        for (const n of ["n1", "n2"]) {
          expect(readFileSync(sysctl(n), "utf8")).toContain("vm.swappiness = 1");
          expect(readFileSync(path.join(roots[n], "etc/nftables.conf"), "utf8")).toContain(
            `deployer4 { ${host(n).ns.peerAddress} }`,
          );
          expect(readFileSync(path.join(roots[n], "usr/local/bin/k3s"), "utf8")).toContain(
            "fake k3s",
          );
          expect(readInstallRecord(roots[n]).env).toMatchObject({
            INSTALL_K3S_EXEC: n === "n1" ? "server" : "agent",
            INSTALL_K3S_SKIP_DOWNLOAD: "true",
            INSTALL_K3S_SKIP_ENABLE: "true",
            INSTALL_K3S_SKIP_START: "true",
          });
        }
        expect(readFileSync(path.join(roots.n2, "etc/rancher/k3s/config.yaml"), "utf8")).toContain(
          `server: "https://${host("n1").ns.address}:6443"`,
        );
        await e.expectNoChanges();

        // A changed facts script re-runs on both nodes; n2's sshd is down for it.
        await host("n2").sshd.stop();
        await e.stack.setConfig("fjord:stealSampleSeconds", { value: "2" });
        const err = await e.stack.up().then(
          () => undefined,
          (x: Error) => x,
        );
        expect(String(err)).toMatch(/e2e-n2-facts/);
        expect(String(err)).toMatch(
          new RegExp(`${host("n2").ns.address.replace(/\./g, "\\.")}|connection refused`, "i"),
        );

        await host("n2").sshd.start();
        await e.up();
        await e.expectNoChanges();
      },
    );
    // destroy ran the delete steps: the k3s files fjord placed are gone from both roots.
    for (const n of ["n1", "n2"]) {
      expect(existsSync(path.join(roots[n], "etc/rancher/k3s/config.yaml"))).toBe(false);
      expect(existsSync(sysctl(n))).toBe(true);
    }
  });
});
