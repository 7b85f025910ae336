/**
 * pgbench against Debian's PostgreSQL 15: initdb's defaults versus fjord's rendered
 * postgresql.conf, each server inside the same memory-limited cgroup, both started from one
 * byte-identical copy of the same pgbench data.
 */
import { tunePostgres } from "../components/plan/database";
import { renderPostgresqlConf } from "../components/plan/database";
import { startPostgres } from "../testkit/postgres";
import { removeDir, run } from "../testkit/proc";
import { createMemCgroup, removeWhenEmpty } from "./cgroup";
import { newDbRun, type DbRun } from "./db-run";

export const GiB = 2 ** 30;
const env = process.env;
export const PG = {
  limitBytes: Number(env.FJORD_BENCH_PG_LIMIT ?? 2 * GiB),
  scale: Number(env.FJORD_BENCH_PG_SCALE ?? 50),
  clients: 8,
  jobs: 2,
  warmS: 10,
  rwS: Number(env.FJORD_BENCH_DB_SECONDS ?? 15),
  roS: Math.max(5, Math.round(Number(env.FJORD_BENCH_DB_SECONDS ?? 15) / 2)),
};

export interface PgRun extends DbRun {
  rwLatencyMs: number[];
}

const log = (s: string) => console.log(`[bench db] ${s}`);

function tps(out: string): number {
  const m = /^tps = ([\d.]+)/m.exec(out);
  if (!m) throw new Error(`no tps in pgbench output:\n${out}`);
  return Number(m[1]);
}
const latency = (out: string) => Number(/^latency average = ([\d.]+) ms/m.exec(out)?.[1] ?? NaN);

/** The rendered file for the bench container: 2 CPUs, SSD class, PostgreSQL 15. */
export function renderedPostgresConf(): string {
  return renderPostgresqlConf(
    tunePostgres({ memoryLimitBytes: PG.limitBytes, cpuMillis: 2000, disk: "ssd", version: "15" }),
  );
}

export const pgbenchArgs = (kind: "rw" | "ro", seconds: number): string[] => [
  ...(kind === "ro" ? ["-S"] : []),
  ...["-c", String(PG.clients), "-j", String(PG.jobs), "-T", String(seconds), "-n"],
];

/** Loads pgbench data once with initdb's defaults and keeps the cleanly stopped data dir. */
export async function pgTemplate(): Promise<{ dataDir: string; cleanup(): void; loadS: number }> {
  const t0 = Date.now();
  const pg = await startPostgres();
  try {
    await run(pg.bin("pgbench"), ["-i", "-s", String(PG.scale), "-q"], {
      env: { ...process.env, ...pg.env },
      timeoutMs: 20 * 60_000,
    });
    await pg.query("VACUUM ANALYZE");
  } catch (err) {
    await pg.stop();
    throw err;
  }
  await pg.stop({ keepFiles: true });
  return {
    dataDir: pg.dataDir,
    cleanup: () => removeDir(pg.baseDir),
    loadS: (Date.now() - t0) / 1000,
  };
}

interface Live {
  run: PgRun;
  bench(args: string[]): Promise<string>;
  /** Of the last bench() run. */
  cpuMsPerTx(): number;
  finish(): Promise<void>;
}

async function startConfig(
  config: string,
  confText: string | undefined,
  template: string,
): Promise<Live> {
  const cg = createMemCgroup(`fjord-bench-pg-${config}-${process.pid}`, PG.limitBytes);
  const run0: PgRun = { ...newDbRun(config), rwLatencyMs: [] };
  const pg = await startPostgres({
    templateDataDir: template,
    wrap: cg.wrap,
    ...(confText ? { confText } : {}),
  });
  let lastCpuMsPerTx = NaN;
  const bench = async (args: string[]) => {
    const cpu0 = cg.cpuMs();
    const out = await run(pg.bin("pgbench"), args, {
      env: { ...process.env, ...pg.env },
      timeoutMs: 15 * 60_000,
    });
    const txns = Number(/^number of transactions actually processed: (\d+)/m.exec(out)?.[1] ?? NaN);
    lastCpuMsPerTx = (cg.cpuMs() - cpu0) / txns;
    return out;
  };
  run0.durability = await pg.query(
    "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync','synchronous_commit','full_page_writes')",
  );
  // Sizes shown the way a person reads them (pg_settings holds shared_buffers in 8kB pages).
  run0.settings = await pg.query(
    "SELECT string_agg(name || '=' || CASE unit WHEN '8kB' THEN pg_size_pretty(setting::bigint * 8192) " +
      "WHEN 'MB' THEN setting || 'MB' WHEN 's' THEN setting || 's' ELSE setting END, ', ' ORDER BY name) " +
      "FROM pg_settings WHERE name IN ('shared_buffers','max_wal_size','checkpoint_timeout','wal_compression','wal_buffers','max_connections')",
  );
  return {
    run: run0,
    bench,
    cpuMsPerTx: () => lastCpuMsPerTx,
    async finish() {
      run0.peakBytes = cg.peakBytes();
      run0.peakAnonBytes = cg.peakUnreclaimableBytes();
      run0.oomKills = cg.oomKills();
      await pg.stop();
      await removeWhenEmpty(cg);
    },
  };
}

/**
 * Every configuration runs at once, each in its own cgroup on its own copy of the template; the
 * load goes to one server at a time, alternating, so a burst of other load on this shared machine
 * hits every configuration alike instead of deciding the ratio.
 */
export async function pgCompare(
  configs: Array<[string, string | undefined]>,
  template: string,
  rounds: number,
): Promise<PgRun[]> {
  const live: Live[] = [];
  try {
    for (const [name, conf] of configs) live.push(await startConfig(name, conf, template));
    // A short read-only run first, so neither configuration is measured on a cold cache.
    for (const l of live) await l.bench(pgbenchArgs("ro", PG.warmS));
    for (let r = 0; r < rounds; r++) {
      // ABBA order: whoever goes second inherits the first one's background writeback.
      const order = r % 2 ? [...live].reverse() : live;
      for (const l of order) {
        const rw = await l.bench(pgbenchArgs("rw", PG.rwS));
        l.run.rwCpuMsPerTx.push(l.cpuMsPerTx());
        l.run.rwTps.push(tps(rw));
        l.run.rwLatencyMs.push(latency(rw));
      }
      for (const l of order) {
        l.run.roTps.push(tps(await l.bench(pgbenchArgs("ro", PG.roS))));
        l.run.roCpuMsPerTx.push(l.cpuMsPerTx());
      }
      log(
        `postgres round ${r + 1}: ${live.map((l) => `${l.run.config} RW ${l.run.rwTps[r]!.toFixed(0)} / RO ${l.run.roTps[r]!.toFixed(0)}`).join("; ")}`,
      );
    }
  } finally {
    for (const l of live) await l.finish();
  }
  return live.map((l) => l.run);
}
