/**
 * nginx behind fjord's endpoint watcher (components/plan/gateway/render/endpoints.ts), on loopback:
 * the watcher script as rendered, real getent, real nginx. Names resolve through a hosts file of
 * the test's own, bind-mounted over /etc/hosts in a private mount namespace that only this gateway
 * sees, so a test can change what a name resolves to the way a headless Service changes when
 * pods come and go. Needs root (unshare, mount); nginx itself runs unprivileged.
 */
import { mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import {
  renderEndpointWatcher,
  renderNginxConf,
  type GatewayPlan,
} from "../components/plan/gateway";
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

const USER = "www-data";

export interface EndpointsGateway {
  httpsPort: number;
  /** Access-log entries (JSON) written so far. */
  accessLog(): Array<Record<string, string>>;
  /** The watcher's own lines ("fjord-endpoints: started/applied ..."). */
  watcherLog(): string[];
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
  const bin = ensureNginx();
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
  const renderOptions = prefixRenderOptions(prefix);
  files["conf/nginx.conf"] = renderNginxConf(plan, renderOptions);
  files["conf/endpoints.sh"] = renderEndpointWatcher(plan, {
    configDir: confDir,
    runtimeDir: runDir,
    templates: ["nginx.conf"],
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
  const proc = startProcess(
    "sh",
    [
      path.join(confDir, "endpoints.sh"),
      ...[bin, "-e", "stderr", "-p", prefix, "-c", path.join(runDir, "nginx.conf")],
      ...["-g", "daemon off;"],
    ],
    {
      logPath,
      user: USER,
      // unshare execs in place, so the PID stays the watcher's and then nginx's.
      wrap: ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile],
    },
  );
  try {
    await waitUntilReady(proc, () => healthy(ports.metrics), "nginx behind the watcher", 15_000);
  } catch (err) {
    await proc.stop("SIGTERM", 5_000);
    removeDir(prefix);
    throw err;
  }
  return {
    httpsPort: ports.https,
    accessLog: () =>
      readLines(renderOptions.accessLogPath!).map((l) => JSON.parse(l) as Record<string, string>),
    watcherLog: () => readLines(logPath).filter((l) => l.startsWith("fjord-endpoints:")),
    // In place (same inode): a rename would leave the bind mount on the old file.
    setHosts: (hosts) => writeFileSync(hostsFile, hostsText(hosts)),
    async stop() {
      await proc.stop("SIGQUIT", 5_000);
      removeDir(prefix);
      removeDir(own);
    },
  };
}
