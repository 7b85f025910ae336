/**
 * A database's backups as the targets run them: files to mount, environment (plain and secret),
 * the runner's command and metrics port, extra server settings, and the restore step. Pure: the
 * same plan serves Docker and Kubernetes, and the policy pack reads the FJORD_BACKUP_* variables.
 */
import type { Database, DatabaseBackup } from "../../../config";
import { parseDuration } from "../../../config/units";
import { longestGapSeconds } from "../../../../lib/cron";
import { assertNever } from "../../../../lib/never";
import {
  CA_FILE,
  PGBACKREST_CONF,
  archiveSettings,
  pgbackrestTime,
  renderPgbackrestConf,
} from "./pgbackrest";
import {
  METRICS_PATH,
  METRICS_PORT,
  RESTORE,
  RUNNER,
  STATE_DIR,
  renderRestore,
  renderRunner,
} from "./runner";
import { schedule } from "./schedule";

// The renderers, for the tests that run the rendered scripts and read the rendered files.
export {
  archiveSettings,
  pgbackrestRetention,
  pgbackrestTime,
  renderPgbackrestConf,
  splitEndpoint,
} from "./pgbackrest";
export { renderRestore, renderRunner, type RunnerInput } from "./runner";
export { renderDueFunction } from "./schedule";

/** Secrets a backup needs: the generated cipher key, and the object store's keys from config. */
export type BackupCredential =
  "backup-cipher" | "backup-access-key-id" | "backup-secret-access-key";

export type BackupEnvVar =
  { name: string; value: string } | { name: string; secret: BackupCredential };

export interface BackupPlan {
  tool: "pgbackrest" | "mariabackup";
  /** Read-only files for the runner and (PostgreSQL) the server, path → content. */
  files: Record<string, string>;
  /** For the runner, the restore step and (PostgreSQL's archive_command) the server. */
  env: BackupEnvVar[];
  /** Appended to the server's config file. */
  serverSettings: string;
  command: string[];
  restoreCommand: string[];
  /** Present when the database is to be created from a backup. */
  restore?: { from: string; volumeSuffix: string };
  metricsPort: number;
  metricsPath: string;
  stateDir: string;
  /** Seconds the newest backup may age before the backup-age alert fires. */
  maxAgeSeconds: number;
  /** Generated secrets (the targets make them with @pulumi/random). */
  generated: BackupCredential[];
}

export interface BackupInput {
  engine: Database["engine"];
  database: string;
  user: string;
  dataDir: string;
  socketDir: string;
  port: number;
  backup: DatabaseBackup;
  restore?: { from: string };
}

/**
 * The backup-age alert allows the longest gap the schedule leaves (over a year, so monthly and
 * leap-day schedules count) plus an hour for the backup itself.
 */
export function maxBackupAgeSeconds(cron: string): number {
  return longestGapSeconds(schedule(cron), new Date(Date.UTC(2026, 0, 5))) + 3600;
}

export function planBackup(i: BackupInput): BackupPlan {
  const b = i.backup;
  const cron = schedule(b.schedule);
  const maxAgeSeconds = maxBackupAgeSeconds(b.schedule);
  const runner = {
    engine: i.engine,
    database: i.database,
    schedule: cron,
    maxAgeSeconds,
    retention: {
      count: b.retention.count,
      ageSeconds: Math.round(parseDuration(b.retention.age) / 1000),
    },
    socketDir: i.socketDir,
    dataDir: i.dataDir,
  };
  const t = b.target;
  // What the policy pack and an operator read off the workload; the runner reads none of them.
  const facts: BackupEnvVar[] = [
    { name: "FJORD_BACKUP_TOOL", value: i.engine === "postgres" ? "pgbackrest" : "mariabackup" },
    { name: "FJORD_BACKUP_REGION", value: t.region },
    { name: "FJORD_BACKUP_ENDPOINT", value: t.endpoint },
    { name: "FJORD_BACKUP_BUCKET", value: t.bucket },
    { name: "FJORD_BACKUP_SCHEDULE", value: b.schedule },
    { name: "FJORD_BACKUP_RETENTION_COUNT", value: String(b.retention.count) },
    { name: "FJORD_BACKUP_RETENTION_AGE", value: b.retention.age },
    { name: "FJORD_BACKUP_ENCRYPT", value: String(b.encrypt) },
    ...(i.restore ? [{ name: "FJORD_RESTORE_FROM", value: i.restore.from }] : []),
    ...(i.restore && i.restore.from !== "latest" && i.engine === "postgres"
      ? [{ name: "FJORD_RESTORE_TARGET", value: pgbackrestTime(i.restore.from) }]
      : []),
  ];
  const files: Record<string, string> = {
    [RUNNER]: renderRunner(runner),
    [RESTORE]: renderRestore(runner),
    ...(t.caCert ? { [CA_FILE]: t.caCert } : {}),
  };
  const common = {
    command: ["sh", RUNNER, "schedule"],
    restoreCommand: ["sh", RESTORE],
    ...(i.restore
      ? { restore: { from: i.restore.from, volumeSuffix: restoreSuffix(i.restore.from) } }
      : {}),
    metricsPort: METRICS_PORT,
    metricsPath: METRICS_PATH,
    stateDir: STATE_DIR,
    maxAgeSeconds,
    generated: b.encrypt ? (["backup-cipher"] as BackupCredential[]) : [],
  };
  switch (i.engine) {
    case "postgres": {
      const pg = {
        stanza: i.database,
        dataDir: i.dataDir,
        socketDir: i.socketDir,
        port: i.port,
        user: i.user,
        backup: b,
      };
      return {
        tool: "pgbackrest",
        files: { ...files, [PGBACKREST_CONF]: renderPgbackrestConf(pg) },
        env: [
          ...facts,
          { name: "PGBACKREST_REPO1_S3_KEY", secret: "backup-access-key-id" },
          { name: "PGBACKREST_REPO1_S3_KEY_SECRET", secret: "backup-secret-access-key" },
          ...(b.encrypt
            ? [{ name: "PGBACKREST_REPO1_CIPHER_PASS", secret: "backup-cipher" } as const]
            : []),
        ],
        serverSettings: archiveSettings(pg),
        ...common,
      };
    }
    case "mysql": {
      const base = `fjords3:${t.bucket}/${t.prefix}/${i.database}`;
      return {
        tool: "mariabackup",
        files,
        env: [
          ...facts,
          { name: "RCLONE_CONFIG_FJORDS3_TYPE", value: "s3" },
          { name: "RCLONE_CONFIG_FJORDS3_PROVIDER", value: "Other" },
          { name: "RCLONE_CONFIG_FJORDS3_ENDPOINT", value: `https://${t.endpoint}` },
          { name: "RCLONE_CONFIG_FJORDS3_REGION", value: t.signingRegion },
          { name: "RCLONE_CONFIG_FJORDS3_FORCE_PATH_STYLE", value: String(t.pathStyle) },
          // The bucket must exist; creating it needs rights a backup key should not have.
          { name: "RCLONE_CONFIG_FJORDS3_NO_CHECK_BUCKET", value: "true" },
          { name: "RCLONE_CONFIG_FJORDS3_ACCESS_KEY_ID", secret: "backup-access-key-id" },
          { name: "RCLONE_CONFIG_FJORDS3_SECRET_ACCESS_KEY", secret: "backup-secret-access-key" },
          ...(t.caCert ? [{ name: "RCLONE_CA_CERT", value: CA_FILE }] : []),
          ...(b.encrypt
            ? [
                { name: "RCLONE_CONFIG_FJORD_TYPE", value: "crypt" },
                { name: "RCLONE_CONFIG_FJORD_REMOTE", value: base },
                { name: "FJORD_BACKUP_REMOTE", value: "fjord:backups" },
                { name: "FJORD_BACKUP_CIPHER", secret: "backup-cipher" } as const,
              ]
            : [{ name: "FJORD_BACKUP_REMOTE", value: base }]),
        ],
        serverSettings: "",
        ...common,
      };
    }
    default:
      return assertNever(i.engine, "database engine");
  }
}

/** A restore gets its own volume, named after the restore point, so it never lands on live data. */
export function restoreSuffix(from: string): string {
  return from === "latest"
    ? "restore-latest"
    : `restore-${from.replace(/[^0-9]/g, "").slice(0, 14)}`;
}
