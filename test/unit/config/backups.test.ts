/**
 * fjord:backups and the per-database backup and restore keys: every refusal names the key to fix,
 * prod needs a bucket in an allowed jurisdiction, dev only hears about a missing one, and `up`
 * (not a preview) needs the bucket's keys.
 */
import { describe, expect, it } from "vitest";
import { parseSpec, SpecError, type SpecProblem } from "../../../components/config";
import { BACKUP_SECRETS, BACKUP_TARGET, validValues } from "./fixtures";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutating untyped config fixtures
type Values = Record<string, any>;

const ALL_SECRETS = { kubeconfig: { secret: true }, ...BACKUP_SECRETS };

const parse = (values: Values, extra: Partial<Parameters<typeof parseSpec>[0]> = {}) =>
  parseSpec({ stack: "test", values, secrets: ALL_SECRETS, ...extra });

function problemsOf(values: Values, extra: Partial<Parameters<typeof parseSpec>[0]> = {}) {
  try {
    parse(values, extra);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  return [] as SpecProblem[];
}

/** validValues() with `change` applied to a fresh copy. */
const changed = (change: (v: Values) => void): Values => {
  const v: Values = validValues();
  change(v);
  return v;
};

describe("fjord:backups schema errors name their key", () => {
  it.each<[string, string, RegExp, (v: Values) => void]>([
    [
      "a schedule with four fields",
      "fjord:backups.schedule",
      /has 4 fields; a schedule has five/,
      (v) => (v.backups.schedule = "15 2 * *"),
    ],
    [
      "a schedule hour of 24",
      "fjord:backups.schedule",
      /hour field "24": "24" is outside 0-23$/,
      (v) => (v.backups.schedule = "15 24 * * *"),
    ],
    [
      "a schedule that never fires",
      "fjord:backups.schedule",
      /never fires/,
      (v) => (v.backups.schedule = "0 0 31 2 *"),
    ],
    [
      "a database's own bad schedule",
      "fjord:services[0].database.backup.schedule",
      /has 1 field/,
      (v) => (v.services[0].database.backup = { schedule: "@sometimes" }),
    ],
    [
      "an endpoint given as a URL",
      "fjord:backups.target.endpoint",
      /without https:\/\//,
      (v) => (v.backups.target.endpoint = "https://s3.osl1.example.no"),
    ],
    [
      "an endpoint with a path",
      "fjord:backups.target.endpoint",
      /"host" or "host:port"/,
      (v) => (v.backups.target.endpoint = "s3.osl1.example.no/fjord"),
    ],
    [
      "a bucket in upper case",
      "fjord:backups.target.bucket",
      /must be an S3 bucket name/,
      (v) => (v.backups.target.bucket = "Fjord_Backups"),
    ],
    [
      "a two-letter bucket",
      "fjord:backups.target.bucket",
      /3-63 lower-case letters/,
      (v) => (v.backups.target.bucket = "fj"),
    ],
    [
      "a retention count of 0",
      "fjord:backups.retention.count",
      /at least 1/,
      (v) => (v.backups.retention = { count: 0 }),
    ],
    [
      "a retention count that is not whole",
      "fjord:backups.retention.count",
      /whole number/,
      (v) => (v.backups.retention = { count: 2.5 }),
    ],
    [
      "a retention age without a unit",
      "fjord:backups.retention.age",
      /must be a duration/,
      (v) => (v.backups.retention = { age: "14" }),
    ],
    [
      "a database's own retention count of 0",
      "fjord:services[1].database.backup.retention.count",
      /at least 1/,
      (v) => (v.services[1].database.backup = { retention: { count: 0 } }),
    ],
    [
      "a restore point that is not a time",
      "fjord:services[0].database.restore.from",
      /ISO time such as 2026-12-04T10:15:00Z/,
      (v) => (v.services[0].database.restore = { from: "yesterday" }),
    ],
    [
      "a restore point without a time zone",
      "fjord:services[0].database.restore.from",
      /ISO time/,
      (v) => (v.services[0].database.restore = { from: "2026-12-04T10:15:00" }),
    ],
    [
      "a misspelt target key",
      "fjord:backups.target.bukket",
      /did you mean fjord:backups.target.bucket\?/,
      (v) => (v.backups.target.bukket = "x"),
    ],
  ])("GIVEN %s WHEN parsed THEN %s is refused", (_given, key, message, change) => {
    const found = problemsOf(changed(change));
    expect(found.map((p) => p.key)).toEqual([key]);
    expect(found[0].message).toMatch(message);
  });
});

describe("backup checks name their key", () => {
  it("GIVEN backups.enabled false without a reason WHEN parsed THEN fjord:backups.reason is required", () => {
    const found = problemsOf(changed((v) => (v.backups = { enabled: false })));
    expect(found.map((p) => p.key)).toEqual(["fjord:backups.reason"]);
    expect(found[0].message).toMatch(/^is required when backups.enabled is false/);
  });

  it("GIVEN backups.enabled false with a reason and no target WHEN parsed THEN it is accepted, and no database is backed up", () => {
    const reason = "a throwaway demo stack, rebuilt from fixtures every night";
    const { spec, warnings } = parse(changed((v) => (v.backups = { enabled: false, reason })));
    expect(warnings).toEqual([]);
    for (const s of spec.services) {
      expect(s.database?.backup).toBeUndefined();
      expect(s.database?.backupOff).toBe(reason);
    }
  });

  it("GIVEN one database's backup off without a reason WHEN parsed THEN that database's reason key is required", () => {
    const found = problemsOf(changed((v) => (v.services[1].database.backup = { enabled: false })));
    expect(found.map((p) => p.key)).toEqual(["fjord:services[1].database.backup.reason"]);
  });

  it("GIVEN one database's backup off with a reason WHEN parsed THEN only the other is backed up", () => {
    const reason = "a cache, rebuilt from the orders database";
    const { spec } = parse(
      changed((v) => (v.services[1].database.backup = { enabled: false, reason })),
    );
    expect(spec.services[0].database?.backup?.target).toMatchObject(BACKUP_TARGET);
    expect(spec.services[1].database).toMatchObject({ backupOff: reason });
    expect(spec.services[1].database?.backup).toBeUndefined();
  });

  it("GIVEN prod with databases and no target WHEN parsed THEN fjord:backups.target is refused naming the databases", () => {
    const found = problemsOf(changed((v) => delete v.backups));
    expect(found.map((p) => p.key)).toEqual(["fjord:backups.target"]);
    expect(found[0].message).toMatch(/databases of orders, payment have no backups/);
  });

  it("GIVEN prod without a target and every database's backup off with a reason WHEN parsed THEN it is accepted", () => {
    const reason = "restored from the upstream system of record";
    const { spec } = parse(
      changed((v) => {
        delete v.backups;
        for (const s of v.services) s.database.backup = { enabled: false, reason };
      }),
    );
    expect(spec.services.map((s) => s.database?.backupOff)).toEqual([reason, reason]);
  });

  it("GIVEN dev with databases and no target WHEN parsed THEN it is only a warning under fjord:backups.target", () => {
    const { spec, warnings } = parse(
      changed((v) => {
        v.environment = "dev";
        delete v.backups;
      }),
    );
    expect(warnings).toEqual([expect.stringMatching(/^fjord:backups.target: is not set/)]);
    expect(spec.services[0].database).toMatchObject({
      backupOff: "no fjord:backups.target is set",
    });
  });

  it("GIVEN a target in us-east1 WHEN parsed THEN fjord:backups.target.region is outside the allowed jurisdictions", () => {
    const found = problemsOf(changed((v) => (v.backups.target.region = "us-east1")));
    expect(found.map((p) => p.key)).toEqual(["fjord:backups.target.region"]);
    expect(found[0].message).toMatch(
      /"us-east1" is in US, outside fjord:allowedJurisdictions \(NO\)/,
    );
  });

  it("GIVEN a target in us-east1 on a dev stack WHEN parsed THEN it is still refused (residency is not advisory)", () => {
    const found = problemsOf(
      changed((v) => {
        v.environment = "dev";
        v.backups.target.region = "us-east1";
      }),
    );
    expect(found.map((p) => p.key)).toEqual(["fjord:backups.target.region"]);
  });

  it("GIVEN a target in an unknown region WHEN parsed THEN fjord:backups.target.region lists the known ones", () => {
    const found = problemsOf(changed((v) => (v.backups.target.region = "no-trd9")));
    expect(found.map((p) => p.key)).toEqual(["fjord:backups.target.region"]);
    expect(found[0].message).toMatch(/"no-trd9" is not a known region; use one of .*no-svg1/);
  });

  it("GIVEN a target in a region the stack adds, in Norway WHEN parsed THEN it is accepted", () => {
    const { spec } = parse(
      changed((v) => {
        v.regions = { "no-trd1": { jurisdiction: "NO", eea: true, city: "Trondheim" } };
        v.backups.target.region = "no-trd1";
      }),
    );
    expect(spec.services[0].database?.backup?.target.region).toBe("no-trd1");
  });

  it("GIVEN a MariaDB restore to a point in time WHEN parsed THEN its restore.from must be latest", () => {
    const found = problemsOf(
      changed((v) => (v.services[1].database.restore = { from: "2026-12-04T10:15:00Z" })),
    );
    expect(found.map((p) => p.key)).toEqual(["fjord:services[1].database.restore.from"]);
    expect(found[0].message).toMatch(/^must be "latest" for MariaDB/);
  });

  it("GIVEN a PostgreSQL restore to a point in time and a MariaDB restore of the latest WHEN parsed THEN both are accepted", () => {
    const { spec } = parse(
      changed((v) => {
        v.services[0].database.restore = { from: "2026-12-04T10:15:00+01:00" };
        v.services[1].database.restore = { from: "latest" };
      }),
    );
    expect(spec.services.map((s) => s.database?.restore)).toEqual([
      { from: "2026-12-04T10:15:00+01:00" },
      { from: "latest" },
    ]);
  });

  it("GIVEN a restore without a target (dev) WHEN parsed THEN its restore.from is refused", () => {
    const found = problemsOf(
      changed((v) => {
        v.environment = "dev";
        delete v.backups;
        v.services[0].database.restore = { from: "latest" };
      }),
    );
    expect(found.map((p) => p.key)).toEqual(["fjord:services[0].database.restore.from"]);
    expect(found[0].message).toMatch(/needs fjord:backups.target/);
  });
});

describe("the bucket's keys", () => {
  it("GIVEN a target and neither key WHEN parsed for up THEN both keys are required", () => {
    const found = problemsOf(validValues(), { secrets: { kubeconfig: { secret: true } } });
    expect(found.map((p) => p.key)).toEqual([
      "fjord:backupAccessKeyId",
      "fjord:backupSecretAccessKey",
    ]);
    expect(found[0].message).toMatch(/pulumi config set --secret backupAccessKeyId/);
  });

  it("GIVEN a target and neither key WHEN previewed THEN each is only a warning", () => {
    const { warnings } = parse(validValues(), {
      secrets: { kubeconfig: { secret: true } },
      dryRun: true,
    });
    expect(warnings).toEqual([
      expect.stringMatching(/^fjord:backupAccessKeyId is required .*\(preview continues/),
      expect.stringMatching(/^fjord:backupSecretAccessKey is required .*\(preview continues/),
    ]);
  });

  it("GIVEN a key stored in plain text WHEN parsed, even in a preview THEN it is refused", () => {
    const found = problemsOf(validValues(), {
      secrets: { ...ALL_SECRETS, backupSecretAccessKey: { secret: false } },
      dryRun: true,
    });
    expect(found.map((p) => p.key)).toEqual(["fjord:backupSecretAccessKey"]);
    expect(found[0].message).toMatch(/is stored in plain text/);
  });

  it("GIVEN no target (backups off with a reason) and no keys WHEN parsed for up THEN no key is asked for", () => {
    const reason = "a throwaway demo stack, rebuilt from fixtures every night";
    expect(
      problemsOf(
        changed((v) => (v.backups = { enabled: false, reason })),
        { secrets: { kubeconfig: { secret: true } } },
      ),
    ).toEqual([]);
  });
});

describe("resolved backups", () => {
  it("GIVEN stack defaults and one database's overrides WHEN resolved THEN each database gets its own settings and the stack's prefix", () => {
    const { spec } = parseSpec({
      stack: "prod",
      values: changed((v) => {
        v.backups.retention = { count: 3 };
        v.services[1].database.backup = { schedule: "@hourly", retention: { age: "2d" } };
      }),
      secrets: ALL_SECRETS,
    });
    expect(spec.services[0].database?.backup).toEqual({
      target: {
        ...BACKUP_TARGET,
        signingRegion: "us-east-1",
        pathStyle: true,
        prefix: "fjord/prod",
      },
      schedule: "15 2 * * *",
      retention: { count: 3, age: "14d" },
      encrypt: true,
      archiveTimeout: "60s",
    });
    expect(spec.services[1].database?.backup).toMatchObject({
      schedule: "@hourly",
      retention: { count: 3, age: "2d" },
    });
  });
});
