/**
 * The dev stack on a real Docker daemon through the real engine: two services with their own
 * databases (PostgreSQL, MariaDB), the nginx gateway, Prometheus, Alertmanager and Loki, from
 * locally built images (images/build.sh; no registry). Brought up, exercised, previewed
 * and destroyed. Every container's logs go through the daemon's fluentd driver to the test's own
 * forward-protocol receiver, then through the rendered pii-mask.lua under LuaJIT into the stack's
 * Loki, whose ruler feeds the per-route gateway series to the stack's Prometheus. The same
 * topology behind Traefik also answers a real HTTP/3 request on the published UDP port.
 *
 * Needs root (a private dockerd), Debian mirror access on a cold image cache, the engine from
 * `npm run setup` and the docker provider plugin. FJORD_DOCKER_HOST reuses a running daemon.
 */
import { existsSync } from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GATEWAY_SERIES,
  LUA_FUNCTIONS,
  PII_MASK,
  renderPiiMaskLua,
} from "../../components/plan/observability";
import { ensurePackages } from "../../testkit/apt";
import { stackObjects, startDockerd, type DockerDaemon } from "../../testkit/dockerd";
import {
  startForwardReceiver,
  type ForwardReceiver,
  type ForwardRecord,
} from "../../testkit/forward";
import {
  buildLocalImages,
  devStackConfig,
  findLokiBinary,
  findTraefikBinary,
  type LocalImages,
} from "../../testkit/images";
import { h3Get, servedCertificate } from "../../testkit/h3check";
import { luaValue, runLuaFilters } from "../../testkit/lua";
import { ROOT, withEphemeralStack } from "../../testkit/stack";
import { publishPort } from "../../testkit/ports";
import {
  gatewayGet,
  gatewayGetOk,
  type GatewayAddress,
  type Reply,
} from "../../testkit/gateway-client";

const PLUGIN = path.join(
  ROOT,
  ".pulumi-home/plugins/resource-docker-v5.2.0/pulumi-resource-docker",
);
const ENGINE = path.join(ROOT, ".tools/bin/pulumi");
const missing = [
  ...(existsSync(ENGINE) ? [] : [`the engine (${ENGINE}; run npm run setup)`]),
  ...(existsSync(PLUGIN) ? [] : [`the docker provider plugin (${PLUGIN}; run npm run setup)`]),
  ...(process.getuid?.() === 0 || process.env.FJORD_DOCKER_HOST
    ? []
    : ["root (for a private dockerd) or FJORD_DOCKER_HOST"]),
];
const timings: Record<string, number> = {};
/** Parsed JSON and mock inputs: shapes owned by Prometheus, the sample service and the provider. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const at = (port: number): GatewayAddress => ({ host: "127.0.0.1", port, domain: "localhost" });
const get = (port: number, urlPath: string): Promise<Reply> => gatewayGet(at(port), urlPath);
const getOk = (port: number, urlPath: string): Promise<Reply> => gatewayGetOk(at(port), urlPath);

async function json(url: string): Promise<Loose> {
  const r = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return r.json();
}

interface Ports {
  http: number;
  https: number;
  prom: number;
}

/** Steps 2-5 of the issue: routing, own-database access, isolation, rate limit, scraping. */
async function exercise(daemon: DockerDaemon, stackName: string, ports: Ports): Promise<void> {
  const name = (...p: Array<string | number>) => [stackName, ...p].join("-");

  // Each service answers through the gateway and reaches its own database with its password.
  const orders = JSON.parse((await getOk(ports.https, "/orders/db")).body);
  expect(orders).toMatchObject({ engine: "postgres", database: "orders", select1: 1 });
  const inventory = JSON.parse((await getOk(ports.https, "/inventory/db")).body);
  expect(inventory).toMatchObject({ engine: "mysql", database: "inventory", select1: 1 });
  const servers = new Set<string>();
  for (let i = 0; i < 6; i++) servers.add((await getOk(ports.https, "/orders/")).servedBy ?? "");
  expect(servers.size, "both orders replicas serve").toBe(2);
  expect((await getOk(ports.https, "/nope")).status).toBe(404);
  expect((await getOk(ports.https, "/orders/call/inventory")).body).toMatch(/"status":200/);

  // Isolation: orders reaches its database, but not inventory's, by name or by address.
  const probe = async (host: string, port: number) =>
    JSON.parse(
      (await getOk(ports.https, `/orders/probe?host=${encodeURIComponent(host)}&port=${port}`))
        .body,
    );
  expect(await probe(name("orders", "db"), 5432)).toMatchObject({ reachable: true });
  expect(await probe(name("inventory", "db"), 3306)).toMatchObject({ reachable: false });
  const ip = (
    await daemon.docker([
      "inspect",
      "-f",
      "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
      name("inventory", "db"),
    ])
  ).trim();
  expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  expect(await probe(ip, 3306)).toMatchObject({ reachable: false });
  const script = `require("net").connect(5432, ${JSON.stringify(name("orders", "db"))}).on("connect", () => process.exit(0)).on("error", () => process.exit(3))`;
  const fromInventory = await daemon.tryDocker([
    "exec",
    name("inventory", 0),
    "node",
    "-e",
    script,
  ]);
  expect(
    fromInventory.code,
    `inventory must not reach orders' database: ${fromInventory.stderr}`,
  ).toBe(3);

  // The rate limit answers 429 past the burst.
  await sleep(2000);
  const burst = await Promise.all(Array.from({ length: 40 }, () => get(ports.https, "/orders/")));
  const codes = burst.map((r) => r.status);
  expect(codes.filter((c) => c === 429).length, codes.join(",")).toBeGreaterThan(0);
  expect(codes.filter((c) => c === 200).length, codes.join(",")).toBeGreaterThan(0);

  // Prometheus scrapes every target successfully.
  const prom = `http://127.0.0.1:${ports.prom}`;
  let targets: Array<{
    labels: { job: string; instance: string };
    health: string;
    lastError: string;
  }> = [];
  const t = Date.now();
  for (let i = 0; i < 90; i++) {
    targets = (await json(`${prom}/api/v1/targets?state=active`)).data.activeTargets;
    if (targets.length > 0 && targets.every((x) => x.health === "up")) break;
    await sleep(1000);
  }
  timings.prometheusAllUpSeconds = (Date.now() - t) / 1000;
  const down = targets
    .filter((x) => x.health !== "up")
    .map((x) => `${x.labels.job} ${x.labels.instance}: ${x.health} ${x.lastError}`);
  expect(down).toEqual([]);
  expect(
    targets.length,
    "prometheus, node, gateway, 3 replicas, 2 databases, alertmanager, loki",
  ).toBe(10);
  const up = (await json(`${prom}/api/v1/query?query=up`)).data.result as Array<{
    value: [number, string];
  }>;
  expect(up.map((r) => r.value[1])).toEqual(Array(10).fill("1"));
  // Prometheus delivers alerts to the stack's Alertmanager, and it has the rendered config.
  const ams = (await json(`${prom}/api/v1/alertmanagers`)).data.activeAlertmanagers;
  expect(ams.map((a: { url: string }) => a.url)).toEqual([
    `http://${name("alertmanager")}:9093/api/v2/alerts`,
  ]);
}

/**
 * The log path on Docker: each container's lines reach the forward endpoint through the daemon's
 * fluentd driver, tagged docker.<namespace>.<pod>.<container>; the rendered pii-mask.lua (under
 * LuaJIT, as Fluent Bit runs it) turns those real records into the Kubernetes labels Loki gets and
 * masks PII. Fluent Bit's JSON parser step is applied here as the filter config says: `log`'s
 * fields merged into the record.
 */
async function checkLogs(
  daemon: DockerDaemon,
  rx: ForwardReceiver,
  stackName: string,
  ports: Ports,
): Promise<void> {
  const trace = `t${Date.now().toString(36)}`;
  const r = await getOk(ports.https, `/orders/signup?email=kari%40example.no&trace=${trace}`);
  expect(r.status).toBe(200);
  const parsed = (x: ForwardRecord): Record<string, unknown> => {
    try {
      return JSON.parse(String(x.record.log));
    } catch {
      return {};
    }
  };
  const service = await rx.waitFor(
    (x) =>
      x.tag.startsWith(`docker.fjord-orders.${stackName}-orders-`) &&
      (parsed(x).query as Record<string, string> | undefined)?.trace === trace,
    30_000,
    "from the orders replica that served the request",
  );
  // getOk waits out the rate limiter, and each refused try is logged with a 429 first: the
  // served request is the record with a status other than 429.
  const gateway = await rx.waitFor(
    (x) =>
      x.tag === `docker.fjord-system.${stackName}-gateway.nginx` &&
      parsed(x).path === "/orders/signup" &&
      parsed(x).status !== 429,
    30_000,
    "from the gateway's access log",
  );
  expect(parsed(gateway)).toMatchObject({ route: "orders", status: 200, method: "GET" });
  const pod = service.tag.split(".")[2];
  expect(service.record).toMatchObject({ container_name: `/${pod}`, source: "stdout" });
  expect(service.time).toBeGreaterThan(Date.now() / 1000 - 600);

  // Every container of the stack but Loki ships under its own tag (each logs at start).
  const names = (
    await daemon.docker([
      "ps",
      "-a",
      "--filter",
      `label=fjord.stack=${stackName}`,
      "--format",
      "{{.Names}}",
    ])
  )
    .trim()
    .split("\n");
  // gateway + exporter, 3 replicas, 2 databases + exporters, prometheus, node exporter,
  // alertmanager, loki
  expect(names.length).toBe(13);
  for (const n of names) {
    const driver = (
      await daemon.docker(["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", n])
    ).trim();
    // Loki stays on json-file: its own lines must not depend on the pipeline it is part of.
    if (n === `${stackName}-loki`) expect(driver, n).toBe("json-file");
    else {
      expect(driver, n).toBe("fluentd");
      await rx.waitFor((x) => x.tag.split(".")[2] === n, 30_000, `from ${n}`);
    }
  }
  expect(rx.errors).toEqual([]);

  const [fromService, fromGateway] = await pipeline([service, gateway]);
  expect([fromService, fromGateway].map((x) => x.record.kubernetes)).toEqual([
    { namespace_name: "fjord-orders", pod_name: pod, container_name: "orders" },
    // What the Loki ruler's {container="nginx"} selects on both targets.
    { namespace_name: "fjord-system", pod_name: `${stackName}-gateway`, container_name: "nginx" },
  ]);
  expect(fromService.record.query).toEqual({ email: PII_MASK, trace });
  expect(JSON.stringify(fromService.record)).not.toContain("kari@example.no");
}

/** Runs the shipper's filter chain (labels, JSON parse, PII mask) over forwarded records. */
async function pipeline(records: ForwardRecord[]): Promise<ForwardRecord[]> {
  const script = renderPiiMaskLua(["email"]);
  const labelled = await runLuaFilters(
    "luajit",
    script,
    records.map((x) => ({
      call: LUA_FUNCTIONS.dockerLabels,
      tag: x.tag,
      record: luaValue(x.record),
    })),
  );
  // Fluent Bit's parser filter (key_name log, reserve_data on): JSON fields replace `log`.
  const parsed = labelled.map((l) => {
    const { log, ...rest } = l.record as Record<string, unknown>;
    try {
      const fields = JSON.parse(String(log));
      if (fields && typeof fields === "object" && !Array.isArray(fields))
        return { ...rest, ...fields };
    } catch {
      // not JSON: kept as is
    }
    return l.record;
  });
  const masked = await runLuaFilters(
    "luajit",
    script,
    parsed.map((r, i) => ({
      call: LUA_FUNCTIONS.maskPii,
      tag: records[i].tag,
      record: luaValue(r),
    })),
  );
  return masked.map((m, i) => ({ ...records[i], record: m.record }));
}

type LokiStreams = Array<{ stream: Record<string, string>; values: [string, string][] }>;

/**
 * Loki in the stack, fed what Fluent Bit would send it: the daemon's real records through fjord's
 * filters, pushed with the rendered output's labels. Fluent Bit is the one part not run here (no
 * image), so the test does its transport. Loki is on the internal metrics network, so the test
 * reaches it from inside that network, through Prometheus' container. The stack's Loki ruler must
 * then turn the gateway's access log into per-route series in the stack's Prometheus.
 */
async function checkLoki(
  daemon: DockerDaemon,
  rx: ForwardReceiver,
  stackName: string,
  ports: Ports,
): Promise<void> {
  const name = (...p: Array<string | number>) => [stackName, ...p].join("-");
  const fromMetricsNet = (args: string[]) =>
    daemon.docker(["exec", name("prometheus"), "wget", "-qO-", ...args]);
  const loki = `http://${name("loki")}:3100`;
  const mine = rx.records.filter((x) => x.tag.split(".")[2]?.startsWith(`${stackName}-`));
  const shipped = await pipeline(mine.slice(-150));
  const streams = new Map<string, LokiStreams[number]>();
  for (const x of shipped) {
    const k = x.record.kubernetes as Record<string, string>;
    const stream = {
      job: "fluent-bit",
      namespace: k.namespace_name,
      pod: k.pod_name,
      container: k.container_name,
    };
    const key = JSON.stringify(stream);
    if (!streams.has(key)) streams.set(key, { stream, values: [] });
    const ns = BigInt(Math.round(x.time * 1e6)) * 1000n;
    streams.get(key)!.values.push([String(ns), JSON.stringify(x.record)]);
  }
  await fromMetricsNet([
    "--header=Content-Type: application/json",
    `--post-data=${JSON.stringify({ streams: [...streams.values()] })}`,
    `${loki}/loki/api/v1/push`,
  ]);

  const query = async (q: string): Promise<LokiStreams> => {
    const params = new URLSearchParams({ query: q, since: "15m", limit: "1000" });
    const body = await fromMetricsNet([`${loki}/loki/api/v1/query_range?${params}`]);
    return JSON.parse(body).data.result;
  };
  const gw = await query(`{container="nginx", pod="${name("gateway")}"}`);
  expect(gw.length).toBeGreaterThan(0);
  expect(gw[0].stream).toMatchObject({ namespace: "fjord-system", job: "fluent-bit" });
  expect(await query(`{namespace="fjord-orders"} |= "kari@example.no"`)).toEqual([]);
  const masked = await query(`{namespace="fjord-orders", container="orders"} |= "${PII_MASK}"`);
  expect(masked.length).toBeGreaterThan(0);

  // The ruler evaluates every minute; its series land in Prometheus by remote write.
  const prom = `http://127.0.0.1:${ports.prom}`;
  const series = async (s: string): Promise<Array<{ metric: { route: string } }>> =>
    (await json(`${prom}/api/v1/query?query=${encodeURIComponent(s)}`)).data.result;
  const t = Date.now();
  let requests = await series(GATEWAY_SERIES.requests);
  while (!requests.some((r) => r.metric.route === "orders") && Date.now() - t < 180_000) {
    await sleep(5000);
    requests = await series(GATEWAY_SERIES.requests);
  }
  timings.lokiRulerSeconds = (Date.now() - t) / 1000;
  expect(requests.map((r) => r.metric.route)).toContain("orders");
  expect((await series(GATEWAY_SERIES.p99)).map((r) => r.metric.route)).toContain("orders");
}

describe("dev stack on Docker", () => {
  let daemon: DockerDaemon;
  let images: LocalImages;

  beforeAll(async () => {
    if (missing.length) throw new Error(`[dev-docker] cannot run: missing ${missing.join(", ")}`);
    ensurePackages({ luajit: "luajit" });
    let t = Date.now();
    daemon = await startDockerd();
    timings.dockerdStartSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    const traefikBinary = findTraefikBinary();
    if (!traefikBinary)
      throw new Error("[dev-docker] no Traefik binary: run bash testkit/tools/traefik.sh");
    const lokiBinary = findLokiBinary();
    if (!lokiBinary) throw new Error("[dev-docker] no Loki binary: run bash testkit/tools/loki.sh");
    const built = await buildLocalImages(daemon.host, { traefikBinary, lokiBinary });
    images = built.images;
    timings.imagesSeconds = built.seconds;
  });

  afterAll(async () => {
    const t = Date.now();
    await daemon?.stop();
    timings.dockerdStopSeconds = (Date.now() - t) / 1000;
    console.log(`[dev-docker] timings (s): ${JSON.stringify(timings)}`);
  });

  it("GIVEN the dev stack behind nginx on a real Docker daemon WHEN the real engine brings it up, it is exercised, previewed and destroyed THEN it serves, keeps one service from another's database, ships masked logs to Loki, whose ruler feeds Prometheus, previews with no change and leaves no Docker object", async () => {
    const ports = {
      http: await publishPort(),
      https: await publishPort(),
      prom: await publishPort(),
    };
    let stackName = "";
    let destroyStart = 0;
    const rx = await startForwardReceiver();
    try {
      await withEphemeralStack(
        {
          name: "dev-docker",
          baseStack: "dev",
          config: devStackConfig(images, daemon.host, ports, "nginx", `127.0.0.1:${rx.port}`),
        },
        async (e) => {
          stackName = e.stack.name;
          let t = Date.now();
          await e.up();
          timings.upSeconds = (Date.now() - t) / 1000;
          await exercise(daemon, stackName, ports);
          t = Date.now();
          await checkLogs(daemon, rx, stackName, ports);
          timings.logsSeconds = (Date.now() - t) / 1000;
          await checkLoki(daemon, rx, stackName, ports);
          t = Date.now();
          await e.expectNoChanges();
          timings.previewSeconds = (Date.now() - t) / 1000;
          expect((await stackObjects(daemon, stackName)).length).toBeGreaterThan(10);
          destroyStart = Date.now();
        },
      );
    } finally {
      await rx.close();
    }
    timings.destroySeconds = (Date.now() - destroyStart) / 1000;
    expect(await stackObjects(daemon, stackName)).toEqual([]);
  });

  it("GIVEN the quickstart's sample-service Dockerfile on the offline Node image WHEN it is built and run THEN /health answers ok, as uid 10001, with psql and mariadb installed", async () => {
    // The Dockerfile's default base comes from a registry; the offline Node image stands in.
    // --network host: the daemon has no default bridge, and apt needs the Debian mirror.
    const tag = `fjord-test/sample-service:${Date.now().toString(36)}`;
    await daemon.docker(
      [
        "build",
        "--network",
        "host",
        "--build-arg",
        `NODE_IMAGE=${images.sampleService}`,
        "-t",
        tag,
        path.join(ROOT, "images/sample-service"),
      ],
      600_000,
    );
    const id = (await daemon.docker(["run", "-d", "--network", "none", tag])).trim();
    try {
      let health = "";
      for (let i = 0; i < 30 && health !== "ok"; i++) {
        await sleep(500);
        const r = await daemon.tryDocker([
          "exec",
          id,
          "wget",
          "-qO-",
          "http://127.0.0.1:8080/health",
        ]);
        health = r.stdout.trim();
      }
      expect(health).toBe("ok");
      expect((await daemon.docker(["exec", id, "id", "-u"])).trim()).toBe("10001");
      for (const cli of ["psql", "mariadb"])
        expect((await daemon.tryDocker(["exec", id, cli, "--version"])).code, cli).toBe(0);
    } finally {
      await daemon.tryDocker(["rm", "-f", id]);
      await daemon.tryDocker(["rmi", tag]);
    }
  });

  it("GIVEN the dev stack with fjord:docker.host at a socket where no daemon listens WHEN the real engine previews it THEN the first error line names the address and the fix, and no stack trace is printed", async () => {
    const config = { docker: { host: "unix:///nonexistent/fjord-docker.sock" } };
    await withEphemeralStack({ name: "no-daemon", baseStack: "dev", config }, async (e) => {
      const err = await e.stack.preview().then(
        () => undefined,
        (x: { stderr?: string }) => x.stderr ?? String(x),
      );
      const lines = String(err)
        .split("\n")
        .filter((l) => l.includes("error:"));
      expect(lines[0]).toMatch(
        /error: fjord: no Docker daemon at unix:\/\/\/nonexistent\/fjord-docker\.sock \(ENOENT\): start Docker, or set fjord:docker\.host \/ DOCKER_HOST/,
      );
      expect(String(err)).not.toMatch(/^\s+at /m);
    });
  });

  it("GIVEN the dev stack behind Traefik on a real Docker daemon WHEN the real engine brings it up THEN both services reach their databases over HTTPS, orders also over HTTP/3, and a second preview changes nothing", async () => {
    expect(images.traefik, "the local Traefik image").toBeDefined();
    const ports = {
      http: await publishPort(),
      https: await publishPort(),
      prom: await publishPort(),
    };
    await withEphemeralStack(
      {
        name: "dev-traefik",
        baseStack: "dev",
        config: devStackConfig(images, daemon.host, ports, "traefik"),
      },
      async (e) => {
        await e.up();
        expect(JSON.parse((await getOk(ports.https, "/orders/db")).body)).toMatchObject({
          select1: 1,
        });
        expect(JSON.parse((await getOk(ports.https, "/inventory/db")).body)).toMatchObject({
          select1: 1,
        });
        // HTTP/3 is on by default for Traefik: a real QUIC request through the published UDP
        // port, verified against the certificate the gateway serves over TCP.
        const cert = await servedCertificate("127.0.0.1", ports.https, "localhost");
        const h3 = await h3Get(
          `https://localhost:${ports.https}/orders/db`,
          `127.0.0.1:${ports.https}`,
          cert,
        );
        expect(h3.proto).toBe("HTTP/3.0");
        expect(h3.status).toBe(200);
        expect(JSON.parse(h3.body)).toMatchObject({ engine: "postgres", select1: 1 });
        await e.expectNoChanges();
      },
    );
  });
});
