/**
 * What the database tuners (components/plan/database/tuning) can work with. The checks enforce it
 * and the schema's docs quote it; it lives apart from both because the checks import the schema.
 * The plan's property test holds these bounds to the tuners.
 */
import { MiB } from "./units";

export const DB_ENGINES = ["postgres", "mysql"] as const;
export type DatabaseEngine = (typeof DB_ENGINES)[number];

/**
 * Versions fjord tunes and runs: PostgreSQL from 13 (the tuner's settings need it) to 17;
 * engine "mysql" runs MariaDB (the image is mariadb:<version> and the ready check is
 * mariadb-admin), from 10.5 (one redo log file, mariadb-* tools) through the 11 series.
 */
export const DB_VERSIONS: Record<DatabaseEngine, { text: string; example: string }> = {
  postgres: { text: "PostgreSQL 13 to 17", example: "16.6" },
  mysql: { text: "MariaDB 10.5 to 10.11, or 11.x", example: "11.4.4" },
};

/** Whether fjord tunes this version; `DB_VERSIONS` says the same in words. */
export function supportedVersion(engine: DatabaseEngine, major: number, minor: number): boolean {
  if (engine === "postgres") return major >= 13 && major <= 17;
  return (major === 10 && minor >= 5 && minor <= 11) || major === 11;
}

/**
 * The smallest memory limit each tuner fits its worst case into, rounded up with margin. PostgreSQL
 * runs one parallel worker per core (from 2 cores, at most 8) and each takes a connection's memory,
 * so from 6 cores it needs more. MariaDB needs a 32Mi buffer pool next to 20 connections.
 */
export const POSTGRES_MIN_MEMORY = 256 * MiB;
export const POSTGRES_MIN_MEMORY_MANY_CORES = 288 * MiB;
export const POSTGRES_MANY_CORES = 6;
export const MARIADB_MIN_MEMORY = 192 * MiB;
