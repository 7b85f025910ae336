/**
 * Process plumbing shared by the server launchers: run a server in its own process group with its
 * output in a log file, wait for readiness with a deadline, and always tear it down again.
 */
import { execFile, spawn } from "child_process";
import { chownSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { findBinary } from "./apt";
import { freePort } from "./ports";

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * argv that runs `cmd` as `user` when we are root (servers such as postgres refuse to run as root),
 * and unchanged otherwise. setpriv execs in place, so signals reach the server itself.
 */
export function asUser(user: string | undefined, cmd: string, args: string[]): [string, string[]] {
  if (!user || !isRoot()) return [cmd, args];
  const setpriv = findBinary("setpriv");
  if (setpriv)
    return [setpriv, ["--reuid", user, "--regid", user, "--init-groups", "--", cmd, ...args]];
  return [findBinary("runuser") ?? "runuser", ["-u", user, "--", cmd, ...args]];
}

/** A private temp dir; handed to `owner` when we are root so a dropped-privilege server can use it. */
export function makeTempDir(prefix: string, owner?: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  liveDirs.add(dir);
  if (owner && isRoot()) {
    const [uid, gid] = idsOf(owner);
    chownSync(dir, uid, gid);
  }
  return dir;
}

function idsOf(user: string): [number, number] {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no such user: ${user}`);
  const f = line.split(":");
  return [Number(f[2]), Number(f[3])];
}

export function chownTo(file: string, owner: string | undefined): void {
  if (!owner || !isRoot()) return;
  const [uid, gid] = idsOf(owner);
  chownSync(file, uid, gid);
}

export interface RunOptions {
  user?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs a short command to completion; rejects with its output when it fails. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const [file, argv] = asUser(opts.user, cmd, args);
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      {
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 64 * 2 ** 20,
      },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(`${path.basename(cmd)} ${args.join(" ")} failed: ${err.message}\n${stderr}`),
          );
        else resolve(stdout);
      },
    );
  });
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export interface ServerProcess {
  pid: number;
  logPath: string;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  exited: Promise<number | null>;
  running(): boolean;
  /** `signal` to the group, then SIGKILL after `graceMs`. Idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

// Whatever is still alive when the test process exits (a crashed test, a timeout) is killed and
// removed on the way out, so a failing run does not leave servers holding ports and disk.
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
process.once("exit", () => {
  for (const pgid of liveGroups) killGroup(pgid, "SIGKILL");
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

export function startProcess(
  cmd: string,
  args: string[],
  opts: {
    logPath: string;
    user?: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /**
     * argv prefix that execs the rest, e.g. a shell line that joins a memory cgroup first. It runs
     * before privileges are dropped, so it may write to /sys/fs/cgroup.
     */
    wrap?: string[];
  },
): ServerProcess {
  const [userFile, userArgv] = asUser(opts.user, cmd, args);
  const [file, argv] = opts.wrap?.length
    ? [opts.wrap[0]!, [...opts.wrap.slice(1), userFile, ...userArgv]]
    : [userFile, userArgv];
  const fd = openSync(opts.logPath, "a");
  // detached: its own process group, so stop() reaches children that kept the group.
  const child = spawn(file, argv, {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  });
  closeSync(fd);
  let alive = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      alive = false;
      liveGroups.delete(child.pid!);
      resolve(code);
    });
    // Spawn failures (missing binary) surface as an exit without a code; the log says the rest.
    child.once("error", () => {
      alive = false;
      resolve(null);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  liveGroups.add(pid);
  child.unref();
  return {
    pid,
    logPath: opts.logPath,
    exited,
    running: () => alive,
    async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 20_000) {
      if (alive) {
        killGroup(pid, signal);
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((r) => (timer = setTimeout(r, graceMs, "timeout")));
        const outcome = await Promise.race([exited, timeout]);
        clearTimeout(timer);
        if (outcome === "timeout") killGroup(pid, "SIGKILL");
        await exited;
      }
      // Helpers left in the group by a leader that exited first.
      killGroup(pid, "SIGKILL");
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it resolves true. Fails fast if the process exits, and on timeout; both
 * errors carry the tail of the server log, which is where the actual reason is.
 */
export async function waitUntilReady(
  proc: ServerProcess,
  probe: () => Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) {
      const code = await proc.exited;
      throw new Error(`${what} exited (code ${code}) before it was ready:\n${tail(proc.logPath)}`);
    }
    // Through a promise, so a probe that throws before its first await counts as "not yet".
    if (
      await Promise.resolve()
        .then(probe)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs}ms:\n${tail(proc.logPath)}`);
    await sleep(150);
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** True when a failed start was a lost race for the port, worth retrying on another one. */
export const lostPortRace = (log: string): boolean =>
  /address already in use|could not bind|Can't start server: Bind/i.test(log);

/** Retries a start that picks its own ports until it does not fail on a port taken in the meantime. */
export async function retryOnPortRace<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await start();
    } catch (err) {
      if (i >= attempts || !lostPortRace(String(err))) throw err;
    }
  }
}

/** Calls `attempt` with a fresh port until one start does not fail on a port taken in the meantime. */
export function withPortRetry<T>(attempt: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  return retryOnPortRace(async () => attempt(await freePort()), attempts);
}

/** The non-empty lines of a file, or none if it does not exist (yet). */
export function readLines(file: string): string[] {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
