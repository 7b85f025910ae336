/**
 * Backups (#15): backup-residency, backup-required and backup-retention on both targets (a
 * Kubernetes StatefulSet with its `backup` container, a Docker database with its
 * `database-backup` runner), at prod's level (mandatory) and dev's (advisory), with values
 * computed at preview; and the backups in the residency evidence.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are untyped JSON */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import type { EnforcementLevel } from "@pulumi/policy";
import { type Fixture, edit, runStack, unknown } from "./harness";
import {
  T,
  backupContainer,
  dbStatefulSet,
  deployment,
  dockerBackupRunner,
  dockerContainer,
  dockerDatabase,
  prodStack,
} from "./fixtures";
import { backupRequired, backupResidency, backupRetention } from "../../../policies/backups";
import { buildEvidence, summaryLine } from "../../../policies/residency-evidence";

const ROOT = path.resolve(__dirname, "../../..");
const envConfig = (env: string) =>
  JSON.parse(fs.readFileSync(path.join(ROOT, `policies/config/${env}.json`), "utf8")) as Record<
    string,
    Record<string, unknown>
  >;
const PROD = { level: "mandatory" as EnforcementLevel };
const DEV = { level: "advisory" as EnforcementLevel };
const ALL = [backupResidency, backupRequired, backupRetention];

const SS = "StatefulSet fjord-orders/orders-db";
const DB = "Docker container 'fjord-dev-orders-db'";
const RUNNER = "Docker container 'fjord-dev-orders-db-backup'";

/** The prod fixture with the database StatefulSet changed. */
const withDb = (change: (s: any) => void): Fixture[] =>
  prodStack().map((f) =>
    f.name === "orders-db-statefulset" ? { ...f, props: edit(f.props, change) } : f,
  );
/** The prod fixture whose backup container carries these facts instead. */
const withFacts = (over: Record<string, string>): Fixture[] =>
  withDb((s) => (s.spec.template.spec.containers[2] = backupContainer("postgres", over)));
const withoutRunner = (annotations?: Record<string, string>): Fixture[] =>
  withDb((s) => {
    s.spec.template.spec.containers.pop();
    if (annotations) s.metadata.annotations = annotations;
  });

const docker = (db: Record<string, unknown>, ...runners: Record<string, unknown>[]): Fixture[] => [
  { type: T.docker, name: "orders-1", props: dockerContainer() },
  { type: T.docker, name: "orders-db", props: db },
  ...runners.map((props, i) => ({ type: T.docker, name: `orders-db-backup-${i}`, props })),
];

describe("backups on Kubernetes", () => {
  it("GIVEN fjord's prod shape with an encrypted nightly backup in no-osl1 WHEN judged THEN every backup policy passes", async () => {
    for (const p of ALL)
      expect((await runStack(p, prodStack(), PROD)).violations, p.name).toEqual([]);
  });

  it("GIVEN a backup target in us-east1 WHEN judged as prod THEN backup-residency blocks, naming fjord:backups.target.region", async () => {
    const r = await runStack(backupResidency, withFacts({ FJORD_BACKUP_REGION: "us-east1" }), PROD);
    expect(r.mandatory).toEqual([
      `${SS} backs up to region 'us-east1' (US), outside the allowed jurisdictions (NO); set fjord:backups.target.region to a bucket in NO.`,
    ]);
    expect(r.violations[0]!.urn).toMatch(/::orders-db-statefulset$/);
  });

  it("GIVEN a backup target in us-east1 WHEN judged as dev THEN the same finding is advisory", async () => {
    const r = await runStack(backupResidency, withFacts({ FJORD_BACKUP_REGION: "us-east1" }), DEV);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([expect.stringContaining("backs up to region 'us-east1' (US)")]);
  });

  it("GIVEN a target in de-fra1 WHEN the config allows the EEA THEN it passes, and with NO only THEN it fails", async () => {
    const s = withFacts({ FJORD_BACKUP_REGION: "de-fra1" });
    expect((await runStack(backupResidency, s, PROD)).mandatory).toHaveLength(1);
    expect(
      (await runStack(backupResidency, s, { ...PROD, config: { allowedJurisdictions: ["EEA"] } }))
        .violations,
    ).toEqual([]);
  });

  it("GIVEN a region missing from the catalogue WHEN judged THEN it fails until the policy config names it", async () => {
    const s = withFacts({ FJORD_BACKUP_REGION: "no-trd1" });
    expect((await runStack(backupResidency, s, PROD)).mandatory).toEqual([
      `${SS} backs up to region 'no-trd1' (FJORD_BACKUP_REGION of its container 'backup'), which is not in the region catalog; set fjord:backups.target.region to a bucket in NO, or add the region to the policy config regions with its jurisdiction.`,
    ]);
    const cfg = { ...PROD, config: { regions: { "no-trd1": "NO" } } };
    expect((await runStack(backupResidency, s, cfg)).violations).toEqual([]);
  });

  it("GIVEN a backup container without FJORD_BACKUP_REGION WHEN judged THEN residency cannot be proven and it fails", async () => {
    const s = withDb((x) => {
      const c = x.spec.template.spec.containers[2];
      c.env = c.env.filter((e: any) => e.name !== "FJORD_BACKUP_REGION");
    });
    expect((await runStack(backupResidency, s, PROD)).mandatory).toEqual([
      `${SS} backs up through its container 'backup', which declares no FJORD_BACKUP_REGION, so where the backups are stored cannot be proven; set fjord:backups.target.region to a bucket in NO.`,
    ]);
  });

  it("GIVEN a computed backup region WHEN previewed THEN backup-residency only advises", async () => {
    const r = await runStack(backupResidency, withFacts({ FJORD_BACKUP_REGION: unknown() }), PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      `Cannot verify the backup region of ${SS} at preview: FJORD_BACKUP_REGION of its backup container 'backup' is computed.`,
    ]);
  });

  it("GIVEN a database with no backup container and no reason WHEN judged THEN backup-required says it has no backups", async () => {
    expect((await runStack(backupRequired, withoutRunner(), PROD)).mandatory).toEqual([
      `${SS} is a database with no backups (no backup runner and no fjord.io/backup-off reason); set fjord:backups.enabled to true with a fjord:backups.target so fjord runs its backups.`,
    ]);
    // The other two judge only what a runner declares: one finding, not three.
    expect((await runStack(backupResidency, withoutRunner(), PROD)).violations).toEqual([]);
    expect((await runStack(backupRetention, withoutRunner(), PROD)).violations).toEqual([]);
  });

  it("GIVEN backups turned off with a reason WHEN judged as prod THEN it still fails, quoting the reason", async () => {
    const s = withoutRunner({ "fjord.io/backup-off": "scratch cache, rebuilt from orders" });
    expect((await runStack(backupRequired, s, PROD)).mandatory).toEqual([
      `${SS} has backups turned off (fjord.io/backup-off: "scratch cache, rebuilt from orders"); set fjord:backups.enabled (and the service's database.backup.enabled) to true with a fjord:backups.target in an allowed region.`,
    ]);
  });

  it("GIVEN backups turned off with a reason WHEN judged as dev THEN it is advisory and shows the reason", async () => {
    const s = withoutRunner({ "fjord.io/backup-off": "scratch cache, rebuilt from orders" });
    const r = await runStack(backupRequired, s, DEV);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([expect.stringContaining('"scratch cache, rebuilt from orders"')]);
  });

  it("GIVEN unencrypted backups WHEN judged THEN backup-required names fjord:backups.encrypt", async () => {
    expect(
      (await runStack(backupRequired, withFacts({ FJORD_BACKUP_ENCRYPT: "false" }), PROD))
        .mandatory,
    ).toEqual([
      `${SS} writes its backups unencrypted (FJORD_BACKUP_ENCRYPT=false on its container 'backup'); set fjord:backups.encrypt to true.`,
    ]);
  });

  it("GIVEN an invalid or missing schedule WHEN judged THEN backup-required names fjord:backups.schedule", async () => {
    const bad = await runStack(
      backupRequired,
      withFacts({ FJORD_BACKUP_SCHEDULE: "nightly" }),
      PROD,
    );
    expect(bad.mandatory).toEqual([
      expect.stringMatching(
        /^StatefulSet fjord-orders\/orders-db has an invalid backup schedule 'nightly' \(FJORD_BACKUP_SCHEDULE of its container 'backup': has 1 field.*\); set fjord:backups.schedule to a cron such as "15 2 \* \* \*"\.$/,
      ),
    ]);
    const none = await runStack(backupRequired, withFacts({ FJORD_BACKUP_SCHEDULE: "" }), PROD);
    expect(none.mandatory).toEqual([
      `${SS} has no backup schedule (its container 'backup' declares no FJORD_BACKUP_SCHEDULE); set fjord:backups.schedule to a cron such as "15 2 * * *".`,
    ]);
  });

  it("GIVEN the pod's containers computed at preview WHEN judged THEN each policy advises instead of failing", async () => {
    const s = withDb((x) => (x.spec.template.spec.containers = unknown("array")));
    for (const p of ALL) {
      const r = await runStack(p, s, PROD);
      expect(r.mandatory, p.name).toEqual([]);
      expect(r.advisory, p.name).toEqual([
        expect.stringMatching(
          /^Cannot verify the backup .* of StatefulSet fjord-orders\/orders-db at preview: its containers are computed\.$/,
        ),
      ]);
    }
  });

  it("GIVEN the backup container's env computed WHEN judged THEN schedule and encryption are unverified, not failed", async () => {
    const s = withDb((x) => (x.spec.template.spec.containers[2].env = unknown("array")));
    const r = await runStack(backupRequired, s, PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      `Cannot verify the backup schedule of ${SS} at preview: FJORD_BACKUP_SCHEDULE of its backup container 'backup' is computed.`,
      `Cannot verify the backup encryption of ${SS} at preview: FJORD_BACKUP_ENCRYPT of its backup container 'backup' is computed.`,
    ]);
  });

  it("GIVEN a computed backup-off annotation WHEN judged THEN backup-required advises", async () => {
    const s = withoutRunner({ "fjord.io/backup-off": unknown() });
    const r = await runStack(backupRequired, s, PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      `Cannot verify the backup schedule and encryption of ${SS} at preview: its fjord.io/backup-off annotation is computed.`,
    ]);
  });

  it("GIVEN 3 kept backups for 3d WHEN judged THEN backup-retention names count and age", async () => {
    const s = withFacts({ FJORD_BACKUP_RETENTION_COUNT: "3", FJORD_BACKUP_RETENTION_AGE: "3d" });
    expect((await runStack(backupRetention, s, PROD)).mandatory).toEqual([
      `${SS} keeps 3 backups, fewer than the required 7; set fjord:backups.retention.count to at least 7.`,
      `${SS} keeps backups for 3d, less than the required 7d; set fjord:backups.retention.age to at least 7d.`,
    ]);
  });

  it("GIVEN a stricter policy config WHEN the stack keeps 7 backups for 14d THEN it fails against the new minimum", async () => {
    const cfg = { ...PROD, config: { minRetentionCount: 14, minRetentionAge: "30d" } };
    expect((await runStack(backupRetention, prodStack(), cfg)).mandatory).toEqual([
      `${SS} keeps 7 backups, fewer than the required 14; set fjord:backups.retention.count to at least 14.`,
      `${SS} keeps backups for 14d, less than the required 30d; set fjord:backups.retention.age to at least 30d.`,
    ]);
  });

  it("GIVEN malformed retention values WHEN judged THEN they fail, and computed ones only advise", async () => {
    const bad = withFacts({
      FJORD_BACKUP_RETENTION_COUNT: "many",
      FJORD_BACKUP_RETENTION_AGE: "2 weeks",
    });
    expect((await runStack(backupRetention, bad, PROD)).mandatory).toEqual([
      `${SS} keeps 'many' backups (FJORD_BACKUP_RETENTION_COUNT of its container 'backup'), which is not a whole number; set fjord:backups.retention.count to at least 7.`,
      `${SS} keeps backups for '2 weeks' (FJORD_BACKUP_RETENTION_AGE of its container 'backup'), which is not a duration; set fjord:backups.retention.age to at least 7d.`,
    ]);
    const computed = withFacts({ FJORD_BACKUP_RETENTION_COUNT: unknown() });
    const r = await runStack(backupRetention, computed, PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      `Cannot verify the backup retention count of ${SS} at preview: FJORD_BACKUP_RETENTION_COUNT of its backup container 'backup' is computed.`,
    ]);
  });

  it("GIVEN StatefulSets that are not databases, and no database WHEN judged THEN the policies do not apply", async () => {
    const prom = edit(dbStatefulSet("prometheus"), (s) => {
      s.metadata.labels["app.kubernetes.io/component"] = "observability";
      s.spec.template.metadata.labels["app.kubernetes.io/component"] = "observability";
      s.spec.template.spec.containers.pop();
    });
    const s: Fixture[] = [
      { type: T.deployment, name: "orders", props: deployment() },
      { type: T.statefulSet, name: "prometheus", props: prom },
    ];
    for (const p of ALL)
      expect((await runStack(p, s, PROD)).notApplicable, p.name).toEqual([
        "The stack has no database workloads.",
      ]);
  });

  it("GIVEN a StatefulSet whose labels are computed WHEN judged THEN backup-required advises it cannot tell", async () => {
    const s = edit(dbStatefulSet(), (x) => {
      x.metadata.labels = unknown("object");
      x.spec.template.metadata.labels = unknown("object");
    });
    const r = await runStack(backupRequired, [{ type: T.statefulSet, name: "db", props: s }], PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify whether StatefulSet fjord-orders/orders-db is a database that needs backups at preview: its labels are computed.",
    ]);
  });

  it("GIVEN a database exempt from backup-required with a reason WHEN judged THEN the finding is reported as advisory", async () => {
    const s = withoutRunner({
      "fjord.io/policy-exempt": "backup-required",
      "fjord.io/policy-exempt-reason": "replica of the ledger, which is backed up",
    });
    const r = await runStack(backupRequired, s, PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory[0]).toMatch(
      /^StatefulSet fjord-orders\/orders-db is exempt from backup-required/,
    );
  });
});

describe("backups on Docker", () => {
  it("GIVEN a database with its backup runner in no-osl1 WHEN judged THEN every backup policy passes", async () => {
    const s = docker(dockerDatabase(), dockerBackupRunner());
    for (const p of ALL) expect((await runStack(p, s, DEV)).violations, p.name).toEqual([]);
  });

  it("GIVEN a runner backing up to us-east1 WHEN judged as dev THEN it advises, and as prod THEN it blocks", async () => {
    const s = docker(
      dockerDatabase(),
      dockerBackupRunner("orders", { FJORD_BACKUP_REGION: "us-east1" }),
    );
    const msg = `${DB} backs up to region 'us-east1' (US), outside the allowed jurisdictions (NO); set fjord:backups.target.region to a bucket in NO.`;
    const dev = await runStack(backupResidency, s, DEV);
    expect(dev.mandatory).toEqual([]);
    expect(dev.advisory).toEqual([msg]);
    expect((await runStack(backupResidency, s, PROD)).mandatory).toEqual([msg]);
  });

  it("GIVEN a database without a runner or reason WHEN judged THEN backup-required says it has no backups", async () => {
    expect((await runStack(backupRequired, docker(dockerDatabase()), PROD)).mandatory).toEqual([
      `${DB} is a database with no backups (no backup runner and no fjord.io/backup-off reason); set fjord:backups.enabled to true with a fjord:backups.target so fjord runs its backups.`,
    ]);
  });

  it("GIVEN another service's runner only WHEN judged THEN it does not count for this database", async () => {
    const s = docker(dockerDatabase(), dockerBackupRunner("payment"));
    expect((await runStack(backupRequired, s, PROD)).mandatory).toEqual([
      expect.stringContaining(`${DB} is a database with no backups`),
    ]);
  });

  it("GIVEN backups off by label WHEN judged as dev THEN the reason is shown as advice, and as prod THEN it blocks", async () => {
    const s = docker(dockerDatabase("orders", { "fjord.io/backup-off": "throwaway dev data" }));
    const msg = `${DB} has backups turned off (fjord.io/backup-off: "throwaway dev data"); set fjord:backups.enabled (and the service's database.backup.enabled) to true with a fjord:backups.target in an allowed region.`;
    const dev = await runStack(backupRequired, s, DEV);
    expect(dev).toMatchObject({ mandatory: [], advisory: [msg] });
    expect((await runStack(backupRequired, s, PROD)).mandatory).toEqual([msg]);
  });

  it("GIVEN an unencrypted runner keeping 2 backups WHEN judged THEN encryption and retention fail", async () => {
    const s = docker(
      dockerDatabase(),
      dockerBackupRunner("orders", {
        FJORD_BACKUP_ENCRYPT: "false",
        FJORD_BACKUP_RETENTION_COUNT: "2",
      }),
    );
    expect((await runStack(backupRequired, s, PROD)).mandatory).toEqual([
      `${DB} writes its backups unencrypted (FJORD_BACKUP_ENCRYPT=false on its ${RUNNER}); set fjord:backups.encrypt to true.`,
    ]);
    expect((await runStack(backupRetention, s, PROD)).mandatory).toEqual([
      `${DB} keeps 2 backups, fewer than the required 7; set fjord:backups.retention.count to at least 7.`,
    ]);
  });

  it("GIVEN the runner's envs computed at preview (a generated cipher key) WHEN judged THEN every policy advises and none fails", async () => {
    const s = docker(dockerDatabase(), { ...dockerBackupRunner(), envs: unknown("array") });
    for (const p of ALL) {
      const r = await runStack(p, s, PROD);
      expect(r.mandatory, p.name).toEqual([]);
      expect(r.advisory.length, p.name).toBeGreaterThan(0);
      for (const m of r.advisory)
        expect(m).toMatch(
          new RegExp(
            `^Cannot verify the backup .* of ${DB} at preview: FJORD_BACKUP_\\w+ of its backup ${RUNNER} is computed\\.$`,
          ),
        );
    }
  });

  it("GIVEN one computed entry among the runner's envs WHEN a fact is absent THEN it is unverified, not missing", async () => {
    const runner = dockerBackupRunner();
    runner.envs = [
      ...runner.envs.filter((e: string) => !e.startsWith("FJORD_BACKUP_REGION=")),
      unknown(),
    ];
    const r = await runStack(backupResidency, docker(dockerDatabase(), runner), PROD);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toHaveLength(1);
  });
});

describe("the pack config", () => {
  it.each([
    ["prod", "mandatory"],
    ["dev", "advisory"],
  ])(
    "GIVEN policies/config/%s.json WHEN read THEN the backup policies are %s, with retention minimums 7 and 7d",
    (env, level) => {
      const cfg = envConfig(env);
      for (const p of ALL) expect(cfg[p.name]?.enforcementLevel, `${env} ${p.name}`).toBe(level);
      expect(cfg["backup-retention"]).toMatchObject({
        minRetentionCount: 7,
        minRetentionAge: "7d",
      });
    },
  );
  it("GIVEN no retention settings WHEN the policy reads its config THEN it defaults to 7 backups and 7d", () => {
    const schema = backupRetention.configSchema!.properties;
    expect(schema.minRetentionCount).toMatchObject({ default: 7 });
    expect(schema.minRetentionAge).toMatchObject({ default: "7d" });
  });
});

describe("backups in the residency evidence", () => {
  const cfg = {
    allowedJurisdictions: ["NO"],
    regions: {},
    hostRegions: {},
    evidenceFile: "x",
    localRegion: null,
    reportSummary: false,
  };
  const resources = (fs: Fixture[]) =>
    fs.map((f) => ({
      type: f.type,
      name: f.name,
      urn: `urn:pulumi:test::fjord::${f.type}::${f.name}`,
      props: f.props,
      dependencies: [],
      propertyDependencies: {},
    }));

  it("GIVEN a backed-up database in no-osl1 WHEN the evidence is built THEN it records the bucket's region and why", () => {
    const ev = buildEvidence(resources(prodStack()), cfg);
    expect(ev.compliant).toBe(true);
    expect(ev.backups).toEqual([
      expect.objectContaining({
        name: "orders-db-statefulset",
        region: "no-osl1",
        jurisdiction: "NO",
        basis: `FJORD_BACKUP_REGION of container 'backup' on ${SS}, bucket fjord-backups at s3.osl1.example.no`,
      }),
    ]);
    expect(summaryLine(ev, "ev.json")).toContain(", backups of 1 database(s) (NO: 1);");
  });

  it("GIVEN backups in us-east1 WHEN the evidence is built THEN it is not compliant", () => {
    const ev = buildEvidence(resources(withFacts({ FJORD_BACKUP_REGION: "us-east1" })), cfg);
    expect(ev.backups[0]).toMatchObject({ region: "us-east1", jurisdiction: "US" });
    expect(ev.compliant).toBe(false);
    expect(summaryLine(ev, "ev.json")).toContain("backups of 1 database(s) (US: 1); NOT every");
  });

  it("GIVEN a Docker database with backups off WHEN the evidence is built THEN it records the reason and stays compliant", () => {
    const ev = buildEvidence(
      resources(docker(dockerDatabase("orders", { "fjord.io/backup-off": "throwaway dev data" }))),
      { ...cfg, localRegion: "no-osl1" },
    );
    expect(ev.backups).toEqual([
      expect.objectContaining({
        name: "orders-db",
        region: null,
        jurisdiction: null,
        basis: 'no backups: fjord.io/backup-off "throwaway dev data"',
      }),
    ]);
    expect(ev.compliant).toBe(true);
    expect(summaryLine(ev, "ev.json")).toContain("backups of 1 database(s) (none: 1)");
  });
});
