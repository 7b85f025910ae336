/**
 * Starts a throwaway PostgreSQL server (Debian's packaged binaries) in a temp dir on a free
 * loopback port. Shared by the real tests, the benchmarks and e2e: keep it the only launcher.
 */
import { writeFileSync } from "fs";
import * as path from "path";
import { ensurePackages } from "./apt";
import {
  makeTempDir,
  removeDir,
  run,
  startProcess,
  waitUntilReady,
  withPortRetry,
  type ServerProcess,
} from "./proc";

export interface PostgresOptions {
  /**
   * Full postgresql.conf, replacing initdb's. Whatever it says, the server listens on 127.0.0.1 at
   * the chosen port with its socket in the temp dir: those are forced on the command line.
   */
  confText?: string;
  /** Extra server arguments, e.g. ["-c", "log_min_duration_statement=0"]. */
  args?: string[];
  initdbArgs?: string[];
  /** Major version whose Debian bin dir is used. @default 15 */
  version?: number;
  /** Overrides the bin dir derived from `version` (no package install is attempted then). */
  binDir?: string;
  /** OS user the server runs as when we are root (postgres refuses to run as root). @default "postgres" */
  osUser?: string;
  /** @default 60000 */
  startTimeoutMs?: number;
  /** argv prefix the server is started through (e.g. joining a memory cgroup); see startProcess. */
  wrap?: string[];
  /**
   * The server's environment (default: the test's), which its archive_command and restore_command
   * inherit, as in a container: e.g. PGBACKREST_* variables.
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Copy this data directory (e.g. one kept by `stop({ keepFiles: true })`) instead of running
   * initdb, so several configurations start from byte-identical data without reloading it.
   */
  templateDataDir?: string;
}

export interface PostgresServer {
  host: "127.0.0.1";
  port: number;
  /** Superuser; authentication is `trust`, so no password. */
  user: "postgres";
  database: "postgres";
  baseDir: string;
  dataDir: string;
  socketDir: string;
  confPath: string;
  logPath: string;
  binDir: string;
  /** Path of a tool from the same installation (pgbench, pg_dump...). */
  bin(tool: string): string;
  /** libpq variables pointing at this server, for tools run by the caller. */
  env: Record<string, string>;
  /** Runs SQL through psql; returns unaligned, tuples-only output without the final newline. */
  query(sql: string, opts?: { database?: string }): Promise<string>;
  /**
   * Fast shutdown, then SIGKILL if needed; removes the temp dir unless `keepFiles` (then the caller
   * owns `baseDir`, e.g. to use `dataDir` as a template). Safe to call twice.
   */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
}

const DEFAULT_VERSION = 15;

/** The requested Debian bin dir, installing the packages that provide it if we can. */
function resolveBinDir(opts: PostgresOptions): string {
  if (opts.binDir) return opts.binDir;
  const version = opts.version ?? DEFAULT_VERSION;
  const binDir = `/usr/lib/postgresql/${version}/bin`;
  ensurePackages({
    [`${binDir}/postgres`]: `postgresql-${version}`,
    [`${binDir}/initdb`]: `postgresql-${version}`,
    [`${binDir}/psql`]: `postgresql-client-${version}`,
  });
  return binDir;
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = resolveBinDir(opts);
  const osUser = opts.osUser ?? "postgres";
  const baseDir = makeTempDir("fjord-pg-", osUser);
  const dataDir = path.join(baseDir, "data");
  const confPath = path.join(dataDir, "postgresql.conf");
  const logPath = path.join(baseDir, "postgres.log");
  const bin = (tool: string) => path.join(binDir, tool);
  let proc: ServerProcess | undefined;
  try {
    if (opts.templateDataDir) {
      // -a keeps the postgres owner and the 0700 mode the server insists on.
      // Through `wrap` too: the copy's page cache then belongs to the server's cgroup, as a
      // container's own files would.
      const [cp, cpArgs]: [string, string[]] = opts.wrap?.length
        ? [opts.wrap[0]!, [...opts.wrap.slice(1), "cp", "-a", opts.templateDataDir, dataDir]]
        : ["cp", ["-a", opts.templateDataDir, dataDir]];
      await run(cp, cpArgs, { timeoutMs: 600_000 });
    } else
      await run(
        bin("initdb"),
        [
          "-D",
          dataDir,
          "-U",
          "postgres",
          "--auth=trust",
          "--no-sync",
          "-E",
          "UTF8",
          "--locale=C",
        ].concat(opts.initdbArgs ?? []),
        { user: osUser, timeoutMs: 120_000 },
      );
    // Overwriting keeps initdb's ownership of the file, so the server can read it.
    if (opts.confText !== undefined) writeFileSync(confPath, opts.confText);

    const psql = (port: number, sql: string, database = "postgres") =>
      run(bin("psql"), [
        ...["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"],
        ...["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-c", sql],
      ]).then((out) => out.replace(/\n$/, ""));

    const port = await withPortRetry(async (port) => {
      writeFileSync(logPath, "");
      proc = startProcess(
        bin("postgres"),
        [
          ...["-D", dataDir, "-p", String(port), "-k", baseDir],
          ...["-c", "listen_addresses=127.0.0.1", "-c", "logging_collector=off"],
          ...(opts.args ?? []),
        ],
        { logPath, user: osUser, wrap: opts.wrap, env: opts.env },
      );
      try {
        await waitUntilReady(
          proc,
          async () => (await psql(port, "SELECT 1")) === "1",
          `postgres on 127.0.0.1:${port}`,
          opts.startTimeoutMs ?? 60_000,
        );
      } catch (err) {
        await proc.stop("SIGKILL");
        throw err;
      }
      return port;
    });

    const server: PostgresServer = {
      host: "127.0.0.1",
      port,
      user: "postgres",
      database: "postgres",
      baseDir,
      dataDir,
      socketDir: baseDir,
      confPath,
      logPath,
      binDir,
      bin,
      env: {
        PGHOST: "127.0.0.1",
        PGPORT: String(port),
        PGUSER: "postgres",
        PGDATABASE: "postgres",
      },
      query: (sql, q) => psql(port, sql, q?.database),
      async stop(stopOpts) {
        // SIGINT is postgres's "fast" shutdown: no waiting for clients, still a clean checkpoint.
        await proc?.stop("SIGINT", 30_000);
        if (!stopOpts?.keepFiles) removeDir(baseDir);
      },
    };
    return server;
  } catch (err) {
    await proc?.stop("SIGKILL");
    removeDir(baseDir);
    throw err;
  }
}
