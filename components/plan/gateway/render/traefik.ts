import { stringify } from "yaml";
import type { GatewayPlan, GatewayRoute } from "../types";
import { assertValidGatewayPlan } from "../validate";
import { endpointsMarker } from "./endpoints";

export interface TraefikStaticOptions {
  /** Where the dynamic file (renderTraefikDynamic output) is mounted. @default "/etc/traefik/dynamic.yml" */
  dynamicFile?: string;
  /** Re-read the dynamic file on change, so cert rotation needs no restart. @default true */
  watch?: boolean;
  /** @default "INFO" */
  logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
  /** Access-log file; stdout when omitted. */
  accessLogPath?: string;
}

/** Entrypoint names shared by the static and dynamic halves. */
export const TRAEFIK_ENTRYPOINTS = {
  web: "web",
  websecure: "websecure",
  internal: "internal",
} as const;

/** TLS 1.2 suites in Go's names: ECDHE + AEAD only. TLS 1.3 suites are not configurable in Go. */
export const TRAEFIK_TLS12_CIPHER_SUITES = [
  "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
  "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
  "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
] as const;

/** Middleware names in the dynamic config. */
export const TRAEFIK_MIDDLEWARES = {
  rateLimit: "gw-ratelimit",
  secureHeaders: "gw-secure-headers",
  stripCookie: "gw-strip-cookie",
  circuitBreaker: "gw-circuit-breaker",
  retry: "gw-retry",
  dashboardAuth: "gw-dashboard-auth",
} as const;

const ms = (n: number) => `${n}ms`;
const sec = (n: number) => `${n}s`;
const addr = (plan: GatewayPlan, port: number) => {
  const a = plan.listen.address;
  return a === undefined ? `:${port}` : `${a.includes(":") ? `[${a}]` : a}:${port}`;
};
const serverUrl = (host: string, port: number) =>
  `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

function dump(doc: unknown): string {
  // lineWidth 0: long rules stay on one line; no aliases: shared objects would become &anchors.
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}

/**
 * traefik.yml: entrypoints, providers, observability. Never enables `api.insecure`.
 * Client X-Forwarded-* headers are not trusted (no `forwardedHeaders.trustedIPs`), so Traefik
 * replaces them with the peer address, matching the nginx reset.
 */
export function renderTraefikStatic(plan: GatewayPlan, opts: TraefikStaticOptions = {}): string {
  assertValidGatewayPlan(plan);
  const ep = TRAEFIK_ENTRYPOINTS;
  const respondingTimeouts = {
    readTimeout: sec(plan.client.headerTimeoutSeconds + plan.client.bodyTimeoutSeconds),
    idleTimeout: sec(plan.client.keepaliveTimeoutSeconds),
  };
  const websecure: Record<string, unknown> = {
    address: addr(plan, plan.listen.https),
    http: { tls: {} },
    transport: { respondingTimeouts },
  };
  // QUIC needs UDP on the same port; the advertised port is the public one clients dial.
  if (plan.http3) websecure.http3 = { advertisedPort: plan.listen.publicHttpsPort };

  const doc: Record<string, unknown> = {
    global: { checkNewVersion: false, sendAnonymousUsage: false },
    log: { level: opts.logLevel ?? "INFO", format: "json" },
    entryPoints: {
      [ep.web]: {
        address: addr(plan, plan.listen.http),
        http: {
          redirections: {
            // A port, not the entrypoint name: the entrypoint's container port is not what clients see.
            entryPoint: { to: `:${plan.listen.publicHttpsPort}`, scheme: "https", permanent: true },
          },
        },
        transport: { respondingTimeouts },
      },
      [ep.websecure]: websecure,
      [ep.internal]: { address: addr(plan, plan.metrics.port) },
    },
    providers: {
      file: { filename: opts.dynamicFile ?? "/etc/traefik/dynamic.yml", watch: opts.watch ?? true },
    },
    ping: { entryPoint: ep.internal },
    metrics: {
      prometheus: {
        entryPoint: ep.internal,
        // Dashboards and alerts read entrypoint and service series. Router series would add a
        // third metrics layer to every request, and with one router per service they repeat
        // the service series.
        addEntryPointsLabels: true,
        addRoutersLabels: false,
        addServicesLabels: true,
      },
    },
  };
  // No `api` section at all unless the dashboard is wanted: api@internal then does not exist.
  if (plan.dashboard.enabled) doc.api = { dashboard: true, insecure: false };
  if (plan.accessLog.enabled) {
    const accessLog: Record<string, unknown> = {
      format: plan.accessLog.format,
      fields: {
        defaultMode: "keep",
        // Client address is personal data; RequestPath carries the query string, so the
        // router name stands in for the path.
        names: {
          ClientAddr: "drop",
          ClientHost: "drop",
          ClientPort: "drop",
          ClientUsername: "drop",
          RequestPath: "drop",
        },
        // Headers (Cookie, Authorization, User-Agent, ...) never reach the log.
        headers: { defaultMode: "drop" },
      },
    };
    if (opts.accessLogPath !== undefined) accessLog.filePath = opts.accessLogPath;
    doc.accessLog = accessLog;
  }
  return dump(doc);
}

function hostRule(plan: GatewayPlan): string {
  // Traefik v3 `Host` takes exactly one name, so several domains become an OR.
  const hosts = plan.domains.map((d) => `Host(\`${d}\`)`);
  return hosts.length === 1 ? hosts[0]! : `(${hosts.join(" || ")})`;
}

function routeMiddlewares(plan: GatewayPlan, route: GatewayRoute): string[] {
  const m = TRAEFIK_MIDDLEWARES;
  // Cheap rejections first; the breaker sits before retry so it judges the retried outcome.
  const list: string[] = [m.rateLimit, m.secureHeaders];
  if (route.public && plan.stripCookieOnPublic) list.push(m.stripCookie);
  list.push(m.circuitBreaker);
  if (plan.retry.attempts > 0) list.push(m.retry);
  return list;
}

/** dynamic.yml: routers, middlewares, services, transports and TLS for the file provider. */
export function renderTraefikDynamic(plan: GatewayPlan): string {
  assertValidGatewayPlan(plan);
  const m = TRAEFIK_MIDDLEWARES;
  const u = plan.upstream;
  const upstreams = new Map(plan.upstreams.map((x) => [x.name, x]));

  const routers: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  const serversTransports: Record<string, unknown> = {};
  for (const route of plan.routes) {
    const up = upstreams.get(route.upstream)!;
    routers[route.name] = {
      entryPoints: [TRAEFIK_ENTRYPOINTS.websecure],
      rule: `${hostRule(plan)} && PathPrefix(\`${route.path}\`)`,
      middlewares: routeMiddlewares(plan, route),
      service: route.name,
      tls: {},
    };
    // One transport per route: Traefik has no per-router timeout, so the route budget is
    // enforced through the response-header timeout of a transport only this route uses.
    serversTransports[route.name] = {
      maxIdleConnsPerHost: u.keepalive,
      forwardingTimeouts: {
        dialTimeout: ms(u.connectTimeoutMs),
        responseHeaderTimeout: ms(Math.min(u.readTimeoutMs, route.budgetMs)),
        idleConnTimeout: sec(u.keepaliveTimeoutSeconds),
      },
    };
    const loadBalancer: Record<string, unknown> = {
      // With endpoints, one template entry that the endpoint watcher repeats per replica address.
      servers:
        up.endpoints !== undefined
          ? [{ url: `http://${endpointsMarker(up.name)}` }]
          : up.servers.map((s) => ({ url: serverUrl(s.host, s.port) })),
      passHostHeader: true,
      serversTransport: route.name,
      // Per server, like nginx's max_fails/fail_timeout: a server that fails (5xx, or no answer)
      // maxFails times within the window is left out for the window.
      passiveHealthCheck: {
        maxFailedAttempts: u.maxFails,
        failureWindow: sec(u.failTimeoutSeconds),
      },
    };
    if (up.healthCheckPath !== undefined) {
      loadBalancer.healthCheck = {
        path: up.healthCheckPath,
        interval: sec(u.failTimeoutSeconds),
        timeout: ms(u.connectTimeoutMs),
      };
    }
    services[route.name] = { loadBalancer };
  }

  const cb = plan.circuitBreaker;
  const circuitBreaker: Record<string, unknown> = {
    expression: cb.expression,
    checkPeriod: sec(cb.checkPeriodSeconds),
    fallbackDuration: sec(cb.fallbackDurationSeconds),
    recoveryDuration: sec(cb.recoveryDurationSeconds),
  };
  if (cb.responseCode !== undefined) circuitBreaker.responseCode = cb.responseCode;

  const middlewares: Record<string, unknown> = {
    [m.rateLimit]: {
      rateLimit: {
        average: plan.rateLimit.average,
        burst: plan.rateLimit.burst,
        period: "1s",
        // depth 0 = the TCP peer; trusting X-Forwarded-For here would let clients pick their bucket.
        sourceCriterion: { ipStrategy: { depth: 0 } },
      },
    },
    [m.secureHeaders]: {
      headers: {
        // An empty value makes Traefik delete the request header before proxying. An empty map
        // makes Traefik reject the whole dynamic file, so it is left out when nothing is stripped.
        ...(plan.stripHeaders.length > 0
          ? { customRequestHeaders: Object.fromEntries(plan.stripHeaders.map((h) => [h, ""])) }
          : {}),
        customResponseHeaders: { "X-Powered-By": "" },
        stsSeconds: plan.tls.hstsMaxAgeSeconds,
        stsIncludeSubdomains: plan.tls.hstsIncludeSubdomains,
        stsPreload: plan.tls.hstsPreload,
      },
    },
    [m.circuitBreaker]: { circuitBreaker },
  };
  if (plan.routes.some((r) => r.public) && plan.stripCookieOnPublic) {
    middlewares[m.stripCookie] = { headers: { customRequestHeaders: { Cookie: "" } } };
  }
  if (plan.retry.attempts > 0) {
    middlewares[m.retry] = {
      retry: { attempts: plan.retry.attempts, initialInterval: ms(plan.retry.initialIntervalMs) },
    };
  }
  if (plan.dashboard.enabled) {
    middlewares[m.dashboardAuth] = { basicAuth: { usersFile: plan.dashboard.usersFile } };
    routers["gw-dashboard"] = {
      entryPoints: [TRAEFIK_ENTRYPOINTS.internal],
      rule: "PathPrefix(`/api`) || PathPrefix(`/dashboard`)",
      middlewares: [m.dashboardAuth],
      service: "api@internal",
    };
  }

  const tlsOptions: Record<string, unknown> = {
    minVersion: plan.tls.minVersion === "1.3" ? "VersionTLS13" : "VersionTLS12",
    curvePreferences: ["X25519", "CurveP256", "CurveP384"],
    sniStrict: plan.tls.sniStrict,
  };
  if (plan.tls.minVersion === "1.2") tlsOptions.cipherSuites = [...TRAEFIK_TLS12_CIPHER_SUITES];

  return dump({
    http: { routers, middlewares, services, serversTransports },
    tls: {
      // "default" applies to every TLS router and to handshakes no router claims.
      options: { default: tlsOptions },
      certificates: [{ certFile: plan.tls.certFile, keyFile: plan.tls.keyFile }],
    },
  });
}
