/**
 * The whole pack over a mixed corpus, as a table: the non-compliant program policy-check
 * previews (test/fixtures/noncompliant, here under Pulumi mocks) must be stopped by exactly the
 * {policy, resource} pairs its expected-violations.json lists, and each hand-written case below by
 * exactly the policies its row names. fjord's own stacks are fjord-dev.test.ts and
 * fjord-prod.test.ts, which the same pack must pass.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are untyped JSON */
import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type {
  EnforcementLevel,
  Policies,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { setupMocks } from "../../../testkit/mocks";
import { type Fixture, edit, runResource, runStack } from "./harness";
import { T, defaultDeny, deployment, namespace, pdb, prodStack, restricted } from "./fixtures";

const ROOT = path.resolve(__dirname, "../../..");
const prodConfig = JSON.parse(
  fs.readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8"),
);
const rec = await setupMocks({ preview: true });
const { policies } = (await import("../../../policies/policies")) as { policies: Policies };

/** Mandatory findings as "policy on resource" (the resource's Pulumi name), sorted and unique. */
async function stopped(stack: Fixture[]): Promise<string[]> {
  const out = new Set<string>();
  for (const p of policies) {
    const cfg = (prodConfig[p.name] ?? {}) as Record<string, unknown>;
    const opts = {
      config: cfg,
      level: (cfg.enforcementLevel as EnforcementLevel | undefined) ?? "mandatory",
    };
    // Per-resource diagnostics carry no URN: the resource is the one the run was for.
    const runs =
      "validateStack" in p
        ? [{ r: await runStack(p as StackValidationPolicy, stack, opts), name: "stack" }]
        : await Promise.all(
            stack.map(async (f) => ({
              r: await runResource(p as ResourceValidationPolicy, f, opts),
              name: f.name,
            })),
          );
    for (const { r, name } of runs)
      for (const v of r.violations)
        if (v.level === "mandatory")
          out.add(`${p.name} on ${v.urn ? v.urn.split("::").pop() : name}`);
  }
  return [...out].sort();
}

describe("the non-compliant program", () => {
  let stack: Fixture[] = [];
  beforeAll(async () => {
    await import("../../fixtures/noncompliant");
    stack = (await rec.settle()).map((r) => ({ type: r.type, name: r.name, props: r.inputs }));
  });
  it("GIVEN the non-compliant fixture program under mocks WHEN the pack judges it THEN it is stopped by exactly the violations in expected-violations.json", async () => {
    const expected = JSON.parse(
      fs.readFileSync(
        path.join(ROOT, "test/fixtures/noncompliant/expected-violations.json"),
        "utf8",
      ),
    ) as { policy: string; resource: string }[];
    const got = await stopped(stack);
    expect(got).toEqual([...new Set(expected.map((e) => `${e.policy} on ${e.resource}`))].sort());
  });
});

const good = prodStack();
const dep = deployment();
const main = (d: typeof dep) => d.spec.template.spec.containers[0];
const withDep = (d: Record<string, unknown>): Fixture[] =>
  good.map((f) => (f.name === "orders-deployment" ? { ...f, props: d } : f));

const CORPUS: { name: string; stack: Fixture[]; stoppedBy: string[] }[] = [
  { name: "fjord's production shape", stack: good, stoppedBy: [] },
  {
    name: "a Deployment spread by topology instead of anti-affinity",
    stack: withDep(
      edit(dep, (d) => {
        delete d.spec.template.spec.affinity;
        d.spec.template.spec.topologySpreadConstraints = [
          {
            maxSkew: 1,
            topologyKey: "kubernetes.io/hostname",
            whenUnsatisfiable: "DoNotSchedule",
            labelSelector: { matchLabels: { app: "orders" } },
          },
        ];
      }),
    ),
    stoppedBy: [],
  },
  {
    name: "a container that may escalate privileges",
    stack: withDep(edit(dep, (d) => (main(d).securityContext.allowPrivilegeEscalation = true))),
    stoppedBy: ["pod-security-standards on orders-deployment"],
  },
  {
    name: "a writable root filesystem",
    stack: withDep(edit(dep, (d) => (main(d).securityContext.readOnlyRootFilesystem = false))),
    stoppedBy: ["read-only-root-filesystem on orders-deployment"],
  },
  {
    name: "a private key in an innocently named env var",
    stack: withDep(
      edit(dep, (d) =>
        main(d).env.push({
          name: "BOOTSTRAP",
          value:
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----",
        }),
      ),
    ),
    stoppedBy: ["no-secret-literals on orders-deployment"],
  },
  {
    name: "an innocent *_KEY setting",
    stack: withDep(edit(dep, (d) => main(d).env.push({ name: "CACHE_KEY", value: "orders:v2" }))),
    stoppedBy: [],
  },
  {
    name: "a bare Pod in a fresh namespace",
    stack: [
      { type: T.namespace, name: "ns-tools", props: namespace("fjord-tools") },
      { type: T.networkPolicy, name: "tools-deny", props: defaultDeny("fjord-tools") },
      {
        type: T.pod,
        name: "toolbox",
        props: {
          metadata: { name: "toolbox", namespace: "fjord-tools" },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "toolbox",
                image: "busybox:1.36.1",
                resources: {
                  requests: { cpu: "10m", memory: "16Mi" },
                  limits: { cpu: "100m", memory: "32Mi" },
                },
                readinessProbe: { exec: { command: ["true"] } },
                livenessProbe: {
                  exec: { command: ["true"] },
                  initialDelaySeconds: 5,
                  periodSeconds: 30,
                },
                securityContext: restricted(10001),
              },
            ],
          },
        },
      },
    ],
    stoppedBy: ["no-naked-pods on toolbox"],
  },
  {
    name: "a budget that blocks drains",
    stack: good.map((f) =>
      f.name === "orders-pdb"
        ? { ...f, props: edit(pdb("orders"), (p: any) => (p.spec.maxUnavailable = 0)) }
        : f,
    ),
    stoppedBy: ["pdb-allows-disruption on orders-pdb"],
  },
  {
    name: "a role that can exec into pods",
    stack: [
      ...good,
      {
        type: "kubernetes:rbac.authorization.k8s.io/v1:Role",
        name: "debugger",
        props: {
          metadata: { name: "debugger", namespace: "fjord-orders" },
          rules: [{ apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] }],
        },
      },
    ],
    stoppedBy: ["rbac-no-pod-exec on debugger"],
  },
];

describe("the pack over a mixed corpus", () => {
  it.each(CORPUS)(
    "GIVEN $name WHEN the pack judges it THEN it is stopped by exactly $stoppedBy",
    async ({ stack, stoppedBy }) => {
      expect(await stopped(stack)).toEqual([...stoppedBy].sort());
    },
  );
});
