/**
 * The one nginx launcher for real tests and benchmarks: renders a config for free loopback ports,
 * keeps every path (pid, temp, logs, certs) under a private prefix, and runs nginx in the
 * foreground as an unprivileged user even when the tests run as root — the same way the
 * container runs it.
 */
import { mkdirSync, writeFileSync } from "fs";
import * as http from "http";
import * as path from "path";
import type { GatewayPlan } from "../components/plan/gateway";
import { renderNginxConf, type NginxRenderOptions } from "../components/plan/gateway";
import { ensurePackages, findBinary } from "./apt";
import { freePort } from "./ports";
import {
  chownTo,
  isRoot,
  readLines,
  retryOnPortRace,
  makeTempDir,
  removeDir,
  run,
  startProcess,
  waitUntilReady,
  type ServerProcess,
} from "./proc";
import type { TestCert } from "./tls";

/** Exists in every Debian image (base-passwd), so no user has to be created. */
const DEFAULT_USER = "www-data";

export interface NginxPorts {
  http: number;
  https: number;
  metrics: number;
}

export interface NginxContext {
  ports: NginxPorts;
  prefix: string;
  /** pid/temp/log paths under the prefix; pass to renderNginxConf. */
  renderOptions: NginxRenderOptions;
}

export interface StartNginxOptions {
  /** The config, or a function of the chosen ports and prefix (the usual case). */
  confText: string | ((ctx: NginxContext) => string);
  /** Extra files, by path relative to the prefix (certificates, keys, ...). */
  files?: Record<string, string>;
  /** Unprivileged user to run as when we are root. @default "www-data" */
  user?: string;
  /** @default 15000 */
  readyTimeoutMs?: number;
  /** argv prefix nginx is started through (e.g. joining an accounting cgroup); see startProcess. */
  wrap?: string[];
}

export interface NginxInstance {
  httpPort: number;
  httpsPort: number;
  metricsPort: number;
  prefix: string;
  confFile: string;
  /** nginx's own stderr/stdout (error log). */
  logPath: string;
  /** Access-log lines written so far. */
  accessLog(): string[];
  stop(): Promise<void>;
}

/** Installs Debian's nginx when missing (root only) and returns the binary path. */
export function ensureNginx(): string {
  ensurePackages({ nginx: "nginx" });
  return findBinary("nginx")!;
}

/** Render options that keep every writable path under `prefix`. */
export function prefixRenderOptions(prefix: string): NginxRenderOptions {
  return {
    pidFile: path.join(prefix, "nginx.pid"),
    tempDir: prefix,
    errorLog: "stderr",
    accessLogPath: path.join(prefix, "access.log"),
    // One worker keeps per-worker state (keepalive pools, max_fails without a zone) predictable.
    workerProcesses: 1,
    workerConnections: 1024,
  };
}

/** The plan bound to loopback and the given ports; redirects then name the real https port. */
export function planForPorts(plan: GatewayPlan, ports: NginxPorts): GatewayPlan {
  return {
    ...plan,
    listen: {
      ...plan.listen,
      address: "127.0.0.1",
      http: ports.http,
      https: ports.https,
      publicHttpsPort: ports.https,
    },
    metrics: { ...plan.metrics, port: ports.metrics },
  };
}

/** A confText function for a plan whose cert/key live at `tls/server.crt|key` under the prefix. */
export function nginxConfForPlan(plan: GatewayPlan): (ctx: NginxContext) => string {
  return (ctx) =>
    renderNginxConf(
      planForPorts(
        {
          ...plan,
          tls: {
            ...plan.tls,
            certFile: path.join(ctx.prefix, "tls", "server.crt"),
            keyFile: path.join(ctx.prefix, "tls", "server.key"),
          },
        },
        ctx.ports,
      ),
      ctx.renderOptions,
    );
}

/** Files for `nginxConfForPlan`. */
export function tlsFiles(cert: TestCert): Record<string, string> {
  return { "tls/server.crt": cert.certPem, "tls/server.key": cert.keyPem };
}

function writeFiles(prefix: string, files: Record<string, string>, user: string | undefined): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(prefix, rel);
    if (!file.startsWith(prefix + path.sep)) throw new Error(`file outside the prefix: ${rel}`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text, { mode: 0o600 });
    chownTo(file, user);
  }
}

/**
 * `nginx -t` on a config written into a fresh prefix (nginx -t binds no sockets, so the ports
 * only have to be plausible). Rejects with nginx's diagnostics.
 */
export async function checkNginxConf(
  opts: Omit<StartNginxOptions, "readyTimeoutMs">,
): Promise<void> {
  const bin = ensureNginx();
  const user = isRoot() ? (opts.user ?? DEFAULT_USER) : undefined;
  const prefix = makeTempDir("fjord-nginx-t-", user);
  try {
    const { confFile } = prepare(prefix, await distinctPorts(), opts, user);
    await run(bin, ["-t", "-q", "-e", "stderr", "-p", prefix, "-c", confFile], {
      user,
      timeoutMs: 30_000,
    });
  } finally {
    removeDir(prefix);
  }
}

function prepare(
  prefix: string,
  ports: NginxPorts,
  opts: Pick<StartNginxOptions, "confText" | "files">,
  user: string | undefined,
): { ctx: NginxContext; confFile: string } {
  const ctx: NginxContext = { ports, prefix, renderOptions: prefixRenderOptions(prefix) };
  writeFiles(prefix, opts.files ?? {}, user);
  const confText = typeof opts.confText === "function" ? opts.confText(ctx) : opts.confText;
  const confFile = path.join(prefix, "nginx.conf");
  writeFileSync(confFile, confText);
  chownTo(confFile, user);
  return { ctx, confFile };
}

export async function distinctPorts(): Promise<NginxPorts> {
  const seen = new Set<number>();
  while (seen.size < 3) seen.add(await freePort());
  const [httpPort, httpsPort, metrics] = [...seen] as [number, number, number];
  return { http: httpPort, https: httpsPort, metrics };
}

export function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/healthz", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

async function startOnce(
  bin: string,
  opts: StartNginxOptions,
  user: string | undefined,
): Promise<NginxInstance> {
  const ports = await distinctPorts();
  const prefix = makeTempDir("fjord-nginx-", user);
  const { ctx, confFile } = prepare(prefix, ports, opts, user);
  // The log lives outside the prefix so it survives for the error message if the prefix is removed.
  const logPath = path.join(makeTempDir("fjord-nginx-log-"), "nginx.log");
  let proc: ServerProcess | undefined;
  try {
    proc = startProcess(bin, ["-e", "stderr", "-p", prefix, "-c", confFile, "-g", "daemon off;"], {
      logPath,
      user,
      wrap: opts.wrap,
    });
    await waitUntilReady(
      proc,
      () => healthy(ports.metrics),
      "nginx",
      opts.readyTimeoutMs ?? 15_000,
    );
  } catch (err) {
    await proc?.stop("SIGTERM", 5_000);
    removeDir(prefix);
    throw err;
  }
  const running = proc;
  return {
    httpPort: ports.http,
    httpsPort: ports.https,
    metricsPort: ports.metrics,
    prefix,
    confFile,
    logPath,
    accessLog: () => readLines(ctx.renderOptions.accessLogPath!),
    async stop() {
      // SIGQUIT lets workers finish in-flight requests; SIGKILL follows after the grace period.
      await running.stop("SIGQUIT", 5_000);
      removeDir(prefix);
    },
  };
}

/**
 * Starts nginx in the foreground on free loopback ports and waits until `/healthz` on the
 * metrics port answers. Retries on fresh ports if another process grabbed one in between.
 */
export async function startNginx(opts: StartNginxOptions): Promise<NginxInstance> {
  const bin = ensureNginx();
  const user = isRoot() ? (opts.user ?? DEFAULT_USER) : undefined;
  return retryOnPortRace(() => startOnce(bin, opts, user));
}
