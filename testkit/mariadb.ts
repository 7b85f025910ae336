/**
 * Starts a throwaway MariaDB server (Debian's mariadb-server) in a temp dir on a free loopback
 * port with its own socket. Shared by the real tests, the benchmarks and e2e: keep it the only launcher.
 */
import { chmodSync, writeFileSync } from "fs";
import * as path from "path";
import { ensurePackages, findBinary } from "./apt";
import {
  chownTo,
  makeTempDir,
  removeDir,
  run,
  startProcess,
  waitUntilReady,
  withPortRetry,
  type ServerProcess,
} from "./proc";

export interface MariadbOptions {
  /**
   * Option file passed as --defaults-file (to mariadb-install-db too, so the data dir is created
   * with the same InnoDB layout). Address, port, socket, datadir and pid file are forced on the
   * command line, which wins over the file.
   */
  confText?: string;
  /** Extra mariadbd arguments, e.g. ["--log-bin=binlog"]. */
  args?: string[];
  installArgs?: string[];
  /** OS user the server runs as when we are root. @default "mysql" */
  osUser?: string;
  /** @default 60000 */
  startTimeoutMs?: number;
  /** argv prefix the server is started through (e.g. joining a memory cgroup); see startProcess. */
  wrap?: string[];
  /**
   * Copy this data directory (one kept by `stop({ keepFiles: true })`, cleanly shut down) instead
   * of running mariadb-install-db, so several configurations start from identical data.
   */
  templateDataDir?: string;
}

export interface MariadbServer {
  host: "127.0.0.1";
  port: number;
  /** `root` without a password, over the socket or TCP from 127.0.0.1. */
  user: "root";
  socket: string;
  baseDir: string;
  dataDir: string;
  confPath: string;
  logPath: string;
  /** Arguments that point the `mariadb` client (or mariadb-admin, mariadb-dump) at this server. */
  clientArgs: string[];
  /** Runs SQL through the client in batch mode; returns tab-separated rows without a header. */
  query(sql: string): Promise<string>;
  /**
   * Clean shutdown (SIGTERM), then SIGKILL if needed; removes the temp dir unless `keepFiles` (then
   * the caller owns `baseDir`). Safe to call twice.
   */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
}

function binaries(): { server: string; install: string; client: string } {
  ensurePackages({
    mariadbd: "mariadb-server",
    "mariadb-install-db": "mariadb-server",
    mariadb: "mariadb-client",
  });
  return {
    server: findBinary("mariadbd")!,
    install: findBinary("mariadb-install-db")!,
    client: findBinary("mariadb")!,
  };
}

export async function startMariadb(opts: MariadbOptions = {}): Promise<MariadbServer> {
  const bins = binaries();
  const osUser = opts.osUser ?? "mysql";
  const baseDir = makeTempDir("fjord-mariadb-", osUser);
  const dataDir = path.join(baseDir, "data");
  const confPath = path.join(baseDir, "my.cnf");
  const socket = path.join(baseDir, "mysqld.sock");
  const logPath = path.join(baseDir, "mariadbd.log");
  // The client must not pick up /etc/mysql's settings (a different socket, a password file).
  const clientArgs = ["--no-defaults", `--socket=${socket}`, "--user=root"];
  let proc: ServerProcess | undefined;
  try {
    writeFileSync(confPath, opts.confText ?? "[mysqld]\n");
    // mariadbd ignores world-writable option files.
    chmodSync(confPath, 0o644);
    chownTo(confPath, osUser);
    if (opts.templateDataDir) {
      // Through `wrap` too: the copy's page cache then belongs to the server's cgroup, as a
      // container's own files would.
      const [cp, cpArgs]: [string, string[]] = opts.wrap?.length
        ? [opts.wrap[0]!, [...opts.wrap.slice(1), "cp", "-a", opts.templateDataDir, dataDir]]
        : ["cp", ["-a", opts.templateDataDir, dataDir]];
      await run(cp, cpArgs, { timeoutMs: 600_000 });
    } else
      await run(
        bins.install,
        [
          `--defaults-file=${confPath}`,
          `--datadir=${dataDir}`,
          "--auth-root-authentication-method=normal",
          "--skip-test-db",
          ...(opts.installArgs ?? []),
        ],
        { user: osUser, timeoutMs: 120_000 },
      );

    const query = (sql: string) =>
      run(bins.client, [...clientArgs, "--batch", "--skip-column-names", "-e", sql]).then((out) =>
        out.replace(/\n$/, ""),
      );

    const port = await withPortRetry(async (port) => {
      writeFileSync(logPath, "");
      proc = startProcess(
        bins.server,
        [
          `--defaults-file=${confPath}`,
          `--datadir=${dataDir}`,
          `--port=${port}`,
          "--bind-address=127.0.0.1",
          `--socket=${socket}`,
          `--pid-file=${path.join(baseDir, "mysqld.pid")}`,
          ...(opts.args ?? []),
        ],
        { logPath, user: osUser, wrap: opts.wrap },
      );
      try {
        await waitUntilReady(
          proc,
          async () => (await query("SELECT 1")) === "1",
          `mariadbd on 127.0.0.1:${port}`,
          opts.startTimeoutMs ?? 60_000,
        );
      } catch (err) {
        await proc.stop("SIGKILL");
        throw err;
      }
      return port;
    });
    // TCP clients (sysbench, drivers) arrive as root@127.0.0.1, which install-db does not create.
    await query(
      "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; " +
        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;",
    );

    return {
      host: "127.0.0.1",
      port,
      user: "root",
      socket,
      baseDir,
      dataDir,
      confPath,
      logPath,
      clientArgs,
      query,
      async stop(stopOpts) {
        // A clean InnoDB shutdown can take a while after heavy writes (benchmarks): be patient.
        await proc?.stop("SIGTERM", 60_000);
        if (!stopOpts?.keepFiles) removeDir(baseDir);
      },
    };
  } catch (err) {
    await proc?.stop("SIGKILL");
    removeDir(baseDir);
    throw err;
  }
}
