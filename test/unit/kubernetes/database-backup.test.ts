/**
 * Database backups on Kubernetes: GIVEN the prod stack with fjord:backups.target, orders
 * (PostgreSQL) restoring to a point in time, inventory (MariaDB) backed up, payment with backups
 * off, WHEN the Platform is built, THEN each database pod carries what its plan asks for.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { secretInput, setupMocks, stackConfig } from "../../../testkit/mocks";
import { parseSpec } from "../../../components/config";
import { planPlatform } from "../../../components/plan";

const rec = await setupMocks({ stack: "prod" });
const { Platform, ServiceDatabase } = await import("../../../components/kubernetes");

const STS = "kubernetes:apps/v1:StatefulSet";
const CM = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const ACCESS_KEY = "AKIA-test-access-key";
const SECRET_KEY = "test-secret-access-key";

const parse = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

/** The prod stack file with backups to an S3 store in Oslo and one override per database. */
function backupSpec() {
  const values: Record<string, unknown> = Object.fromEntries(
    Object.entries(stackConfig("prod")).map(([k, v]) => [k.slice("fjord:".length), parse(v)]),
  );
  type Svc = { name: string; database: Record<string, unknown> };
  const services = (values.services as Svc[]).map((s) => {
    switch (s.name) {
      case "orders":
        return { ...s, database: { ...s.database, restore: { from: "2026-12-04T10:15:00Z" } } };
      case "payment":
        return {
          ...s,
          database: {
            ...s.database,
            backup: { enabled: false, reason: "payment data is rebuilt from the ledger" },
          },
        };
      default:
        return s;
    }
  });
  return parseSpec({
    stack: "prod",
    values: {
      ...values,
      services,
      backups: {
        target: { endpoint: "s3.osl1.example.no:9000", bucket: "fjord-backups", region: "no-osl1" },
      },
    },
    secrets: {},
    dryRun: true,
  }).spec;
}

const spec = backupSpec();
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- recorded inputs are untyped JSON
type Json = any;
const sts = (app: string): Json => rec.get(STS, `${app}-statefulset`).inputs;
const pod = (app: string): Json => sts(app).spec.template.spec;
const container = (app: string, name: string): Json =>
  pod(app).containers.find((c: { name: string }) => c.name === name);
const envOf = (c: Json, name: string): Json => c.env.find((e: { name: string }) => e.name === name);

beforeAll(async () => {
  new Platform("fjord", {
    spec,
    backupKeys: {
      accessKeyId: pulumi.secret(ACCESS_KEY),
      secretAccessKey: pulumi.secret(SECRET_KEY),
    },
  });
  await rec.settle();
});

describe("Kubernetes database backups", () => {
  it("GIVEN backed-up PostgreSQL and MariaDB databases WHEN the Platform is built THEN each pod runs a backup sidecar from the server's image with its metrics port and small resources, restricted like the server", () => {
    for (const [app, engine] of [
      ["orders-db", "postgres"],
      ["inventory-db", "mysql"],
    ]) {
      expect(pod(app).containers.map((c: { name: string }) => c.name)).toEqual([
        engine,
        "exporter",
        "backup",
      ]);
      const server = container(app, engine);
      const backup = container(app, "backup");
      expect(backup.image).toBe(server.image);
      expect(backup.command).toEqual(["sh", "/etc/fjord/backup/run.sh", "schedule"]);
      expect(backup.ports).toEqual([{ name: "backup-metrics", containerPort: 9188 }]);
      expect(backup.securityContext).toEqual(server.securityContext);
      expect(backup.securityContext).toMatchObject({
        runAsUser: 999,
        readOnlyRootFilesystem: true,
      });
      expect(backup.resources).toEqual({
        requests: { cpu: "25m", memory: "64Mi" },
        limits: { cpu: "500m", memory: "256Mi" },
      });
    }
  });

  it("GIVEN a backed-up MariaDB database WHEN the Platform is built THEN the sidecar shares the data volume and the socket emptyDir with the server, mounts the backup files read-only and has its own scratch", () => {
    const mounts = (c: Json) =>
      Object.fromEntries(c.volumeMounts.map((m: Json) => [m.mountPath, m.name]));
    const server = mounts(container("inventory-db", "mysql"));
    const backup = mounts(container("inventory-db", "backup"));
    expect(backup["/var/lib/mysql"]).toBe("data");
    expect(backup["/var/lib/mysql"]).toBe(server["/var/lib/mysql"]);
    expect(backup["/run/mysqld"]).toBe(server["/run/mysqld"]);
    expect(backup["/etc/fjord/backup"]).toBe("backup-files");
    expect(server["/etc/fjord/backup"]).toBe("backup-files");
    expect(backup["/run/fjord-backup"]).toBe("backup-state");
    expect(backup["/tmp"]).toBe("backup-tmp");
    const volumes = Object.fromEntries(pod("inventory-db").volumes.map((v: Json) => [v.name, v]));
    expect(volumes[backup["/run/mysqld"]].emptyDir).toEqual({});
    expect(volumes["backup-files"].configMap).toEqual({ name: "inventory-db-backup" });
    expect(volumes["backup-state"].emptyDir).toEqual({});
    const files = container("inventory-db", "backup").volumeMounts.find(
      (m: Json) => m.name === "backup-files",
    );
    expect(files.readOnly).toBe(true);
  });

  it("GIVEN backed-up PostgreSQL and MariaDB databases and one with backups off WHEN the Platform is built THEN the backup files are in a ConfigMap, pgbackrest.conf only for PostgreSQL, and none for the one off", () => {
    const pg = rec.get(CM, "orders-db-backup").inputs;
    expect(pg.metadata.name).toBe("orders-db-backup");
    expect(Object.keys(pg.data).sort()).toEqual(["pgbackrest.conf", "restore.sh", "run.sh"]);
    expect(pg.data["pgbackrest.conf"]).toMatch(/^repo1-s3-endpoint=s3\.osl1\.example\.no$/m);
    expect(pg.data["run.sh"]).toMatch(/^#!\/bin\/sh/);
    const my = rec.get(CM, "inventory-db-backup").inputs;
    expect(Object.keys(my.data).sort()).toEqual(["restore.sh", "run.sh"]);
    expect(() => rec.get(CM, "payment-db-backup")).toThrow(
      /no .*ConfigMap named payment-db-backup/,
    );
  });

  it("GIVEN the object store's keys WHEN the Platform is built THEN a generated cipher and the keys are in the backed-up database's Secret, and none in the Secret of one with backups off", () => {
    expect(
      rec.get("random:index/randomPassword:RandomPassword", "orders-db-backup-cipher"),
    ).toBeTruthy();
    // The engine stores stringData encrypted as a whole once any value in it is secret.
    const data = secretInput(rec.get(SECRET, "orders-db-credentials").inputs.stringData);
    expect(data["backup-cipher"]).toBe("mock-password-orders-db-backup-cipher");
    expect(data["backup-access-key-id"]).toBe(ACCESS_KEY);
    expect(data["backup-secret-access-key"]).toBe(SECRET_KEY);
    expect(data.password).toBe("mock-password-orders-db-password");
    const payment = secretInput(rec.get(SECRET, "payment-db-credentials").inputs.stringData);
    expect(Object.keys(payment).filter((k) => k.startsWith("backup-"))).toEqual([]);
  });

  it("GIVEN a backed-up PostgreSQL database WHEN the Platform is built THEN the server and the sidecar get the same backup env, credentials by secretKeyRef, as does the MariaDB sidecar's cipher", () => {
    const server = container("orders-db", "postgres");
    const ref = (name: string) => envOf(server, name)?.valueFrom?.secretKeyRef;
    expect(ref("PGBACKREST_REPO1_CIPHER_PASS")).toEqual({
      name: "orders-db-credentials",
      key: "backup-cipher",
    });
    expect(ref("PGBACKREST_REPO1_S3_KEY")).toEqual({
      name: "orders-db-credentials",
      key: "backup-access-key-id",
    });
    expect(ref("PGBACKREST_REPO1_S3_KEY_SECRET")?.key).toBe("backup-secret-access-key");
    expect(envOf(server, "FJORD_BACKUP_ENDPOINT").value).toBe("s3.osl1.example.no:9000");
    expect(container("orders-db", "backup").env).toEqual(server.env);
    const mysql = container("inventory-db", "backup");
    expect(envOf(mysql, "FJORD_BACKUP_CIPHER").valueFrom.secretKeyRef.key).toBe("backup-cipher");
  });

  it("GIVEN the object store's keys and generated passwords WHEN the Platform is built THEN no StatefulSet has them in plain text, and every secret-looking env var is a secretKeyRef", () => {
    const json = JSON.stringify(rec.ofType(STS).map((r) => r.inputs));
    for (const s of [ACCESS_KEY, SECRET_KEY, "mock-password"]) expect(json).not.toContain(s);
    const secretish = /PASS|SECRET|KEY|CIPHER/;
    for (const app of ["orders-db", "inventory-db"]) {
      const all = [...pod(app).containers, ...(pod(app).initContainers ?? [])];
      for (const e of all.flatMap((c: Json) => c.env ?? [])) {
        if (secretish.test(e.name))
          expect(e.valueFrom?.secretKeyRef, `${app} ${e.name}`).toBeTruthy();
      }
    }
  });

  it("GIVEN a PostgreSQL restore to a point in time WHEN the Platform is built THEN the server uses a new claim named after the restore point, filled by a restricted init container from the server's image", () => {
    const s = sts("orders-db").spec;
    expect(s.volumeClaimTemplates.map((t: Json) => t.metadata.name)).toEqual([
      "data-restore-20261204101500",
    ]);
    const server = container("orders-db", "postgres");
    expect(
      server.volumeMounts.find((m: Json) => m.mountPath === "/var/lib/postgresql/data").name,
    ).toBe("data-restore-20261204101500");
    const init = s.template.spec.initContainers;
    expect(init.map((c: Json) => c.name)).toEqual(["restore"]);
    expect(init[0].command).toEqual(["sh", "/etc/fjord/backup/restore.sh"]);
    expect(init[0].image).toBe(server.image);
    expect(init[0].securityContext).toEqual(server.securityContext);
    expect(envOf(init[0], "FJORD_RESTORE_FROM").value).toBe("2026-12-04T10:15:00Z");
    expect(init[0].volumeMounts).toContainEqual({
      name: "data-restore-20261204101500",
      mountPath: "/var/lib/postgresql/data",
    });
  });

  it("GIVEN a database without a restore WHEN the Platform is built THEN it has no init container and keeps the claim 'data'", () => {
    const s = sts("inventory-db").spec;
    expect(s.template.spec.initContainers).toBeUndefined();
    expect(s.volumeClaimTemplates.map((t: Json) => t.metadata.name)).toEqual(["data"]);
  });

  it("GIVEN a database whose backups are off with a reason WHEN the Platform is built THEN its StatefulSet is annotated with the reason, and it has no backup container, init container or backup env", () => {
    expect(sts("payment-db").metadata.annotations).toEqual({
      "fjord.io/backup-off": "payment data is rebuilt from the ledger",
    });
    expect(sts("orders-db").metadata.annotations).toBeUndefined();
    expect(pod("payment-db").containers.map((c: Json) => c.name)).toEqual(["postgres", "exporter"]);
    expect(pod("payment-db").initContainers).toBeUndefined();
    const env = container("payment-db", "postgres").env.map((e: Json) => e.name);
    expect(env.filter((n: string) => /BACKUP|PGBACKREST/.test(n))).toEqual([]);
  });

  it("GIVEN backed-up databases and one with backups off WHEN the Platform is built THEN the backed-up pods may reach the object store's port and Prometheus the runner's metrics, and the one off gets no egress policy", () => {
    const egress = rec.get(NP, "orders-db-backup-egress").inputs.spec;
    expect(egress).toEqual({
      podSelector: { matchLabels: { app: "orders-db" } },
      policyTypes: ["Egress"],
      egress: [
        { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 9000 }] },
      ],
    });
    const scrape = rec.get(NP, "inventory-db-backup-scrape").inputs.spec;
    expect(scrape.podSelector).toEqual({ matchLabels: { app: "inventory-db" } });
    expect(scrape.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "fjord-system" } },
            podSelector: { matchLabels: { app: "prometheus" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 9188 }],
      },
    ]);
    expect(() => rec.get(NP, "payment-db-backup-egress")).toThrow();
  });

  it("GIVEN a backed-up database without the object store's keys WHEN the database is built THEN it is refused naming the config keys", () => {
    const inventory = planPlatform(spec).services.find((s) => s.spec.name === "inventory")!;
    expect(
      () =>
        new ServiceDatabase("nokeys-db", {
          namespace: "fjord-inventory",
          database: inventory.database!,
          region: "no-osl1",
        }),
    ).toThrow(/fjord:backupAccessKeyId, fjord:backupSecretAccessKey/);
  });
});

describe("Kubernetes database backups: a plan the target cannot build", () => {
  const inventory = () => planPlatform(spec).services.find((s) => s.spec.name === "inventory")!;
  /** The error building the database from `database` throws. */
  function buildError(
    name: string,
    database: NonNullable<ReturnType<typeof inventory>["database"]>,
  ): unknown {
    try {
      new ServiceDatabase(name, {
        namespace: "fjord-inventory",
        database,
        region: "no-osl1",
        backupKeys: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      });
    } catch (e) {
      return e;
    }
    throw new Error(`${name} was built`);
  }

  it("GIVEN backup files in two directories WHEN the database is built THEN a ResourceError names the database", () => {
    // GIVEN
    const db = inventory().database!;
    const backup = db.plan.backup!;
    const files = { ...backup.files, "/elsewhere/extra.sh": "true" };
    // WHEN
    const e = buildError("twodirs-db", {
      ...db,
      plan: { ...db.plan, backup: { ...backup, files } },
    });
    // THEN
    expect(e).toBeInstanceOf(pulumi.ResourceError);
    expect((e as pulumi.ResourceError).resource).toBeInstanceOf(ServiceDatabase);
    expect((e as Error).message).toMatch(/share one directory.*\/elsewhere/);
  });

  it("GIVEN a backup endpoint that is not host or host:port WHEN the database is built THEN a ResourceError names the database and the config key", () => {
    // GIVEN
    const db = inventory().database!;
    const backup = db.plan.backup!;
    const env = backup.env.map((v) =>
      v.name === "FJORD_BACKUP_ENDPOINT" ? { name: v.name, value: "s3:x:y" } : v,
    );
    // WHEN
    const e = buildError("badendpoint-db", {
      ...db,
      plan: { ...db.plan, backup: { ...backup, env } },
    });
    // THEN
    expect(e).toBeInstanceOf(pulumi.ResourceError);
    expect((e as pulumi.ResourceError).resource).toBeInstanceOf(ServiceDatabase);
    expect((e as Error).message).toMatch(/^fjord:backups\.target\.endpoint: "s3:x:y"/);
  });

  it("GIVEN a plan whose socket directory is not a scratch directory WHEN the database is built THEN a ResourceError names the database", () => {
    // GIVEN
    const db = inventory().database!;
    const scratchDirs = db.plan.scratchDirs.filter((d) => d !== db.plan.socketDir);
    // WHEN
    const e = buildError("nosocket-db", { ...db, plan: { ...db.plan, scratchDirs } });
    // THEN
    expect(e).toBeInstanceOf(pulumi.ResourceError);
    expect((e as pulumi.ResourceError).resource).toBeInstanceOf(ServiceDatabase);
    expect((e as Error).message).toMatch(/database inventory-db: the plan mounts \/run\/mysqld/);
  });
});
