/** A service's own database; the tuners derive every setting from its size. */
import { z } from "zod";
import { cpu, memory, pinnedImage } from "../fields";
import { formatMemory } from "../units";
import {
  DB_ENGINES,
  DB_VERSIONS,
  MARIADB_MIN_MEMORY,
  POSTGRES_MANY_CORES,
  POSTGRES_MIN_MEMORY,
  POSTGRES_MIN_MEMORY_MANY_CORES,
} from "../database-limits";
import { DISK_CLASSES } from "./nodes";
import { databaseBackup, databaseRestore } from "./backups";

export const database = z.strictObject({
  engine: z.enum(DB_ENGINES).meta({ description: "postgres, or mysql (MariaDB)." }),
  version: z
    .string()
    .regex(/^\d+(\.\d+){0,2}$/, { error: 'must be a version such as "16.6" or "11.4.4"' })
    .optional()
    .meta({
      description: `Server version; picks the default image (${DB_VERSIONS.postgres.example} / ${DB_VERSIONS.mysql.example}). ${DB_VERSIONS.postgres.text}; ${DB_VERSIONS.mysql.text}.`,
    }),
  memory: memory.default("1Gi").meta({
    description: `Memory limit; all tuning is derived from it. At least ${formatMemory(POSTGRES_MIN_MEMORY)} for PostgreSQL (${formatMemory(POSTGRES_MIN_MEMORY_MANY_CORES)} from ${POSTGRES_MANY_CORES} CPUs), ${formatMemory(MARIADB_MIN_MEMORY)} for MariaDB.`,
  }),
  cpu: cpu.default("1").meta({ description: "CPU limit." }),
  storage: memory.default("10Gi").meta({ description: "Volume size." }),
  disk: z.enum(DISK_CLASSES).optional().meta({
    description:
      "Disk class for I/O tuning; defaults to the slowest class among the nodes (nvme without nodes).",
  }),
  name: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be a lower-case SQL identifier" })
    .optional()
    .meta({ description: "Database and user name; defaults to the service name." }),
  image: pinnedImage.optional().meta({ description: "Image override for this database." }),
  backup: databaseBackup
    .optional()
    .meta({ description: "Overrides fjord:backups for this database." }),
  restore: databaseRestore.optional().meta({
    description: "Create this database from a backup instead of empty (see docs/backups.md).",
  }),
});
