/**
 * fjord's own production Platform (the real components under Pulumi mocks, from Pulumi.prod.yaml)
 * through every policy with policies/config/prod.json: it must pass.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Policies } from "@pulumi/policy";
import { TEST_BACKUP_KEYS, setupMocks, stackConfig } from "../../../testkit/mocks";
import { parseSpec } from "../../../components/config";
import { type Fixture, runPack } from "./harness";

const rec = await setupMocks({ stack: "prod", preview: true });
const { Platform } = await import("../../../components/kubernetes");
const { policies } = (await import("../../../policies/policies")) as { policies: Policies };

const ROOT = path.resolve(__dirname, "../../..");
const packConfig = JSON.parse(
  fs.readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8"),
);
const json = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

let stack: Fixture[] = [];
beforeAll(async () => {
  process.env.FJORD_RESIDENCY_EVIDENCE = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), "fjord-")),
    "ev.json",
  );
  const values = Object.fromEntries(
    Object.entries(stackConfig("prod")).map(([k, v]) => [k.slice("fjord:".length), json(v)]),
  );
  const { spec } = parseSpec({ stack: "prod", values, secrets: {}, dryRun: true });
  new Platform("fjord", { spec, backupKeys: TEST_BACKUP_KEYS });
  stack = (await rec.settle()).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
  // The remote commands each VpsNode creates (K3sCluster's own tests cover them).
  for (const n of spec.nodes) {
    stack.push({
      type: "command:remote:Command",
      name: `${n.name}-facts`,
      props: {
        connection: { host: n.host },
        environment: { FJORD_NODE: n.name, FJORD_REGION: n.region },
      },
    });
  }
});

describe("fjord's prod Platform", () => {
  it("GIVEN fjord's prod Platform under mocks WHEN every policy judges it with prod.json THEN no finding is mandatory and the log shipper's run-as-non-root exemption is reported", async () => {
    const { mandatory, advisory } = await runPack(policies, stack, packConfig);
    expect(mandatory).toEqual([]);
    expect(advisory.some((m: string) => /run-as-non-root.*log-shipper.*exempt/i.test(m))).toBe(
      true,
    );
  });
  it("GIVEN fjord's prod Platform WHEN only the Kubernetes checker policies judge it THEN the only finding is Prometheus's automount-service-account-token exemption", async () => {
    const checkers = [
      "pod-security-standards",
      "liveness-probes",
      "read-only-root-filesystem",
      "automount-service-account-token",
      "no-naked-pods",
      "pdb-allows-disruption",
      "network-policy-selects-pods",
      "rbac-no-wildcards",
      "rbac-no-pod-exec",
      "rbac-no-escalation",
      "rbac-no-cluster-admin-binding",
      "no-secret-literals",
      "image-pull-policy",
    ];
    const { advisory } = await runPack(
      policies.filter((p) => checkers.includes(p.name)),
      stack,
      packConfig,
    );
    // fjord pins every image by a release tag (the spec refuses others), which image-pull-policy
    // accepts with IfNotPresent; everything but the documented exemption must be silent.
    expect(advisory).toEqual([
      expect.stringMatching(
        /^automount-service-account-token: StatefulSet fjord-system\/prometheus is exempt .*kubernetes_sd/,
      ),
    ]);
  });
});
