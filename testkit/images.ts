/**
 * fjord's local images for tests: runs images/build.sh against a test daemon (a cached
 * build only imports) and returns the image reference for each `fjord:images` role.
 */
import { spawn } from "child_process";
import { existsSync, readdirSync, readFileSync } from "fs";
import { homedir } from "os";
import * as path from "path";
import { ensurePackages } from "./apt";
import { makeTempDir, removeDir } from "./proc";
import { stackConfig } from "./mocks";
import { ROOT } from "./stack";

export interface LocalImages {
  nginx: string;
  nginxExporter: string;
  postgres: string;
  postgresExporter: string;
  mysql: string;
  mysqlExporter: string;
  prometheus: string;
  nodeExporter: string;
  alertmanager: string;
  sampleService: string;
  /** Only when a Traefik binary was given (testkit/tools/traefik.sh builds one). */
  traefik?: string;
  /** Only when a Loki binary was given (testkit/tools/loki.sh builds one). */
  loki?: string;
}

/**
 * The binary a scripts/*.sh leaves behind (FJORD_<NAME>_BINARY first), if any: its link in
 * .tools/bin, else the newest `<binary>-v<version>[-<recipe>]/<binary>` in the cache.
 */
function findBuiltBinary(
  name: "traefik" | "loki" | "prometheus3",
  binary: string = name,
): string | undefined {
  const env = process.env[`FJORD_${name.toUpperCase()}_BINARY`];
  if (env) return env;
  const local = path.join(ROOT, ".tools/bin", name);
  if (existsSync(local)) return local;
  const cache = process.env.FJORD_CACHE ?? path.join(homedir(), ".cache/fjord");
  if (!existsSync(cache)) return undefined;
  const dirs = readdirSync(cache)
    .filter((d) => new RegExp(`^${binary}-v[\\d.]+(-[0-9a-f]{8})?$`).test(d))
    .sort()
    .reverse();
  return dirs.map((d) => path.join(cache, d, binary)).find((p) => existsSync(p));
}

export const findTraefikBinary = () => findBuiltBinary("traefik");
export const findLokiBinary = () => findBuiltBinary("loki");
/** Prometheus 3 (testkit/tools/prometheus.sh), for the Kubernetes test cluster: it has kubernetes_sd. */
export const findPrometheus3Binary = () => findBuiltBinary("prometheus3", "prometheus");

/** Version part of a local image tag (`fjord-local/postgres:15.20-abc123` → `15.20`). */
export const imageVersion = (ref: string): string =>
  ref.slice(ref.lastIndexOf(":") + 1).split("-")[0];

/**
 * Builds (first run, minutes) or imports (cached, seconds) every local image into the daemon at
 * `dockerHost`. Progress goes to this process's stderr.
 */
export async function buildLocalImages(
  dockerHost: string,
  opts: { traefikBinary?: string; lokiBinary?: string } = {},
): Promise<{ images: LocalImages; seconds: number }> {
  ensurePackages({ debootstrap: "debootstrap", docker: "docker.io" });
  const dir = makeTempDir("fjord-images-");
  const manifest = path.join(dir, "manifest.json");
  const args = [path.join(ROOT, "images/build.sh"), "--host", dockerHost, "--manifest", manifest];
  if (opts.traefikBinary) args.push("--traefik-binary", opts.traefikBinary);
  if (opts.lokiBinary) args.push("--loki-binary", opts.lokiBinary);
  const t0 = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      const p = spawn("bash", args, { stdio: ["ignore", "inherit", "inherit"] });
      const timer = setTimeout(() => p.kill("SIGTERM"), 40 * 60_000);
      p.once("error", reject);
      p.once("exit", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else
          reject(
            new Error(`images/build.sh exited ${code}; its logs are in ~/.cache/fjord/images/logs`),
          );
      });
    });
    return {
      images: JSON.parse(readFileSync(manifest, "utf8")) as LocalImages,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    removeDir(dir);
  }
}

/**
 * `fjord:*` config that runs Pulumi.dev.yaml on the local images and the daemon at `dockerHost`,
 * with ports chosen by the caller and test-friendly rate limit and scrape interval. `logForward`
 * sends every container's logs to that forward-protocol endpoint (the test's own receiver).
 */
export function devStackConfig(
  images: LocalImages,
  dockerHost: string,
  ports: { http: number; https: number; prom: number },
  kind: "nginx" | "traefik",
  logForward?: string,
): Record<string, unknown> {
  const base = stackConfig("dev");
  const raw = JSON.parse(base["fjord:services"]) as Array<Record<string, Record<string, unknown>>>;
  const services = raw.map((s) => ({
    ...s,
    image: images.sampleService,
    // The sample service runs a client CLI per /db request; the default 200 ms route budget is
    // for real services, not for process start-up on a loaded 2-core machine.
    route: { ...s.route, budgetMs: 5000 },
    database: {
      ...s.database,
      // The tuning follows the server version, so tell it which one the local image runs.
      version: imageVersion(s.database.engine === "postgres" ? images.postgres : images.mysql),
    },
  }));
  const { traefik, sampleService, ...roles } = images;
  void sampleService;
  return {
    docker: {
      host: dockerHost,
      publishAddress: "127.0.0.1",
      httpPort: ports.http,
      httpsPort: ports.https,
      prometheusPort: ports.prom,
      ...(logForward ? { logForward } : {}),
    },
    images: { ...roles, ...(traefik ? { traefik } : {}) },
    services,
    // A small limit so the burst is quick to exceed.
    gateway: { ...JSON.parse(base["fjord:gateway"]), kind, rateLimit: { average: 10, burst: 10 } },
    observability: {
      ...JSON.parse(base["fjord:observability"]),
      scrapeInterval: "2s",
      // Only the parts images/build.sh has images for: Grafana and Fluent Bit cannot be
      // built offline (covered by the mocked tests in test/unit/docker/observability.test.ts).
      components: { alertmanager: true, grafana: false, loki: !!images.loki, logShipper: false },
    },
  };
}
