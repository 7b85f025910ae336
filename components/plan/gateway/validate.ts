import type { GatewayPlan } from "./types";
import { MANAGED_REQUEST_HEADERS } from "../../config/defaults";
import { DOMAIN_NAME_RE, HEADER_NAME_RE, URL_PATH_RE } from "../../config/fields";

export { MANAGED_REQUEST_HEADERS };

// Every plan value ends up verbatim in a proxy config, so anything that could close a
// directive, open a block or start a variable (`;{}"'$` and whitespace) must be refused here.
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const DOMAIN = DOMAIN_NAME_RE;
const HOST = /^(?:[A-Za-z0-9.-]+|[0-9A-Fa-f:]+)$/;
const HEADER = HEADER_NAME_RE;
const URL_PATH = URL_PATH_RE;
const FILE_PATH = /^[A-Za-z0-9._\-/]+$/;
const CIDR = /^[0-9A-Fa-f:.]+(?:\/\d{1,3})?$/;
const RESOLVER = /^(?:[0-9.]+|\[[0-9A-Fa-f:]+\])(?::\d{1,5})?$/;

function isInt(n: unknown, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;
}

function dupes(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => (seen.has(v) ? true : (seen.add(v), false)));
}

/** Returns every problem found (empty when the plan is renderable). */
export function validateGatewayPlan(plan: GatewayPlan): string[] {
  const errs: string[] = [];
  const need = (ok: boolean, msg: string) => {
    if (!ok) errs.push(msg);
  };

  need(plan.domains.length > 0, "domains: at least one domain is required");
  for (const d of plan.domains)
    need(DOMAIN.test(d), `domains: invalid host name ${JSON.stringify(d)}`);
  for (const d of dupes(plan.domains.map((d) => d.toLowerCase())))
    errs.push(`domains: duplicate ${d}`);

  need(FILE_PATH.test(plan.tls.certFile), "tls.certFile: unsafe or empty path");
  need(FILE_PATH.test(plan.tls.keyFile), "tls.keyFile: unsafe or empty path");
  need(isInt(plan.tls.hstsMaxAgeSeconds, 0), "tls.hstsMaxAgeSeconds: non-negative integer");
  const tickets = plan.tls.sessionTicketKeyFiles ?? [];
  for (const f of tickets)
    need(FILE_PATH.test(f), `tls.sessionTicketKeyFiles: unsafe or empty path ${JSON.stringify(f)}`);
  for (const f of dupes(tickets)) errs.push(`tls.sessionTicketKeyFiles: duplicate ${f}`);
  const rsa = plan.tls.rsaFallback;
  if (rsa !== undefined) {
    need(FILE_PATH.test(rsa.certFile), "tls.rsaFallback.certFile: unsafe or empty path");
    need(FILE_PATH.test(rsa.keyFile), "tls.rsaFallback.keyFile: unsafe or empty path");
  }

  const { http, https, publicHttpsPort, address } = plan.listen;
  for (const [k, v] of Object.entries({
    http,
    https,
    publicHttpsPort,
    metrics: plan.metrics.port,
  })) {
    need(isInt(v, 1, 65535), `listen.${k}: port must be 1-65535`);
  }
  need(
    new Set([http, https, plan.metrics.port]).size === 3,
    "listen: http, https and metrics ports must differ",
  );
  if (address !== undefined) need(HOST.test(address), "listen.address: invalid");
  // A plan that says http3 opens UDP 443 everywhere; only Traefik's renderer listens on it.
  need(
    !(plan.http3 && plan.kind === "nginx"),
    "http3: the nginx gateway renders no QUIC listener (nginx 1.22); use kind traefik or http3 false",
  );

  for (const [k, v] of Object.entries(plan.client))
    need(isInt(v, 1), `client.${k}: positive integer`);

  need(isInt(plan.rateLimit.average, 1), "rateLimit.average: positive integer (requests/second)");
  need(isInt(plan.rateLimit.burst, 0), "rateLimit.burst: non-negative integer");

  for (const h of plan.stripHeaders) {
    need(HEADER.test(h), `stripHeaders: invalid header name ${JSON.stringify(h)}`);
    need(
      !(MANAGED_REQUEST_HEADERS as readonly string[]).includes(h.toLowerCase()),
      `stripHeaders: ${h} is set by the gateway itself`,
    );
  }

  for (const [k, v] of Object.entries(plan.upstream))
    need(isInt(v, 1), `upstream.${k}: positive integer`);

  const cb = plan.circuitBreaker;
  need(
    cb.expression.trim().length > 0 && !/[\r\n]/.test(cb.expression),
    "circuitBreaker.expression: one non-empty line",
  );
  for (const k of [
    "checkPeriodSeconds",
    "fallbackDurationSeconds",
    "recoveryDurationSeconds",
  ] as const) {
    need(isInt(cb[k], 1), `circuitBreaker.${k}: positive integer`);
  }
  if (cb.responseCode !== undefined)
    need(isInt(cb.responseCode, 100, 599), "circuitBreaker.responseCode: HTTP status");
  need(isInt(plan.retry.attempts, 0), "retry.attempts: non-negative integer");
  need(isInt(plan.retry.initialIntervalMs, 0), "retry.initialIntervalMs: non-negative integer");

  const upstreamNames = new Set(plan.upstreams.map((u) => u.name));
  for (const u of plan.upstreams) {
    need(NAME.test(u.name), `upstreams: invalid name ${JSON.stringify(u.name)}`);
    need(u.servers.length > 0, `upstreams.${u.name}: at least one server`);
    for (const s of u.servers) {
      need(HOST.test(s.host), `upstreams.${u.name}: invalid host ${JSON.stringify(s.host)}`);
      need(isInt(s.port, 1, 65535), `upstreams.${u.name}: invalid port ${s.port}`);
    }
    if (u.endpoints !== undefined) {
      need(HOST.test(u.endpoints.host), `upstreams.${u.name}: invalid endpoints host`);
      need(isInt(u.endpoints.port, 1, 65535), `upstreams.${u.name}: invalid endpoints port`);
    }
    if (u.healthCheckPath !== undefined)
      need(URL_PATH.test(u.healthCheckPath), `upstreams.${u.name}: invalid healthCheckPath`);
  }
  for (const n of dupes(plan.upstreams.map((u) => u.name)))
    errs.push(`upstreams: duplicate name ${n}`);

  need(plan.routes.length > 0, "routes: at least one route is required");
  for (const r of plan.routes) {
    need(NAME.test(r.name), `routes: invalid name ${JSON.stringify(r.name)}`);
    need(
      URL_PATH.test(r.path),
      `routes.${r.name}: path must start with / and use URL-safe characters`,
    );
    need(
      upstreamNames.has(r.upstream),
      `routes.${r.name}: unknown upstream ${JSON.stringify(r.upstream)}`,
    );
    need(isInt(r.budgetMs, 1), `routes.${r.name}: budgetMs must be a positive integer`);
  }
  for (const n of dupes(plan.routes.map((r) => r.name))) errs.push(`routes: duplicate name ${n}`);
  for (const p of dupes(plan.routes.map((r) => r.path))) errs.push(`routes: duplicate path ${p}`);

  for (const c of plan.metrics.allowCidrs)
    need(CIDR.test(c), `metrics.allowCidrs: invalid ${JSON.stringify(c)}`);
  if (plan.resolver !== undefined)
    need(RESOLVER.test(plan.resolver), "resolver: IP[:port] expected");
  if (plan.dashboard.enabled) {
    need(
      plan.dashboard.usersFile !== undefined && FILE_PATH.test(plan.dashboard.usersFile),
      "dashboard.usersFile: required (basic-auth users file) when the dashboard is enabled",
    );
  }
  return errs;
}

/** Throws one error listing every problem, so a bad spec is fixed in one round. */
export function assertValidGatewayPlan(plan: GatewayPlan): void {
  const errs = validateGatewayPlan(plan);
  if (errs.length > 0) throw new Error(`invalid gateway plan:\n  - ${errs.join("\n  - ")}`);
}
