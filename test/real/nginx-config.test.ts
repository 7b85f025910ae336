/**
 * The rendered nginx.conf against Debian's real nginx: `nginx -t` for several plan variants, then
 * live instances on loopback checked over real TLS (HSTS, redirect, protocol floor, SNI
 * strictness, header hygiene, upstream keepalive, rate limiting, PII-free access log).
 */
import * as http from "http";
import * as https from "https";
import type { AddressInfo, Socket } from "net";
import * as tls from "tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  makeGatewayPlan,
  type GatewayPlan,
  type GatewayPlanInput,
} from "../../components/plan/gateway";
import {
  checkNginxConf,
  ensureNginx,
  nginxConfForPlan,
  startNginx,
  tlsFiles,
  type NginxContext,
  type NginxInstance,
} from "../../testkit/nginx";
import { makeTempDir, removeDir } from "../../testkit/proc";
import { createTestTls, type TestCert } from "../../testkit/tls";

const DOMAIN = "api.example.test";

function variant(routes: number, over: Partial<GatewayPlanInput>, upstreamPort = 9): GatewayPlan {
  const names = ["orders", "catalog", "accounts"].slice(0, routes);
  return makeGatewayPlan({
    kind: "nginx",
    domains: [DOMAIN],
    tls: { certFile: "tls/server.crt", keyFile: "tls/server.key" },
    routes: names.map((n, i) => ({
      name: n,
      path: `/${n}/`,
      public: i === 1,
      upstream: n,
      budgetMs: 2000,
    })),
    upstreams: names.map((n) => ({
      name: n,
      servers: [{ host: "127.0.0.1", port: upstreamPort }],
    })),
    ...over,
  });
}

const VARIANTS: Array<[string, GatewayPlan]> = [
  ["1 route, TLS 1.2+, 100/50", variant(1, {})],
  [
    "3 routes, TLS 1.3, 10/5, stripped headers",
    variant(3, {
      tls: { certFile: "x", keyFile: "x", minVersion: "1.3" },
      rateLimit: { average: 10, burst: 5 },
      stripHeaders: ["X-Email"],
    }),
  ],
  [
    "3 routes, lax SNI, 1000/0, tickets, no access log, 2 domains, resolver",
    variant(3, {
      domains: [DOMAIN, "www.example.test"],
      tls: {
        certFile: "x",
        keyFile: "x",
        sniStrict: false,
        // Relative paths resolve against the config's directory, the launcher's prefix.
        sessionTicketKeyFiles: ["tls/ticket.key"],
      },
      rateLimit: { average: 1000, burst: 0 },
      accessLog: { enabled: false },
      resolver: "127.0.0.11",
    }),
  ],
];

let cert: TestCert;
let pkiDir: string;

beforeAll(() => {
  ensureNginx();
  pkiDir = makeTempDir("fjord-pki-");
  cert = createTestTls(pkiDir, { dnsNames: [DOMAIN, "www.example.test"] }).cert;
});
afterAll(() => removeDir(pkiDir));

describe("nginx -t accepts the rendered config", () => {
  it.each(VARIANTS)(
    "GIVEN the nginx.conf rendered for %s WHEN nginx -t checks it THEN it passes",
    async (_label, plan) => {
      // 80 bytes: nginx takes 48- or 80-byte ticket keys and refuses any other size.
      const files = { ...tlsFiles(cert), "tls/ticket.key": "k".repeat(80) };
      await checkNginxConf({ confText: nginxConfForPlan(plan), files });
    },
  );

  it("GIVEN the first variant's nginx.conf with limit_req_status broken WHEN nginx -t checks it THEN it fails naming limit_req_status, so the check above means something", async () => {
    const broken = (ctx: NginxContext) =>
      nginxConfForPlan(VARIANTS[0]![1])(ctx).replace("limit_req_status 429;", "limit_req_status;");
    await expect(checkNginxConf({ confText: broken, files: tlsFiles(cert) })).rejects.toThrow(
      /limit_req_status/,
    );
  });
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function send(mod: typeof http | typeof https, opts: https.RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: "127.0.0.1", agent: false, timeout: 5000, ...opts }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

const get = (
  gw: NginxInstance,
  urlPath: string,
  headers: Record<string, string> = {},
  extra: https.RequestOptions = {},
) =>
  send(https, {
    port: gw.httpsPort,
    path: urlPath,
    servername: DOMAIN,
    ca: cert.caPem,
    headers: { host: DOMAIN, ...headers },
    ...extra,
  });

function handshake(
  port: number,
  opts: tls.ConnectionOptions,
): Promise<{ protocol: string | null; cipher: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca: cert.caPem, ...opts }, () => {
      const out = { protocol: s.getProtocol(), cipher: s.getCipher().name };
      s.end();
      resolve(out);
    });
    s.on("error", reject);
  });
}

/** Upstream that echoes what nginx sent it, and counts TCP connections (keepalive check). */
async function echoServer(): Promise<{
  port: number;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const srv = http.createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ url: req.url, httpVersion: req.httpVersion, headers: req.headers }));
  });
  srv.on("connection", (_s: Socket) => connections++);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

describe.each([
  ["TLS 1.2+", "1.2" as const],
  ["TLS 1.3 only", "1.3" as const],
])("live nginx (%s)", (_label, minVersion) => {
  let gw: NginxInstance;
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let plan: GatewayPlan;

  beforeAll(async () => {
    echo = await echoServer();
    plan = variant(
      3,
      {
        tls: { certFile: "x", keyFile: "x", minVersion, hstsMaxAgeSeconds: 600 },
        rateLimit: { average: 5, burst: 3 },
        stripHeaders: ["X-Email"],
      },
      echo.port,
    );
    gw = await startNginx({ confText: nginxConfForPlan(plan), files: tlsFiles(cert) });
  });
  afterAll(async () => {
    await gw?.stop();
    await echo?.close();
  });

  it("GIVEN live nginx with HSTS at 600 s WHEN an unknown path is requested THEN the 404 carries HSTS and a Server header without the version", async () => {
    const r = await get(gw, "/nowhere");
    expect(r.status).toBe(404);
    expect(r.headers["strict-transport-security"]).toBe("max-age=600; includeSubDomains");
    expect(r.headers.server).toBe("nginx");
  });

  it("GIVEN live nginx WHEN plain HTTP asks for a path with a query THEN it answers 301 to the HTTPS port, keeping path and query", async () => {
    const r = await send(http, {
      port: gw.httpPort,
      path: "/orders/1?x=2",
      headers: { host: DOMAIN },
    });
    expect(r.status).toBe(301);
    expect(r.headers.location).toBe(`https://${DOMAIN}:${gw.httpsPort}/orders/1?x=2`);
  });

  it("GIVEN live nginx WHEN a client names a host it does not serve, over HTTP and in the TLS SNI THEN both are refused", async () => {
    await expect(
      send(http, { port: gw.httpPort, path: "/", headers: { host: "evil.test" } }),
    ).rejects.toThrow();
    await expect(
      handshake(gw.httpsPort, { servername: "evil.test", rejectUnauthorized: false }),
    ).rejects.toThrow();
  });

  it("GIVEN live nginx with its TLS floor WHEN clients handshake at TLS 1.3 and at TLS 1.2 THEN 1.3 is negotiated; over a 1.3 floor 1.2 is refused, and over a 1.2 floor 1.2 gets an ECDHE AEAD suite while an offer of weak ciphers only is refused", async () => {
    const tls13 = await handshake(gw.httpsPort, { servername: DOMAIN });
    expect(tls13.protocol).toBe("TLSv1.3");
    const tls12 = handshake(gw.httpsPort, { servername: DOMAIN, maxVersion: "TLSv1.2" });
    if (minVersion === "1.3") {
      await expect(tls12).rejects.toThrow();
    } else {
      const r = await tls12;
      expect(r.protocol).toBe("TLSv1.2");
      expect(r.cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
      await expect(
        handshake(gw.httpsPort, {
          servername: DOMAIN,
          maxVersion: "TLSv1.2",
          ciphers: "AES128-SHA:DES-CBC3-SHA",
        }),
      ).rejects.toThrow();
    }
  });

  it("GIVEN live nginx stripping X-Email WHEN a private and a public route get spoofed forwarding headers, X-Email and a Cookie THEN the private route gets the client's own address, a request id and the Cookie, and neither route gets X-Email nor the public one the Cookie", async () => {
    const h = { "x-forwarded-for": "6.6.6.6", "x-email": "a@b.test", cookie: "sid=secret" };
    const priv = JSON.parse((await get(gw, "/orders/1", h)).body);
    expect(priv.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(priv.headers["x-real-ip"]).toBe("127.0.0.1");
    expect(priv.headers["x-email"]).toBeUndefined();
    expect(priv.headers.cookie).toBe("sid=secret");
    expect(priv.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    const pub = JSON.parse((await get(gw, "/catalog/1", h)).body);
    expect(pub.headers.cookie).toBeUndefined();
    expect(pub.headers["x-email"]).toBeUndefined();
  });

  it("GIVEN live nginx and an upstream counting connections WHEN three requests go through one after another THEN they arrive as HTTP/1.1 without Connection: close over at most one new connection", async () => {
    const before = echo.connections();
    for (let i = 0; i < 3; i++) {
      const body = JSON.parse((await get(gw, "/accounts/")).body);
      expect(body.httpVersion).toBe("1.1");
      expect(body.headers.connection).toBeUndefined();
      await new Promise((r) => setTimeout(r, 250)); // stay under the 5 r/s limit
    }
    expect(echo.connections() - before).toBeLessThanOrEqual(1);
  });

  it("GIVEN live nginx limiting a client to 5 r/s with a burst of 3 WHEN 20 requests arrive at once THEN 1 to 5 get 200 and at least 14 get 429", async () => {
    await new Promise((r) => setTimeout(r, 1500)); // let the bucket drain from earlier tests
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => get(gw, "/orders/").then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1 + 3 + 1);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(14);
  });

  it("GIVEN live nginx WHEN its internal port is asked for /healthz and /stub_status THEN it answers ok and the connection status", async () => {
    expect((await send(http, { port: gw.metricsPort, path: "/healthz" })).body).toBe("ok\n");
    const status = await send(http, { port: gw.metricsPort, path: "/stub_status" });
    expect(status.status).toBe(200);
    expect(status.body).toMatch(/Active connections/);
  });

  it("GIVEN live nginx with every earlier log line flushed WHEN a request with a cookie, a token and an email in its query is served THEN its JSON line waits in the buffer, reaches the file within 2 s, and no line holds the client IP, the cookie, the token or the query", async () => {
    // GIVEN every earlier line flushed (the buffer's timer is at most 1 s)
    await new Promise((r) => setTimeout(r, 1100));
    const before = gw.accessLog().length;
    // WHEN one request is served
    await get(gw, "/orders/42?email=a@b.test", {
      cookie: "sid=secret",
      authorization: "Bearer t0k",
    });
    // THEN its line waits in the buffer (no write per request), and reaches the file within the flush time
    expect(gw.accessLog().length).toBe(before);
    const t0 = Date.now();
    while (gw.accessLog().length === before && Date.now() - t0 < 3000)
      await new Promise((r) => setTimeout(r, 50));
    expect(Date.now() - t0).toBeLessThan(2000);
    const lines = gw.accessLog();
    expect(lines.length).toBeGreaterThan(0);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const hit = entries.find((e) => e.path === "/orders/42");
    expect(hit).toMatchObject({ route: "orders", method: "GET", status: 200 });
    for (const e of entries) expect(Object.values(e)).not.toContain("127.0.0.1");
    const all = lines.join("\n");
    for (const pii of ["sid=secret", "t0k", "email=", "a@b.test"]) expect(all).not.toContain(pii);
  });
});
