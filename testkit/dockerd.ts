/**
 * A private Docker daemon for tests: its own data root, socket and pid file in a temp dir, no
 * default bridge and no iptables, so it touches nothing of the host's Docker. User-defined bridge
 * networks, container DNS and ports published on 127.0.0.1 (userland proxy) all work without them.
 *
 * Set FJORD_DOCKER_HOST=unix:///path/docker.sock to reuse a running daemon while developing; it is
 * then never stopped here. Otherwise the daemon started here is always stopped and removed.
 */
import { execFile } from "child_process";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { ensurePackages, findBinary } from "./apt";
import {
  makeTempDir,
  removeDir,
  run,
  startProcess,
  waitUntilReady,
  type ServerProcess,
} from "./proc";

export interface DockerDaemon {
  /** `unix:///.../docker.sock`, for DOCKER_HOST or `fjord:docker.host`. */
  host: string;
  /** True when FJORD_DOCKER_HOST pointed at a daemon that was already running. */
  reused: boolean;
  /** Runs the docker CLI against this daemon and returns stdout. */
  docker(args: string[], timeoutMs?: number): Promise<string>;
  /** Like `docker`, but resolves with the exit code and output instead of rejecting. */
  tryDocker(
    args: string[],
    timeoutMs?: number,
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the daemon (and its containers) and removes its data. A no-op when reused. */
  stop(): Promise<void>;
  logPath?: string;
}

function dockerCli(): string {
  const bin = findBinary("docker");
  if (!bin) throw new Error("docker CLI not found; install it with: apt-get install -y docker.io");
  return bin;
}

function clientFor(host: string) {
  const cli = dockerCli();
  const env = { ...process.env, DOCKER_HOST: host };
  const tryDocker = (args: string[], timeoutMs = 120_000) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        cli,
        args,
        { env, timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
  const docker = async (args: string[], timeoutMs?: number) => {
    const r = await tryDocker(args, timeoutMs);
    if (r.code !== 0)
      throw new Error(`docker ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  };
  return { docker, tryDocker };
}

/** Unmounts anything the daemon left under `dir` (a killed dockerd leaves netns and shm mounts). */
function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  return mounts.reduce<Promise<void>>(
    (p, m) =>
      p.then(() =>
        run("umount", ["-l", m]).then(
          () => undefined,
          () => undefined,
        ),
      ),
    Promise.resolve(),
  );
}

/** Starts (or reuses, via FJORD_DOCKER_HOST) a Docker daemon and waits until it answers. */
export async function startDockerd(): Promise<DockerDaemon> {
  const reuse = process.env.FJORD_DOCKER_HOST;
  if (reuse) {
    const c = clientFor(reuse);
    const r = await c.tryDocker(["version", "--format", "{{.Server.Version}}"], 10_000);
    if (r.code !== 0)
      throw new Error(`FJORD_DOCKER_HOST=${reuse} does not answer: ${r.stderr.trim()}`);
    return { host: reuse, reused: true, ...c, stop: async () => undefined };
  }
  if (process.getuid?.() !== 0) {
    throw new Error(
      "starting a private dockerd needs root; or set FJORD_DOCKER_HOST to a running daemon",
    );
  }
  ensurePackages({
    dockerd: "docker.io",
    docker: "docker.io",
    containerd: "containerd",
    runc: "runc",
  });
  const dir = makeTempDir("fjord-dockerd-");
  const host = `unix://${dir}/docker.sock`;
  const logPath = path.join(dir, "dockerd.log");
  const proc: ServerProcess = startProcess(
    findBinary("dockerd")!,
    [
      `--data-root=${dir}/data`,
      `--exec-root=${dir}/exec`,
      `--pidfile=${dir}/docker.pid`,
      `-H`,
      host,
      // vfs works on any filesystem (overlay-on-overlay does not); slower, but images are small.
      "--storage-driver=vfs",
      "--bridge=none",
      "--iptables=false",
      "--ip-forward=false",
    ],
    { logPath },
  );
  const c = clientFor(host);
  const stop = async () => {
    await proc.stop("SIGTERM", 30_000);
    await unmountUnder(dir);
    removeDir(dir);
  };
  try {
    await waitUntilReady(
      proc,
      async () =>
        existsSync(`${dir}/docker.sock`) && (await c.tryDocker(["info"], 5_000)).code === 0,
      "dockerd",
      60_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, reused: false, ...c, stop, logPath };
}

/** Every container, network and volume labelled `fjord.stack=<stack>`, as "kind name" lines. */
export async function stackObjects(d: DockerDaemon, stack: string): Promise<string[]> {
  const f = ["--filter", `label=fjord.stack=${stack}`];
  const lines = await Promise.all([
    d.docker(["ps", "-a", ...f, "--format", "container {{.Names}}"]),
    d.docker(["network", "ls", ...f, "--format", "network {{.Name}}"]),
    d.docker(["volume", "ls", ...f, "--format", "volume {{.Name}}"]),
  ]);
  return lines.join("\n").split("\n").filter(Boolean);
}
