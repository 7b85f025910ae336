/**
 * What the database tuning buys: pgbench and sysbench TPS with fjord's rendered configs against
 * the servers' defaults, in the same memory-limited cgroup on the same data, plus what the seed's
 * "70% of RAM" buffer pool does in that container.
 */
import { fmt, median, table, type Ratio, type SectionResult } from "./report";
import {
  MY,
  myCompare,
  myNaive,
  myTemplate,
  naiveMyCnf,
  renderedMyCnf,
  sysbenchArgs,
  type MyRun,
} from "./db-mariadb";
import {
  PG,
  pgbenchArgs,
  pgCompare,
  pgTemplate,
  renderedPostgresConf,
  type PgRun,
} from "./db-postgres";

const ROUNDS = Number(process.env.FJORD_BENCH_DB_ROUNDS ?? 3);
const MiB = 2 ** 20;
const log = (s: string) => console.log(`[bench db] ${s}`);
const mib = (n: number) => `${Math.round(n / MiB)} MiB`;
const cpuList = (xs: number[]) => xs.map((x) => x.toFixed(3)).join(", ");

async function postgres(): Promise<{ runs: PgRun[]; loadS: number }> {
  log(`postgres: loading pgbench scale ${PG.scale} once...`);
  const tpl = await pgTemplate();
  try {
    const runs = await pgCompare(
      [
        ["defaults", undefined],
        ["rendered", renderedPostgresConf()],
      ],
      tpl.dataDir,
      ROUNDS,
    );
    return { runs, loadS: tpl.loadS };
  } finally {
    tpl.cleanup();
  }
}

async function mariadb(): Promise<{ runs: MyRun[]; loadS: number }> {
  log(`mariadb: preparing sysbench ${MY.tables} x ${MY.tableSize} rows once...`);
  const tpl = await myTemplate();
  try {
    const runs = await myCompare(
      [
        ["defaults", "[mysqld]\n"],
        ["rendered", renderedMyCnf()],
      ],
      tpl.dataDir,
      ROUNDS,
    );
    runs.push(await myNaive(tpl.dataDir));
    return { runs, loadS: tpl.loadS };
  } finally {
    tpl.cleanup();
  }
}

const find = <T extends { config: string }>(runs: T[], c: string): T =>
  runs.find((r) => r.config === c)!;

export async function benchDatabases(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  const pg = await postgres();
  const my = await mariadb();
  const pgD = find(pg.runs, "defaults");
  const pgR = find(pg.runs, "rendered");
  const myD = find(my.runs, "defaults");
  const myR = find(my.runs, "rendered");
  const myN = find(my.runs, "naive");
  // Per-round ratios (the two servers were loaded back to back in each round), then their median.
  const paired = (a: number[], b: number[]) => median(a.map((x, i) => x / b[i]!));
  const naiveDied = /OOM|refused|failed/.test(myN.outcome) || myN.oomKills > 0;

  // CPU efficiency: defaults' server CPU per transaction over rendered's, so above 1 = rendered cheaper.
  const cpuEff = (name: string, rendered: number[], defaults: number[]): Ratio => ({
    name,
    value: paired(defaults, rendered),
    note: "server CPU per transaction, defaults / rendered (cgroup cpuacct); steady under other load",
  });
  const survival = (
    engine: string,
    r: { oomKills: number; peakAnonBytes: number; peakBytes: number },
    limit: number,
  ): Ratio => ({
    name: `${engine} rendered in its ${mib(limit)} container under load: OOM kills`,
    value: r.oomKills,
    goalMax: 1,
    unit: "",
    note: `peak anon+shmem ${mib(r.peakAnonBytes)} (${Math.round((100 * r.peakAnonBytes) / limit)}% of the limit); page cache filled the rest (peak total ${mib(r.peakBytes)}) and was reclaimed`,
  });
  // TPS with its per-round ratios in the note, and, when short of the goal, whether the server's
  // CPU per transaction (which other load hardly moves) shows a real regression or not.
  const tpsRatio = (
    name: string,
    r: number[],
    d: number[],
    cpuR: number[],
    cpuD: number[],
  ): Ratio => {
    const rounds = r.map((x, i) => (x / d[i]!).toFixed(2)).join(", ");
    const value = paired(r, d);
    const eff = paired(cpuD, cpuR);
    const why =
      value >= 1
        ? ""
        : eff >= 0.97
          ? `; short of the goal by less than the round-to-round spread, while CPU per transaction is ${eff.toFixed(2)}× (no regression in the work per transaction): noise from other load on the shared machine`
          : `; CPU per transaction is also worse (${eff.toFixed(2)}×): a real cost of the rendered settings`;
    return { name, value, goal: 1.0, note: `per round: ${rounds}${why}` };
  };
  const ratios: Ratio[] = [
    tpsRatio(
      "PostgreSQL rendered / defaults, pgbench read-write TPS",
      pgR.rwTps,
      pgD.rwTps,
      pgR.rwCpuMsPerTx,
      pgD.rwCpuMsPerTx,
    ),
    tpsRatio(
      "PostgreSQL rendered / defaults, pgbench read-only TPS",
      pgR.roTps,
      pgD.roTps,
      pgR.roCpuMsPerTx,
      pgD.roCpuMsPerTx,
    ),
    tpsRatio(
      "MariaDB rendered / defaults, sysbench oltp_read_write TPS",
      myR.rwTps,
      myD.rwTps,
      myR.rwCpuMsPerTx,
      myD.rwCpuMsPerTx,
    ),
    tpsRatio(
      "MariaDB rendered / defaults, sysbench oltp_read_only TPS",
      myR.roTps,
      myD.roTps,
      myR.roCpuMsPerTx,
      myD.roCpuMsPerTx,
    ),
    cpuEff(
      "PostgreSQL read-write CPU efficiency, rendered vs defaults",
      pgR.rwCpuMsPerTx,
      pgD.rwCpuMsPerTx,
    ),
    cpuEff(
      "PostgreSQL read-only CPU efficiency, rendered vs defaults",
      pgR.roCpuMsPerTx,
      pgD.roCpuMsPerTx,
    ),
    cpuEff(
      "MariaDB read-write CPU efficiency, rendered vs defaults",
      myR.rwCpuMsPerTx,
      myD.rwCpuMsPerTx,
    ),
    cpuEff(
      "MariaDB read-only CPU efficiency, rendered vs defaults",
      myR.roCpuMsPerTx,
      myD.roCpuMsPerTx,
    ),
    survival("PostgreSQL", pgR, PG.limitBytes),
    survival("MariaDB", myR, MY.limitBytes),
    {
      name: `MariaDB seed "70% of RAM" pool (host RAM) in the ${mib(MY.limitBytes)} container: killed or refused (1 = yes)`,
      value: naiveDied ? 1 : 0,
      goal: 1,
      unit: "",
      note: myN.outcome,
    },
  ];

  const pgTable = table(
    [
      "config",
      "RW tps (per round)",
      "RW latency avg ms",
      "RO tps (per round)",
      "server CPU ms / tx RW; RO",
      "peak anon+shmem / total",
      "OOM kills",
      "durability",
      "settings",
    ],
    pg.runs.map((r) => [
      r.config,
      r.rwTps.map((x) => fmt(x, 0)).join(", "),
      r.rwLatencyMs.map((x) => fmt(x)).join(", "),
      r.roTps.map((x) => fmt(x, 0)).join(", "),
      `${cpuList(r.rwCpuMsPerTx)}; ${cpuList(r.roCpuMsPerTx)}`,
      `${mib(r.peakAnonBytes)} / ${mib(r.peakBytes)}`,
      r.oomKills,
      r.durability,
      r.settings,
    ]),
  );
  const myTable = table(
    [
      "config",
      "RW tps (per round)",
      "RW p95 ms",
      "RO tps (per round)",
      "server CPU ms / tx RW; RO",
      "peak anon+shmem / total",
      "OOM kills",
      "outcome",
      "durability",
      "settings",
    ],
    my.runs.map((r) => [
      r.config,
      r.rwTps.map((x) => fmt(x, 0)).join(", ") || "—",
      r.rwP95Ms.map((x) => fmt(x)).join(", ") || "—",
      r.roTps.map((x) => fmt(x, 0)).join(", ") || "—",
      r.rwCpuMsPerTx.length ? `${cpuList(r.rwCpuMsPerTx)}; ${cpuList(r.roCpuMsPerTx)}` : "—",
      `${mib(r.peakAnonBytes)} / ${mib(r.peakBytes)}`,
      r.oomKills,
      r.outcome,
      r.durability,
      r.settings,
    ]),
  );
  const body = [
    "### Method",
    "",
    `- The "container" is a child memory cgroup (${mib(PG.limitBytes)} for PostgreSQL, ${mib(MY.limitBytes)} for MariaDB), the kernel mechanism \`docker run --memory\` uses; the server joins it before it starts, so every backend and the page cache it causes are charged to it. Debian's own binaries run through the repo's launchers (testkit/postgres.ts, mariadb.ts).`,
    `- Rendered configs come from \`tunePostgres\`/\`tuneMysql\` for exactly that limit, 2 CPUs and disk class "ssd". Defaults: initdb's postgresql.conf; MariaDB's compiled-in defaults (\`--defaults-file\` with an empty [mysqld], so Debian's conf.d is not read).`,
    `- Same data for every config: loaded once (pgbench scale ${PG.scale} ≈ ${Math.round(PG.scale * 15)} MB, ${fmt(pg.loadS, 0)} s; sysbench ${MY.tables} tables × ${MY.tableSize} rows, ${fmt(my.loadS, 0)} s), then each server starts on its own copy of that data directory. Larger than PostgreSQL's default shared_buffers (128 MB) and MariaDB's default buffer pool (128 MB).`,
    `- All configurations of one engine run at the same time, each in its own cgroup on its own copy of the data; the load alternates between them: a ${PG.warmS} s read-only warm-up each, then ${ROUNDS} rounds of read-write (${PG.rwS} s) on each server in turn, then read-only (${PG.roS} s) on each. A ratio is the median of the per-round ratios, so a burst of other load on this shared machine lands on both sides of a ratio instead of deciding it. ${PG.clients} clients (pgbench -j ${PG.jobs}; sysbench ${MY.threads} threads). Durability is never relaxed: the durability column is read back from the running server.`,
    "",
    "### PostgreSQL (pgbench)",
    "",
    pgTable,
    "",
    "### MariaDB (sysbench)",
    "",
    myTable,
    "",
    "### Commands",
    "",
    "```",
    `pgbench -i -s ${PG.scale} -q`,
    `pgbench ${pgbenchArgs("rw", PG.rwS).join(" ")}`,
    `pgbench ${pgbenchArgs("ro", PG.roS).join(" ")}`,
    `sysbench ${sysbenchArgs({ port: 0 }, "oltp_read_write", 2).join(" ").replace("--mysql-port=0", "--mysql-port=$PORT")} prepare`,
    `sysbench ${sysbenchArgs({ port: 0 }, "oltp_read_write", MY.threads, MY.rwS).join(" ").replace("--mysql-port=0", "--mysql-port=$PORT")} run`,
    `sysbench ${sysbenchArgs({ port: 0 }, "oltp_read_only", MY.threads, MY.roS).join(" ").replace("--mysql-port=0", "--mysql-port=$PORT")} run`,
    "```",
    "",
    "### Rendered files",
    "",
    "```ini",
    renderedPostgresConf().trim(),
    "```",
    "",
    "```ini",
    renderedMyCnf().trim(),
    "```",
    "",
    "Naive (seed) option file:",
    "",
    "```ini",
    naiveMyCnf().trim(),
    "```",
  ].join("\n");
  return {
    section: "db",
    title: "Database tuning: what it buys, and surviving the container limit",
    ratios,
    body,
  };
}
