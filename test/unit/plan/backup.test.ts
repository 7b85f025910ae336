/**
 * A database's backup plan: pgbackrest.conf, the archive settings in postgresql.conf, the
 * MariaDB runner's rclone environment, and run.sh / restore.sh, which sh must parse (and
 * shellcheck pass, where installed) and which call the tools as the real tests proved they work.
 */
import { execFileSync, spawnSync } from "child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import type { Database, DatabaseBackup } from "../../../components/config";
import {
  archiveSettings,
  maxBackupAgeSeconds,
  pgbackrestRetention,
  pgbackrestTime,
  planBackup,
  planDatabase,
  renderPgbackrestConf,
  restoreSuffix,
  splitEndpoint,
  type BackupEnvVar,
  type BackupPlan,
} from "../../../components/plan/database";

const backup = (change: Partial<DatabaseBackup> = {}): DatabaseBackup => ({
  target: {
    endpoint: "s3.osl1.example.no",
    bucket: "fjord-backups",
    region: "no-osl1",
    signingRegion: "us-east-1",
    prefix: "fjord/prod",
    pathStyle: true,
  },
  schedule: "15 2 * * *",
  retention: { count: 7, age: "14d" },
  encrypt: true,
  archiveTimeout: "60s",
  ...change,
});

const withTarget = (t: Partial<DatabaseBackup["target"]>) =>
  backup({ target: { ...backup().target, ...t } });

const pg = (b: DatabaseBackup = backup()) => ({
  stanza: "orders",
  dataDir: "/var/lib/postgresql/data/pgdata",
  socketDir: "/var/run/postgresql",
  port: 5432,
  user: "orders",
  backup: b,
});

const db = (engine: Database["engine"], change: Partial<Database> = {}): Database => ({
  engine,
  version: engine === "postgres" ? "16.6" : "11.4.4",
  memory: "1Gi",
  cpu: "1",
  disk: "nvme",
  storage: "10Gi",
  name: "orders",
  image: engine === "postgres" ? "postgres:16.6-bookworm" : "mariadb:11.4.4",
  backup: backup(),
  ...change,
});

const confLines = (b: DatabaseBackup) => renderPgbackrestConf(pg(b)).split("\n");

const envOf = (p: BackupPlan) =>
  Object.fromEntries(
    p.env.map((v: BackupEnvVar) => [v.name, "value" in v ? v.value : `secret:${v.secret}`]),
  );

describe("pgbackrest.conf", () => {
  it("GIVEN a database of the prod stack WHEN rendered THEN the repository is /<prefix>/<database> in the bucket, over S3, with no credentials", () => {
    const lines = confLines(backup());
    expect(lines).toEqual(
      expect.arrayContaining([
        "[global]",
        "repo1-type=s3",
        "repo1-path=/fjord/prod/orders",
        "repo1-s3-bucket=fjord-backups",
        "repo1-s3-endpoint=s3.osl1.example.no",
        "repo1-s3-region=us-east-1",
        "repo1-s3-uri-style=path",
        "[orders]",
        "pg1-path=/var/lib/postgresql/data/pgdata",
        "pg1-socket-path=/var/run/postgresql",
        "pg1-port=5432",
        "pg1-user=orders",
      ]),
    );
    expect(lines.filter((l) => /key|secret|pass/i.test(l) && !l.startsWith("#"))).toEqual([]);
    expect(lines.some((l) => l.startsWith("repo1-storage-port="))).toBe(false);
  });

  it("GIVEN encryption on and off WHEN rendered THEN only the encrypted repository has a cipher line", () => {
    expect(confLines(backup({ encrypt: true }))).toContain("repo1-cipher-type=aes-256-cbc");
    expect(
      confLines(backup({ encrypt: false })).filter(
        (l) => l.includes("cipher") && !l.startsWith("#"),
      ),
    ).toEqual([]);
  });

  it("GIVEN a CA certificate or none WHEN rendered THEN only the first names the CA file", () => {
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    expect(confLines(withTarget({ caCert: ca }))).toContain(
      "repo1-storage-ca-file=/etc/fjord/backup/ca.pem",
    );
    expect(confLines(backup()).filter((l) => l.includes("ca-file"))).toEqual([]);
  });

  it("GIVEN host-style URLs WHEN rendered THEN the URI style is host", () => {
    expect(confLines(withTarget({ pathStyle: false }))).toContain("repo1-s3-uri-style=host");
  });

  it.each([
    ["s3.osl1.example.no:9000", "s3.osl1.example.no", "9000"],
    ["192.0.2.10:8443", "192.0.2.10", "8443"],
    ["[2001:db8::10]:9000", "2001:db8::10", "9000"],
    ["[2001:db8::10]", "2001:db8::10", undefined],
  ])(
    "GIVEN the endpoint %s WHEN rendered THEN host %s and port %s are apart",
    (endpoint, host, port) => {
      expect(splitEndpoint(endpoint)).toEqual([host, port]);
      const lines = confLines(withTarget({ endpoint }));
      expect(lines).toContain(`repo1-s3-endpoint=${host}`);
      if (port) expect(lines).toContain(`repo1-storage-port=${port}`);
      else expect(lines.filter((l) => l.includes("storage-port"))).toEqual([]);
    },
  );

  it.each<[string, string, number, string, { type: string; value: number }]>([
    ["daily, 7 kept, 14 days", "15 2 * * *", 7, "14d", { type: "time", value: 14 }],
    ["daily, 30 kept, 14 days", "15 2 * * *", 30, "14d", { type: "count", value: 30 }],
    ["weekly, 7 kept, 14 days", "0 3 * * sun", 7, "14d", { type: "count", value: 7 }],
    ["hourly, 24 kept, 36 hours", "@hourly", 24, "36h", { type: "time", value: 2 }],
    ["daily, 14 kept, 14 days", "15 2 * * *", 14, "14d", { type: "count", value: 14 }],
  ])(
    "GIVEN %s WHEN the retention rule is chosen THEN it keeps more: %j",
    (_l, schedule, count, age, rule) => {
      const b = backup({ schedule, retention: { count, age } });
      expect(pgbackrestRetention(b)).toEqual(rule);
      const lines = confLines(b);
      expect(lines).toContain(`repo1-retention-full-type=${rule.type}`);
      expect(lines).toContain(`repo1-retention-full=${rule.value}`);
    },
  );
});

describe("PostgreSQL archive settings", () => {
  it("GIVEN an archive timeout of 90s WHEN rendered THEN archive_command pushes to this stanza through the config file", () => {
    expect(archiveSettings(pg(backup({ archiveTimeout: "90s" })))).toContain(
      [
        "archive_mode = on",
        "archive_command = 'pgbackrest --config=/etc/fjord/backup/pgbackrest.conf --stanza=orders archive-push %p'",
        "archive_timeout = 90s",
      ].join("\n"),
    );
  });

  it("GIVEN a PostgreSQL database with and without backups WHEN planned THEN the settings are appended to postgresql.conf and change its hash", () => {
    const on = planDatabase(db("postgres"));
    const off = planDatabase(db("postgres", { backup: undefined, backupOff: "a cache" }));
    expect(on.configText.startsWith(off.configText)).toBe(true);
    expect(on.configText.slice(off.configText.length)).toBe(on.backup?.serverSettings);
    expect(on.configText).toMatch(/^archive_mode = on$/m);
    expect(off.configText).not.toMatch(/archive_command/);
    expect(on.configHash).not.toBe(off.configHash);
    // The runner sees the server's own data directory (PGDATA), not the volume's root.
    expect(on.backup?.files["/etc/fjord/backup/pgbackrest.conf"]).toContain(
      "pg1-path=/var/lib/postgresql/data/pgdata",
    );
  });

  it("GIVEN a PostgreSQL database WHEN planned THEN the runner and the server read the keys and cipher from secrets", () => {
    const env = envOf(planDatabase(db("postgres")).backup!);
    expect(env).toMatchObject({
      FJORD_BACKUP_TOOL: "pgbackrest",
      FJORD_BACKUP_REGION: "no-osl1",
      PGBACKREST_REPO1_S3_KEY: "secret:backup-access-key-id",
      PGBACKREST_REPO1_S3_KEY_SECRET: "secret:backup-secret-access-key",
      PGBACKREST_REPO1_CIPHER_PASS: "secret:backup-cipher",
    });
    const plain = envOf(
      planDatabase(db("postgres", { backup: backup({ encrypt: false }) })).backup!,
    );
    expect(plain.PGBACKREST_REPO1_CIPHER_PASS).toBeUndefined();
  });
});

describe("MariaDB's rclone environment", () => {
  it("GIVEN encryption on WHEN planned THEN backups go through a crypt remote over the bucket path, with a generated cipher", () => {
    const p = planDatabase(db("mysql")).backup!;
    expect(p.tool).toBe("mariabackup");
    expect(p.generated).toEqual(["backup-cipher"]);
    expect(p.serverSettings).toBe("");
    expect(envOf(p)).toMatchObject({
      RCLONE_CONFIG_FJORDS3_TYPE: "s3",
      RCLONE_CONFIG_FJORDS3_ENDPOINT: "https://s3.osl1.example.no",
      RCLONE_CONFIG_FJORDS3_REGION: "us-east-1",
      RCLONE_CONFIG_FJORDS3_ACCESS_KEY_ID: "secret:backup-access-key-id",
      RCLONE_CONFIG_FJORDS3_SECRET_ACCESS_KEY: "secret:backup-secret-access-key",
      RCLONE_CONFIG_FJORD_TYPE: "crypt",
      RCLONE_CONFIG_FJORD_REMOTE: "fjords3:fjord-backups/fjord/prod/orders",
      FJORD_BACKUP_REMOTE: "fjord:backups",
      FJORD_BACKUP_CIPHER: "secret:backup-cipher",
    });
  });

  it("GIVEN encryption off WHEN planned THEN there is no crypt remote and no cipher, and the runner writes to the bucket path", () => {
    const p = planDatabase(db("mysql", { backup: backup({ encrypt: false }) })).backup!;
    const env = envOf(p);
    expect(Object.keys(env).filter((k) => k.startsWith("RCLONE_CONFIG_FJORD_"))).toEqual([]);
    expect(env.FJORD_BACKUP_CIPHER).toBeUndefined();
    expect(env.FJORD_BACKUP_REMOTE).toBe("fjords3:fjord-backups/fjord/prod/orders");
    expect(p.generated).toEqual([]);
  });

  it("GIVEN a CA certificate WHEN planned THEN rclone is pointed at the mounted file", () => {
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const p = planDatabase(db("mysql", { backup: withTarget({ caCert: ca }) })).backup!;
    expect(envOf(p).RCLONE_CA_CERT).toBe("/etc/fjord/backup/ca.pem");
    expect(p.files["/etc/fjord/backup/ca.pem"]).toBe(ca);
  });
});

describe("planDatabase and backups", () => {
  it.each(["postgres", "mysql"] as const)(
    "GIVEN a %s database with backups off WHEN planned THEN there is no backup plan, and backupOff says why",
    (engine) => {
      const p = planDatabase(db(engine, { backup: undefined, backupOff: "rebuilt from orders" }));
      expect(p.backup).toBeUndefined();
      expect(p.backupOff).toBe("rebuilt from orders");
      expect(planDatabase(db(engine, { backup: undefined })).backupOff).toBe("backups are off");
    },
  );

  it("GIVEN a backed-up database WHEN planned THEN backupOff is absent and the runner is scheduled", () => {
    const p = planDatabase(db("postgres"));
    expect(p.backupOff).toBeUndefined();
    expect(p.backup).toMatchObject({
      command: ["sh", "/etc/fjord/backup/run.sh", "schedule"],
      restoreCommand: ["sh", "/etc/fjord/backup/restore.sh"],
      metricsPort: 9188,
      maxAgeSeconds: 86_400 + 3600,
    });
    expect(p.backup?.restore).toBeUndefined();
  });

  it("GIVEN a restore point WHEN planned THEN the restore gets its own volume suffix and FJORD_RESTORE_FROM", () => {
    const from = "2026-12-04T10:15:00Z";
    const p = planDatabase(db("postgres", { restore: { from } })).backup!;
    expect(p.restore).toEqual({ from, volumeSuffix: "restore-20261204101500" });
    expect(envOf(p).FJORD_RESTORE_FROM).toBe(from);
    // pgBackRest refuses the ISO "T" and "Z" forms (error [029]), so the runner gets its own.
    expect(envOf(p).FJORD_RESTORE_TARGET).toBe("2026-12-04 10:15:00+00");
  });

  it.each([
    ["2026-12-04T10:15:00Z", "2026-12-04 10:15:00+00"],
    ["2026-12-04T10:15:00.341Z", "2026-12-04 10:15:00.341+00"],
    ["2026-12-04T10:15Z", "2026-12-04 10:15:00+00"],
    ["2026-12-04T11:15:00.250+01:00", "2026-12-04 11:15:00.250+01:00"],
    ["2026-12-04T05:15:00-0500", "2026-12-04 05:15:00-0500"],
  ])("GIVEN the restore time %s WHEN handed to pgBackRest THEN it reads %s", (iso, target) => {
    expect(pgbackrestTime(iso)).toBe(target);
  });

  it("GIVEN a MariaDB restore of the latest backup WHEN planned THEN no time target is set", () => {
    const p = planDatabase(db("mysql", { restore: { from: "latest" } })).backup!;
    expect(envOf(p).FJORD_RESTORE_TARGET).toBeUndefined();
  });

  it.each([
    ["latest", "restore-latest"],
    ["2026-12-04T10:15:00Z", "restore-20261204101500"],
    ["2026-12-04T10:15:00.250+01:00", "restore-20261204101500"],
  ])("GIVEN restore from %s WHEN named THEN the volume suffix is %s", (from, suffix) => {
    expect(restoreSuffix(from)).toBe(suffix);
  });

  it.each([
    ["15 2 * * *", 86_400 + 3600],
    ["@hourly", 3600 + 3600],
    ["0 3 * * sun", 7 * 86_400 + 3600],
  ])("GIVEN the schedule %s WHEN the age alert is sized THEN it allows %i s", (cron, seconds) => {
    expect(maxBackupAgeSeconds(cron)).toBe(seconds);
  });
});

/** Every rendered script of both engines, encrypted or not, restoring or not. */
function scripts(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const engine of ["postgres", "mysql"] as const) {
    for (const encrypt of [true, false]) {
      const p = planBackup({
        engine,
        database: "orders",
        user: "orders",
        dataDir: engine === "postgres" ? "/var/lib/postgresql/data/pgdata" : "/var/lib/mysql",
        socketDir: engine === "postgres" ? "/var/run/postgresql" : "/run/mysqld",
        port: engine === "postgres" ? 5432 : 3306,
        backup: backup({ encrypt, schedule: "0 1,13 * * mon-fri" }),
        restore: { from: "latest" },
      });
      for (const f of ["run.sh", "restore.sh"]) {
        out.push([
          `${engine} ${f}${encrypt ? "" : " (unencrypted)"}`,
          p.files[`/etc/fjord/backup/${f}`],
        ]);
      }
    }
  }
  return out;
}

const hasShellcheck = spawnSync("shellcheck", ["--version"]).status === 0;

describe("the rendered scripts", () => {
  it.each(scripts())("GIVEN %s WHEN sh -n reads it THEN it parses", (_name, text) => {
    expect(text).toMatch(/^#!\/bin\/sh\n/);
    const r = spawnSync("sh", ["-n"], { input: text, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasShellcheck).each(scripts())(
    "GIVEN %s WHEN shellcheck -s sh reads it THEN it finds no warning",
    (_name, text) => {
      // Deliberate: DATA is for restore.sh (run.sh shares the functions); `due` takes a minute
      // only in tests; `set -- $(wal)` splits the query's columns into $1..$4.
      const r = spawnSync(
        "shellcheck",
        ["-s", "sh", "-S", "warning", "-e", "SC2034,SC2119,SC2120,SC2046", "-"],
        { input: text, encoding: "utf8" },
      );
      expect(r.stdout).toBe("");
      expect(r.status).toBe(0);
    },
  );
});

describe("run.sh as a container's PID 1", () => {
  it.each(["postgres", "mysql"] as const)(
    "GIVEN the %s runner WHEN the pod stops THEN SIGTERM ends it at once (PID 1 ignores a signal it does not trap, so the pod would wait out its grace period)",
    (engine) => {
      const run = planDatabase(db(engine)).backup!.files["/etc/fjord/backup/run.sh"];
      expect(run).toContain("trap 'exit 0' TERM INT");
      // A trap runs only once the foreground command ends: every sleep is waited on instead.
      const sleeps = run.split("\n").filter((l) => /\bsleep\b/.test(l));
      expect(sleeps.length).toBeGreaterThan(0);
      for (const l of sleeps) expect(l).toMatch(/ & wait \$!$/);
    },
  );
});

describe("restore.sh with stand-in tools", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fjord-restore-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs restore.sh with a pgbackrest that records its arguments and makes PG_VERSION. */
  function restore(from: string | undefined, exitCode = 0) {
    const bin = path.join(dir, "bin");
    const data = path.join(dir, `data-${Math.random().toString(36).slice(2)}`);
    const log = path.join(dir, "pgbackrest.args");
    mkdirSync(bin, { recursive: true });
    rmSync(log, { force: true });
    writeFileSync(
      path.join(bin, "pgbackrest"),
      `#!/bin/sh\necho "$*" >>${log}\necho 16 >"${data}/PG_VERSION"\nexit ${exitCode}\n`,
    );
    chmodSync(path.join(bin, "pgbackrest"), 0o755);
    const p = planDatabase(db("postgres", from ? { restore: { from } } : {})).backup!;
    const text = p.files["/etc/fjord/backup/restore.sh"].replace(
      /^STATE=.*$/m,
      `STATE=${path.join(dir, "state")}`,
    );
    const r = spawnSync("sh", ["-c", text], {
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        PGDATA: data,
        // The restore variables as the plan sets them for the server's container.
        ...Object.fromEntries(
          Object.entries(envOf(p)).filter(([k]) => k.startsWith("FJORD_RESTORE_")),
        ),
      },
    });
    let args = "";
    try {
      args = readFileSync(log, "utf8");
    } catch {
      // pgbackrest was not called
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, args, data };
  }

  it("GIVEN no restore point WHEN restore.sh runs THEN it exits 0 without calling pgbackrest", () => {
    const r = restore(undefined);
    expect(r.status).toBe(0);
    expect(r.args).toBe("");
  });

  it("GIVEN restore from latest WHEN restore.sh runs THEN pgbackrest restores the default target, with no target action (pgBackRest refuses one without a target)", () => {
    const r = restore("latest");
    expect(r.status).toBe(0);
    expect(r.args.trim()).toBe(
      `--config=/etc/fjord/backup/pgbackrest.conf --stanza=orders --pg1-path=${r.data} --type=default restore`,
    );
  });

  it("GIVEN restore to a time WHEN restore.sh runs THEN pgbackrest replays to it, in the form pgBackRest 2.45 parses, and promotes", () => {
    // pgBackRest refuses the ISO `T`/`Z` form ("time format must be YYYY-MM-DD HH:MM:SS").
    const r = restore("2026-12-04T10:15:00.250Z");
    expect(r.status).toBe(0);
    expect(r.args).toContain(
      "--type=time --target=2026-12-04 10:15:00.250+00 --target-action=promote restore",
    );
    expect(restore("2026-12-04T11:15:00+01:00").args).toContain(
      "--target=2026-12-04 11:15:00+01:00 ",
    );
  });

  it("GIVEN a restore that fails WHEN restore.sh runs THEN it exits 1 and empties the data directory", () => {
    const r = restore("latest", 1);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/restore of orders FAILED/);
    expect(execFileSync("ls", ["-A", r.data], { encoding: "utf8" })).toBe("");
  });
});
