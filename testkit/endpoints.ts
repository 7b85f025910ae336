/**
 * nginx or Traefik behind fjord's endpoint watcher (components/plan/gateway/render/endpoints.ts), on loopback:
 * the watcher script as rendered, real getent, real nginx. Names resolve through a hosts file of
 * the test's own, bind-mounted over /etc/hosts in a private mount namespace that only this gateway
 * sees, so a test can change what a name resolves to the way a headless Service changes when
 * pods come and go. Needs root (unshare, mount); the proxy itself runs unprivileged.
 */
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import {
  renderEndpointWatcher,
  renderNginxConf,
  renderTraefikDynamic,
  renderTraefikStatic,
  type GatewayPlan,
} from "../components/plan/gateway";
import { assertNever } from "../lib/never";
import { distinctPorts, ensureNginx, healthy, planForPorts, prefixRenderOptions } from "./nginx";
import {
  chownTo,
  isRoot,
  makeTempDir,
  readLines,
  removeDir,
  startProcess,
  waitUntilReady,
} from "./proc";
import type { TestCert } from "./tls";
import { ensureTraefik } from "./traefik";

const USER = "www-data";

export interface EndpointsGateway {
  httpsPort: number;
  /** Access-log entries (JSON: nginx's gw_json, Traefik's fields) written so far. */
  accessLog(): Array<Record<string, string>>;
  /** The watcher's own lines ("fjord-endpoints: started/applied ..."). */
  watcherLog(): string[];
  /** The internal port's /metrics (Traefik's Prometheus text; nginx serves none there). */
  metrics(): Promise<string>;
  /** Replaces what each name resolves to (IPv4 addresses). */
  setHosts(hosts: Record<string, string[]>): void;
  stop(): Promise<void>;
}

export interface EndpointsGatewayOptions {
  plan: GatewayPlan;
  cert: TestCert;
  hosts: Record<string, string[]>;
  intervalSeconds?: number;
  settlePolls?: number;
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/ping", timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

function routes(port: number, caPem: string, domain: string, urlPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        port,
        path: urlPath,
        servername: domain,
        headers: { host: domain },
        ca: caPem,
        agent: false,
        timeout: 1000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode !== 404);
      },
    );
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
  });
}

const hostsText = (hosts: Record<string, string[]>) =>
  [
    "127.0.0.1 localhost",
    ...Object.entries(hosts).flatMap(([name, ips]) => ips.map((ip) => `${ip} ${name}`)),
    "",
  ].join("\n");

export async function startNginxWithEndpoints(
  opts: EndpointsGatewayOptions,
): Promise<EndpointsGateway> {
  if (!isRoot()) throw new Error("the endpoint-watcher gateway needs root (unshare -m, mount)");
  const ports = await distinctPorts();
  const prefix = makeTempDir("fjord-nginx-ep-", USER);
  const own = makeTempDir("fjord-nginx-ep-hosts-");
  const confDir = path.join(prefix, "conf");
  const runDir = path.join(prefix, "run");
  mkdirSync(path.join(prefix, "tls"), { recursive: true });
  mkdirSync(confDir);
  const files: Record<string, string> = {
    "tls/server.crt": opts.cert.certPem,
    "tls/server.key": opts.cert.keyPem,
  };
  const plan = planForPorts(
    {
      ...opts.plan,
      tls: {
        ...opts.plan.tls,
        certFile: path.join(prefix, "tls", "server.crt"),
        keyFile: path.join(prefix, "tls", "server.key"),
      },
    },
    ports,
  );
  const accessLogPath = path.join(prefix, "access.log");
  let template: string;
  let argv: string[];
  let ready: () => Promise<boolean>;
  switch (plan.kind) {
    case "nginx": {
      template = "nginx.conf";
      files["conf/nginx.conf"] = renderNginxConf(plan, prefixRenderOptions(prefix));
      const conf = path.join(runDir, "nginx.conf");
      argv = [ensureNginx(), "-e", "stderr", "-p", prefix, "-c", conf, "-g", "daemon off;"];
      ready = () => healthy(ports.metrics);
      break;
    }
    case "traefik": {
      template = "dynamic.yml";
      files["conf/dynamic.yml"] = renderTraefikDynamic(plan);
      files["conf/traefik.yml"] = renderTraefikStatic(plan, {
        dynamicFile: path.join(runDir, "dynamic.yml"),
        logLevel: "WARN",
        accessLogPath,
      });
      const staticFile = path.join(confDir, "traefik.yml");
      // A copy the unprivileged user can reach (the build cache may sit in root's 0700 home).
      const bin = path.join(prefix, "traefik");
      copyFileSync(ensureTraefik(), bin);
      chmodSync(bin, 0o755);
      argv = [bin, `--configFile=${staticFile}`, "--global.checkNewVersion=false"];
      // Traefik answers with its default certificate until the file provider has loaded ours.
      ready = async () =>
        (await pings(ports.metrics)) &&
        (await routes(ports.https, opts.cert.caPem, plan.domains[0]!, plan.routes[0]!.path));
      break;
    }
    default:
      return assertNever(plan.kind, "gateway kind");
  }
  files["conf/endpoints.sh"] = renderEndpointWatcher(plan, {
    configDir: confDir,
    runtimeDir: runDir,
    templates: [template],
    intervalSeconds: opts.intervalSeconds,
    settlePolls: opts.settlePolls,
  });
  for (const [rel, text] of Object.entries(files)) {
    writeFileSync(path.join(prefix, rel), text, { mode: 0o600 });
    chownTo(path.join(prefix, rel), USER);
  }
  for (const d of ["conf", "tls"]) chownTo(path.join(prefix, d), USER);
  const hostsFile = path.join(own, "hosts");
  writeFileSync(hostsFile, hostsText(opts.hosts), { mode: 0o644 });

  const logPath = path.join(own, "gateway.log");
  const proc = startProcess("sh", [path.join(confDir, "endpoints.sh"), ...argv], {
    logPath,
    user: USER,
    // unshare execs in place, so the PID stays the watcher's and then the proxy's.
    wrap: ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile],
  });
  try {
    await waitUntilReady(proc, ready, `${plan.kind} behind the watcher`, 30_000);
  } catch (err) {
    await proc.stop("SIGTERM", 5_000);
    removeDir(prefix);
    throw err;
  }
  return {
    httpsPort: ports.https,
    accessLog: () => readLines(accessLogPath).map((l) => JSON.parse(l) as Record<string, string>),
    metrics: () =>
      new Promise((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port: ports.metrics, path: "/metrics" }, (res) => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (body += c));
            res.on("end", () => resolve(body));
          })
          .on("error", reject);
      }),
    watcherLog: () => readLines(logPath).filter((l) => l.startsWith("fjord-endpoints:")),
    // In place (same inode): a rename would leave the bind mount on the old file.
    setHosts: (hosts) => writeFileSync(hostsFile, hostsText(hosts)),
    async stop() {
      // nginx: SIGQUIT lets workers finish; Go would dump its goroutines on it, so Traefik gets TERM.
      await proc.stop(plan.kind === "nginx" ? "SIGQUIT" : "SIGTERM", 5_000);
      removeDir(prefix);
      removeDir(own);
    },
  };
}
