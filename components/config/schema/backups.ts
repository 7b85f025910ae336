/**
 * Backups of every service database to S3-compatible object storage: where, how often, how long
 * they are kept, and a restore source. The access keys are the secret config keys
 * `backupAccessKeyId` / `backupSecretAccessKey`; the encryption key is generated.
 */
import { z } from "zod";
import { parseCron } from "../../../lib/cron";
import { duration } from "../fields";

export const cronSchedule = z.string().superRefine((s, ctx) => {
  const parsed = parseCron(s);
  if (typeof parsed === "string") ctx.addIssue({ code: "custom", message: parsed });
});

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
  error: "must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'",
});

/** "host" or "host:port", never a URL: the tools always speak HTTPS to it. */
const endpoint = z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[1-9]\d{0,4})?$/, {
  error:
    'must be "host" or "host:port" of the S3 endpoint, without https:// (backups always use TLS), such as "s3.osl1.example.no"',
});

const retentionCount = z.int().min(1).max(1000);

const retention = z
  .strictObject({
    count: retentionCount.default(7).meta({ description: "Full backups to keep, the newest." }),
    age: duration.default("14d").meta({
      description:
        "Also keep every full backup younger than this; a backup goes once neither keeps it.",
    }),
  })
  .prefault({});

/** A database's own retention; what it leaves out comes from backups.retention. */
const retentionOverride = z.strictObject({
  count: retentionCount.optional().meta({ description: "Overrides backups.retention.count." }),
  age: duration.optional().meta({ description: "Overrides backups.retention.age." }),
});

const target = z.strictObject({
  endpoint: endpoint.meta({ description: 'S3 endpoint, "host" or "host:port" (HTTPS only).' }),
  bucket: bucketName.meta({ description: "Bucket; it must exist." }),
  region: z.string().meta({
    description:
      "fjord region the bucket is stored in (see fjord:regions); its jurisdiction must be allowed, as for nodes.",
  }),
  signingRegion: z
    .string()
    .regex(/^[a-z0-9-]+$/, { error: 'must be an S3 region name such as "us-east-1"' })
    .default("us-east-1")
    .meta({ description: "Region name the endpoint signs requests with." }),
  prefix: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._/-]*[a-z0-9]$/, {
      error: "must be a path of lower-case letters, digits, '.', '_', '-' and '/'",
    })
    .optional()
    .meta({ description: 'Object path under the bucket. @default "fjord/<stack>"' }),
  pathStyle: z.boolean().default(true).meta({
    description: "Path-style URLs (https://host/bucket/key), which most non-AWS stores need.",
  }),
  caCert: z
    .string()
    .regex(/-----BEGIN CERTIFICATE-----/, { error: "must be a PEM certificate" })
    .optional()
    .meta({ description: "PEM CA certificate for an endpoint with a private CA." }),
});

/** Per-database override, under services[].database.backup. */
export const databaseBackup = z.strictObject({
  enabled: z.boolean().default(true).meta({
    description: "Back this database up; false needs reason.",
  }),
  reason: z.string().min(10).optional().meta({
    description: "Why this database has no backups (required with enabled: false).",
  }),
  schedule: cronSchedule
    .optional()
    .meta({ description: "Overrides backups.schedule for this database." }),
  retention: retentionOverride.optional(),
});

/** Under services[].database.restore: build a fresh instance from a backup. */
export const databaseRestore = z.strictObject({
  from: z
    .union([
      z.literal("latest"),
      z.iso.datetime({ offset: true, error: "must be an ISO time such as 2026-12-04T10:15:00Z" }),
    ])
    .meta({
      description:
        'Restore point: "latest", or a time (PostgreSQL only: replays WAL up to it). The database gets a new, empty volume that is filled from the backup; the old one is kept.',
    }),
});

export const backups = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description: "Back up every service database; false needs reason (refused in prod policy).",
    }),
    reason: z.string().min(10).optional().meta({
      description: "Why the stack has no backups (required with enabled: false).",
    }),
    target: target.optional().meta({
      description: "S3-compatible object store; required when a database is backed up.",
    }),
    schedule: cronSchedule.default("15 2 * * *").meta({
      description: "Full backups, cron in UTC (PostgreSQL also archives WAL continuously).",
    }),
    retention,
    encrypt: z.boolean().default(true).meta({
      description:
        "Client-side encryption with a generated key (aes-256-cbc for pgBackRest, rclone crypt for MariaDB).",
    }),
    archiveTimeout: duration.default("60s").meta({
      description:
        "PostgreSQL: switch WAL segments at least this often, the most a point-in-time restore can lose.",
    }),
  })
  .prefault({});

export type BackupsSpec = z.output<typeof backups>;
export type DatabaseBackupSpec = z.output<typeof databaseBackup>;
