import * as fs from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Policies, Policy } from "@pulumi/policy";
import { edit, runResource, runStack } from "./harness";
import { T, dbService, dockerContainer, deployment, prodStack } from "./fixtures";
import { runAsNonRoot } from "../../../policies/security";
import { databaseServiceInternal } from "../../../policies/isolation";

const ROOT = path.resolve(__dirname, "../../..");
let policies: Policies = [];
let modules: Record<string, unknown>[] = [];
beforeAll(async () => {
  policies = (await import("../../../policies/policies")).policies;
  modules = await Promise.all(
    [
      "residency",
      "residency-evidence",
      "tls",
      "http3",
      "resources",
      "availability",
      "security",
      "isolation",
      "databases",
      "database-tuning",
      "latency",
      "pod-security",
      "secrets",
      "rbac",
      "workloads",
      "workload-coverage",
      "backups",
    ].map((m) => import(`../../../policies/${m}`) as Promise<Record<string, unknown>>),
  );
});

const isPolicy = (v: unknown): v is Policy =>
  typeof v === "object" &&
  v !== null &&
  "name" in v &&
  "description" in v &&
  ("validateResource" in v || "validateStack" in v);

describe("the pack", () => {
  it("lists every policy the modules export, once", () => {
    const exported = new Set(
      modules.flatMap((m) => Object.values(m).filter(isPolicy)).map((p) => p.name),
    );
    expect(policies.map((p) => p.name).sort()).toEqual([...exported].sort());
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
  });
  it("gives every policy a kebab-case name, a sentence of description and config defaults", () => {
    for (const p of policies) {
      expect(p.name, p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(p.description, p.name).toMatch(/^[A-Z].*\.$/);
      expect(p.configSchema, p.name).toBeDefined();
      for (const [k, s] of Object.entries(p.configSchema!.properties))
        expect(s, `${p.name}.${k}`).toHaveProperty("default");
    }
  });
  it("runs with the CLI: PulumiPolicy.yaml and a versioned package.json", () => {
    expect(fs.readFileSync(path.join(ROOT, "policies/PulumiPolicy.yaml"), "utf8")).toMatch(
      /runtime:\s*\n\s+name: nodejs/,
    );
    expect(
      JSON.parse(fs.readFileSync(path.join(ROOT, "policies/package.json"), "utf8")).version,
    ).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

const typeOk = (schema: { type?: string | string[] }, v: unknown): boolean => {
  const types =
    schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const actual =
    v === null ? "null" : Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;
  return (
    types.length === 0 ||
    types.includes(actual) ||
    (actual === "integer" && types.includes("number"))
  );
};

describe.each(["dev", "prod"])("policies/config/%s.json", (env) => {
  const config = JSON.parse(
    fs.readFileSync(path.join(ROOT, `policies/config/${env}.json`), "utf8"),
  ) as Record<string, unknown>;
  it("names only policies of the pack, with keys and types from their schemas", () => {
    const byName = new Map(policies.map((p) => [p.name, p]));
    for (const [name, entry] of Object.entries(config)) {
      if (name === "all") {
        expect(["advisory", "mandatory", "disabled"]).toContain(entry);
        continue;
      }
      const p = byName.get(name);
      expect(p, `${env}: unknown policy ${name}`).toBeDefined();
      const props = typeof entry === "string" ? {} : (entry as Record<string, unknown>);
      for (const [k, v] of Object.entries(props)) {
        if (k === "enforcementLevel")
          expect(["advisory", "mandatory", "disabled", "remediate"]).toContain(v);
        else
          expect(
            typeOk(p!.configSchema!.properties[k] as { type?: string }, v),
            `${env}: ${name}.${k}`,
          ).toBe(true);
      }
    }
  });
  it("makes availability mandatory in prod and advisory in dev", () => {
    for (const name of [
      "replicas-anti-affinity",
      "readiness-probes",
      "pod-disruption-budget",
      "anti-affinity-schedulable",
    ]) {
      expect((config[name] as { enforcementLevel: string }).enforcementLevel).toBe(
        env === "prod" ? "mandatory" : "advisory",
      );
    }
  });
});

describe("exemptions", () => {
  const exempt = (policies: string, reason?: string) => ({
    "fjord.io/policy-exempt": policies,
    ...(reason ? { "fjord.io/policy-exempt-reason": reason } : {}),
  });
  const rootDep = edit(
    deployment("log-shipper", "fjord-system"),
    (d) => (d.spec.template.spec.containers[0].securityContext.runAsUser = 0),
  );
  const ROOT_MSG =
    "Deployment fjord-system/log-shipper container 'log-shipper' runs as root (runAsUser: 0); set runAsUser to a non-zero uid and runAsNonRoot: true.";

  it("GIVEN a root Deployment exempt from run-as-non-root with a reason WHEN judged THEN the finding is reported as advisory, quoting the reason", async () => {
    const d = edit(
      rootDep,
      (x) =>
        (x.metadata.annotations = exempt(
          "pinned-images,run-as-non-root",
          "reads root-owned kubelet logs; all capabilities dropped",
        )),
    );
    const r = await runResource(runAsNonRoot, { type: T.deployment, props: d });
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      `Deployment fjord-system/log-shipper is exempt from run-as-non-root (fjord.io/policy-exempt-reason: "reads root-owned kubelet logs; all capabilities dropped"); the exempted finding: ${ROOT_MSG}`,
    ]);
  });
  it("GIVEN a root Deployment exempt from run-as-non-root without a reason WHEN judged THEN the finding stays mandatory and says the exemption is ignored", async () => {
    const d = edit(rootDep, (x) => (x.metadata.annotations = exempt("run-as-non-root")));
    expect((await runResource(runAsNonRoot, { type: T.deployment, props: d })).mandatory).toEqual([
      `${ROOT_MSG} The exemption on Deployment fjord-system/log-shipper is ignored because it has no fjord.io/policy-exempt-reason annotation or label.`,
    ]);
  });
  it("GIVEN a root Deployment exempt only from pinned-images WHEN run-as-non-root judges it THEN its finding stays mandatory", async () => {
    const d = edit(
      rootDep,
      (x) => (x.metadata.annotations = exempt("pinned-images", "vendor image")),
    );
    expect((await runResource(runAsNonRoot, { type: T.deployment, props: d })).mandatory).toEqual([
      ROOT_MSG,
    ]);
  });
  it("GIVEN exemptions with reasons on a root Docker container's labels and on a LoadBalancer database Service WHEN judged by run-as-non-root and database-service-internal THEN both findings are advisory", async () => {
    const c = dockerContainer({
      user: "0",
      labels: [
        { label: "fjord.io/policy-exempt", value: "run-as-non-root" },
        { label: "fjord.io/policy-exempt-reason", value: "upstream image needs root" },
      ],
    });
    expect((await runResource(runAsNonRoot, { type: T.docker, props: c })).advisory).toHaveLength(
      1,
    );
    const svc = edit(dbService("orders", "LoadBalancer"), (s) =>
      Object.assign(s.metadata, {
        annotations: exempt(
          "database-service-internal",
          "temporary migration from the old host, until 2025-12-01",
        ),
      }),
    );
    const stack = prodStack().map((r) =>
      r.name === "orders-db-service" ? { ...r, props: svc } : r,
    );
    const res = await runStack(databaseServiceInternal, stack);
    expect(res.mandatory).toEqual([]);
    expect(res.advisory[0]).toMatch(
      /^Service fjord-orders\/orders-db is exempt from database-service-internal \(fjord.io\/policy-exempt-reason: "temporary migration/,
    );
  });
});
