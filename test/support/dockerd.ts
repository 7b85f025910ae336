/**
 * A private Docker daemon for tests: its own data root, socket and pid file in a temp dir, no
 * default bridge and no iptables, so it touches nothing of the host's Docker. User-defined bridge
 * networks, container DNS and ports published on 127.0.0.1 (userland proxy) all work without them.
 *
 * Set FJORD_DOCKER_HOST=unix:///path/docker.sock to reuse a running daemon while developing; it is
 * then never stopped here. Otherwise the daemon started here is always stopped and removed.
 */
import { execFile, execFileSync, spawnSync } from "child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
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

/** Removes what `stackObjects` lists (containers with their anonymous volumes first). */
export async function removeStack(d: DockerDaemon, stack: string): Promise<void> {
  const f = ["--filter", `label=fjord.stack=${stack}`];
  const ids = (args: string[]) => d.docker(args).then((o) => o.split("\n").filter(Boolean));
  const containers = await ids(["ps", "-aq", ...f]);
  if (containers.length) await d.docker(["rm", "-f", "-v", ...containers]);
  const networks = await ids(["network", "ls", "-q", ...f]);
  if (networks.length) await d.docker(["network", "rm", ...networks]);
  const volumes = await ids(["volume", "ls", "-q", ...f]);
  if (volumes.length) await d.docker(["volume", "rm", ...volumes]);
}

/** Mock inputs with Pulumi's secret wrappers removed: what a provider would receive. */
export function unwrapSecrets(v: unknown): Loose {
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270")
      return unwrapSecrets(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrapSecrets(x)]));
  }
  return v;
}

/** Provider inputs as the mocks record them: the shapes are @pulumi/docker's. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/**
 * What the docker provider does for one resource, done with the CLI: for tests that run the
 * program under mocks when the provider plugin is not available (see test/e2e/dev-docker.test.ts).
 * Inputs are plain (secrets unwrapped). Returns the outputs the provider would compute.
 * `names` maps mock resource ids to container names (for `container:<id>` network modes).
 */
export function applyWithCli(
  host: string,
  type: string,
  resourceName: string,
  rawInputs: Record<string, unknown>,
  names: Map<string, string>,
): Record<string, unknown> {
  const inputs: Record<string, Loose> = unwrapSecrets(rawInputs);
  const cli = dockerCli();
  const env = { ...process.env, DOCKER_HOST: host };
  const docker = (args: string[], input?: Buffer) =>
    execFileSync(cli, args, {
      env,
      input,
      encoding: "utf8",
      maxBuffer: 64 * 2 ** 20,
      timeout: 300_000,
    }).trim();
  const labelArgs = (l: Array<{ label: string; value: string }> = []) =>
    l.flatMap((x) => ["--label", `${x.label}=${x.value}`]);
  switch (type) {
    case "docker:index/remoteImage:RemoteImage": {
      let id = spawnSync(cli, ["image", "inspect", "-f", "{{.Id}}", inputs.name], {
        env,
        encoding: "utf8",
      }).stdout.trim();
      if (!id)
        id =
          (docker(["pull", "-q", inputs.name]),
          docker(["image", "inspect", "-f", "{{.Id}}", inputs.name]));
      return { imageId: id, repoDigest: id };
    }
    case "docker:index/network:Network":
      docker([
        "network",
        "create",
        "--driver",
        inputs.driver ?? "bridge",
        ...(inputs.internal ? ["--internal"] : []),
        ...labelArgs(inputs.labels),
        inputs.name,
      ]);
      return {};
    case "docker:index/volume:Volume":
      docker(["volume", "create", ...labelArgs(inputs.labels), inputs.name]);
      return { mountpoint: "" };
    case "docker:index/container:Container":
      names.set(`${resourceName}-id`, inputs.name);
      createContainer(inputs, docker, names);
      return {};
    default:
      return {};
  }
}

function createContainer(
  c: Record<string, Loose>,
  docker: (a: string[], input?: Buffer) => string,
  names: Map<string, string>,
): void {
  const mode = String(c.networkMode ?? "");
  const network = mode.startsWith("container:")
    ? `container:${names.get(mode.slice(10)) ?? mode.slice(10)}`
    : mode;
  const [entry, ...entryArgs] = c.entrypoints ?? [];
  const h = c.healthcheck;
  const health = h
    ? [
        "--health-cmd",
        h.tests[0] === "CMD-SHELL" ? h.tests[1] : h.tests.slice(1).join(" "),
        "--health-interval",
        h.interval,
        "--health-timeout",
        h.timeout,
        "--health-start-period",
        h.startPeriod,
        "--health-retries",
        String(h.retries),
      ]
    : [];
  const args = [
    "create",
    "--name",
    c.name,
    ...(c.hostname ? ["--hostname", c.hostname] : []),
    ...(c.labels ?? []).flatMap((x: { label: string; value: string }) => [
      "--label",
      `${x.label}=${x.value}`,
    ]),
    "--network",
    network,
    "--memory",
    `${c.memory}m`,
    "--memory-swap",
    `${c.memorySwap}m`,
    ...(c.memoryReservation ? ["--memory-reservation", `${c.memoryReservation}m`] : []),
    "--cpus",
    c.cpus,
    "--restart",
    c.restart,
    "--log-driver",
    c.logDriver,
    ...Object.entries(c.logOpts ?? {}).flatMap(([k, v]) => ["--log-opt", `${k}=${v}`]),
    ...(c.securityOpts ?? []).flatMap((s: string) => ["--security-opt", s]),
    ...(c.capabilities?.drops ?? []).flatMap((s: string) => ["--cap-drop", s]),
    ...(c.capabilities?.adds ?? []).flatMap((s: string) => ["--cap-add", s]),
    ...(c.user ? ["--user", c.user] : []),
    ...(c.readOnly ? ["--read-only"] : []),
    ...Object.entries(c.tmpfs ?? {}).flatMap(([p, o]) => ["--tmpfs", `${p}:${o}`]),
    ...(c.envs ?? []).flatMap((e: string) => ["--env", e]),
    ...(c.ports ?? []).flatMap(
      (p: { ip: string; external: number; internal: number; protocol: string }) => [
        "--publish",
        `${p.ip}:${p.external}:${p.internal}/${p.protocol}`,
      ],
    ),
    ...(c.volumes ?? []).flatMap((v: { volumeName: string; containerPath: string }) => [
      "--volume",
      `${v.volumeName}:${v.containerPath}`,
    ]),
    ...health,
    ...(entry ? ["--entrypoint", entry] : []),
    c.image,
    ...entryArgs,
    ...(c.command ?? []),
  ];
  docker(args);
  for (const n of c.networksAdvanced ?? []) {
    docker([
      "network",
      "connect",
      ...(n.aliases ?? []).flatMap((a: string) => ["--alias", a]),
      n.name,
      c.name,
    ]);
  }
  if ((c.uploads ?? []).length > 0) {
    const dir = makeTempDir("fjord-uploads-");
    try {
      const files: string[] = [];
      for (const u of c.uploads as Array<{
        file: string;
        content: string;
        permissions?: string;
        owner?: string;
        group?: string;
      }>) {
        const rel = u.file.replace(/^\/+/, "");
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), u.content);
        chmodSync(path.join(dir, rel), parseInt(u.permissions ?? "0644", 8));
        chownSync(path.join(dir, rel), Number(u.owner ?? 0), Number(u.group ?? 0));
        files.push(rel);
      }
      // Only the files, not their parent directories: the container's own dirs keep their modes.
      const tar = execFileSync("tar", ["-C", dir, "--numeric-owner", "-cf", "-", ...files], {
        maxBuffer: 64 * 2 ** 20,
      });
      docker(["cp", "-", `${c.name}:/`], tar);
    } finally {
      removeDir(dir);
    }
  }
  docker(["start", c.name]);
  if (c.wait) waitHealthy(docker, c.name, (c.waitTimeout ?? 60) * 1000);
}

function waitHealthy(docker: (a: string[]) => string, name: string, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = docker(["inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", name]);
    if (state.endsWith("healthy") && !state.endsWith("unhealthy")) return;
    if (Date.now() > deadline || state.startsWith("exited")) {
      throw new Error(
        `container ${name} is not healthy (${state}):\n${docker(["logs", "--tail", "30", name])}`,
      );
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
}
