/**
 * The rendered configs on real servers: each (memory, disk) case starts Debian's PostgreSQL 15 and
 * MariaDB 10.11 with the file we generate and reads every tuned value back from the server. A
 * server rejecting a setting, clamping a value or reading a unit differently fails here.
 *
 * Cases run one after another (the default within a file) to keep a 2-core machine responsive;
 * each start takes about a second.
 */
import { readFileSync } from "fs";
import { describe, expect, it } from "vitest";
import { formatMysqlValue, renderMyCnf } from "../../components/plan/database";
import { formatPostgresValue, renderPostgresqlConf } from "../../components/plan/database";
import {
  pgSharedMemoryOverhead,
  tuneMysql,
  tunePostgres,
  type DiskClass,
} from "../../components/plan/database";
import { parseMemory } from "../../components/config";
import { startMariadb } from "../../testkit/mariadb";
import { startPostgres } from "../../testkit/postgres";

// 8Gi means 2GB of shared_buffers and a 5.6GB buffer pool; both are reserved, not touched, at
// startup, so they start fine on this 24GB machine.
const SIZES = ["512Mi", "2Gi", "8Gi"];
const DISKS: DiskClass[] = ["nvme", "ssd", "hdd"];
const CASES = SIZES.flatMap((size) => DISKS.map((disk) => ({ size, disk })));

const input = (size: string, disk: DiskClass, version: string) => ({
  memoryLimitBytes: parseMemory(size),
  cpuMillis: 2000,
  disk,
  version,
});

const sqlList = (names: string[]) => names.map((n) => `'${n}'`).join(", ");

const PG_UNITS: Record<string, number> = { kB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };
function pgBytes(shown: string): number {
  const m = /^(\d+)(kB|MB|GB|TB)$/.exec(shown);
  if (!m) throw new Error(`not a Postgres size: ${shown}`);
  return Number(m[1]) * PG_UNITS[m[2]];
}

/** Tab- or pipe-separated rows into [first column, rest]. */
const rows = (out: string, sep: string) =>
  out
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(sep));

describe("postgresql.conf on PostgreSQL 15", () => {
  it.each(CASES)(
    "GIVEN PostgreSQL 15 started with the postgresql.conf tuned for $size/$disk WHEN pg_settings is queried THEN every tuned value reads back from the file, none is refused, and shared memory fits the model",
    async ({ size, disk }) => {
      const settings = tunePostgres(input(size, disk, "15"));
      const pg = await startPostgres({ confText: renderPostgresqlConf(settings), version: 15 });
      try {
        expect(await pg.query("SHOW config_file")).toBe(pg.confPath);
        const names = Object.keys(settings.params);
        const out = await pg.query(
          `SELECT name, current_setting(name), source FROM pg_settings WHERE name IN (${sqlList(names)})`,
        );
        const got = Object.fromEntries(rows(out, "|").map(([n, v]) => [n, v]));
        const want = Object.fromEntries(
          Object.entries(settings.params).map(([n, v]) => [n, formatPostgresValue(n as never, v)]),
        );
        expect(got).toEqual(want);
        for (const [name, , source] of rows(out, "|"))
          expect(source, `${name} comes from the file`).toBe("configuration file");

        // Entries the server parsed but refused or could not apply (the launcher's own command-line
        // overrides for address and port aside).
        const refused = await pg.query(
          "SELECT name || ': ' || coalesce(error, 'not applied') FROM pg_file_settings " +
            "WHERE (error IS NOT NULL OR NOT applied) AND name NOT IN ('listen_addresses', 'port')",
        );
        expect(refused).toBe("");

        // The memory model's shared part against what the server actually mapped.
        const shm = pgBytes(await pg.query("SHOW shared_memory_size"));
        const modelled =
          settings.params.shared_buffers +
          settings.params.wal_buffers +
          pgSharedMemoryOverhead(settings.params.shared_buffers);
        expect(shm).toBeGreaterThan(settings.params.shared_buffers);
        expect(shm).toBeLessThanOrEqual(modelled);
      } finally {
        await pg.stop();
      }
    },
  );
});

describe("my.cnf on MariaDB 10.11", () => {
  it.each(CASES)(
    "GIVEN MariaDB 10.11 started with the my.cnf tuned for $size/$disk WHEN its global variables are queried THEN every tuned value reads back and the log has no adjusted or ignored value",
    async ({ size, disk }) => {
      const settings = tuneMysql(input(size, disk, "10.11"));
      expect(settings.flavor).toBe("mariadb");
      const db = await startMariadb({ confText: renderMyCnf(settings) });
      try {
        const names = Object.keys(settings.params);
        const out = await db.query(
          `SELECT LOWER(VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES ` +
            `WHERE LOWER(VARIABLE_NAME) IN (${sqlList(names)})`,
        );
        const got: Record<string, string> = Object.fromEntries(rows(out, "\t"));
        // SHOW VARIABLES prints sizes in bytes: compare through the same formatter.
        const normalised = Object.fromEntries(
          Object.entries(got).map(([n, v]) => [
            n,
            /^\d+$/.test(v) ? formatMysqlValue(n as never, Number(v)) : v,
          ]),
        );
        const want = Object.fromEntries(
          Object.entries(settings.params).map(([n, v]) => [n, formatMysqlValue(n as never, v)]),
        );
        expect(normalised).toEqual(want);

        // The server warns instead of failing when it adjusts a value; there must be no such note.
        expect(readFileSync(db.logPath, "utf8")).not.toMatch(
          /\[(Warning|ERROR)\].*(adjusted|ignored|unknown|invalid)/i,
        );
      } finally {
        await db.stop();
      }
    },
  );
});
