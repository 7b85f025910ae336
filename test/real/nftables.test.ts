/**
 * The rendered host firewalls against the real nft: each ruleset must pass `nft -c`, load into a
 * fresh network namespace, and load again (the replace-only-our-table idiom must converge).
 */
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePackages } from "../../testkit/apt";
import {
  launcher,
  planCluster,
  renderFirewallBody,
  renderNftables,
  renderStep,
  type FirewallOptions,
} from "../../components/nodes";
import type { Node } from "../../components/config";

const dir = mkdtempSync(path.join(tmpdir(), "fjord-nft-"));
const NS = `fjord-nft-${process.pid}`;
let inNetns = false;

beforeAll(() => {
  ensurePackages({ nft: "nftables", ip: "iproute2" });
  // Loading a ruleset needs a network namespace of the test's own; without one the load cases
  // would check nothing, so the file fails here instead of passing on nft -c alone.
  const r = spawnSync("ip", ["netns", "add", NS], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `ip netns add ${NS} failed (${(r.stderr || r.error?.message || "").trim()}): these tests need root and network namespaces`,
    );
  inNetns = true;
});
afterAll(() => {
  if (inNetns) spawnSync("ip", ["netns", "del", NS]);
  rmSync(dir, { recursive: true, force: true });
});

/** `nft -c`; some sandboxes need a network namespace of their own for it. */
function nftCheck(file: string): { ok: boolean; out: string } {
  for (const argv of [
    ["nft", "-c", "-f", file],
    ["unshare", "-n", "nft", "-c", "-f", file],
  ]) {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    if (r.status === 0) return { ok: true, out: "" };
    if (!/Operation not permitted|Permission denied/.test(r.stderr))
      return { ok: false, out: r.stderr };
  }
  return { ok: false, out: "nft -c is not permitted here, even in a new network namespace" };
}

function node(name: string, role: "server" | "agent", host: string, gateway = false): Node {
  return {
    name,
    host,
    role,
    gateway,
    port: 22,
    user: "fjord",
    region: "no-osl1",
    allowNonKvm: false,
    class: { vcpu: 4, memory: "8Gi", disk: "nvme", virtualization: "kvm" },
  };
}

/** Every node's options for a cluster, the way VpsNode derives them. */
function rulesetsFor(nodes: Node[], extra: Partial<FirewallOptions>): [string, string][] {
  return planCluster(nodes).nodes.map((p) => [
    p.node.name,
    renderNftables({
      node: p.node.name,
      role: p.node.role,
      sshPort: p.node.port,
      gateway: p.node.gateway,
      http3: true,
      adminCidrs: [],
      peers: p.peers,
      serverPeers: p.serverPeers,
      ...extra,
    }),
  ]);
}

const CASES: [string, [string, string][]][] = [
  [
    "one server, admins v4",
    rulesetsFor([node("s1", "server", "192.0.2.11", true)], { adminCidrs: ["198.51.100.0/24"] }),
  ],
  [
    "three servers and two agents, gateways, v4+v6 admins, wireguard, no HTTP/3",
    rulesetsFor(
      [
        node("s1", "server", "192.0.2.11", true),
        node("s2", "server", "192.0.2.12"),
        node("s3", "server", "2001:db8::13"),
        node("a1", "agent", "192.0.2.21", true),
        node("a2", "agent", "2001:db8::22"),
      ],
      {
        adminCidrs: ["198.51.100.0/24", "203.0.113.7/32", "2001:db8:ff::/48"],
        wireguard: true,
        http3: false,
      },
    ),
  ],
  [
    "no admin CIDRs (SSH open), ssh on 2222",
    rulesetsFor([node("s1", "server", "192.0.2.11"), node("a1", "agent", "192.0.2.21")], {
      sshPort: 2222,
    }),
  ],
];

describe("renderNftables with nft -c", () => {
  for (const [label, rulesets] of CASES) {
    it.each(rulesets)(
      `GIVEN ${label}: node %s's rendered ruleset plus the deployer's addresses WHEN nft -c checks it THEN it passes`,
      (name, text) => {
        // The firewall step appends the deployer's address the same way.
        const file = path.join(dir, `${label.replace(/\W+/g, "-")}-${name}.nft`);
        writeFileSync(
          file,
          `${text}add element inet fjord deployer4 { 10.213.0.1 }\nadd element inet fjord deployer6 { fd00::1 }\n`,
        );
        const r = nftCheck(file);
        expect(r.out).toBe("");
        expect(r.ok).toBe(true);
      },
    );
  }

  it("GIVEN the three-server cluster's first ruleset and a fresh network namespace WHEN it is loaded there twice THEN nft lists one input chain, the drop policy and the etcd ports", () => {
    const [, text] = CASES[1][1][0];
    const file = path.join(dir, "load.nft");
    writeFileSync(file, text);
    for (let i = 0; i < 2; i++)
      execFileSync("ip", ["netns", "exec", NS, "nft", "-f", file], { stdio: "pipe" });
    const listed = execFileSync(
      "ip",
      ["netns", "exec", NS, "nft", "list", "table", "inet", "fjord"],
      { encoding: "utf8" },
    );
    expect(listed).toContain("policy drop");
    expect(listed).toContain("2379-2380");
    expect(listed.match(/chain input/g)).toHaveLength(1);
  });
});

describe("firewall step script", () => {
  it("GIVEN a rendered ruleset and an SSH client address WHEN the firewall step runs under a node root THEN it succeeds silently and /etc/nftables.conf under the root is the ruleset plus the deployer's address", () => {
    const root = mkdtempSync(path.join(dir, "root-"));
    const text = CASES[0][1][0][1];
    const ctx = { node: "s1", region: "no-osl1", step: "firewall", root, live: false, hint: "h" };
    // Run inside its own network namespace, as the e2e hosts do; FJORD_SSH_CLIENT stands in for sshd.
    const sh = launcher(ctx, "create");
    const argv = ["ip", "netns", "exec", NS, "sh", "-c", sh];
    const r = spawnSync(argv[0], argv.slice(1), {
      input: renderStep(ctx, renderFirewallBody(text)),
      encoding: "utf8",
      env: { ...process.env, SSH_CLIENT: "10.213.0.1 50000 22" },
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const persisted = readFileSync(path.join(root, "etc/nftables.conf"), "utf8");
    expect(persisted).toBe(`${text}add element inet fjord deployer4 { 10.213.0.1 }\n`);
  });

  it("GIVEN a broken ruleset WHEN the firewall step runs THEN it fails saying the ruleset does not pass nft -c and nothing was changed", () => {
    const root = mkdtempSync(path.join(dir, "root-"));
    const ctx = { node: "s1", region: "no-osl1", step: "firewall", root, live: false, hint: "h" };
    const r = spawnSync("sh", ["-c", launcher(ctx, "create")], {
      input: renderStep(ctx, renderFirewallBody("table inet fjord { chain input { bogus } }\n")),
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /^fjord: node s1: firewall failed: the rendered ruleset does not pass nft -c; nothing was changed/,
    );
  });
});
