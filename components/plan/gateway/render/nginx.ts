import type { GatewayPlan, GatewayRoute } from "../types";
import { assertValidGatewayPlan } from "../validate";
import { endpointsMarker } from "./endpoints";

/** Process-level paths. Defaults suit a read-only container running as a non-root user. */
export interface NginxRenderOptions {
  /** @default "/tmp/nginx.pid" */
  pidFile?: string;
  /**
   * Existing directory for the body/proxy/fastcgi/uwsgi/scgi temp dirs (nginx creates only the
   * last path component, so this parent must already exist). @default "/tmp"
   */
  tempDir?: string;
  /** `error_log` target. @default "stderr" */
  errorLog?: string;
  /** Access-log file (nginx cannot log to "stdout" by keyword). @default "/dev/stdout" */
  accessLogPath?: string;
  /** `user` directive; only meaningful when the master runs as root. Omitted by default. */
  user?: string;
  /** @default "auto" */
  workerProcesses?: number | "auto";
  /** @default 4096 */
  workerConnections?: number;
}

/** AEAD + forward secrecy only: no CBC, RC4, 3DES, MD5, SHA1 MACs, static RSA or anonymous suites. */
export const NGINX_TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
] as const;

const RATE_ZONE = "gw_per_ip";

/** Request headers the gateway owns; kept in sync with MANAGED_REQUEST_HEADERS in config/defaults.ts. */
const FORWARD_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["Host", "$host"],
  // Empty Connection lets upstream keepalive work (nginx would otherwise send "close").
  ["Connection", '""'],
  ["X-Real-IP", "$remote_addr"],
  // Overwrite rather than append: a client-supplied chain is unauthenticated and may carry spoofed IPs.
  ["X-Forwarded-For", "$remote_addr"],
  ["X-Forwarded-Proto", "$scheme"],
  ["X-Forwarded-Host", "$host"],
  ["X-Request-ID", "$request_id"],
  ["Forwarded", '""'],
];

// No client IP, user agent, query string, cookies or auth: only what operators need to debug.
const LOG_FIELDS: ReadonlyArray<readonly [string, string, boolean]> = [
  ["time", "$time_iso8601", true],
  ["request_id", "$request_id", true],
  ["route", "$gw_route", true],
  ["host", "$host", true],
  ["method", "$request_method", true],
  ["path", "$uri", true],
  ["protocol", "$server_protocol", true],
  ["tls", "$ssl_protocol", true],
  ["status", "$status", false],
  ["bytes_sent", "$body_bytes_sent", false],
  ["duration_s", "$request_time", false],
  ["upstream", "$upstream_addr", true],
  ["upstream_status", "$upstream_status", true],
  ["upstream_duration_s", "$upstream_response_time", true],
];

/** Small indenting line builder; every directive passes through `d` so `;` is never forgotten. */
class Conf {
  private readonly lines: string[] = [];
  private depth = 0;
  d(...parts: Array<string | number>): this {
    this.lines.push(`${"    ".repeat(this.depth)}${parts.join(" ")};`);
    return this;
  }
  comment(text: string): this {
    this.lines.push(`${"    ".repeat(this.depth)}# ${text}`);
    return this;
  }
  block(head: string, body: (c: this) => void): this {
    this.lines.push(`${"    ".repeat(this.depth)}${head} {`);
    this.depth++;
    body(this);
    this.depth--;
    this.lines.push(`${"    ".repeat(this.depth)}}`);
    return this;
  }
  blank(): this {
    this.lines.push("");
    return this;
  }
  toString(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

const ms = (n: number) => `${n}ms`;
const sec = (n: number) => `${n}s`;
const upstreamId = (name: string) => `up_${name}`;
const hostPort = (host: string, port: number) =>
  host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;

function listenAddr(plan: GatewayPlan, port: number): string {
  const a = plan.listen.address;
  return a === undefined ? String(port) : hostPort(a, port);
}

function hstsValue(plan: GatewayPlan): string {
  const parts = [`max-age=${plan.tls.hstsMaxAgeSeconds}`];
  if (plan.tls.hstsIncludeSubdomains) parts.push("includeSubDomains");
  if (plan.tls.hstsPreload) parts.push("preload");
  return `"${parts.join("; ")}"`;
}

function logFormat(): string {
  const body = LOG_FIELDS.map(([k, v, quoted]) => (quoted ? `"${k}":"${v}"` : `"${k}":${v}`)).join(
    ",",
  );
  return `'{${body}}'`;
}

function renderTls(c: Conf, plan: GatewayPlan): void {
  const onlyTls13 = plan.tls.minVersion === "1.3";
  c.d("ssl_protocols", ...(onlyTls13 ? ["TLSv1.3"] : ["TLSv1.2", "TLSv1.3"]));
  // TLS 1.3 suites are all AEAD and not set via ssl_ciphers; this list only governs 1.2.
  c.d("ssl_ciphers", NGINX_TLS12_CIPHERS.join(":"));
  c.d("ssl_prefer_server_ciphers", "on");
  c.d("ssl_ecdh_curve", "X25519:prime256v1:secp384r1");
  // The cache resumes sessions within one replica (and TLS 1.3 resumption when tickets are off).
  c.d("ssl_session_cache", "shared:gw_tls:10m");
  c.d("ssl_session_timeout", "1d");
  // Tickets only with keys from a Secret every replica mounts: a ticket then outlives a restart and
  // works on any replica. The first key encrypts; older ones only decrypt, so a rotation does not
  // end live sessions.
  const ticketKeys = plan.tls.sessionTicketKeyFiles ?? [];
  c.d("ssl_session_tickets", ticketKeys.length > 0 ? "on" : "off");
  for (const f of ticketKeys) c.d("ssl_session_ticket_key", f);
}

/**
 * The access log is written in batches of at most 4 KiB, once a second at the latest: one write
 * per request is the single largest cost left in proxying a small request. 4 KiB is PIPE_BUF, so
 * each write to a container's stdout pipe stays atomic and lines from several workers never
 * interleave; a crash loses at most one buffer.
 */
export const ACCESS_LOG_BUFFER = { size: "4k", flush: "1s" } as const;

function renderUpstreams(c: Conf, plan: GatewayPlan): void {
  const u = plan.upstream;
  for (const up of plan.upstreams) {
    c.blank().block(`upstream ${upstreamId(up.name)}`, (b) => {
      // Shared zone so max_fails state is seen by every worker, not tracked per worker.
      b.d("zone", upstreamId(up.name), "64k");
      const failures = [`max_fails=${u.maxFails}`, `fail_timeout=${sec(u.failTimeoutSeconds)}`];
      if (up.endpoints !== undefined) {
        // A template line: the endpoint watcher repeats it once per replica address.
        b.comment(`one server per address of ${up.endpoints.host} (endpoint watcher)`);
        b.d("server", endpointsMarker(up.name), ...failures);
      } else {
        for (const s of up.servers) b.d("server", hostPort(s.host, s.port), ...failures);
      }
      b.d("keepalive", u.keepalive);
      b.d("keepalive_requests", u.keepaliveRequests);
      b.d("keepalive_timeout", sec(u.keepaliveTimeoutSeconds));
    });
  }
}

function renderRoute(c: Conf, plan: GatewayPlan, route: GatewayRoute): void {
  c.blank().comment(`route ${route.name}${route.public ? " (public)" : ""}`);
  c.block(`location ${route.path}`, (l) => {
    l.d("set", "$gw_route", route.name);
    l.d("proxy_pass", `http://${upstreamId(route.upstream)}`);
    // The route budget caps both the wait for a response and the whole retry sequence.
    l.d("proxy_read_timeout", ms(Math.min(plan.upstream.readTimeoutMs, route.budgetMs)));
    l.d("proxy_next_upstream_timeout", ms(route.budgetMs));
    // proxy_set_header is all-or-nothing per level, so each location carries the full set.
    for (const [h, v] of FORWARD_HEADERS) l.d("proxy_set_header", h, v);
    const strip = new Set(plan.stripHeaders);
    if (route.public && plan.stripCookieOnPublic) strip.add("Cookie");
    for (const h of strip) l.d("proxy_set_header", h, '""');
  });
}

function renderMainServer(c: Conf, plan: GatewayPlan): void {
  const u = plan.upstream;
  const dflt = plan.tls.sniStrict ? [] : ["default_server"];
  c.blank().block("server", (s) => {
    s.d("listen", listenAddr(plan, plan.listen.https), "ssl", "http2", ...dflt);
    s.d("server_name", ...plan.domains);
    // ECDSA first: a P-256 signature costs a fraction of an RSA one per full handshake. OpenSSL
    // serves the RSA pair only to clients whose signature algorithms rule ECDSA out.
    s.d("ssl_certificate", plan.tls.certFile);
    s.d("ssl_certificate_key", plan.tls.keyFile);
    if (plan.tls.rsaFallback) {
      s.d("ssl_certificate", plan.tls.rsaFallback.certFile);
      s.d("ssl_certificate_key", plan.tls.rsaFallback.keyFile);
    }
    s.d("add_header", "Strict-Transport-Security", hstsValue(plan), "always");
    s.d("set", "$gw_route", "-");
    // nginx rejects "burst=0"; leaving it out means the same thing.
    const burst = plan.rateLimit.burst > 0 ? [`burst=${plan.rateLimit.burst}`] : [];
    s.d("limit_req", `zone=${RATE_ZONE}`, ...burst, "nodelay");
    s.blank();
    s.d("proxy_http_version", "1.1");
    s.d("proxy_connect_timeout", ms(u.connectTimeoutMs));
    s.d("proxy_send_timeout", ms(u.sendTimeoutMs));
    s.d("proxy_read_timeout", ms(u.readTimeoutMs));
    // Only failures where no response reached the client; POST/PATCH are never retried (no non_idempotent).
    s.d("proxy_next_upstream", "error", "timeout", "http_502", "http_503", "http_504");
    s.d("proxy_next_upstream_tries", u.nextUpstreamTries);
    s.d("proxy_hide_header", "X-Powered-By");
    for (const r of plan.routes) renderRoute(s, plan, r);
    if (!plan.routes.some((r) => r.path === "/")) {
      s.blank().block("location /", (l) => {
        l.d("default_type", "application/json");
        l.d("return", 404, `'{"error":"not_found"}'`);
      });
    }
  });
}

function renderRedirectServers(c: Conf, plan: GatewayPlan): void {
  const port = plan.listen.publicHttpsPort;
  const target = port === 443 ? "https://$host$request_uri" : `https://$host:${port}$request_uri`;
  const dflt = plan.tls.sniStrict ? [] : ["default_server"];
  c.blank().block("server", (s) => {
    s.d("listen", listenAddr(plan, plan.listen.http), ...dflt);
    s.d("server_name", ...plan.domains);
    s.d("set", "$gw_route", "redirect");
    s.d("return", 301, target);
  });
  if (!plan.tls.sniStrict) return;
  // Unknown Host / SNI: close without answering, so the gateway never vouches for foreign names.
  c.blank().block("server", (s) => {
    s.d("listen", listenAddr(plan, plan.listen.http), "default_server");
    s.d("server_name", "_");
    s.d("access_log", "off");
    s.d("return", 444);
  });
  c.blank().block("server", (s) => {
    s.d("listen", listenAddr(plan, plan.listen.https), "ssl", "http2", "default_server");
    s.d("server_name", "_");
    s.d("access_log", "off");
    s.d("ssl_reject_handshake", "on");
  });
}

function renderMetricsServer(c: Conf, plan: GatewayPlan): void {
  c.blank().block("server", (s) => {
    s.d("listen", listenAddr(plan, plan.metrics.port));
    s.d("access_log", "off");
    s.block("location = /healthz", (l) => {
      l.d("default_type", "text/plain");
      l.d("return", 200, '"ok\\n"');
    });
    s.block("location = /stub_status", (l) => {
      l.d("stub_status");
      for (const cidr of plan.metrics.allowCidrs) l.d("allow", cidr);
      l.d("deny", "all");
    });
    s.block("location /", (l) => l.d("return", 404));
  });
}

/** Renders a complete nginx.conf (nginx >= 1.22, Debian bookworm) from a gateway plan. */
export function renderNginxConf(plan: GatewayPlan, opts: NginxRenderOptions = {}): string {
  assertValidGatewayPlan(plan);
  const tmp = opts.tempDir ?? "/tmp";
  const c = new Conf();
  c.comment("Rendered by fjord from the gateway plan; edit the plan, not this file.");
  if (opts.user !== undefined) c.d("user", opts.user);
  c.d("worker_processes", opts.workerProcesses ?? "auto");
  c.d("pid", opts.pidFile ?? "/tmp/nginx.pid");
  c.d("error_log", opts.errorLog ?? "stderr", "warn");
  c.blank().block("events", (e) => e.d("worker_connections", opts.workerConnections ?? 4096));
  c.blank().block("http", (h) => {
    h.d("server_tokens", "off");
    h.d("default_type", "application/octet-stream");
    h.d("sendfile", "on");
    h.d("tcp_nodelay", "on");
    h.d("keepalive_timeout", sec(plan.client.keepaliveTimeoutSeconds));
    h.d("keepalive_requests", plan.client.keepaliveRequests);
    h.d("client_header_timeout", sec(plan.client.headerTimeoutSeconds));
    h.d("client_body_timeout", sec(plan.client.bodyTimeoutSeconds));
    h.d("send_timeout", sec(plan.client.bodyTimeoutSeconds));
    h.d("client_max_body_size", plan.client.maxBodyBytes);
    h.d("reset_timedout_connection", "on");
    h.blank().comment(
      "All writable paths are under tempDir so the root filesystem can stay read-only.",
    );
    for (const kind of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
      h.d(`${kind}_temp_path`, `${tmp}/nginx_${kind}_temp`);
    }
    h.blank();
    h.d("log_format", "gw_json", "escape=json", logFormat());
    if (plan.accessLog.enabled)
      h.d(
        "access_log",
        opts.accessLogPath ?? "/dev/stdout",
        "gw_json",
        `buffer=${ACCESS_LOG_BUFFER.size}`,
        `flush=${ACCESS_LOG_BUFFER.flush}`,
      );
    else h.d("access_log", "off");
    if (plan.resolver !== undefined) h.d("resolver", plan.resolver, "valid=10s");
    h.blank();
    renderTls(h, plan);
    h.blank();
    h.d(
      "limit_req_zone",
      "$binary_remote_addr",
      `zone=${RATE_ZONE}:10m`,
      `rate=${plan.rateLimit.average}r/s`,
    );
    h.d("limit_req_status", 429);
    h.d("limit_req_log_level", "warn");
    renderUpstreams(h, plan);
    renderRedirectServers(h, plan);
    renderMainServer(h, plan);
    renderMetricsServer(h, plan);
  });
  return c.toString();
}
