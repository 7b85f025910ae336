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
  it("never enables the insecure API, and keeps the dashboard off by default", () => {
    for (const dashboard of [{ enabled: false }, { enabled: true, usersFile: "/auth/users" }]) {
      const text = renderTraefikStatic(plan({ dashboard }));
      expect(text).not.toMatch(/insecure:\s*true/);
      const doc = parse(text);
      if (dashboard.enabled) expect(doc.api).toEqual({ dashboard: true, insecure: false });
      else expect(doc.api).toBeUndefined();
    }
  });

  it("opts out of phoning home", () => {
    expect(staticDoc(plan()).global).toEqual({ checkNewVersion: false, sendAnonymousUsage: false });
  });

  it("redirects web to the public https port permanently", () => {
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

  it.each([true, false])("http3=%s toggles the websecure http3 block", (http3) => {
    const doc = staticDoc(plan({ http3, listen: { publicHttpsPort: 4443 } }));
    if (http3) expect(doc.entryPoints.websecure.http3).toEqual({ advertisedPort: 4443 });
    else expect(doc.entryPoints.websecure.http3).toBeUndefined();
  });

  it("exposes metrics and ping on the internal entrypoint only", () => {
    const doc = staticDoc(plan({ metrics: { port: 9200 } }));
    expect(doc.entryPoints.internal.address).toBe(":9200");
    expect(doc.metrics.prometheus.entryPoint).toBe("internal");
    expect(doc.ping.entryPoint).toBe("internal");
  });

  it("records entrypoint and service series (what dashboards and alerts read), not per-router ones", () => {
    const { prometheus } = staticDoc(plan()).metrics;
    expect(prometheus.addEntryPointsLabels).toBe(true);
    expect(prometheus.addServicesLabels).toBe(true);
    expect(prometheus.addRoutersLabels).toBe(false);
  });

  it("points the file provider at the dynamic file", () => {
    expect(staticDoc(plan()).providers.file.filename).toBe("/etc/traefik/dynamic.yml");
    const doc = staticDoc(plan(), { dynamicFile: "/cfg/dyn.yml", watch: false });
    expect(doc.providers).toEqual({ file: { filename: "/cfg/dyn.yml", watch: false } });
  });

  it("logs JSON without headers or client identity", () => {
    const { accessLog } = staticDoc(plan());
    expect(accessLog.format).toBe("json");
    expect(accessLog.fields.headers.defaultMode).toBe("drop");
    for (const f of ["ClientAddr", "ClientHost", "ClientUsername", "RequestPath"]) {
      expect(accessLog.fields.names[f]).toBe("drop");
    }
    expect(staticDoc(plan({ accessLog: { enabled: false } })).accessLog).toBeUndefined();
  });

  it("binds to listen.address when given", () => {
    const doc = staticDoc(plan({ listen: { address: "127.0.0.1" } }));
    for (const ep of Object.values(doc.entryPoints) as Array<{ address: string }>) {
      expect(ep.address).toMatch(/^127\.0\.0\.1:\d+$/);
    }
  });
});

describe("renderTraefikDynamic: TLS", () => {
  it("requires TLS 1.2+ with ECDHE AEAD suites and strict SNI", () => {
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

  it("drops 1.2 cipher suites when min is 1.3", () => {
    const { tls } = dynamicDoc(
      plan({ tls: { certFile: "/c", keyFile: "/k", minVersion: "1.3", sniStrict: false } }),
    );
    expect(tls.options.default.minVersion).toBe("VersionTLS13");
    expect(tls.options.default.cipherSuites).toBeUndefined();
    expect(tls.options.default.sniStrict).toBe(false);
  });
});

describe("renderTraefikDynamic: routing", () => {
  it("routes each path under the Host rules", () => {
    const one = dynamicDoc(plan()).http.routers;
    expect(one.orders.rule).toBe("Host(`api.example.test`) && PathPrefix(`/orders/`)");
    expect(one.orders.entryPoints).toEqual(["websecure"]);
    expect(one.orders.service).toBe("orders");
    const two = dynamicDoc(plan({ domains: ["a.example.test", "b.example.test"] })).http.routers;
    expect(two.catalog.rule).toBe(
      "(Host(`a.example.test`) || Host(`b.example.test`)) && PathPrefix(`/catalog/`)",
    );
  });

  it("chains rate limit, headers, breaker and retry; strips cookies only on public routes", () => {
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

  it("builds a dashboard router on the internal entrypoint behind basic auth", () => {
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
  ])("rate limits %i/s burst %i per client IP", (average, burst) => {
    const mw = dynamicDoc(plan({ rateLimit: { average, burst } })).http.middlewares;
    expect(mw[MW.rateLimit].rateLimit).toEqual({
      average,
      burst,
      period: "1s",
      sourceCriterion: { ipStrategy: { depth: 0 } },
    });
  });

  it("removes configured headers and sets HSTS (preload off by default)", () => {
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

  it("configures the circuit breaker from the plan", () => {
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

  it("retries with backoff, or not at all when attempts is 0", () => {
    const on = dynamicDoc(plan({ retry: { attempts: 3, initialIntervalMs: 50 } })).http;
    expect(on.middlewares[MW.retry]).toEqual({ retry: { attempts: 3, initialInterval: "50ms" } });
    const off = dynamicDoc(plan({ retry: { attempts: 0 } })).http;
    expect(off.middlewares[MW.retry]).toBeUndefined();
    expect(off.routers.orders.middlewares).not.toContain(MW.retry);
  });
});

describe("renderTraefikDynamic: services", () => {
  it("load-balances the upstream servers with keepalive and bounded timeouts", () => {
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

  it("rejects invalid plans before rendering", () => {
    expect(() => renderTraefikDynamic(plan({ domains: ["bad`) || Host(`x"] }))).toThrow(/domains/);
    expect(() => renderTraefikStatic(plan({ listen: { http: 9100 } }))).toThrow(
      /ports must differ/,
    );
  });
});

describe("renderTraefikDynamic without headers to strip", () => {
  it("leaves customRequestHeaders out (Traefik rejects an empty map)", () => {
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
