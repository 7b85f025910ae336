/**
 * Seed defaults, hardened: the seed's 100/50 rate limit and keepalive 64, but TLS 1.2+ with
 * AEAD ciphers only, bounded timeouts everywhere, and a ratio-based breaker instead of the
 * seed's "N failures then open" counter (which trips on a burst of traffic, not on error rate).
 */
export const GATEWAY_DEFAULTS = {
  tls: {
    minVersion: "1.2" as "1.2" | "1.3",
    hstsMaxAgeSeconds: 31_536_000,
    hstsIncludeSubdomains: true,
    hstsPreload: false,
    sniStrict: true,
  },
  listen: { http: 8080, https: 8443, publicHttpsPort: 443 },
  client: {
    headerTimeoutSeconds: 10,
    bodyTimeoutSeconds: 10,
    keepaliveTimeoutSeconds: 65,
    keepaliveRequests: 10_000,
    maxBodyBytes: 1_048_576,
  },
  http3: false,
  rateLimit: { average: 100, burst: 50 },
  stripHeaders: [],
  stripCookieOnPublic: true,
  upstream: {
    keepalive: 64,
    keepaliveRequests: 1000,
    keepaliveTimeoutSeconds: 60,
    maxFails: 3,
    failTimeoutSeconds: 10,
    connectTimeoutMs: 1000,
    readTimeoutMs: 10_000,
    sendTimeoutMs: 10_000,
    nextUpstreamTries: 2,
  },
  circuitBreaker: {
    expression: "NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25",
    checkPeriodSeconds: 10,
    fallbackDurationSeconds: 10,
    recoveryDurationSeconds: 10,
  },
  retry: { attempts: 2, initialIntervalMs: 100 },
  metrics: {
    port: 9100,
    allowCidrs: ["127.0.0.1", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
  },
  accessLog: { enabled: true, format: "json" as const },
  dashboard: { enabled: false },
};

/**
 * Request headers the gateway sets itself. Letting `piiHeaders` blank them would emit two
 * conflicting `proxy_set_header` lines (nginx sends both) or undo the X-Forwarded-For reset.
 */
export const MANAGED_REQUEST_HEADERS = [
  "host",
  "connection",
  "x-real-ip",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-request-id",
  "forwarded",
] as const;
