/**
 * sysbench OLTP against Debian's MariaDB 10.11: compiled-in defaults versus fjord's rendered
 * option file, and the seed's "buffer pool = 70% of RAM" sized from the host, each inside the same
 * memory-limited cgroup and started from one copy of the same sysbench data.
 */
import * as os from "os";
import { tuneMysql } from "../components/plan/database";
import { renderMyCnf } from "../components/plan/database";
import { ensurePackages, findBinary } from "../testkit/apt";
import { startMariadb, type MariadbServer } from "../testkit/mariadb";
import { removeDir, run } from "../testkit/proc";
import { createMemCgroup, removeWhenEmpty } from "./cgroup";
import { newDbRun, type DbRun } from "./db-run";

const MiB = 2 ** 20;
const env = process.env;
export const MY = {
  limitBytes: Number(env.FJORD_BENCH_MY_LIMIT ?? 512 * MiB),
  tables: 4,
  tableSize: Number(env.FJORD_BENCH_MY_ROWS ?? 500_000),
  threads: 8,
  warmS: 10,
  rwS: Number(env.FJORD_BENCH_DB_SECONDS ?? 15),
  roS: Math.max(5, Math.round(Number(env.FJORD_BENCH_DB_SECONDS ?? 15) / 2)),
  naiveS: 40,
};

export interface MyRun extends DbRun {
  rwP95Ms: number[];
  /** For the naive config: what happened ("OOM-killed after N s", "refused to start: ..."). */
  outcome: string;
}

const log = (s: string) => console.log(`[bench db] ${s}`);

export function renderedMyCnf(): string {
  return renderMyCnf(
    tuneMysql({ memoryLimitBytes: MY.limitBytes, cpuMillis: 2000, disk: "ssd", version: "10.11" }),
  );
}

/** The seed's [mysqld] block with its "adjust to 70% of RAM" applied to the host's RAM. */
export function naiveMyCnf(): string {
  const pool = Math.floor((os.totalmem() * 0.7) / MiB);
  return [
    "[mysqld]",
    `innodb_buffer_pool_size = ${pool}M`,
    "innodb_log_file_size = 512M",
    "innodb_flush_neighbors = 0",
    "innodb_io_capacity = 2000",
    "innodb_io_capacity_max = 4000",
    "",
  ].join("\n");
}

export const sysbenchArgs = (
  db: MariadbServer | { port: number },
  test: string,
  threads: number,
  seconds?: number,
): string[] => [
  test,
  "--db-driver=mysql",
  "--mysql-host=127.0.0.1",
  `--mysql-port=${db.port}`,
  "--mysql-user=root",
  "--mysql-db=sbtest",
  `--tables=${MY.tables}`,
  `--table-size=${MY.tableSize}`,
  `--threads=${threads}`,
  ...(seconds ? [`--time=${seconds}`, "--report-interval=0"] : []),
];

function sysbench(): string {
  ensurePackages({ sysbench: "sysbench" });
  return findBinary("sysbench")!;
}

function parse(out: string): { tps: number; txns: number; p95: number } {
  const t = /transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/.exec(out);
  if (!t) throw new Error(`no transactions in sysbench output:\n${out.slice(-2000)}`);
  return {
    tps: Number(t[2]),
    txns: Number(t[1]),
    p95: Number(/95th percentile:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
  };
}

export async function myTemplate(): Promise<{ dataDir: string; cleanup(): void; loadS: number }> {
  const t0 = Date.now();
  const db = await startMariadb();
  try {
    await db.query("CREATE DATABASE sbtest");
    await run(sysbench(), [...sysbenchArgs(db, "oltp_read_write", 2), "prepare"], {
      timeoutMs: 20 * 60_000,
    });
  } catch (err) {
    await db.stop();
    throw err;
  }
  await db.stop({ keepFiles: true });
  return {
    dataDir: db.dataDir,
    cleanup: () => removeDir(db.baseDir),
    loadS: (Date.now() - t0) / 1000,
  };
}

async function variables(db: MariadbServer, names: string[]): Promise<string> {
  const rows = await db.query(
    `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(",")})`,
  );
  return rows
    .split("\n")
    .map((l) => l.replace("\t", "="))
    .join(", ");
}

/**
 * Like pgCompare: every configuration's server runs at once, each in its own cgroup, and the load
 * alternates between them round by round.
 */
export async function myCompare(
  configs: Array<[string, string]>,
  template: string,
  rounds: number,
): Promise<MyRun[]> {
  const live: Array<{
    run: MyRun;
    db: MariadbServer;
    cpuMs(): number;
    finish(): Promise<void>;
  }> = [];
  try {
    for (const [config, confText] of configs) {
      const cg = createMemCgroup(`fjord-bench-my-${config}-${process.pid}`, MY.limitBytes);
      const run0: MyRun = { ...newDbRun(config), rwP95Ms: [], outcome: "" };
      const db = await startMariadb({ confText, templateDataDir: template, wrap: cg.wrap }).catch(
        async (err: unknown) => {
          await removeWhenEmpty(cg);
          throw err;
        },
      );
      run0.durability = await variables(db, [
        "innodb_flush_log_at_trx_commit",
        "innodb_doublewrite",
        "sync_binlog",
      ]);
      run0.settings = await variables(db, [
        "innodb_buffer_pool_size",
        "innodb_log_file_size",
        "innodb_flush_method",
        "innodb_io_capacity",
        "max_connections",
      ]);
      live.push({
        run: run0,
        db,
        cpuMs: () => cg.cpuMs(),
        async finish() {
          run0.peakBytes = cg.peakBytes();
          run0.peakAnonBytes = cg.peakUnreclaimableBytes();
          run0.oomKills = cg.oomKills();
          run0.outcome = run0.oomKills > 0 ? "OOM-killed" : "survived";
          await db.stop();
          await removeWhenEmpty(cg);
        },
      });
    }
    const bench = async (l: (typeof live)[number], test: string, seconds: number) => {
      const cpu0 = l.cpuMs();
      const r = parse(
        await run(sysbench(), [...sysbenchArgs(l.db, test, MY.threads, seconds), "run"], {
          timeoutMs: (seconds + 120) * 1000,
        }),
      );
      return { ...r, cpuMsPerTx: (l.cpuMs() - cpu0) / r.txns };
    };
    for (const l of live) await bench(l, "oltp_read_only", MY.warmS);
    for (let r = 0; r < rounds; r++) {
      // ABBA order: whoever goes second inherits the first one's background writeback.
      const order = r % 2 ? [...live].reverse() : live;
      for (const l of order) {
        const rw = await bench(l, "oltp_read_write", MY.rwS);
        l.run.rwTps.push(rw.tps);
        l.run.rwP95Ms.push(rw.p95);
        l.run.rwCpuMsPerTx.push(rw.cpuMsPerTx);
      }
      for (const l of order) {
        const ro = await bench(l, "oltp_read_only", MY.roS);
        l.run.roTps.push(ro.tps);
        l.run.roCpuMsPerTx.push(ro.cpuMsPerTx);
      }
      log(
        `mariadb round ${r + 1}: ${live.map((l) => `${l.run.config} RW ${l.run.rwTps[r]!.toFixed(0)} / RO ${l.run.roTps[r]!.toFixed(0)}`).join("; ")}`,
      );
    }
  } finally {
    for (const l of live) await l.finish();
  }
  return live.map((l) => l.run);
}

/**
 * The seed's naive option file under load in the same container: the outcome (killed by the
 * kernel, refused to start, or survived) is the figure.
 */
export async function myNaive(template: string): Promise<MyRun> {
  const config = "naive";
  const cg = createMemCgroup(`fjord-bench-my-${config}-${process.pid}`, MY.limitBytes);
  const out: MyRun = { ...newDbRun(config), rwP95Ms: [], outcome: "" };
  let db: MariadbServer | undefined;
  try {
    db = await startMariadb({ confText: naiveMyCnf(), templateDataDir: template, wrap: cg.wrap });
    out.settings = await variables(db, ["innodb_buffer_pool_size", "innodb_log_file_size"]);
    const t0 = Date.now();
    const r = await run(
      sysbench(),
      [...sysbenchArgs(db, "oltp_read_write", MY.threads, MY.naiveS), "run"],
      {
        timeoutMs: (MY.naiveS + 120) * 1000,
      },
    ).then(
      (o) => `survived ${MY.naiveS} s of load: ${parse(o).tps.toFixed(0)} tps`,
      (e: Error) =>
        `load failed after ${((Date.now() - t0) / 1000).toFixed(0)} s (${
          e.message
            .split("\n")
            .find((l) => /FATAL|Lost connection|gone away/i.test(l))
            ?.trim() ?? "sysbench error"
        })`,
    );
    out.outcome = cg.oomKills() > 0 ? `OOM-killed by the kernel: ${r}` : r;
  } catch (err) {
    out.outcome = `refused to start: ${(err as Error).message.split("\n").slice(0, 2).join(" ")}`;
  } finally {
    out.peakBytes = cg.peakBytes();
    out.peakAnonBytes = cg.peakUnreclaimableBytes();
    out.oomKills = cg.oomKills();
    if (db) await db.stop();
    await removeWhenEmpty(cg);
  }
  return out;
}
