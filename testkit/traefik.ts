/**
 * The one Traefik v3 launcher for real tests and benchmarks: renders the static and dynamic
 * config from a gateway plan for free loopback ports, keeps every file under a private prefix and
 * runs Traefik in the foreground as an unprivileged user when we are root. The binary comes from
 * testkit/tools/traefik.sh (built from Go modules and cached; run here when missing).
 */
import { execFileSync } from "child_process";
import { mkdirSync, writeFileSync } from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { parse, stringify } from "yaml";
import type { GatewayPlan } from "../components/plan/gateway";
import {
  renderTraefikDynamic,
  renderTraefikStatic,
  type TraefikStaticOptions,
} from "../components/plan/gateway";
import { ensureGoTool } from "./go-tools";
import { planForPorts, type NginxPorts } from "./nginx";
import { freePort } from "./ports";
import {
  chownTo,
  isRoot,
  readLines,
  retryOnPortRace,
  makeTempDir,
  removeDir,
  startProcess,
  waitUntilReady,
  type ServerProcess,
} from "./proc";
import type { TestCert } from "./tls";

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_USER = "www-data";

export type TraefikPorts = NginxPorts;

export interface StartTraefikOptions {
  /** The plan; listen ports, address and certificate paths are replaced by the launcher's. */
  plan: GatewayPlan;
  cert: TestCert;
  /** @default "WARN" (INFO logs every config reload) */
  logLevel?: TraefikStaticOptions["logLevel"];
  /** Unprivileged user to run as when we are root. @default "www-data" */
  user?: string;
  /**
   * HTTPS path that must stop answering 404 before the instance counts as ready (the file
   * provider loads routers after the entrypoints open). @default the plan's first route path
   */
  readyPath?: string;
  /** @default 30000 */
  readyTimeoutMs?: number;
  /** argv prefix Traefik is started through (e.g. joining an accounting cgroup); see startProcess. */
  wrap?: string[];
  /**
   * Changes the rendered files before Traefik reads them, for benchmarks that size what one
   * feature costs (e.g. the same config without its access log). @default no change
   */
  edit?: (files: { static: TraefikDoc; dynamic: TraefikDoc }) => void;
  /** Extra environment for the Traefik process (e.g. GOMAXPROCS). @default none */
  env?: Record<string, string>;
}

/** A parsed Traefik YAML file, as `edit` receives it. */
export type TraefikDoc = Record<string, unknown>;

export interface TraefikInstance {
  httpPort: number;
  httpsPort: number;
  /** Internal entrypoint: /ping and /metrics. */
  metricsPort: number;
  prefix: string;
  logPath: string;
  version: string;
  accessLog(): string[];
  /** Prometheus exposition text from the internal entrypoint. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Where the Traefik binary is expected (FJORD_TRAEFIK overrides the .tools/bin link). */
export const traefikPath = (): string =>
  process.env.FJORD_TRAEFIK ?? path.join(ROOT, ".tools/bin/traefik");

/** Path of the Traefik binary, building it with testkit/tools/traefik.sh when it is not there yet. */
export const ensureTraefik = (): string => ensureGoTool("traefik.sh", traefikPath(), 30);

export function traefikVersion(bin = ensureTraefik()): string {
  const out = execFileSync(bin, ["version"], { encoding: "utf8" });
  return /Version:\s*(\S+)/.exec(out)?.[1] ?? "unknown";
}

function httpGet(
  mod: typeof http | typeof https,
  opts: https.RequestOptions,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = mod.get({ host: "127.0.0.1", agent: false, timeout: 2000, ...opts }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

async function distinctPorts(): Promise<TraefikPorts> {
  const seen = new Set<number>();
  while (seen.size < 3) seen.add(await freePort());
  const [httpPort, httpsPort, metrics] = [...seen] as [number, number, number];
  return { http: httpPort, https: httpsPort, metrics };
}

async function startOnce(
  bin: string,
  opts: StartTraefikOptions,
  user: string | undefined,
): Promise<TraefikInstance> {
  const ports = await distinctPorts();
  const prefix = makeTempDir("fjord-traefik-", user);
  const file = (rel: string, text: string) => {
    const p = path.join(prefix, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text, { mode: 0o600 });
    chownTo(p, user);
    return p;
  };
  const plan = planForPorts(
    {
      ...opts.plan,
      tls: {
        ...opts.plan.tls,
        certFile: file("tls/server.crt", opts.cert.certPem),
        keyFile: file("tls/server.key", opts.cert.keyPem),
      },
    },
    ports,
  );
  const accessLogPath = path.join(prefix, "access.log");
  const dynamicFile = path.join(prefix, "dynamic.yml");
  const texts = {
    dynamic: renderTraefikDynamic(plan),
    // No watch: tests never edit the file, and one fewer inotify user keeps parallel runs quiet.
    static: renderTraefikStatic(plan, {
      dynamicFile,
      watch: false,
      logLevel: opts.logLevel ?? "WARN",
      accessLogPath,
    }),
  };
  if (opts.edit) {
    const docs = {
      static: parse(texts.static) as TraefikDoc,
      dynamic: parse(texts.dynamic) as TraefikDoc,
    };
    opts.edit(docs);
    texts.static = stringify(docs.static);
    texts.dynamic = stringify(docs.dynamic);
  }
  file("dynamic.yml", texts.dynamic);
  const staticFile = file("traefik.yml", texts.static);
  const logPath = path.join(makeTempDir("fjord-traefik-log-"), "traefik.log");
  let proc: ServerProcess | undefined;
  try {
    // The static file already says checkNewVersion: false; the flag keeps it so if the file is ever
    // not found (Traefik then reads flags instead), because tests must never call out.
    proc = startProcess(bin, [`--configFile=${staticFile}`, "--global.checkNewVersion=false"], {
      logPath,
      user,
      cwd: prefix,
      wrap: opts.wrap,
      env: opts.env ? { ...process.env, ...opts.env } : undefined,
    });
    const readyPath = opts.readyPath ?? plan.routes[0]?.path ?? "/";
    const domain = plan.domains[0]!;
    await waitUntilReady(
      proc,
      async () => {
        const ping = await httpGet(http, { port: ports.metrics, path: "/ping" });
        if (ping.status !== 200) return false;
        const r = await httpGet(https, {
          port: ports.https,
          path: readyPath,
          servername: domain,
          ca: opts.cert.caPem,
          headers: { host: domain },
        });
        return r.status !== 404;
      },
      "traefik",
      opts.readyTimeoutMs ?? 30_000,
    );
  } catch (err) {
    await proc?.stop("SIGKILL");
    removeDir(prefix);
    throw err;
  }
  const running = proc;
  return {
    httpPort: ports.http,
    httpsPort: ports.https,
    metricsPort: ports.metrics,
    prefix,
    logPath,
    version: traefikVersion(bin),
    accessLog: () => readLines(accessLogPath),
    metrics: async () => (await httpGet(http, { port: ports.metrics, path: "/metrics" })).body,
    async stop() {
      // Traefik drains for up to 10s by default; the tests' clients are done, so do not wait long.
      await running.stop("SIGTERM", 3_000);
      removeDir(prefix);
    },
  };
}

/**
 * Starts Traefik on free loopback ports and waits until it pings and routes. Retries on fresh
 * ports if another process grabbed one in between.
 */
export async function startTraefik(opts: StartTraefikOptions): Promise<TraefikInstance> {
  const bin = ensureTraefik();
  const user = isRoot() ? (opts.user ?? DEFAULT_USER) : undefined;
  return retryOnPortRace(() => startOnce(bin, opts, user));
}

/** `traefik_service_server_up` of one server URL (1 up, 0 down), or undefined before it is reported. */
export function serverUp(metricsText: string, serverUrl: string): number | undefined {
  for (const line of metricsText.split("\n")) {
    if (!line.startsWith("traefik_service_server_up{")) continue;
    if (!line.includes(`url="${serverUrl}"`)) continue;
    return Number(line.trim().split(/\s+/).pop());
  }
  return undefined;
}
