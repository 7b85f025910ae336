/**
 * What the database tuners (components/plan/database/tuning) can work with, checked here so a
 * config they would refuse fails under its `fjord:` key instead of as a RangeError mid-deploy.
 */
import { formatMemory, parseCpu, parseMemory } from "./units";
import { problem as p, type Check } from "./check";
import {
  DB_VERSIONS,
  MARIADB_MIN_MEMORY,
  POSTGRES_MANY_CORES,
  POSTGRES_MIN_MEMORY,
  POSTGRES_MIN_MEMORY_MANY_CORES,
  supportedVersion,
  type DatabaseEngine as Engine,
} from "./database-limits";
import type { DatabaseSpec } from "./schema";

/** Major, minor and patch as the schema's version pattern allows them. */
const VERSION_RE = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

/** Whole cores as the PostgreSQL tuner counts them: rounded, at least one. */
const coresOf = (cpu: string): number => Math.max(1, Math.round(parseCpu(cpu) / 1000));

export function minDatabaseMemory(engine: Engine, cpu: string): number {
  if (engine === "mysql") return MARIADB_MIN_MEMORY;
  return coresOf(cpu) >= POSTGRES_MANY_CORES ? POSTGRES_MIN_MEMORY_MANY_CORES : POSTGRES_MIN_MEMORY;
}

const eachDatabase = (
  spec: Parameters<Check>[0],
  fn: (db: DatabaseSpec, path: PropertyKey[]) => ReturnType<Check>,
): ReturnType<Check> =>
  spec.services.flatMap((s, i) => (s.database ? fn(s.database, ["services", i, "database"]) : []));

export const databaseVersions: Check = (spec) =>
  eachDatabase(spec, (db, path) => {
    // An omitted version gets the engine's default, which is supported.
    if (db.version === undefined) return [];
    const m = VERSION_RE.exec(db.version);
    if (!m) return []; // the schema already said what a version looks like
    const [major, minor] = [Number(m[1]), Number(m[2] ?? 0)];
    if (supportedVersion(db.engine, major, minor)) return [];
    const { text, example } = DB_VERSIONS[db.engine];
    const why =
      db.engine === "mysql" && major < 10
        ? `"${db.version}" is a MySQL version, but engine "mysql" runs MariaDB (image mariadb:<version>)`
        : `"${db.version}" is not a version fjord tunes ${db.engine === "mysql" ? "MariaDB" : "PostgreSQL"} for`;
    return [p([...path, "version"], `${why}; use ${text}, such as "${example}"`)];
  });

export const databaseMemory: Check = (spec) =>
  eachDatabase(spec, (db, path) => {
    const min = minDatabaseMemory(db.engine, db.cpu);
    if (parseMemory(db.memory) >= min) return [];
    const what =
      db.engine === "mysql"
        ? "MariaDB can be tuned for (a 32Mi buffer pool next to 20 connections)"
        : min === POSTGRES_MIN_MEMORY
          ? "PostgreSQL can be tuned for (shared buffers next to 10 connections)"
          : `PostgreSQL can be tuned for with ${POSTGRES_MANY_CORES} or more CPUs (each parallel worker needs a connection's memory)`;
    const fix =
      min === POSTGRES_MIN_MEMORY_MANY_CORES
        ? `raise memory to at least ${formatMemory(min)}, or lower cpu below ${POSTGRES_MANY_CORES - 0.5}`
        : `raise it to at least ${formatMemory(min)}`;
    return [
      p(
        [...path, "memory"],
        `${db.memory} is less than ${formatMemory(min)}, the least ${what}; ${fix}`,
      ),
    ];
  });
