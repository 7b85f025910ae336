/** The gateway in front of every service: nginx or Traefik, TLS, limits and upstream handling. */
import { z } from "zod";
import { GATEWAY_DEFAULTS as GW } from "../defaults";
import {
  domainName,
  duration,
  resourcesFor,
  strippableHeader,
  wholeFrom,
  wholeMs,
} from "../fields";
import { formatDuration } from "../units";

const fields = z.strictObject({
  kind: z
    .enum(["nginx", "traefik"])
    .default("nginx")
    .meta({ description: "Gateway implementation." }),
  replicas: z
    .int()
    .min(1)
    .max(20)
    .default(2)
    .meta({ description: "Gateway replicas, spread across nodes." }),
  domains: z
    .array(domainName)
    .min(1, { error: "needs at least one domain" })
    .meta({ description: "Host names served; others are refused at the TLS handshake." }),
  resources: resourcesFor("Gateway ").default({
    requests: { cpu: "250m", memory: "128Mi" },
    limits: { cpu: "1", memory: "256Mi" },
  }),
  tls: z
    .strictObject({
      minVersion: z
        .enum(["1.2", "1.3"], { error: 'must be "1.2" or "1.3"; TLS 1.0 and 1.1 are not allowed' })
        .default(GW.tls.minVersion)
        .meta({ description: "Lowest TLS version; 1.0 and 1.1 cannot be configured." }),
      certificate: z.enum(["self-signed", "secret"]).default("self-signed").meta({
        description:
          "self-signed (made with openssl at deploy time) or secret (an existing TLS Secret).",
      }),
      secretName: z
        .string()
        .optional()
        .meta({ description: "The TLS Secret when certificate is secret." }),
      hstsMaxAgeSeconds: z
        .int()
        .min(86400, { error: "must be at least 86400 (one day)" })
        .default(GW.tls.hstsMaxAgeSeconds)
        .meta({ description: "HSTS max-age." }),
      ticketKeyGeneration: z
        .int()
        .min(1, { error: "must be a whole number from 1; raise it by one to rotate" })
        .default(1)
        .meta({
          description:
            "Session ticket key generation: raise by one to rotate (the previous key still decrypts).",
        }),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      average: wholeFrom(
        1,
        GW.rateLimit.average,
        "Requests per second per client IP (the seed's 100).",
      ),
      burst: wholeFrom(
        0,
        GW.rateLimit.burst,
        "Extra requests absorbed at once before 429 (the seed's 50).",
      ),
    })
    .prefault({}),
  piiHeaders: z.array(strippableHeader).default([]).meta({
    description:
      "Request headers removed before proxying, so personal data never reaches service logs.",
  }),
  stripCookieOnPublic: z
    .boolean()
    .default(true)
    .meta({ description: "Remove Cookie on public routes." }),
  // No `.default()`: the default follows `kind`, filled in by resolveHttp3 below.
  http3: z.boolean().optional().meta({
    description:
      "HTTP/3 (QUIC) on UDP 443, and UDP 443 opened for it. Defaults to true for Traefik and false for nginx; true with nginx is refused (Debian bookworm's nginx 1.22 has no QUIC).",
  }),
  upstream: z
    .strictObject({
      keepalive: z
        .int()
        .min(1, {
          error:
            "must be at least 1 idle connection per upstream (nginx refuses 0 rather than turning keepalive off)",
        })
        .default(GW.upstream.keepalive)
        .meta({ description: "Idle keepalive connections kept to each upstream." }),
      maxFails: wholeFrom(
        1,
        GW.upstream.maxFails,
        "Failures within failTimeout that take an upstream server out (circuit breaking).",
      ),
      failTimeout: duration
        .default(`${GW.upstream.failTimeoutSeconds}s`)
        .meta({ description: "Failure window, and how long a failed server stays out." }),
      connectTimeout: wholeMs(1)
        .default(formatDuration(GW.upstream.connectTimeoutMs))
        .meta({ description: "Upstream connect timeout, in whole ms." }),
      readTimeout: wholeMs(1)
        .default(formatDuration(GW.upstream.readTimeoutMs))
        .meta({ description: "Upstream response timeout (504 after it), in whole ms." }),
      nextUpstreamTries: wholeFrom(
        1,
        GW.upstream.nextUpstreamTries,
        "Tries per request across servers, the first included.",
      ),
    })
    .prefault({}),
  circuitBreaker: z
    .strictObject({
      expression: z
        .string()
        .regex(/^[^\r\n]*\S[^\r\n]*$/, {
          error: 'must be one non-empty line, such as "NetworkErrorRatio() > 0.30"',
        })
        .default(GW.circuitBreaker.expression)
        .meta({ description: "Traefik circuit breaker trip condition." }),
      checkPeriod: duration
        .default(`${GW.circuitBreaker.checkPeriodSeconds}s`)
        .meta({ description: "How often Traefik evaluates the breaker." }),
      fallbackDuration: duration
        .default(`${GW.circuitBreaker.fallbackDurationSeconds}s`)
        .meta({ description: "How long the breaker stays open." }),
      recoveryDuration: duration
        .default(`${GW.circuitBreaker.recoveryDurationSeconds}s`)
        .meta({ description: "How long traffic ramps back after the breaker closes." }),
    })
    .prefault({}),
  retry: z
    .strictObject({
      attempts: z
        .int()
        .min(0)
        .max(5)
        .default(GW.retry.attempts)
        .meta({ description: "Traefik retries when a service does not answer." }),
      initialInterval: wholeMs(0)
        .default(formatDuration(GW.retry.initialIntervalMs))
        .meta({ description: "First retry backoff." }),
    })
    .prefault({}),
});

/**
 * Whether the gateway serves HTTP/3. Everything that opens UDP 443 (firewall, published port,
 * Service, NetworkPolicy) follows this one value, so no default promises a protocol the gateway
 * kind cannot serve.
 */
function resolveHttp3<T extends { kind: "nginx" | "traefik"; http3?: boolean | undefined }>(
  g: T,
  ctx: z.core.$RefinementCtx<T>,
): Omit<T, "http3"> & { http3: boolean } {
  if (g.http3 === true && g.kind === "nginx") {
    ctx.issues.push({
      code: "custom",
      input: g.http3,
      path: ["http3"],
      message:
        'the nginx gateway cannot serve HTTP/3 (Debian bookworm\'s nginx 1.22 has no QUIC); remove fjord:gateway.http3 (or set it to false), or set fjord:gateway.kind to "traefik"',
    });
  }
  return { ...g, http3: g.http3 ?? g.kind === "traefik" };
}

export const gateway = fields.transform(resolveHttp3);
