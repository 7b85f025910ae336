import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { makeGatewayPlan } from "../../../components/plan/gateway";
import type { GatewayPlan, GatewayPlanInput } from "../../../components/plan/gateway";
import {
  renderTraefikDynamic,
  renderTraefikStatic,
  TRAEFIK_MIDDLEWARES as MW,
} from "../../../components/plan/gateway";

function plan(over: Partial<GatewayPlanInput> = {}): GatewayPlan {
  return makeGatewayPlan({
    kind: "traefik",
    domains: ["api.example.test"],
    tls: { certFile: "/certs/tls.crt", keyFile: "/certs/tls.key" },
    routes: [
      { name: "orders", path: "/orders/", public: false, upstream: "orders", budgetMs: 800 },
      { name: "catalog", path: "/catalog/", public: true, upstream: "catalog", budgetMs: 20_000 },
    ],
    upstreams: [
      {
        name: "orders",
        servers: [
          { host: "10.0.0.5", port: 8080 },
          { host: "fd00::5", port: 8080 },
        ],
      },
      { name: "catalog", servers: [{ host: "catalog", port: 3000 }], healthCheckPath: "/healthz" },
    ],
    ...over,
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML is untyped by nature */
const staticDoc = (p: GatewayPlan, opts?: Parameters<typeof renderTraefikStatic>[1]): any =>
  parse(renderTraefikStatic(p, opts));
const dynamicDoc = (p: GatewayPlan): any => parse(renderTraefikDynamic(p));
/* eslint-enable @typescript-eslint/no-explicit-any */

describe("renderTraefikStatic", () => {
  it("GIVEN the dashboard off, then on WHEN the static file is rendered THEN the insecure API is never enabled and the api block is there only with the dashboard", () => {
    for (const dashboard of [{ enabled: false }, { enabled: true, usersFile: "/auth/users" }]) {
      const text = renderTraefikStatic(plan({ dashboard }));
      expect(text).not.toMatch(/insecure:\s*true/);
      const doc = parse(text);
      if (dashboard.enabled) expect(doc.api).toEqual({ dashboard: true, insecure: false });
      else expect(doc.api).toBeUndefined();
    }
  });

  it("GIVEN the default plan WHEN the static file is rendered THEN it opts out of version checks and anonymous usage reports", () => {
    expect(staticDoc(plan()).global).toEqual({ checkNewVersion: false, sendAnonymousUsage: false });
  });

  it("GIVEN http, https and public https ports WHEN the static file is rendered THEN web redirects permanently to the public https port and websecure serves TLS", () => {
    const doc = staticDoc(plan({ listen: { http: 8000, https: 8443, publicHttpsPort: 443 } }));
    expect(doc.entryPoints.web.address).toBe(":8000");
    expect(doc.entryPoints.web.http.redirections.entryPoint).toEqual({
      to: ":443",
      scheme: "https",
      permanent: true,
    });
    expect(doc.entryPoints.websecure.address).toBe(":8443");
    expect(doc.entryPoints.websecure.http.tls).toEqual({});
  });

  it.each([true, false])(
    "GIVEN http3=%s WHEN the static file is rendered THEN websecure has an http3 block advertising the public port only when on",
    (http3) => {
      const doc = staticDoc(plan({ http3, listen: { publicHttpsPort: 4443 } }));
      if (http3) expect(doc.entryPoints.websecure.http3).toEqual({ advertisedPort: 4443 });
      else expect(doc.entryPoints.websecure.http3).toBeUndefined();
    },
  );

  it("GIVEN a metrics port WHEN the static file is rendered THEN metrics and ping are on the internal entrypoint at that port", () => {
    const doc = staticDoc(plan({ metrics: { port: 9200 } }));
    expect(doc.entryPoints.internal.address).toBe(":9200");
    expect(doc.metrics.prometheus.entryPoint).toBe("internal");
    expect(doc.ping.entryPoint).toBe("internal");
  });

  it("GIVEN the default plan WHEN the static file is rendered THEN Prometheus gets entrypoint and service series (what dashboards and alerts read), not per-router ones", () => {
    const { prometheus } = staticDoc(plan()).metrics;
    expect(prometheus.addEntryPointsLabels).toBe(true);
    expect(prometheus.addServicesLabels).toBe(true);
    expect(prometheus.addRoutersLabels).toBe(false);
  });

  it("GIVEN the default options, then a dynamic file path and no watch WHEN the static file is rendered THEN the file provider points at that dynamic file", () => {
    expect(staticDoc(plan()).providers.file.filename).toBe("/etc/traefik/dynamic.yml");
    const doc = staticDoc(plan(), { dynamicFile: "/cfg/dyn.yml", watch: false });
    expect(doc.providers).toEqual({ file: { filename: "/cfg/dyn.yml", watch: false } });
  });

  it("GIVEN access logging on, then off WHEN the static file is rendered THEN the access log is JSON without headers, client identity or path, and absent when off", () => {
    const { accessLog } = staticDoc(plan());
    expect(accessLog.format).toBe("json");
    expect(accessLog.fields.headers.defaultMode).toBe("drop");
    for (const f of ["ClientAddr", "ClientHost", "ClientUsername", "RequestPath"]) {
      expect(accessLog.fields.names[f]).toBe("drop");
    }
    expect(staticDoc(plan({ accessLog: { enabled: false } })).accessLog).toBeUndefined();
  });

  it("GIVEN listen.address WHEN the static file is rendered THEN every entrypoint binds to it", () => {
    const doc = staticDoc(plan({ listen: { address: "127.0.0.1" } }));
    for (const ep of Object.values(doc.entryPoints) as Array<{ address: string }>) {
      expect(ep.address).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });
});

describe("renderTraefikDynamic: TLS", () => {
  it("GIVEN the default plan WHEN the dynamic file is rendered THEN TLS requires 1.2+ with ECDHE AEAD suites and strict SNI, with the plan's certificate", () => {
    const { tls } = dynamicDoc(plan());
    expect(tls.options.default.minVersion).toBe("VersionTLS12");
    expect(tls.options.default.sniStrict).toBe(true);
    for (const c of tls.options.default.cipherSuites as string[]) {
      expect(c).toMatch(
        /^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/,
      );
    }
    expect(tls.certificates).toEqual([{ certFile: "/certs/tls.crt", keyFile: "/certs/tls.key" }]);
  });

  it("GIVEN TLS min 1.3 and sniStrict off WHEN the dynamic file is rendered THEN there are no cipher suites and SNI is not strict", () => {
    const { tls } = dynamicDoc(
      plan({ tls: { certFile: "/c", keyFile: "/k", minVersion: "1.3", sniStrict: false } }),
    );
    expect(tls.options.default.minVersion).toBe("VersionTLS13");
    expect(tls.options.default.cipherSuites).toBeUndefined();
    expect(tls.options.default.sniStrict).toBe(false);
  });
});

describe("renderTraefikDynamic: routing", () => {
  it("GIVEN one domain, then two WHEN the dynamic file is rendered THEN each route's router matches its path under the Host rules on websecure", () => {
    const one = dynamicDoc(plan()).http.routers;
    expect(one.orders.rule).toBe("Host(`api.example.test`) && PathPrefix(`/orders/`)");
    expect(one.orders.entryPoints).toEqual(["websecure"]);
    expect(one.orders.service).toBe("orders");
    const two = dynamicDoc(plan({ domains: ["a.example.test", "b.example.test"] })).http.routers;
    expect(two.catalog.rule).toBe(
      "(Host(`a.example.test`) || Host(`b.example.test`)) && PathPrefix(`/catalog/`)",
    );
  });

  it("GIVEN a private and a public route, then cookie stripping off WHEN the dynamic file is rendered THEN routers chain rate limit, headers, breaker and retry, and strip cookies only on public routes when on", () => {
    const { routers } = dynamicDoc(plan()).http;
    expect(routers.orders.middlewares).toEqual([
      MW.rateLimit,
      MW.secureHeaders,
      MW.circuitBreaker,
      MW.retry,
    ]);
    expect(routers.catalog.middlewares).toEqual([
      MW.rateLimit,
      MW.secureHeaders,
      MW.stripCookie,
      MW.circuitBreaker,
      MW.retry,
    ]);
    const off = dynamicDoc(plan({ stripCookieOnPublic: false })).http;
    expect(off.routers.catalog.middlewares).not.toContain(MW.stripCookie);
    expect(off.middlewares[MW.stripCookie]).toBeUndefined();
  });

  it("GIVEN the dashboard on with a users file, off, or on without one WHEN the dynamic file is rendered THEN its router is on the internal entrypoint behind basic auth, absent, or refused", () => {
    const { http } = dynamicDoc(plan({ dashboard: { enabled: true, usersFile: "/auth/users" } }));
    const dash = http.routers["gw-dashboard"];
    expect(dash.entryPoints).toEqual(["internal"]);
    expect(dash.service).toBe("api@internal");
    expect(dash.middlewares).toEqual([MW.dashboardAuth]);
    expect(http.middlewares[MW.dashboardAuth]).toEqual({ basicAuth: { usersFile: "/auth/users" } });
    expect(dynamicDoc(plan()).http.routers["gw-dashboard"]).toBeUndefined();
    expect(() => renderTraefikDynamic(plan({ dashboard: { enabled: true } }))).toThrow(/usersFile/);
  });
});

describe("renderTraefikDynamic: middlewares", () => {
  it.each([
    [100, 50],
    [7, 0],
  ])(
    "GIVEN a rate limit of %i/s with burst %i WHEN the dynamic file is rendered THEN the middleware limits each client IP to it",
    (average, burst) => {
      const mw = dynamicDoc(plan({ rateLimit: { average, burst } })).http.middlewares;
      expect(mw[MW.rateLimit].rateLimit).toEqual({
        average,
        burst,
        period: "1s",
        sourceCriterion: { ipStrategy: { depth: 0 } },
      });
    },
  );

  it("GIVEN headers to strip WHEN the dynamic file is rendered THEN the headers middleware removes them and sets HSTS (preload off by default), and the cookie middleware removes Cookie", () => {
    const h = dynamicDoc(plan({ stripHeaders: ["X-Email", "X-Ssn"] })).http.middlewares[
      MW.secureHeaders
    ].headers;
    expect(h.customRequestHeaders).toEqual({ "X-Email": "", "X-Ssn": "" });
    expect(h.stsSeconds).toBe(31_536_000);
    expect(h.stsIncludeSubdomains).toBe(true);
    expect(h.stsPreload).toBe(false);
    const mw = dynamicDoc(plan()).http.middlewares;
    expect(mw[MW.stripCookie].headers.customRequestHeaders).toEqual({ Cookie: "" });
  });

  it("GIVEN a circuit breaker in the plan, then the default WHEN the dynamic file is rendered THEN the middleware takes the plan's settings, or the default expression", () => {
    const cb = dynamicDoc(
      plan({
        circuitBreaker: {
          expression: "NetworkErrorRatio() > 0.5",
          checkPeriodSeconds: 3,
          responseCode: 503,
        },
      }),
    ).http.middlewares[MW.circuitBreaker].circuitBreaker;
    expect(cb).toEqual({
      expression: "NetworkErrorRatio() > 0.5",
      checkPeriod: "3s",
      fallbackDuration: "10s",
      recoveryDuration: "10s",
      responseCode: 503,
    });
    const dflt = dynamicDoc(plan()).http.middlewares[MW.circuitBreaker].circuitBreaker;
    expect(dflt.expression).toBe(
      "NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25",
    );
    expect(dflt.responseCode).toBeUndefined();
  });

  it("GIVEN 3 retry attempts, then 0 WHEN the dynamic file is rendered THEN it retries with backoff, or has no retry middleware at all", () => {
    const on = dynamicDoc(plan({ retry: { attempts: 3, initialIntervalMs: 50 } })).http;
    expect(on.middlewares[MW.retry]).toEqual({ retry: { attempts: 3, initialInterval: "50ms" } });
    const off = dynamicDoc(plan({ retry: { attempts: 0 } })).http;
    expect(off.middlewares[MW.retry]).toBeUndefined();
    expect(off.routers.orders.middlewares).not.toContain(MW.retry);
  });
});

describe("renderTraefikDynamic: services", () => {
  it("GIVEN upstream keepalive and timeouts WHEN the dynamic file is rendered THEN services load-balance the servers with keepalive, timeouts bounded by the route budget and the read timeout, and health checks", () => {
    const { services, serversTransports } = dynamicDoc(
      plan({
        upstream: {
          keepalive: 32,
          connectTimeoutMs: 700,
          readTimeoutMs: 5000,
          keepaliveTimeoutSeconds: 45,
        },
      }),
    ).http;
    expect(services.orders.loadBalancer).toEqual({
      servers: [{ url: "http://10.0.0.5:8080" }, { url: "http://[fd00::5]:8080" }],
      passHostHeader: true,
      serversTransport: "orders",
      passiveHealthCheck: { maxFailedAttempts: 3, failureWindow: "10s" },
    });
    expect(serversTransports.orders).toEqual({
      maxIdleConnsPerHost: 32,
      forwardingTimeouts: {
        dialTimeout: "700ms",
        responseHeaderTimeout: "800ms",
        idleConnTimeout: "45s",
      },
    });
    // Budget above the read timeout: the read timeout wins.
    expect(serversTransports.catalog.forwardingTimeouts.responseHeaderTimeout).toBe("5000ms");
    expect(services.catalog.loadBalancer.healthCheck).toEqual({
      path: "/healthz",
      interval: "10s",
      timeout: "700ms",
    });
  });

  it("GIVEN a domain that could break out of the Host rule, or an http port on the metrics port WHEN rendered THEN the plan is refused before rendering", () => {
    expect(() => renderTraefikDynamic(plan({ domains: ["bad`) || Host(`x"] }))).toThrow(/domains/);
    expect(() => renderTraefikStatic(plan({ listen: { http: 9100 } }))).toThrow(
      /ports must differ/,
    );
  });
});

describe("renderTraefikDynamic without headers to strip", () => {
  it("GIVEN no headers to strip WHEN the dynamic file is rendered THEN customRequestHeaders is left out (Traefik rejects an empty map)", () => {
    const dynamic = parse(renderTraefikDynamic({ ...plan(), stripHeaders: [] }));
    const headers = Object.values(
      dynamic.http.middlewares as Record<string, { headers?: Record<string, unknown> }>,
    )
      .map((mw) => mw.headers)
      .filter(
        (h): h is Record<string, unknown> =>
          h !== undefined && !("Cookie" in ((h.customRequestHeaders as object) ?? {})),
      );
    expect(headers.length).toBeGreaterThan(0);
    for (const h of headers) expect(h).not.toHaveProperty("customRequestHeaders");
  });
});
