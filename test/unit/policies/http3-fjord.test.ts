/**
 * gateway-http3-udp against what fjord itself renders: the real Kubernetes Platform and the real
 * node firewall steps (K3sNodes) under Pulumi mocks, for each gateway kind, must pass; and the
 * policy must notice when a firewall disagrees with the gateway it fronts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { TEST_BACKUP_KEYS, setupMocks, stackConfig, type Recorded } from "../../../testkit/mocks";
import { parseSpec, type Spec } from "../../../components/config";
import { type Fixture, runStack } from "./harness";
import { gatewayHttp3Udp } from "../../../policies/http3";
import { factsLine } from "../nodes/fixtures";

const rec = await setupMocks({
  stack: "prod",
  outputs: {
    "command:remote:Command": (r: Recorded) => ({
      stdout: r.name.endsWith("-facts") ? factsLine() : "",
      stderr: "",
    }),
  },
});
const { Platform } = await import("../../../components/kubernetes");
const { K3sNodes } = await import("../../../components/nodes");

const decode = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
function prodSpec(gateway: Record<string, unknown>): Spec {
  const values = Object.fromEntries(
    Object.entries(stackConfig("prod")).map(([k, v]) => [k.slice("fjord:".length), decode(v)]),
  );
  values.gateway = { ...(values.gateway as object), ...gateway };
  return parseSpec({ stack: "prod", values, secrets: {}, dryRun: true }).spec;
}

/** One stack per case: fjord's Platform and its nodes, the firewall told `http3`. */
function deploy(name: string, spec: Spec, http3: boolean): void {
  new Platform(name, { spec, backupKeys: TEST_BACKUP_KEYS });
  new K3sNodes(`${name}-nodes`, {
    nodes: spec.nodes,
    privateKey: pulumi.secret("KEY"),
    adminCidrs: spec.ssh.adminCidrs,
    http3,
    k3sVersion: spec.cluster.k3sVersion,
  });
}

const CASES = {
  traefik: prodSpec({ kind: "traefik" }),
  nginx: prodSpec({ kind: "nginx" }),
};
let recorded: Recorded[] = [];
beforeAll(async () => {
  for (const [name, spec] of Object.entries(CASES)) deploy(name, spec, spec.gateway.http3);
  // The disagreeing stacks: firewalls that did not follow the resolved value.
  deploy("stale", CASES.nginx, true);
  deploy("closed", CASES.traefik, false);
  recorded = await rec.settle();
}, 120_000);

const stackOf = (name: string): Fixture[] =>
  recorded
    .filter((r) => r.name === name || r.name.startsWith(`${name}-`))
    .map((r) => ({ type: r.type, name: r.name, props: r.inputs }));

describe("gateway-http3-udp on fjord's own rendering", () => {
  it.each(Object.keys(CASES))(
    "GIVEN fjord's %s gateway and its nodes WHEN gateway-http3-udp judges them THEN it passes with no finding",
    async (n) => {
      const r = await runStack(gatewayHttp3Udp, stackOf(n));
      expect(r.mandatory).toEqual([]);
      expect(r.advisory).toEqual([]);
    },
  );

  it("GIVEN nginx (no HTTP/3) behind firewalls opening UDP 443 WHEN judged THEN each gateway node's firewall is flagged", async () => {
    const r = await runStack(gatewayHttp3Udp, stackOf("stale"));
    expect(r.mandatory).toEqual(
      ["osl-1", "osl-2"].map(
        (n) =>
          `remote command 'stale-nodes-${n}-firewall' opens UDP 443 to everyone, but no gateway in this stack serves HTTP/3. Open UDP only for a gateway that serves HTTP/3 (nginx 1.22 has none; with fjord set fjord:gateway.http3 to false or use kind traefik).`,
      ),
    );
  });

  it("GIVEN HTTP/3 Traefik behind firewalls without UDP 443 WHEN judged THEN each gateway node's firewall is flagged", async () => {
    const r = await runStack(gatewayHttp3Udp, stackOf("closed"));
    expect(r.mandatory.map((m) => m.split(" admits")[0])).toEqual([
      "remote command 'closed-nodes-osl-1-firewall'",
      "remote command 'closed-nodes-osl-2-firewall'",
    ]);
  });
});
