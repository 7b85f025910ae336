import { describe, expect, it } from "vitest";
import { defaultGatewaySettings, makeGatewayPlan } from "../../../components/plan/gateway";
import type { GatewayPlan, GatewayPlanInput } from "../../../components/plan/gateway";
import { renderNginxConf } from "../../../components/plan/gateway";
import {
  nginxBlocks,
  nginxDirectives,
  parseNginx,
  type NginxDirective,
} from "../../../lib/parse/nginx";

function plan(over: Partial<GatewayPlanInput> = {}): GatewayPlan {
  return makeGatewayPlan({
    kind: "nginx",
    domains: ["api.example.test"],
    tls: { certFile: "/etc/gw/tls.crt", keyFile: "/etc/gw/tls.key" },
    routes: [
      { name: "orders", path: "/orders/", public: false, upstream: "orders", budgetMs: 800 },
      { name: "catalog", path: "/catalog/", public: true, upstream: "catalog", budgetMs: 20_000 },
    ],
    upstreams: [
      {
        name: "orders",
        servers: [
          { host: "10.0.0.5", port: 8080 },
          { host: "10.0.0.6", port: 8080 },
        ],
      },
      { name: "catalog", servers: [{ host: "catalog", port: 3000 }] },
    ],
    ...over,
  });
}

const children = (d: NginxDirective) => d.children ?? [];
const args = (block: NginxDirective, name: string) =>
  children(block)
    .filter((d) => d.name === name)
    .map((d) => d.args);
const serversListening = (conf: string, port: number) =>
  nginxBlocks(conf, "server", () => true).filter((s) =>
    args(s, "listen").some((a) => a[0] === String(port)),
  );
const mainServer = (conf: string, p: GatewayPlan) =>
  nginxBlocks(conf, "server").find(
    (s) => args(s, "server_name")[0]?.[0] === p.domains[0] && args(s, "listen")[0]?.includes("ssl"),
  )!;
const location = (conf: string, path: string) =>
  nginxBlocks(conf, "location", (a) => a[0] === path)[0]!;

describe("defaults", () => {
  it("carries the seed defaults", () => {
    const s = defaultGatewaySettings;
    expect(s.rateLimit).toEqual({ average: 100, burst: 50 });
    expect(s.upstream.keepalive).toBe(64);
    expect(s.tls.minVersion).toBe("1.2");
    expect(s.tls.hstsMaxAgeSeconds).toBe(31_536_000);
    expect(s.upstream.maxFails).toBe(3);
    expect(s.upstream.failTimeoutSeconds).toBe(10);
    expect(s.circuitBreaker.expression).toContain("NetworkErrorRatio()");
  });

  it("GIVEN overrides of one rate-limit field and of stripHeaders WHEN planned THEN objects merge deeply, arrays are replaced, and the defaults are left unchanged", () => {
    const p = plan({ rateLimit: { burst: 7 }, stripHeaders: ["X-Email"] });
    expect(p.rateLimit).toEqual({ average: 100, burst: 7 });
    expect(p.stripHeaders).toEqual(["X-Email"]);
    expect(defaultGatewaySettings.rateLimit.burst).toBe(50);
  });
});

describe("renderNginxConf: TLS", () => {
  it.each([
    ["1.2", ["TLSv1.2", "TLSv1.3"]],
    ["1.3", ["TLSv1.3"]],
  ] as const)(
    "GIVEN TLS min version %s WHEN rendered THEN ssl_protocols is exactly %j",
    (minVersion, expected) => {
      const conf = renderNginxConf(plan({ tls: { certFile: "/c", keyFile: "/k", minVersion } }));
      expect(nginxDirectives(conf, "ssl_protocols")).toEqual([expected]);
    },
  );

  it("GIVEN the default plan WHEN rendered THEN ssl_ciphers lists only ECDHE AEAD ciphers", () => {
    const [[list]] = nginxDirectives(renderNginxConf(plan()), "ssl_ciphers") as [[string]];
    const ciphers = list.split(":");
    expect(ciphers.length).toBeGreaterThan(0);
    for (const c of ciphers) {
      expect(c).toMatch(/^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/);
      expect(c).not.toMatch(/CBC|RC4|3DES|DES-|MD5|NULL|EXPORT|aNULL|PSK/);
    }
  });

  it("GIVEN a plan without and with ticket key files WHEN rendered THEN server ciphers are preferred, sessions are cached in shared memory, and tickets are on only with the keys", () => {
    const conf = renderNginxConf(plan());
    expect(nginxDirectives(conf, "ssl_prefer_server_ciphers")).toEqual([["on"]]);
    expect(nginxDirectives(conf, "ssl_session_cache")[0]![0]).toMatch(/^shared:/);
    expect(nginxDirectives(conf, "ssl_session_tickets")).toEqual([["off"]]);
    const on = renderNginxConf(
      plan({
        tls: { certFile: "/c", keyFile: "/k", sessionTicketKeyFiles: ["/t"] },
      }),
    );
    expect(nginxDirectives(on, "ssl_session_tickets")).toEqual([["on"]]);
  });

  it("GIVEN the default plan WHEN rendered THEN the main server listens with ssl http2 (1.22 syntax) and uses the plan's cert paths", () => {
    const p = plan();
    const conf = renderNginxConf(p);
    const s = mainServer(conf, p);
    expect(args(s, "listen")).toEqual([["8443", "ssl", "http2"]]);
    expect(args(s, "ssl_certificate")).toEqual([["/etc/gw/tls.crt"]]);
    expect(args(s, "ssl_certificate_key")).toEqual([["/etc/gw/tls.key"]]);
    expect(nginxDirectives(conf, "http2")).toEqual([]);
  });

  it("GIVEN default and custom HSTS settings WHEN rendered THEN the main server always sends HSTS with the plan's values", () => {
    const p = plan();
    expect(args(mainServer(renderNginxConf(p), p), "add_header")).toEqual([
      ["Strict-Transport-Security", "max-age=31536000; includeSubDomains", "always"],
    ]);
    const q = plan({
      tls: {
        certFile: "/c",
        keyFile: "/k",
        hstsMaxAgeSeconds: 600,
        hstsIncludeSubdomains: false,
        hstsPreload: true,
      },
    });
    expect(args(mainServer(renderNginxConf(q), q), "add_header")[0]).toEqual([
      "Strict-Transport-Security",
      "max-age=600; preload",
      "always",
    ]);
  });

  it("GIVEN sniStrict on and off WHEN rendered THEN unknown SNI / Host is rejected when on, and the main server is the default when off", () => {
    const strict = renderNginxConf(plan());
    expect(nginxDirectives(strict, "ssl_reject_handshake")).toEqual([["on"]]);
    expect(nginxDirectives(strict, "return")).toContainEqual(["444"]);
    const p = plan({ tls: { certFile: "/c", keyFile: "/k", sniStrict: false } });
    const loose = renderNginxConf(p);
    expect(nginxDirectives(loose, "ssl_reject_handshake")).toEqual([]);
    expect(args(mainServer(loose, p), "listen")[0]).toContain("default_server");
  });
});

describe("renderNginxConf: plain HTTP and internal port", () => {
  it("GIVEN the default plan WHEN rendered THEN the domain's server on the http port only redirects to https, with no proxy_pass or location", () => {
    const conf = renderNginxConf(plan());
    const [redirect] = serversListening(conf, 8080).filter(
      (s) => args(s, "server_name")[0]?.[0] !== "_",
    );
    expect(args(redirect!, "return")).toEqual([["301", "https://$host$request_uri"]]);
    expect(nginxDirectives(children(redirect!), "proxy_pass")).toEqual([]);
    expect(nginxDirectives(children(redirect!), "location")).toEqual([]);
  });

  it("GIVEN a public https port of 8443 WHEN rendered THEN the redirect names that port", () => {
    const conf = renderNginxConf(
      plan({ listen: { http: 8080, https: 8443, publicHttpsPort: 8443 } }),
    );
    expect(nginxDirectives(conf, "return")).toContainEqual([
      "301",
      "https://$host:8443$request_uri",
    ]);
  });

  it("GIVEN a metrics port and allowed CIDRs WHEN rendered THEN stub_status is served only on that port, to those CIDRs", () => {
    const conf = renderNginxConf(plan({ metrics: { port: 9913, allowCidrs: ["127.0.0.1"] } }));
    const [m] = serversListening(conf, 9913);
    expect(m).toBeDefined();
    const status = nginxBlocks(
      children(m!),
      "location",
      (a) => a.join(" ") === "= /stub_status",
    )[0]!;
    expect(args(status, "stub_status")).toEqual([[]]);
    expect(args(status, "allow")).toEqual([["127.0.0.1"]]);
    expect(args(status, "deny")).toEqual([["all"]]);
    expect(nginxDirectives(conf, "stub_status")).toHaveLength(1);
  });

  it("GIVEN listen.address WHEN rendered THEN every listen binds to it", () => {
    const conf = renderNginxConf(plan({ listen: { address: "127.0.0.1" } }));
    for (const [a] of nginxDirectives(conf, "listen")) expect(a).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

describe("renderNginxConf: rate limiting", () => {
  it.each([
    [100, 50],
    [5, 0],
    [1000, 2000],
  ])(
    "GIVEN a rate limit of average %i and burst %i WHEN rendered THEN limit_req_zone and limit_req carry them and excess answers 429",
    (average, burst) => {
      const conf = renderNginxConf(plan({ rateLimit: { average, burst } }));
      expect(nginxDirectives(conf, "limit_req_zone")).toEqual([
        ["$binary_remote_addr", "zone=gw_per_ip:10m", `rate=${average}r/s`],
      ]);
      const burstArg = burst > 0 ? [`burst=${burst}`] : []; // nginx refuses burst=0
      expect(nginxDirectives(conf, "limit_req")).toEqual([
        ["zone=gw_per_ip", ...burstArg, "nodelay"],
      ]);
      expect(nginxDirectives(conf, "limit_req_status")).toEqual([["429"]]);
    },
  );
});

describe("renderNginxConf: upstreams", () => {
  it("GIVEN upstream keepalive and failure settings WHEN rendered THEN the upstream block keeps connections alive with those values over HTTP/1.1", () => {
    const conf = renderNginxConf(
      plan({
        upstream: {
          keepalive: 16,
          keepaliveRequests: 500,
          keepaliveTimeoutSeconds: 30,
          maxFails: 5,
          failTimeoutSeconds: 7,
        },
      }),
    );
    const orders = nginxBlocks(conf, "upstream", (a) => a[0] === "up_orders")[0]!;
    expect(args(orders, "keepalive")).toEqual([["16"]]);
    expect(args(orders, "keepalive_requests")).toEqual([["500"]]);
    expect(args(orders, "keepalive_timeout")).toEqual([["30s"]]);
    expect(args(orders, "server")).toEqual([
      ["10.0.0.5:8080", "max_fails=5", "fail_timeout=7s"],
      ["10.0.0.6:8080", "max_fails=5", "fail_timeout=7s"],
    ]);
    expect(args(orders, "zone")).toEqual([["up_orders", "64k"]]);
    expect(nginxDirectives(conf, "proxy_http_version")).toEqual([["1.1"]]);
  });

  it("GIVEN upstream timeouts and a retry count WHEN rendered THEN the main server bounds timeouts and retries with them", () => {
    const p = plan({
      upstream: {
        connectTimeoutMs: 500,
        sendTimeoutMs: 3000,
        readTimeoutMs: 5000,
        nextUpstreamTries: 3,
      },
    });
    const s = mainServer(renderNginxConf(p), p);
    expect(args(s, "proxy_connect_timeout")).toEqual([["500ms"]]);
    expect(args(s, "proxy_send_timeout")).toEqual([["3000ms"]]);
    expect(args(s, "proxy_read_timeout")).toEqual([["5000ms"]]);
    expect(args(s, "proxy_next_upstream")).toEqual([
      ["error", "timeout", "http_502", "http_503", "http_504"],
    ]);
    expect(args(s, "proxy_next_upstream_tries")).toEqual([["3"]]);
  });
});

describe("renderNginxConf: routes and headers", () => {
  it("GIVEN two routes WHEN rendered THEN each gets one location, its timeouts bounded by its budget, plus a catch-all /", () => {
    const conf = renderNginxConf(plan());
    const orders = location(conf, "/orders/");
    expect(args(orders, "proxy_pass")).toEqual([["http://up_orders"]]);
    expect(args(orders, "proxy_next_upstream_timeout")).toEqual([["800ms"]]);
    expect(args(orders, "proxy_read_timeout")).toEqual([["800ms"]]);
    expect(args(location(conf, "/catalog/"), "proxy_read_timeout")).toEqual([["10000ms"]]);
    const paths = nginxDirectives(conf, "location").map((a) => a.join(" "));
    expect(paths.filter((p) => p === "/orders/" || p === "/catalog/")).toHaveLength(2);
    expect(paths).toContain("/");
  });

  it("GIVEN a route that owns / WHEN rendered THEN no catch-all is added", () => {
    const conf = renderNginxConf(
      plan({
        routes: [{ name: "root", path: "/", public: true, upstream: "orders", budgetMs: 500 }],
      }),
    );
    const locs = nginxBlocks(conf, "location", (a) => a[0] === "/");
    expect(locs).toHaveLength(2); // route + metrics-port 404
    expect(args(locs[0]!, "proxy_pass")).toEqual([["http://up_orders"]]);
  });

  it("GIVEN the default plan WHEN rendered THEN a route sets X-Forwarded-For and X-Real-IP to the client, blanks Forwarded, and clears Connection so upstream connections stay reusable", () => {
    const orders = location(renderNginxConf(plan()), "/orders/");
    const set = Object.fromEntries(args(orders, "proxy_set_header").map(([h, v]) => [h, v]));
    expect(set["X-Forwarded-For"]).toBe("$remote_addr");
    expect(set["X-Real-IP"]).toBe("$remote_addr");
    expect(set["Connection"]).toBe("");
    expect(set["Forwarded"]).toBe("");
  });

  it.each([
    [true, ["X-Email", "X-Ssn"], { "/orders/": false, "/catalog/": true }],
    [false, ["X-Email"], { "/orders/": false, "/catalog/": false }],
  ] as const)(
    "GIVEN stripCookieOnPublic=%s and stripHeaders %j WHEN rendered THEN every route blanks those headers, and Cookie only on public routes when on",
    (stripCookieOnPublic, stripHeaders, cookieStripped) => {
      const conf = renderNginxConf(plan({ stripCookieOnPublic, stripHeaders: [...stripHeaders] }));
      for (const [path, stripped] of Object.entries(cookieStripped)) {
        const blanked = args(location(conf, path), "proxy_set_header")
          .filter(([, v]) => v === "")
          .map(([h]) => h);
        for (const h of stripHeaders) expect(blanked).toContain(h);
        expect(blanked.includes("Cookie")).toBe(stripped);
      }
    },
  );
});

describe("renderNginxConf: logging and process", () => {
  it("GIVEN the default plan WHEN rendered THEN the version is hidden and the access log is buffered JSON without PII", () => {
    const conf = renderNginxConf(plan());
    expect(nginxDirectives(conf, "server_tokens")).toEqual([["off"]]);
    const [fmt] = nginxDirectives(conf, "log_format");
    expect(fmt!.slice(0, 2)).toEqual(["gw_json", "escape=json"]);
    const json = fmt![2]!;
    expect(JSON.parse(json.replace(/\$\w+/g, "0"))).toHaveProperty("status");
    for (const pii of [
      "$http_cookie",
      "$http_authorization",
      "$remote_addr",
      "$request_uri",
      "$args",
      "$query_string",
      "$http_user_agent",
      "$http_x_forwarded_for",
    ]) {
      expect(json).not.toContain(pii);
    }
    expect(nginxDirectives(conf, "access_log")).toContainEqual([
      "/dev/stdout",
      "gw_json",
      "buffer=4k",
      "flush=1s",
    ]);
  });

  it("GIVEN access logging disabled WHEN rendered THEN access_log is off in the http block", () => {
    const conf = renderNginxConf(plan({ accessLog: { enabled: false } }));
    expect(
      nginxDirectives(parseNginx(conf).find((d) => d.name === "http")!.children!, "access_log")[0],
    ).toEqual(["off"]);
  });

  it("GIVEN render options for pid, temp dir, error log, user and workers, or none WHEN rendered THEN every writable path is where the options say, or under /tmp by default", () => {
    const conf = renderNginxConf(plan(), {
      pidFile: "/run/x.pid",
      tempDir: "/var/tmp/gw",
      errorLog: "/log/e",
      user: "nginx",
      workerProcesses: 2,
    });
    expect(nginxDirectives(conf, "pid")).toEqual([["/run/x.pid"]]);
    expect(nginxDirectives(conf, "error_log")).toEqual([["/log/e", "warn"]]);
    expect(nginxDirectives(conf, "user")).toEqual([["nginx"]]);
    expect(nginxDirectives(conf, "proxy_temp_path")).toEqual([["/var/tmp/gw/nginx_proxy_temp"]]);
    expect(nginxDirectives(conf, "client_body_temp_path")).toEqual([
      ["/var/tmp/gw/nginx_client_body_temp"],
    ]);
    const dflt = renderNginxConf(plan());
    expect(nginxDirectives(dflt, "pid")).toEqual([["/tmp/nginx.pid"]]);
    expect(nginxDirectives(dflt, "user")).toEqual([]);
    expect(nginxDirectives(dflt, "scgi_temp_path")).toEqual([["/tmp/nginx_scgi_temp"]]);
  });
});

describe("renderNginxConf: validation", () => {
  it.each<[string, Partial<GatewayPlanInput>, RegExp]>([
    [
      "injection in a path",
      { routes: [{ name: "x", path: "/a; }", public: false, upstream: "orders", budgetMs: 1 }] },
      /path/,
    ],
    [
      "unknown upstream",
      { routes: [{ name: "x", path: "/x/", public: false, upstream: "nope", budgetMs: 1 }] },
      /unknown upstream/,
    ],
    ["stripping a managed header", { stripHeaders: ["X-Forwarded-For"] }, /set by the gateway/],
    ["zero rate", { rateLimit: { average: 0 } }, /rateLimit.average/],
    ["bad domain", { domains: ["evil.test; include /etc/passwd"] }, /domains/],
  ])(
    "GIVEN %s WHEN rendered THEN it is rejected with a message naming the problem",
    (_label, over, msg) => {
      expect(() => renderNginxConf(plan(over))).toThrow(msg);
    },
  );
});

describe("nginx-parse", () => {
  it("GIVEN a config with comments, quotes, nesting and empty strings WHEN parsed THEN the directive tree is exact", () => {
    const conf = `# top\nhttp { a 1 "two words"; # trailing\n server { b ''; c "x;y" ; } }\n`;
    expect(parseNginx(conf)).toEqual([
      {
        name: "http",
        args: [],
        children: [
          { name: "a", args: ["1", "two words"] },
          {
            name: "server",
            args: [],
            children: [
              { name: "b", args: [""] },
              { name: "c", args: ["x;y"] },
            ],
          },
        ],
      },
    ]);
    expect(nginxDirectives(conf, "c")).toEqual([["x;y"]]);
  });

  it("GIVEN an unclosed block, an unterminated directive or a stray } WHEN parsed THEN each is rejected with its own message", () => {
    expect(() => parseNginx("http { a 1;")).toThrow(/missing }/);
    expect(() => parseNginx("a 1")).toThrow(/not terminated/);
    expect(() => parseNginx("}")).toThrow(/unexpected/);
  });
});
