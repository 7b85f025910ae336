/**
 * What fjord's backups cost and buy, against the plain dump a team would otherwise script: a full
 * backup and a restore with the tools and options fjord's runner uses (pgBackRest with fjord's
 * rendered pgbackrest.conf; mariabackup | zstd -3 | rclone rcat into a crypt remote), against
 * `pg_dump | gzip` and `mariadb-dump | gzip`, on the same freshly loaded server; and what a backup
 * running in a loop does to the database's TPS. The object store is the real S3 server of the
 * backup tests (testkit/s3.ts: rclone serve s3 over TLS on loopback), on the same machine.
 */
import { writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import type { DatabaseBackup } from "../components/config";
import { planBackup, type BackupPlan } from "../components/plan/database";
import { ensurePackages, findBinary } from "../testkit/apt";
import { startMariadb, type MariadbServer } from "../testkit/mariadb";
import { startPostgres, type PostgresServer } from "../testkit/postgres";
import { chownTo, makeTempDir, removeDir, run } from "../testkit/proc";
import { startS3, type S3Server } from "../testkit/s3";
import { renderedMyCnf, sysbenchArgs, MY } from "./db-mariadb";
import { renderedPostgresConf } from "./db-postgres";
import { fmt, table, type Ratio, type SectionResult } from "./report";

const env = process.env;
const B = {
  pgScale: Number(env.FJORD_BENCH_BACKUP_PG_SCALE ?? 25),
  myTables: MY.tables,
  myRows: Number(env.FJORD_BENCH_BACKUP_MY_ROWS ?? 300_000),
  loadS: Number(env.FJORD_BENCH_BACKUP_LOAD_SECONDS ?? 30),
  clients: 8,
};
const BUCKET = "fjord-bench";
const CIPHER = "bench cipher pass phrase, as long as fjord's generated one";
const MB = 1e6;
const log = (s: string) => console.log(`[bench backups] ${s}`);
const loadavg1 = () => os.loadavg()[0]!.toFixed(1);
const loadavg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

/** fjord's backup settings, pointed at the loopback server (the CA is what caCert would hold). */
const backupSpec = (s3: S3Server): DatabaseBackup => ({
  target: {
    endpoint: s3.endpoint,
    bucket: BUCKET,
    region: "local",
    signingRegion: s3.region,
    prefix: "bench",
    pathStyle: true,
    caCert: s3.caPem,
  },
  schedule: "15 2 * * *",
  retention: { count: 2, age: "1d" },
  encrypt: true,
  archiveTimeout: "60s",
});

const seconds = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

const bash = (script: string, opts: { env?: NodeJS.ProcessEnv; user?: string } = {}) =>
  run("bash", ["-o", "pipefail", "-c", script], { ...opts, timeoutMs: 20 * 60_000 });

/** Sum of the stored objects under `prefix` in the bucket (what the backup costs in storage). */
const storedBytes = (s3: S3Server, prefix: string) =>
  s3
    .objects(BUCKET)
    .filter((o) => o.key.startsWith(prefix))
    .reduce((n, o) => n + o.size, 0);

const fileBytes = async (file: string) => Number((await run("stat", ["-c", "%s", file])).trim());

/**
 * TPS without a backup, with backups looping, and without again: the mean of the two quiet
 * windows is the baseline, so drift in the machine's other load hits both sides.
 */
async function loadWindows<T>(
  bench: () => Promise<T>,
  backup: () => Promise<unknown>,
  tps: (out: T) => number,
) {
  const windowLoad = [loadavg1()];
  const tpsBefore = tps(await bench());
  windowLoad.push(loadavg1());
  const loaded = await whileLoaded(bench(), backup);
  const tpsLoaded = tps(loaded.out);
  windowLoad.push(loadavg1());
  const tpsAfter = tps(await bench());
  return {
    tpsIdle: (tpsBefore + tpsAfter) / 2,
    tpsBefore,
    tpsAfter,
    windowLoad,
    tpsLoaded,
    backupsInWindow: loaded.backups,
    backupInWindowS: loaded.backupS,
  };
}

/**
 * Runs `backup` back to back for as long as `load` runs; returns how many completed inside the
 * window (the one in flight when the load ends is awaited, not counted).
 */
async function whileLoaded<T>(
  load: Promise<T>,
  backup: () => Promise<unknown>,
): Promise<{ out: T; backups: number; backupS: number[] }> {
  let done = false;
  const out = load.finally(() => (done = true));
  let backups = 0;
  const backupS: number[] = [];
  const loop = (async () => {
    while (!done) {
      const s = await seconds(backup);
      if (!done) {
        backups++;
        backupS.push(s);
      }
    }
  })();
  const [o] = await Promise.all([out, loop]);
  return { out: o, backups, backupS };
}

interface EngineResult {
  sizeBytes: number;
  backupS: number;
  dumpS: number;
  restoreS: number;
  restoreFilesS: number;
  restoreStartS: number;
  loadS: number;
  storedBytes: number;
  dumpBytes: number;
  /** Mean of the windows before and after the loaded one. */
  tpsIdle: number;
  tpsBefore: number;
  tpsAfter: number;
  /** 1-minute load average at the start of the before, loaded and after windows. */
  windowLoad: string[];
  tpsLoaded: number;
  backupsInWindow: number;
  backupInWindowS: number[];
  fillS: number;
  checked: string;
}

const pgTps = (out: string) => {
  const m = /^tps = ([\d.]+)/m.exec(out);
  if (!m) throw new Error(`no tps in pgbench output:\n${out}`);
  return Number(m[1]);
};

async function postgres(s3: S3Server): Promise<EngineResult> {
  const stanza = "pg";
  const spec = backupSpec(s3);
  const dir = makeTempDir("fjord-bench-pgbr-", "postgres");
  const caFile = path.join(dir, "ca.pem");
  const conf = path.join(dir, "pgbackrest.conf");
  writeFileSync(caFile, s3.caPem);
  chownTo(caFile, "postgres");
  // Secrets come from the environment, as the runner gets them.
  const pgbrEnv = {
    ...process.env,
    PGBACKREST_REPO1_S3_KEY: s3.accessKeyId,
    PGBACKREST_REPO1_S3_KEY_SECRET: s3.secretAccessKey,
    PGBACKREST_REPO1_CIPHER_PASS: CIPHER,
  };
  // fjord's archive settings (archive_mode, archive_command, archive_timeout) from its plan, as -c
  // arguments, with the plan's config path replaced by this run's.
  const pgPlan = (p?: PostgresServer) =>
    planBackup({
      engine: "postgres",
      database: stanza,
      user: "postgres",
      dataDir: p?.dataDir ?? "/data",
      socketDir: p?.socketDir ?? "/run",
      port: p?.port ?? 5432,
      backup: spec,
    });
  const confPath = (p: BackupPlan) =>
    Object.keys(p.files).find((f) => f.endsWith("pgbackrest.conf"))!;
  const caPath = (p: BackupPlan) => Object.keys(p.files).find((f) => p.files[f] === s3.caPem)!;
  const plan0 = pgPlan();
  const archiveArgs = plan0.serverSettings
    .split("\n")
    .filter((l) => /^\w+ = /.test(l))
    .flatMap((l) => {
      const [k, v] = l.split(/ = (.*)/) as [string, string];
      const value = v.replace(/^'(.*)'$/, "$1").replace(confPath(plan0), conf);
      return ["-c", `${k}=${value}`];
    });
  const t0 = Date.now();
  const pg = await startPostgres({
    confText: renderedPostgresConf(),
    args: archiveArgs,
    env: pgbrEnv,
  });
  const extra: PostgresServer[] = [];
  const dirs = [dir];
  try {
    log(`postgres: pgbench -i -s ${B.pgScale}...`);
    await run(pg.bin("pgbench"), ["-i", "-s", String(B.pgScale), "-q"], {
      env: { ...process.env, ...pg.env },
      timeoutMs: 20 * 60_000,
    });
    await pg.query("VACUUM ANALYZE");
    await pg.query("CHECKPOINT");
    const fillS = (Date.now() - t0) / 1000;
    const sizeBytes = Number(await pg.query("SELECT pg_database_size('postgres')"));
    // fjord's own file, with the paths of this machine: the CA and a lock dir the postgres user owns.
    const plan = pgPlan(pg);
    const rendered = plan.files[confPath(plan)]!;
    writeFileSync(
      conf,
      rendered
        .replace(caPath(plan), caFile)
        .replace("lock-path=/tmp/pgbackrest", `lock-path=${dir}/lock`),
    );
    chownTo(conf, "postgres");
    // The runner's commands (components/plan/database/backup/runner.ts).
    const PGBR = ["pgbackrest", `--config=${conf}`, `--stanza=${stanza}`];
    const pgbackrest = (args: string[]) =>
      run(PGBR[0]!, [...PGBR.slice(1), ...args], {
        user: "postgres",
        env: pgbrEnv,
        timeoutMs: 20 * 60_000,
      });
    await pgbackrest(["stanza-create"]);
    await pgbackrest(["check"]);

    log(`postgres: ${fmt(sizeBytes / MB, 0)} MB; full backup (pgBackRest)...`);
    const backupS = await seconds(() => pgbackrest(["--type=full", "backup"]));
    const stored = storedBytes(s3, `bench/${stanza}/backup/`);
    log(`postgres: pg_dump | gzip...`);
    const dump = path.join(dir, "dump.sql.gz");
    const libpq = { ...process.env, ...pg.env };
    const dumpS = await seconds(() =>
      bash(`${pg.bin("pg_dump")} | gzip > ${dump}`, { env: libpq }),
    );
    const dumpBytes = await fileBytes(dump);

    log("postgres: restore (pgBackRest)...");
    const rdir = makeTempDir("fjord-bench-pgrestore-", "postgres");
    dirs.push(rdir);
    const rdata = path.join(rdir, "data");
    await run("install", ["-d", "-m", "0700", "-o", "postgres", "-g", "postgres", rdata]);
    // The launcher runs the restored copy elsewhere, so archive-get reads its own directory.
    const restoreFilesS = await seconds(() =>
      pgbackrest([
        `--pg1-path=${rdata}`,
        "--type=default",
        `--recovery-option=restore_command=${PGBR.join(" ")} --pg1-path="$(pwd)" archive-get %f "%p"`,
        "restore",
      ]),
    );
    let restored: PostgresServer | undefined;
    const restoreStartS = await seconds(async () => {
      restored = await startPostgres({ templateDataDir: rdata, env: pgbrEnv });
      extra.push(restored);
      const deadline = Date.now() + 300_000;
      while ((await restored.query("SELECT pg_is_in_recovery()")) === "t") {
        if (Date.now() > deadline) throw new Error("restored server did not promote");
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    const rows = await restored!.query("SELECT count(*) FROM pgbench_accounts");
    await restored!.stop();
    removeDir(rdir);

    log("postgres: gunzip | psql into an empty database...");
    const empty = await startPostgres({ confText: renderedPostgresConf() });
    extra.push(empty);
    const loadS = await seconds(() =>
      bash(`gunzip -c ${dump} | ${empty.bin("psql")} -X -q -v ON_ERROR_STOP=1 >/dev/null`, {
        env: { ...process.env, ...empty.env },
      }),
    );
    const rows2 = await empty.query("SELECT count(*) FROM pgbench_accounts");
    await empty.stop();
    const checked = `pgbench_accounts rows: source ${B.pgScale * 100_000}, pgBackRest restore ${rows}, psql restore ${rows2}`;

    log(`postgres: pgbench read-write ${B.loadS} s without, then with backups looping...`);
    const bench = () =>
      run(pg.bin("pgbench"), ["-c", String(B.clients), "-j", "2", "-T", String(B.loadS), "-n"], {
        env: libpq,
        timeoutMs: (B.loadS + 600) * 1000,
      });
    const windows = await loadWindows(bench, () => pgbackrest(["--type=full", "backup"]), pgTps);
    return {
      sizeBytes,
      backupS,
      dumpS,
      restoreS: restoreFilesS + restoreStartS,
      restoreFilesS,
      restoreStartS,
      loadS,
      storedBytes: stored,
      dumpBytes,
      ...windows,
      fillS,
      checked,
    };
  } finally {
    for (const s of extra) await s.stop();
    await pg.stop();
    for (const d of dirs) removeDir(d);
  }
}

const sbTps = (out: string) => {
  const t = /transactions:\s+(\d+)\s+\(([\d.]+) per sec\.\)/.exec(out);
  if (!t) throw new Error(`no transactions in sysbench output:\n${out.slice(-2000)}`);
  return Number(t[2]);
};

async function mariadb(s3: S3Server): Promise<EngineResult> {
  ensurePackages({
    sysbench: "sysbench",
    mariabackup: "mariadb-backup",
    mbstream: "mariadb-backup",
  });
  const sysbench = findBinary("sysbench")!;
  const dir = makeTempDir("fjord-bench-mariabackup-");
  const dirs = [dir];
  const t0 = Date.now();
  const db = await startMariadb({ confText: renderedMyCnf() });
  const extra: MariadbServer[] = [];
  try {
    const sb = (test: string, threads: number, secs?: number) =>
      sysbenchArgs(db, test, threads, secs).map((a) =>
        a.startsWith("--table-size=") ? `--table-size=${B.myRows}` : a,
      );
    log(`mariadb: sysbench prepare ${B.myTables} x ${B.myRows} rows...`);
    await db.query("CREATE DATABASE sbtest");
    await run(sysbench, [...sb("oltp_read_write", 2), "prepare"], { timeoutMs: 20 * 60_000 });
    const fillS = (Date.now() - t0) / 1000;
    const sizeBytes = Number(
      await db.query(
        "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = 'sbtest'",
      ),
    );
    // The runner's environment from fjord's plan, secrets filled in as the targets would.
    const plan = planBackup({
      engine: "mysql",
      database: "my",
      user: "root",
      dataDir: db.dataDir,
      socketDir: db.baseDir,
      port: db.port,
      backup: backupSpec(s3),
    });
    const secrets: Record<string, string> = {
      "backup-access-key-id": s3.accessKeyId,
      "backup-secret-access-key": s3.secretAccessKey,
      "backup-cipher": CIPHER,
    };
    const planEnv = Object.fromEntries(
      plan.env.map((v) => [v.name, "value" in v ? v.value : secrets[v.secret]!]),
    );
    planEnv.RCLONE_CA_CERT = s3.caFile;
    planEnv.RCLONE_CONFIG = path.join(dir, "rclone.conf");
    planEnv.RCLONE_CONFIG_FJORD_PASSWORD = (await run("rclone", ["obscure", CIPHER])).trim();
    // Debian's rclone 1.60 fails on AWS_CA_BUNDLE (see test/real/s3-server.test.ts).
    const rcEnv: NodeJS.ProcessEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_"))),
      ...planEnv,
    };
    const R = planEnv.FJORD_BACKUP_REMOTE!;
    const socket = `--socket=${db.socket}`;
    let n = 0;
    // run.sh's backup(): stream, then move the complete object where restores look.
    const backup = () => {
      const name = `${Date.now()}-${n++}.xb.zst`;
      return bash(
        `rm -rf ${dir}/mb && mkdir -p ${dir}/mb && ` +
          `mariabackup --no-defaults --backup --stream=xbstream --target-dir=${dir}/mb --user=root ${socket} 2>${dir}/mariabackup.log | ` +
          `zstd -q -3 | rclone rcat "${R}/incoming/${name}" && ` +
          `rclone moveto "${R}/incoming/${name}" "${R}/full/${name}"`,
        { env: rcEnv },
      );
    };
    await run("rclone", ["lsf", "--max-depth", "1", `fjords3:${BUCKET}`], { env: rcEnv });

    log(`mariadb: ${fmt(sizeBytes / MB, 0)} MB; mariabackup | zstd -3 | rclone rcat (crypt)...`);
    const backupS = await seconds(backup);
    const stored = storedBytes(s3, "bench/my/");
    log("mariadb: mariadb-dump | gzip...");
    const dump = path.join(dir, "dump.sql.gz");
    const dumpS = await seconds(() =>
      bash(
        `mariadb-dump ${db.clientArgs.join(" ")} --single-transaction --databases sbtest | gzip > ${dump}`,
      ),
    );
    const dumpBytes = await fileBytes(dump);

    log("mariadb: restore (rclone cat | zstd -d | mbstream -x; mariabackup --prepare)...");
    const data = path.join(dir, "restore");
    const restoreFilesS = await seconds(async () => {
      await bash(
        `mkdir -p ${data} && f=$(rclone lsf "${R}/full/" | sort -n | tail -1) && ` +
          `rclone cat "${R}/full/$f" | zstd -dq | mbstream -x -C ${data} && ` +
          `mariabackup --no-defaults --prepare --target-dir=${data} 2>${dir}/prepare.log`,
        { env: rcEnv },
      );
    });
    await run("chown", ["-R", "mysql:mysql", data]);
    let restored: MariadbServer | undefined;
    const restoreStartS = await seconds(async () => {
      restored = await startMariadb({ confText: renderedMyCnf(), templateDataDir: data });
      extra.push(restored);
    });
    const rows = await restored!.query("SELECT COUNT(*) FROM sbtest.sbtest1");
    await restored!.stop();
    removeDir(data);

    log("mariadb: gunzip | mariadb into an empty server...");
    const empty = await startMariadb({ confText: renderedMyCnf() });
    extra.push(empty);
    const loadS = await seconds(() =>
      bash(`gunzip -c ${dump} | mariadb ${empty.clientArgs.join(" ")}`),
    );
    const rows2 = await empty.query("SELECT COUNT(*) FROM sbtest.sbtest1");
    await empty.stop();
    const checked = `sbtest1 rows: source ${B.myRows}, mariabackup restore ${rows}, dump restore ${rows2}`;

    log(`mariadb: sysbench oltp_read_write ${B.loadS} s without, then with backups looping...`);
    const bench = () =>
      run(sysbench, [...sb("oltp_read_write", B.clients, B.loadS), "run"], {
        timeoutMs: (B.loadS + 600) * 1000,
      });
    const windows = await loadWindows(bench, backup, sbTps);
    return {
      sizeBytes,
      backupS,
      dumpS,
      restoreS: restoreFilesS + restoreStartS,
      restoreFilesS,
      restoreStartS,
      loadS,
      storedBytes: stored,
      dumpBytes,
      ...windows,
      fillS,
      checked,
    };
  } finally {
    for (const s of extra) await s.stop();
    await db.stop();
    for (const d of dirs) removeDir(d);
  }
}

export async function benchBackups(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  ensurePackages({ pgbackrest: "pgbackrest", rclone: "rclone", zstd: "zstd" });
  const loadStart = loadavg();
  const s3 = await startS3({ buckets: [BUCKET] });
  let pg: EngineResult;
  let my: EngineResult;
  try {
    pg = await postgres(s3);
    my = await mariadb(s3);
  } finally {
    await s3.stop();
  }
  const loadEnd = loadavg();
  const mbps = (bytes: number, s: number) => bytes / MB / s;
  const backups = (n: number) => (n === 1 ? "1 backup" : `${n} backups`);
  // When the two windows without a backup differ more than the backup moved TPS, say so.
  const noise = (r: EngineResult) => {
    const spread = Math.abs(r.tpsBefore - r.tpsAfter) / r.tpsIdle;
    return spread > Math.abs(1 - r.tpsLoaded / r.tpsIdle)
      ? `; the two windows without a backup differ by ${fmt(spread * 100, 0)}% between themselves, more than the backup moved TPS: within the noise of the shared machine`
      : "";
  };

  const ratios: Ratio[] = [
    {
      name: "PostgreSQL backup MB/s, pgBackRest (zst, aes-256-cbc, to S3) / pg_dump \\| gzip (to a file)",
      value: pg.dumpS / pg.backupS,
      note: `${fmt(mbps(pg.sizeBytes, pg.backupS))} vs ${fmt(mbps(pg.sizeBytes, pg.dumpS))} MB/s of database; pgBackRest reads every page (indexes and free space too), compresses with zstd in one process (process-max=1), encrypts and uploads over TLS, while pg_dump writes only the rows as text (no indexes) and gzips them; ${fmt(pg.storedBytes / MB, 1)} MB stored against a ${fmt(pg.dumpBytes / MB, 1)} MB dump`,
    },
    {
      name: "PostgreSQL restore MB/s, pgBackRest restore + start / gunzip \\| psql",
      value: pg.loadS / pg.restoreS,
      note: `${fmt(mbps(pg.sizeBytes, pg.restoreS))} vs ${fmt(mbps(pg.sizeBytes, pg.loadS))} MB/s; pgBackRest downloads, decrypts and decompresses the pages and the server replays the WAL since the backup, while psql COPYs every row in again and rebuilds every index`,
    },
    {
      name: "MariaDB backup MB/s, mariabackup \\| zstd -3 \\| rclone crypt (to S3) / mariadb-dump \\| gzip",
      value: my.dumpS / my.backupS,
      note: `${fmt(mbps(my.sizeBytes, my.backupS))} vs ${fmt(mbps(my.sizeBytes, my.dumpS))} MB/s; mariabackup copies InnoDB pages as they are, mariadb-dump turns every row into SQL text (gzip then works on ${fmt(my.dumpBytes / MB, 1)} MB of it, zstd -3 on the pages: ${fmt(my.storedBytes / MB, 1)} MB stored)`,
    },
    {
      name: "MariaDB restore MB/s, rclone cat \\| zstd -d \\| mbstream -x + --prepare + start / gunzip \\| mariadb",
      value: my.loadS / my.restoreS,
      note: `${fmt(mbps(my.sizeBytes, my.restoreS))} vs ${fmt(mbps(my.sizeBytes, my.loadS))} MB/s; the physical restore writes the pages back and applies a short redo log, the logical one re-runs every INSERT through the SQL layer and rebuilds the secondary indexes`,
    },
    {
      name: `PostgreSQL pgbench read-write TPS, pgBackRest full backups looping / no backup (${B.loadS} s each)`,
      value: pg.tpsLoaded / pg.tpsIdle,
      note: `${fmt(pg.tpsLoaded, 0)} vs ${fmt(pg.tpsIdle, 0)} tps (no backup: mean of ${fmt(pg.tpsBefore, 0)} before and ${fmt(pg.tpsAfter, 0)} after); ${backups(pg.backupsInWindow)} completed in the window; pgBackRest's reads, zstd, encryption and TLS, and the S3 server, take CPU from the same 2 cores the server uses${noise(pg)}`,
    },
    {
      name: `MariaDB sysbench oltp_read_write TPS, mariabackup streaming looping / no backup (${B.loadS} s each)`,
      value: my.tpsLoaded / my.tpsIdle,
      note: `${fmt(my.tpsLoaded, 0)} vs ${fmt(my.tpsIdle, 0)} tps (no backup: mean of ${fmt(my.tpsBefore, 0)} before and ${fmt(my.tpsAfter, 0)} after); ${backups(my.backupsInWindow)} completed in the window; mariabackup's page and redo-log copying, zstd, rclone's encryption and the S3 server take CPU and I/O from the same 2 cores the server uses${noise(my)}`,
    },
  ];

  const row = (engine: string, r: EngineResult, fj: string, base: string) => [
    [
      engine,
      `backup: ${fj}`,
      fmt(r.backupS, 1),
      fmt(mbps(r.sizeBytes, r.backupS), 1),
      `${fmt(r.storedBytes / MB, 1)} MB in the bucket`,
    ],
    [
      engine,
      `backup: ${base}`,
      fmt(r.dumpS, 1),
      fmt(mbps(r.sizeBytes, r.dumpS), 1),
      `${fmt(r.dumpBytes / MB, 1)} MB file`,
    ],
    [
      engine,
      "restore: physical (fjord)",
      fmt(r.restoreS, 1),
      fmt(mbps(r.sizeBytes, r.restoreS), 1),
      `${fmt(r.restoreFilesS, 1)} s restoring files + ${fmt(r.restoreStartS, 1)} s until the server answers${engine === "PostgreSQL" ? " out of recovery" : ""}`,
    ],
    [
      engine,
      "restore: logical (baseline)",
      fmt(r.loadS, 1),
      fmt(mbps(r.sizeBytes, r.loadS), 1),
      "into an empty database on a running server",
    ],
  ];
  const raw = table(
    ["engine", "operation", "seconds", "MB/s of database", "note"],
    [
      ...row("PostgreSQL", pg, "pgBackRest full", "pg_dump \\| gzip"),
      ...row(
        "MariaDB",
        my,
        "mariabackup \\| zstd -3 \\| rclone rcat (crypt)",
        "mariadb-dump \\| gzip",
      ),
    ],
  );
  const loadTable = table(
    [
      "engine",
      "benchmark",
      "TPS, no backup: before, after",
      "TPS, backups looping",
      "1-min load average at each window's start",
      "ratio",
      "backups in the window (s each)",
    ],
    [
      [
        "PostgreSQL",
        `pgbench -c ${B.clients} -j 2 -T ${B.loadS} (TPC-B-like)`,
        `${fmt(pg.tpsBefore, 0)}, ${fmt(pg.tpsAfter, 0)}`,
        fmt(pg.tpsLoaded, 0),
        pg.windowLoad.join(", "),
        fmt(pg.tpsLoaded / pg.tpsIdle),
        `${pg.backupsInWindow} (${pg.backupInWindowS.map((s) => s.toFixed(1)).join(", ")})`,
      ],
      [
        "MariaDB",
        `sysbench oltp_read_write --threads=${B.clients} --time=${B.loadS}`,
        `${fmt(my.tpsBefore, 0)}, ${fmt(my.tpsAfter, 0)}`,
        fmt(my.tpsLoaded, 0),
        my.windowLoad.join(", "),
        fmt(my.tpsLoaded / my.tpsIdle),
        `${my.backupsInWindow} (${my.backupInWindowS.map((s) => s.toFixed(1)).join(", ")})`,
      ],
    ],
  );
  const body = [
    "### Method",
    "",
    `- One machine: 2 cores, the database server, the backup tools and the S3 server (testkit/s3.ts: \`rclone serve s3\` over TLS with SigV4, on loopback) all share it, so the network is never the limit; CPU is. Load average at the start of the section ${loadStart}, at the end ${loadEnd} (other work — e2e runs — was sharing the machine: absolute numbers are depressed, the ratios are taken from runs back to back).`,
    `- Data: PostgreSQL 15 filled by \`pgbench -i -s ${B.pgScale}\` (${fmt(pg.sizeBytes / MB, 0)} MB by \`pg_database_size\`, ${fmt(pg.fillS, 0)} s); MariaDB 10.11 filled by \`sysbench oltp_read_write prepare\`, ${B.myTables} tables × ${B.myRows.toLocaleString("en-US")} rows (${fmt(my.sizeBytes / MB, 0)} MB data + indexes, ${fmt(my.fillS, 0)} s). Both servers run fjord's rendered config (2 GiB / 512 MiB container, as in the db section) without a cgroup. MB/s = database size / wall time; MB = 10⁶ bytes. pgbench's rows are blank-padded and compress extremely well (the dump gzips to ${fmt(pg.dumpBytes / MB, 1)} MB), sysbench's random strings much less (${fmt(my.dumpBytes / MB, 1)} MB): real data sits in between.`,
    "- fjord's side runs what fjord's runner runs: PostgreSQL with the archive settings of fjord's plan (`planBackup(...).serverSettings`: archive_mode, archive_command, archive_timeout) and `pgbackrest --type=full backup` with the pgbackrest.conf of that plan (`renderPgbackrestConf`: S3, compress-type=zst, aes-256-cbc, start-fast; pgBackRest's default process-max=1), only the CA path and the lock dir changed to this machine's; MariaDB with the rclone environment of fjord's plan (`planBackup`: s3 remote + crypt remote, secrets filled in) and run.sh's pipeline `mariabackup --backup --stream=xbstream | zstd -q -3 | rclone rcat` then `rclone moveto` (stanza-create/check and the bucket probe run before the clock starts).",
    "- Restore: the physical restores include bringing a server up on the result (the launcher copies the restored directory with `cp -a` first, which counts against fjord); PostgreSQL's also includes WAL replay until the server leaves recovery (`--type=default`, as restore.sh for `latest`). pgBackRest's restore_command is given `--pg1-path=\"$(pwd)\"` because the launcher runs the restored copy in another directory (as in test/real/s3-server.test.ts). The logical restores load into an empty database on an already running server (not counted). The restored row counts are checked: " +
      `${pg.checked}; ${my.checked}.`,
    `- Load: the read-write benchmark runs ${B.loadS} s without a backup, ${B.loadS} s with full backups started back to back for the whole window (each one awaited, the next started at once), and ${B.loadS} s without again; the ratio is against the mean of the two windows without, so drift in the machine's other load over the 90 s hits both sides. PostgreSQL archives WAL in both windows, as a fjord server always does. Order within every backup and restore pair: fjord's first, then the baseline; one measurement each, so the ratios carry the noise of a shared machine (±10-30 % in the db section's rounds).`,
    "",
    "### Backup and restore",
    "",
    raw,
    "",
    "### TPS while backups run",
    "",
    loadTable,
    "",
    "### Commands",
    "",
    "```",
    "pgbackrest --config=pgbackrest.conf --stanza=pg --type=full backup",
    "pg_dump | gzip > dump.sql.gz",
    "pgbackrest --config=pgbackrest.conf --stanza=pg --pg1-path=$EMPTY --type=default --recovery-option=restore_command=... restore",
    "gunzip -c dump.sql.gz | psql -X -q -v ON_ERROR_STOP=1",
    "mariabackup --no-defaults --backup --stream=xbstream --target-dir=... --user=root --socket=... | zstd -q -3 | rclone rcat fjord:backups/incoming/$NAME && rclone moveto fjord:backups/incoming/$NAME fjord:backups/full/$NAME",
    "mariadb-dump --single-transaction --databases sbtest | gzip > dump.sql.gz",
    "rclone cat fjord:backups/full/$NAME | zstd -dq | mbstream -x -C $DIR && mariabackup --no-defaults --prepare --target-dir=$DIR",
    "gunzip -c dump.sql.gz | mariadb",
    `pgbench -c ${B.clients} -j 2 -T ${B.loadS} -n`,
    `sysbench oltp_read_write --tables=${B.myTables} --table-size=${B.myRows} --threads=${B.clients} --time=${B.loadS} run`,
    "```",
  ].join("\n");
  return {
    section: "backups",
    title: "Backups: fjord's physical backups against a plain dump, and their cost under load",
    ratios,
    body,
  };
}
