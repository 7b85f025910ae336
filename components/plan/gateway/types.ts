/**
 * The API gateway plan: plain data that both the nginx and the Traefik v3 renderers consume.
 *
 * It knows nothing about Kubernetes or Docker: a target resolves its services to
 * `upstreams[].servers` (host:port) and its secrets to `tls.certFile`/`keyFile` paths
 * before rendering, so the same plan drives the cluster and the local dev stack.
 */

/** Which proxy the target runs. Renderers ignore it; targets use it to pick one. */
export type GatewayKind = "nginx" | "traefik";

export interface GatewayTls {
  /**
   * Lowest TLS version accepted. Nothing below 1.2 is representable on purpose.
   * @default "1.2"
   */
  minVersion: "1.2" | "1.3";
  /** PEM certificate chain path, as seen by the proxy process. */
  certFile: string;
  /** PEM private key path, as seen by the proxy process. */
  keyFile: string;
  /** @default 31536000 (one year) */
  hstsMaxAgeSeconds: number;
  /** @default true */
  hstsIncludeSubdomains: boolean;
  /**
   * Preload is a one-way door (browser lists take months to leave), so it is opt-in.
   * @default false
   */
  hstsPreload: boolean;
  /**
   * Refuse TLS handshakes whose SNI matches none of `domains` (nginx `ssl_reject_handshake`,
   * Traefik `sniStrict`). Clients that send no SNI are refused too.
   * @default true
   */
  sniStrict: boolean;
  /**
   * Ticket key files (80 random bytes each, from a Secret), newest first: the first encrypts new
   * tickets, the rest only decrypt, so a rotation does not invalidate tickets already handed out.
   * Every replica mounts the same files, so a ticket survives a restart and a change of replica.
   * Stateless session tickets (nginx; Traefik keeps Go's per-process keys) are on exactly when
   * there are files: keys nginx made up itself would die with the process, so a restarted replica
   * could resume nothing, and every replica would refuse the others' tickets.
   * @default none (tickets off)
   */
  sessionTicketKeyFiles?: string[];
  /**
   * RSA certificate and key for clients that cannot verify ECDSA (nginx picks per handshake;
   * `certFile`/`keyFile` hold the ECDSA pair, served to everyone else). Traefik v3 keeps one
   * certificate per set of names, so it serves the ECDSA pair only.
   */
  rsaFallback?: { certFile: string; keyFile: string };
}

export interface GatewayListen {
  /** Plain-HTTP container port (redirect only). Unprivileged so the proxy runs non-root. @default 8080 */
  http: number;
  /** HTTPS container port. @default 8443 */
  https: number;
  /**
   * HTTPS port clients see (after the Service / port mapping). Used in redirects and the
   * HTTP/3 `Alt-Svc` advertisement, which must name the public port, not the container one.
   * @default 443
   */
  publicHttpsPort: number;
  /** Bind address; omit to listen on all interfaces. Tests use 127.0.0.1. */
  address?: string;
}

/** Client-facing timeouts and limits; bounded so slow clients cannot pin connections. */
export interface GatewayClientLimits {
  /** @default 10 */
  headerTimeoutSeconds: number;
  /** @default 10 */
  bodyTimeoutSeconds: number;
  /** Idle keep-alive time for client connections. @default 65 */
  keepaliveTimeoutSeconds: number;
  /**
   * Requests over one client connection before nginx closes it (HTTP/2 streams count too). Each
   * close costs a busy client a new TLS handshake, the most expensive step in serving it; the
   * limit only exists so per-connection allocations are freed now and then. @default 10000
   */
  keepaliveRequests: number;
  /** Largest accepted request body. @default 1048576 (1 MiB) */
  maxBodyBytes: number;
}

export interface GatewayRateLimit {
  /** Sustained requests per second per client IP. @default 100 */
  average: number;
  /** Extra requests absorbed instantly above `average`. @default 50 */
  burst: number;
}

/** Connection reuse and passive failure handling towards the services. */
export interface GatewayUpstreamTuning {
  /** Idle keep-alive connections kept per upstream (nginx, per worker) / per host (Traefik). @default 64 */
  keepalive: number;
  /** Requests served over one upstream connection before it is recycled. @default 1000 */
  keepaliveRequests: number;
  /** @default 60 */
  keepaliveTimeoutSeconds: number;
  /**
   * Failures within `failTimeoutSeconds` that take a server out of rotation (nginx `max_fails`,
   * Traefik `passiveHealthCheck.maxFailedAttempts`). @default 3
   */
  maxFails: number;
  /** Failure window and how long a failed server stays out (nginx, Traefik). @default 10 */
  failTimeoutSeconds: number;
  /** @default 1000 */
  connectTimeoutMs: number;
  /** Time to wait for the response (headers, and between reads in nginx). @default 10000 */
  readTimeoutMs: number;
  /** @default 10000 */
  sendTimeoutMs: number;
  /** Total tries per request across servers, first attempt included (nginx). @default 2 */
  nextUpstreamTries: number;
}

/** Traefik circuit breaker (nginx has no active breaker; it relies on `maxFails`). */
export interface GatewayCircuitBreaker {
  /** @default "NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25" */
  expression: string;
  /** @default 10 */
  checkPeriodSeconds: number;
  /** How long the breaker stays open before probing. @default 10 */
  fallbackDurationSeconds: number;
  /** How long traffic ramps back up after reopening. @default 10 */
  recoveryDurationSeconds: number;
  /** Status returned while open; omitted from the config when unset (Traefik's own default is 503). */
  responseCode?: number;
}

/** Traefik retry (only retries when the service did not answer at all). */
export interface GatewayRetry {
  /** @default 2 */
  attempts: number;
  /** First backoff wait; doubles up to twice this value. @default 100 */
  initialIntervalMs: number;
}

export interface GatewayRoute {
  /** Identifier: lowercase letters, digits, `-`, `_`. Used in router/location names and logs. */
  name: string;
  /** Path prefix, e.g. `/orders/`. A trailing slash keeps `/orders-admin` from matching. */
  path: string;
  /** Public routes get `Cookie` removed when `stripCookieOnPublic` is set. */
  public: boolean;
  /** Name of an entry in `upstreams`. */
  upstream: string;
  /**
   * End-to-end latency budget for this route. Caps retries across servers
   * (`proxy_next_upstream_timeout`) and the response wait, so a slow service fails fast.
   */
  budgetMs: number;
}

export interface GatewayUpstreamServer {
  /** IP or DNS name. nginx resolves names once at start-up, so they must exist by then. */
  host: string;
  port: number;
}

export interface GatewayUpstream {
  /** Identifier, same rules as route names. */
  name: string;
  /**
   * Where the proxy sends requests. With `endpoints` set, only the fallback used while the
   * endpoints name resolves to no address (for example a Service's ClusterIP name).
   */
  servers: GatewayUpstreamServer[];
  /**
   * A DNS name that resolves to one address per ready replica (a headless Service). The gateway's
   * endpoint watcher (render/endpoints.ts) makes each address a server of its own, so passive
   * health checks, retries and keepalive pools act per replica. Omit for fixed servers.
   */
  endpoints?: GatewayUpstreamServer;
  /** Active health-check path (Traefik only; open-source nginx has passive checks only). */
  healthCheckPath?: string;
}

export interface GatewayMetrics {
  /** Internal-only port for health and metrics (nginx `stub_status`, Traefik prometheus + ping). @default 9100 */
  port: number;
  /**
   * Sources allowed to read nginx `stub_status`; health stays open so kubelet can probe it.
   * @default ["127.0.0.1", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
   */
  allowCidrs: string[];
}

export interface GatewayAccessLog {
  /** @default true */
  enabled: boolean;
  /**
   * JSON only, and without client IP, query string, cookies, auth or user agent: the log
   * must be safe to ship anywhere in the EEA without a PII review.
   * @default "json"
   */
  format: "json";
}

/** Traefik dashboard. Never `api.insecure`; when enabled it sits on the internal port behind basic auth. */
export interface GatewayDashboard {
  /** @default false */
  enabled: boolean;
  /** htpasswd-format users file (bcrypt hashes) mounted into the container; required when enabled. */
  usersFile?: string;
}

export interface GatewayPlan {
  kind: GatewayKind;
  /** Served host names: nginx `server_name`, Traefik `Host()` rules. */
  domains: string[];
  tls: GatewayTls;
  listen: GatewayListen;
  client: GatewayClientLimits;
  /**
   * HTTP/3 on UDP at the HTTPS port (Traefik only: Debian bookworm's nginx 1.22 has no QUIC).
   * Every target opens UDP for the gateway exactly when this is true. @default false
   */
  http3: boolean;
  rateLimit: GatewayRateLimit;
  /** Request headers removed before proxying (e.g. configured PII headers). @default [] */
  stripHeaders: string[];
  /** Drop `Cookie` on routes marked `public`. @default true */
  stripCookieOnPublic: boolean;
  upstream: GatewayUpstreamTuning;
  circuitBreaker: GatewayCircuitBreaker;
  retry: GatewayRetry;
  routes: GatewayRoute[];
  upstreams: GatewayUpstream[];
  metrics: GatewayMetrics;
  accessLog: GatewayAccessLog;
  dashboard: GatewayDashboard;
  /** DNS resolver for nginx (e.g. `127.0.0.11` in Docker). Does not re-resolve upstream servers in 1.22. */
  resolver?: string;
}

/** Everything in a plan that has a sensible default; the rest is per-deployment. */
export type GatewaySettings = Omit<
  GatewayPlan,
  "kind" | "domains" | "routes" | "upstreams" | "tls"
> & {
  tls: Omit<GatewayTls, "certFile" | "keyFile">;
};

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends Array<unknown>
    ? T[K]
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};

/** What a caller must provide to `makeGatewayPlan`; every other field falls back to the defaults. */
export type GatewayPlanInput = Pick<GatewayPlan, "kind" | "domains" | "routes" | "upstreams"> & {
  tls: Pick<GatewayTls, "certFile" | "keyFile"> & Partial<GatewayTls>;
} & DeepPartial<Omit<GatewayPlan, "kind" | "domains" | "routes" | "upstreams" | "tls">>;
