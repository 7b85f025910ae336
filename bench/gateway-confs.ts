/**
 * The configurations the gateway bench compares: fjord's rendered nginx file (and its plain-HTTP
 * twin), the hand-written keepalive and naive ones, the fast upstream they all proxy to, and the
 * edit that strips fjord's features from the rendered Traefik files.
 */
import { makeGatewayPlan, type GatewayPlan } from "../components/plan/gateway";
import { nginxConfForPlan, type NginxContext } from "../testkit/nginx";
import type { TraefikDoc } from "../testkit/traefik";

/** High enough that one client IP (wrk) is never limited, so limit_req costs its lookup but never rejects. */
export const UNLIMITED = { average: 1_000_000, burst: 1_000_000 };
function paths(ctx: NginxContext): string {
  const o = ctx.renderOptions;
  return [
    "worker_processes 1;",
    `pid ${o.pidFile};`,
    "error_log stderr warn;",
    "events { worker_connections 4096; }",
    "http {",
    ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(
      (k) => `  ${k}_temp_path ${o.tempDir}/nginx_${k}_temp;`,
    ),
  ].join("\n");
}
const metricsServer = (ctx: NginxContext) =>
  `  server { listen 127.0.0.1:${ctx.ports.metrics}; access_log off; location = /healthz { return 200 "ok\\n"; } }\n}\n`;

/** The fastest steady upstream we have: nginx itself, no logging, answering from config. */
export const upstreamConf = (ctx: NginxContext) =>
  `${paths(ctx)}
  access_log off;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:${ctx.ports.http}; location / { return 200 "ok\\n"; } }
${metricsServer(ctx)}`;

/**
 * What a person writes by hand: the seed's upstream block (keepalive 64, HTTP/1.1, empty
 * Connection) or the naive one without them. Access log in nginx's default format, which a minimal
 * config also gets, so logging is not what is compared.
 */
export const handConf =
  (upstreamPort: number, keepalive: boolean, tls = false) =>
  (ctx: NginxContext) =>
    `${paths(ctx)}
  access_log ${ctx.prefix}/access.log;
  upstream app { server 127.0.0.1:${upstreamPort};${keepalive ? " keepalive 64;" : ""} }
  server {
    ${
      tls
        ? `listen 127.0.0.1:${ctx.ports.https} ssl;
    ssl_certificate ${ctx.prefix}/tls/server.crt;
    ssl_certificate_key ${ctx.prefix}/tls/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:hand:10m;`
        : `listen 127.0.0.1:${ctx.ports.http};`
    }
    location / {
      proxy_pass http://app;${keepalive ? '\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";' : ""}
    }
  }
${metricsServer(ctx)}`;

export function benchPlan(
  upstreamPorts: number[],
  over: Partial<GatewayPlan["tls"]> = {},
  // wrk sends the URL host as SNI, and only "localhost" resolves here without touching /etc/hosts.
  domain = "localhost",
): GatewayPlan {
  return makeGatewayPlan({
    kind: "nginx",
    domains: [domain],
    tls: { certFile: "tls/server.crt", keyFile: "tls/server.key", ...over },
    rateLimit: UNLIMITED,
    // The prod stack's PII headers: each is one more header rule per request, as deployed. (An
    // empty list also trips a renderer bug for Traefik: `customRequestHeaders: {}`, which it rejects.)
    stripHeaders: ["X-User-Email", "X-User-Phone", "X-National-Id"],
    routes: [{ name: "app", path: "/", public: false, upstream: "app", budgetMs: 10_000 }],
    upstreams: [
      { name: "app", servers: upstreamPorts.map((port) => ({ host: "127.0.0.1", port })) },
    ],
  });
}

/** The rendered config with its TLS listener turned plain; every other directive as rendered. */
export const renderedPlain = (plan: GatewayPlan) => (ctx: NginxContext) => {
  const conf = nginxConfForPlan(plan)(ctx);
  const re = new RegExp(`listen 127\\.0\\.0\\.1:${ctx.ports.https} ssl http2 default_server;`);
  if (!re.test(conf))
    throw new Error("rendered nginx.conf no longer has the expected TLS listen line");
  return conf.replace(re, `listen 127.0.0.1:${ctx.ports.https} default_server;`);
};

/**
 * Diagnostic only: the rendered config without the per-request features the hand-tuned one lacks
 * (limit_req, the random request id, HSTS, headers beyond Host and Connection), to size what they
 * cost together. Throws when the rendered text no longer has what it edits.
 */
export function withoutFeatures(conf: string): string {
  const edits: Array<[RegExp, string]> = [
    [/\n\s*limit_req zone=[^\n]*/, ""],
    [/\n\s*add_header Strict-Transport-Security[^\n]*/, ""],
    [/\n\s*proxy_set_header (?!Host |Connection )[^\n]*/g, ""],
    // The log keeps its 14 fields; only the random id in it becomes a counter nginx already has.
    [/\$request_id/g, "$connection_requests"],
  ];
  return edits.reduce((c, [re, to]) => {
    if (!re.test(c)) throw new Error(`rendered nginx.conf no longer matches ${re}`);
    re.lastIndex = 0;
    return c.replace(re, to);
  }, conf);
}

/**
 * Traefik with no fjord feature: the router keeps its rule, TLS and service but loses every
 * middleware (rate limit, headers, breaker, retry), and the Prometheus metrics go. The plan passed
 * with it already has its access log off. Throws when the rendered files no longer have what it
 * removes, so the diagnostic cannot silently measure the full config.
 */
export function withoutTraefikFeatures(files: { static: TraefikDoc; dynamic: TraefikDoc }): void {
  if (!("metrics" in files.static)) throw new Error("rendered traefik.yml has no metrics section");
  delete files.static.metrics;
  const routers = (files.dynamic.http as { routers?: Record<string, { middlewares?: unknown }> })
    .routers;
  const withMiddlewares = Object.values(routers ?? {}).filter((r) => r.middlewares !== undefined);
  if (withMiddlewares.length === 0)
    throw new Error("rendered dynamic.yml has no router middlewares");
  for (const r of withMiddlewares) delete r.middlewares;
}
