/**
 * A real Grafana Loki (the image's version, built from Go modules by testkit/tools/loki.sh) running
 * fjord's rendered loki.yaml and nginx gateway ruler file on loopback. Proves the config is
 * accepted as rendered (only paths and listen ports moved), that lines with the labels Fluent Bit
 * sends are queryable with LogQL, that the gateway recording rules compute the numbers the pushed
 * access log implies, and that the ruler remote-writes them to a real Prometheus.
 */
import { writeFileSync } from "fs";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { makeGatewayPlan } from "../../components/plan/gateway";
import {
  GATEWAY_SERIES,
  LOKI_TENANT,
  observabilityFiles,
} from "../../components/plan/observability";
import { renderNginxConf } from "../../components/plan/gateway";
import {
  ensureLoki,
  lokiVersion,
  startLoki,
  startRemoteWriteReceiver,
  verifyLokiConfig,
  type LokiInstance,
  type LokiStream,
  type ReceiverInstance,
} from "../../testkit/loki";
import { makeTempDir, removeDir, tail } from "../../testkit/proc";
import { stackModel, stackSpec } from "../unit/plan/observability-fixtures";

// Fails (with the command to run) instead of skipping when the binary cannot be built.
const LOKI = ensureLoki();

// The prod stack runs the nginx gateway, so it has the Loki ruler file.
const model = stackModel("prod");
let receiver: ReceiverInstance;
let loki: LokiInstance;
let rendered: ReturnType<typeof observabilityFiles>;
let original: Record<string, unknown>;
let localised: Record<string, unknown>;

const renderFor = (prometheusUrl: string) =>
  observabilityFiles(model, {
    discovery: { kind: "static", jobs: [] },
    alertmanager: "127.0.0.1:9",
    prometheusUrl,
    lokiUrl: "http://127.0.0.1:3100",
    alertmanagerUrl: "http://127.0.0.1:9093",
    lokiHost: "127.0.0.1",
    logSource: { kind: "kubernetes" },
  });

/** Every string that is one of fjord's in-container paths moves into `dir`; ports are swapped. */
function localise(doc: unknown, ctx: { dir: string; httpPort: number; grpcPort: number }) {
  const moves: Array<[string, string]> = [
    ["/etc/loki/rules", path.join(ctx.dir, "rules")],
    ["/loki", path.join(ctx.dir, "data")],
  ];
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    if (typeof v === "string")
      for (const [from, to] of moves)
        if (v === from || v.startsWith(`${from}/`)) return to + v.slice(from.length);
    return v;
  };
  const out = walk(doc) as { server: Record<string, unknown> };
  out.server.http_listen_port = ctx.httpPort;
  out.server.grpc_listen_port = ctx.grpcPort;
  return out as Record<string, unknown>;
}

/** Dotted paths of the leaves that differ between two parsed documents. */
function diffPaths(a: unknown, b: unknown, at = ""): string[] {
  if (a && b && typeof a === "object" && typeof b === "object") {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      diffPaths(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        at ? `${at}.${k}` : k,
      ),
    );
  }
  return a === b ? [] : [at];
}

/** Seconds in a Prometheus-style duration such as 1w, 168h or 1h30m. */
function seconds(d: unknown): number {
  const unit: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
  const parts = [...String(d).matchAll(/(\d+)([wdhms])/g)];
  if (parts.map((p) => p[0]).join("") !== String(d)) throw new Error(`not a duration: ${d}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

const get = (doc: unknown, dotted: string): unknown =>
  dotted.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], doc);

// ---- The access log -------------------------------------------------------------------------

/** nginx's `log_format gw_json` as rendered for a plan with fjord's prod routes. */
const plan = makeGatewayPlan({
  kind: "nginx",
  domains: ["api.example.no"],
  tls: { certFile: "x", keyFile: "x" },
  routes: ["orders", "inventory"].map((n) => ({
    name: n,
    path: `/${n}/`,
    public: false,
    upstream: n,
    budgetMs: 200,
  })),
  upstreams: ["orders", "inventory"].map((n) => ({
    name: n,
    servers: [{ host: "127.0.0.1", port: 9 }],
  })),
});
const logFormat = /log_format gw_json escape=json '([^']*)';/.exec(renderNginxConf(plan))?.[1];

/** One access-log line exactly as nginx writes it: the rendered template with values filled in. */
function nginxLine(v: Record<string, string>): string {
  if (!logFormat) throw new Error("no gw_json log_format in the rendered nginx.conf");
  const line = logFormat.replace(
    /"([a-z_]+)":("?)\$[a-z_0-9]+\2/g,
    (_m, key: string, q: string) => {
      if (!(key in v)) throw new Error(`no test value for log field ${key}`);
      return `"${key}":${q}${v[key]}${q}`;
    },
  );
  JSON.parse(line); // it must be JSON, as nginx's escape=json makes it
  return line;
}

interface Req {
  route: string;
  status: number;
  duration: string;
}

// Deterministic traffic: 120 orders requests (9 answered 5xx), 60 inventory requests (3 5xx),
// durations with a long tail so the p99 is not the maximum.
const REQUESTS: Req[] = [
  ...Array.from({ length: 120 }, (_, i) => ({
    route: "orders",
    status: i % 13 === 5 ? [500, 502, 503][i % 3] : i % 7 === 0 ? 404 : 200,
    duration: (i === 17 ? 1.5 : i === 90 ? 0.9 : ((i * 37) % 250) / 1000 + 0.001).toFixed(3),
  })),
  ...Array.from({ length: 60 }, (_, i) => ({
    route: "inventory",
    status: i % 20 === 3 ? 504 : 200,
    duration: (((i * 53) % 140) / 1000 + 0.002).toFixed(3),
  })),
];

/** Prometheus' (and Loki's) quantile: linear interpolation between the closest ranks. */
function quantile(q: number, xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const rank = q * (v.length - 1);
  const lo = Math.max(0, Math.floor(rank));
  const hi = Math.min(v.length - 1, lo + 1);
  const w = rank - Math.floor(rank);
  return v[lo] * (1 - w) + v[hi] * w;
}

const WINDOW_S = 300; // the rules' [5m]
const routes = ["orders", "inventory"];
const EXPECTED = {
  [GATEWAY_SERIES.requests]: Object.fromEntries(
    routes.map((r) => [r, REQUESTS.filter((q) => q.route === r).length / WINDOW_S]),
  ),
  [GATEWAY_SERIES.errors]: Object.fromEntries(
    routes.map((r) => [
      r,
      REQUESTS.filter((q) => q.route === r && q.status >= 500).length / WINDOW_S,
    ]),
  ),
  [GATEWAY_SERIES.p99]: Object.fromEntries(
    routes.map((r) => [
      r,
      quantile(
        0.99,
        REQUESTS.filter((q) => q.route === r).map((q) => Number(q.duration)),
      ),
    ]),
  ),
} as Record<string, Record<string, number>>;

// Labels as fjord's Fluent Bit output sets them (checked against the rendered config below).
const labels = (namespace: string, pod: string, container: string) => ({
  job: "fluent-bit",
  namespace,
  pod,
  container,
});

const ns = (sec: number) => `${BigInt(Math.round(sec * 1000)) * 1_000_000n}`;
let pushedAt = 0;
const ORDERS_APP_LINES = [
  '{"level":"info","msg":"order created","order_id":"o-1","email":"[masked]"}',
  '{"level":"error","msg":"payment declined","order_id":"o-2"}',
  "plain text: worker started",
  '{"level":"error","msg":"stock check timed out","order_id":"o-3"}',
];

function streams(t0: number): LokiStream[] {
  const span = 50; // seconds, all well inside the 5m window of a query right after the push
  const at = (i: number, n: number) => t0 - 60 + (i * span) / n;
  const values = (i: number, r: Req) => ({
    time: new Date(at(i, REQUESTS.length) * 1000).toISOString().replace(/\.\d+Z$/, "+00:00"),
    request_id: `req${i.toString(16).padStart(8, "0")}`,
    route: r.route,
    host: "api.example.no",
    method: "GET",
    path: `/${r.route}/items/${i}`,
    protocol: "HTTP/2.0",
    tls: "TLSv1.3",
    status: String(r.status),
    bytes_sent: String(100 + i),
    duration_s: r.duration,
    upstream: "10.43.0.10:8080",
    upstream_status: String(r.status),
    upstream_duration_s: r.duration,
  });
  // Half the requests as raw nginx lines (Docker's forward path keeps `log` as the line), half
  // as the record Fluent Bit sends from a CRI file: parsed fields, stream, and the kubernetes map.
  const gw0: Array<[string, string]> = [];
  const gw1: Array<[string, string]> = [];
  REQUESTS.forEach((r, i) => {
    const line = nginxLine(values(i, r));
    if (i % 2 === 0) gw0.push([ns(at(i, REQUESTS.length)), line]);
    else
      gw1.push([
        ns(at(i, REQUESTS.length)),
        JSON.stringify({
          stream: "stdout",
          _p: "F",
          ...(JSON.parse(line) as object),
          kubernetes: {
            namespace_name: "fjord-system",
            pod_name: "gateway-1",
            container_name: "nginx",
          },
        }),
      ]);
  });
  return [
    { stream: labels("fjord-system", "gateway-0", "nginx"), values: gw0 },
    {
      stream: labels("fjord-system", "gateway-1", "nginx"),
      values: [
        ...gw1,
        // Must not count: nginx error-log text, and a request no route matched.
        [ns(t0 - 5), "2026/01/01 00:00:00 [warn] 1#1: an upstream response is buffered"],
        [
          ns(t0 - 4),
          nginxLine({ ...values(999, { route: "", status: 404, duration: "0.000" }), route: "" }),
        ],
      ],
    },
    // Must not count: the exporter next to nginx, and a service logging a `route` field.
    {
      stream: labels("fjord-system", "gateway-0", "exporter"),
      values: [[ns(t0 - 3), '{"route":"orders","status":500,"duration_s":9}']],
    },
    {
      stream: labels("fjord-orders", "orders-7c9f-abcde", "orders"),
      values: ORDERS_APP_LINES.map((l, i) => [ns(t0 - 30 + i), l]),
    },
  ];
}

beforeAll(async () => {
  receiver = await startRemoteWriteReceiver();
  rendered = renderFor(receiver.url);
  original = parse(rendered.loki["loki.yaml"]) as Record<string, unknown>;
  const rules = rendered.lokiRules["fjord-gateway.yaml"];
  if (!rules) throw new Error("the prod stack (nginx) rendered no Loki ruler file");
  loki = await startLoki({
    files: () => ({ [`rules/${LOKI_TENANT}/fjord-gateway.yaml`]: rules }),
    config: (ctx) => {
      localised = localise(original, ctx);
      return stringify(localised);
    },
  });
  pushedAt = Date.now() / 1000;
  await loki.push(streams(pushedAt));
});

afterAll(async () => {
  await loki?.stop();
  await receiver?.stop();
});

describe(`Loki ${lokiVersion(LOKI)} with fjord's rendered loki.yaml`, () => {
  it("GIVEN the Loki binary under test WHEN its version is read THEN it is the tag of the prod stack's Loki image", () => {
    const tag = stackSpec("prod").images.loki.split(":").pop();
    expect(lokiVersion(LOKI)).toBe(tag);
  });

  it("GIVEN fjord's rendered loki.yaml WHEN it is localised for the test THEN only paths and listen ports change, and the ruler's remote-write URL is the test receiver's", () => {
    const changed = diffPaths(original, localised).sort();
    expect(changed).toEqual(
      [
        "server.http_listen_port",
        "server.grpc_listen_port",
        "common.path_prefix",
        "common.storage.filesystem.chunks_directory",
        "compactor.working_directory",
        "ruler.storage.local.directory",
        "ruler.rule_path",
        "ruler.wal.dir",
      ].sort(),
    );
    for (const p of changed) {
      const was = get(original, p);
      if (p.endsWith("_port")) expect(typeof was).toBe("number");
      else expect(String(was)).toMatch(/^\/(loki|etc\/loki\/rules)(\/|$)/);
    }
    // The ruler writes to the receiver started here, through the URL fjord rendered.
    expect(get(localised, "ruler.remote_write.clients.prometheus.url")).toBe(
      `${receiver.url}/api/v1/write`,
    );
  });

  it("GIVEN the localised and the rendered (unmoved) loki.yaml WHEN loki -verify-config checks each THEN both pass", async () => {
    const ok = await verifyLokiConfig(loki.configFile);
    expect(ok.code, ok.output).toBe(0);
    const dir = makeTempDir("fjord-loki-verify-");
    try {
      const file = path.join(dir, "loki.yaml");
      writeFileSync(file, rendered.loki["loki.yaml"]);
      const asRendered = await verifyLokiConfig(file);
      expect(asRendered.code, asRendered.output).toBe(0);
    } finally {
      removeDir(dir);
    }
  });

  it("GIVEN Loki started with the localised config WHEN /ready, /config and /services are read THEN it is ready with 7-day retention enforced, analytics off, ruler and compactor running, and no config warning in its log", async () => {
    expect((await loki.get("/ready")).status).toBe(200);
    const config = parse((await loki.get("/config")).body) as Record<string, unknown>;
    // Loki prints durations in its own units (168h comes back as 1w).
    expect(seconds(get(config, "limits_config.retention_period"))).toBe(
      seconds(get(original, "limits_config.retention_period")),
    );
    expect(seconds(get(original, "limits_config.retention_period"))).toBe(7 * 86400);
    expect(get(config, "compactor.retention_enabled")).toBe(true);
    expect(get(config, "analytics.reporting_enabled")).toBe(false);
    const services = (await loki.get("/services")).body;
    for (const s of ["ruler", "compactor", "ingester", "distributor", "querier"])
      expect(services, services).toMatch(new RegExp(`^${s} => Running$`, "m"));
    const log = tail(loki.logPath, 400);
    expect(log).not.toMatch(/level=(error|warn).*(deprecat|unknown|invalid)/i);
  });
});

/** Log lines (streams) an expression selects, over everything pushed. */
async function range(expr: string) {
  const q = new URLSearchParams({
    query: expr,
    start: String(Math.floor(pushedAt - 120)),
    end: String(Math.ceil(Date.now() / 1000 + 1)),
    limit: "1000",
    direction: "forward",
  });
  const res = await loki.get(`/loki/api/v1/query_range?${q}`);
  expect(res.status, res.body).toBe(200);
  return (
    JSON.parse(res.body) as {
      data: { result: Array<{ stream: Record<string, string>; values: [string, string][] }> };
    }
  ).data.result;
}

describe("log lines with Fluent Bit's labels", () => {
  it("GIVEN fjord's rendered Fluent Bit config WHEN its Loki output's labels are read THEN they are the labels the test's streams carry, job=fluent-bit included", () => {
    const fb = parse(rendered.logShipper["fluent-bit.yaml"]) as {
      pipeline: { outputs: Array<Record<string, string>> };
    };
    const out = fb.pipeline.outputs.find((o) => o.name === "loki")!;
    const names = out.labels.split(",").map((l) => l.trim().split("=")[0]);
    expect(names).toEqual(Object.keys(labels("n", "p", "c")));
    expect(out.labels).toMatch(/job=fluent-bit/);
  });

  it('GIVEN the pushed streams WHEN {namespace="fjord-orders"} is queried THEN exactly the orders lines come back, with their labels and the ones Loki adds', async () => {
    const result = await range('{namespace="fjord-orders"}');
    // Loki 3 adds `service_name` (an index label, here from `container`) and splits a stream by
    // the `detected_level` it guesses per line (structured metadata, returned with the labels).
    const levelOf = (line: string) => /"level":"(\w+)"/.exec(line)?.[1] ?? "unknown";
    for (const s of result) {
      expect(s.stream).toEqual({
        ...labels("fjord-orders", "orders-7c9f-abcde", "orders"),
        service_name: "orders",
        detected_level: levelOf(s.values[0][1]),
      });
      for (const [, line] of s.values) expect(levelOf(line)).toBe(s.stream.detected_level);
    }
    const lines = result
      .flatMap((s) => s.values)
      .sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1))
      .map((v) => v[1]);
    expect(lines).toEqual(ORDERS_APP_LINES);
  });

  it("GIVEN the pushed JSON lines of a service and the gateway WHEN queried with | json and field filters THEN the service's error lines and the gateway's inventory 5xx lines come back, fields as labels", async () => {
    const errors = await range('{namespace="fjord-orders"} | json | level="error"');
    expect(errors.flatMap((s) => s.values.map((v) => v[1]))).toEqual(
      ORDERS_APP_LINES.filter((l) => l.includes('"error"')),
    );
    const gw = await range(
      '{namespace="fjord-system", container="nginx"} | json | __error__="" | route="inventory" | status >= 500',
    );
    const lines = gw.flatMap((s) => s.values);
    expect(lines).toHaveLength(
      REQUESTS.filter((r) => r.route === "inventory" && r.status >= 500).length,
    );
    for (const s of gw) {
      expect(s.stream.route).toBe("inventory");
      expect(Number(s.stream.status)).toBeGreaterThanOrEqual(500);
      expect(s.stream.duration_s).toMatch(/^\d+\.\d{3}$/);
    }
  });
});

describe("the nginx gateway recording rules (fjord-gateway.yaml)", () => {
  const rules = () =>
    (
      parse(rendered.lokiRules["fjord-gateway.yaml"]!) as {
        groups: Array<{ rules: Array<{ record: string; expr: string }> }>;
      }
    ).groups.flatMap((g) => g.rules);

  it("GIVEN the rendered nginx gateway ruler file WHEN its records are listed THEN they are the three gateway series", () => {
    expect(
      rules()
        .map((r) => r.record)
        .sort(),
    ).toEqual(Object.keys(EXPECTED).sort());
  });

  it("GIVEN the pushed gateway access log WHEN each rate rule's pipeline is queried THEN it keeps route, drops the per-request fields, and makes under a tenth as many series as lines", async () => {
    const lines = (await range('{container="nginx"}')).flatMap((x) => x.values).length;
    for (const rule of rules().filter((r) => r.expr.includes("rate("))) {
      const pipeline = /rate\((.*) \[5m\]\)/.exec(rule.expr)?.[1];
      expect(pipeline, rule.expr).toBeDefined();
      const streams = await range(pipeline!);
      const keys = new Set(streams.flatMap((x) => Object.keys(x.stream)));
      expect(keys, rule.record).toContain("route");
      for (const k of ["request_id", "time", "path", "upstream", "duration_s"])
        expect(keys, `${rule.record}: ${k}`).not.toContain(k);
      expect(streams.length, rule.record).toBeGreaterThan(0);
      expect(
        streams.length * 10,
        `${rule.record}: ${streams.length} streams for ${lines} lines`,
      ).toBeLessThan(lines);
    }
  });

  it("GIVEN the pushed gateway access log WHEN each recording rule runs as an instant query THEN it gives, per route, the number the log implies", async () => {
    const t = Date.now() / 1000;
    for (const rule of rules()) {
      const data = await loki.query(rule.expr, t);
      expect(data.resultType, rule.expr).toBe("vector");
      const got = Object.fromEntries(
        data.result.map((s) => [s.metric!.route, Number(s.value![1])]),
      );
      expect(Object.keys(got).sort(), rule.expr).toEqual([...routes].sort());
      for (const r of routes)
        expect(got[r], `${rule.record}{route="${r}"}`).toBeCloseTo(EXPECTED[rule.record][r], 9);
    }
  });

  it("GIVEN Loki's ruler with the gateway rules and a Prometheus receiving remote writes WHEN the ruler evaluates them THEN Prometheus holds each series with the expected value per route and every rule is healthy", async () => {
    const deadline = Date.now() + 200_000;
    const pending = new Set(Object.keys(EXPECTED));
    const last: Record<string, unknown> = {};
    while (pending.size > 0) {
      for (const record of [...pending]) {
        const samples = await receiver.query(record);
        last[record] = samples;
        const got = Object.fromEntries(samples.map((s) => [s.metric.route, Number(s.value[1])]));
        const want = EXPECTED[record];
        if (
          Object.keys(got).length === routes.length &&
          routes.every((r) => Math.abs(got[r] - want[r]) < 1e-9)
        )
          pending.delete(record);
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline)
        throw new Error(
          `ruler series missing or wrong: ${[...pending].join(", ")}\n` +
            `prometheus has ${JSON.stringify(last)}\nexpected ${JSON.stringify(EXPECTED)}\n` +
            `loki:\n${tail(loki.logPath, 30)}\nprometheus:\n${tail(receiver.logPath, 10)}`,
        );
      await new Promise((r) => setTimeout(r, 2000));
    }
    const api = await loki.get("/prometheus/api/v1/rules");
    expect(api.status, api.body).toBe(200);
    const health = (
      JSON.parse(api.body) as {
        data: { groups: Array<{ rules: Array<{ name: string; health: string }> }> };
      }
    ).data.groups.flatMap((g) => g.rules.map((r) => [r.name, r.health]));
    expect(health.sort()).toEqual(
      Object.keys(EXPECTED)
        .map((n) => [n, "ok"])
        .sort(),
    );
  }, 240_000);
});
