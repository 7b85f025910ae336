import type { GatewayPlan, GatewayPlanInput, GatewaySettings } from "./types";

/**
 * Seed defaults, hardened: the seed's 100/50 rate limit and keepalive 64, but TLS 1.2+ with
 * AEAD ciphers only, bounded timeouts everywhere, and a ratio-based breaker instead of the
 * seed's "N failures then open" counter (which trips on a burst of traffic, not on error rate).
 */
export const defaultGatewaySettings: GatewaySettings = {
  tls: {
    minVersion: "1.2",
    hstsMaxAgeSeconds: 31_536_000,
    hstsIncludeSubdomains: true,
    hstsPreload: false,
    sniStrict: true,
    sessionTickets: false,
  },
  listen: { http: 8080, https: 8443, publicHttpsPort: 443 },
  client: {
    headerTimeoutSeconds: 10,
    bodyTimeoutSeconds: 10,
    keepaliveTimeoutSeconds: 65,
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
  accessLog: { enabled: true, format: "json" },
  dashboard: { enabled: false },
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// Arrays replace rather than merge: a caller listing stripHeaders means exactly that list.
function merge<T>(base: T, over: unknown): T {
  if (!isRecord(base) || !isRecord(over)) return (over === undefined ? base : over) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v !== undefined) out[k] = merge(out[k], v);
  }
  return out as T;
}

/** Fills a partial plan with `defaultGatewaySettings` (deep merge; arrays are replaced). */
export function makeGatewayPlan(input: GatewayPlanInput): GatewayPlan {
  return merge(structuredClone(defaultGatewaySettings), input) as GatewayPlan;
}
