/** Maps the spec's gateway section to a GatewayPlan; targets supply only addresses and paths. */
import type { Service, Spec } from "../../config";
import { makeGatewayPlan } from "./defaults";
import type { GatewayPlan, GatewayUpstreamServer } from "./types";
import { parseDuration } from "../../config/units";

export interface GatewayTargetBinding {
  /** Where the target reaches a service's replicas. */
  servers: (service: Service) => GatewayUpstreamServer[];
  /** A name resolving to one address per ready replica, re-resolved at runtime (Kubernetes). */
  endpoints?: (service: Service) => GatewayUpstreamServer;
  certFile: string;
  keyFile: string;
  /** The RSA pair for clients that cannot verify ECDSA, when the target provides one. */
  rsaFallback?: { certFile: string; keyFile: string };
  /** Session ticket key files every replica mounts, newest first; tickets stay off without them. */
  sessionTicketKeyFiles?: string[];
  /** HTTPS port clients use (for redirects and Alt-Svc). */
  publicHttpsPort: number;
  /** DNS resolver nginx should use (Docker's embedded DNS in dev). */
  resolver?: string;
}

const seconds = (d: string): number => Math.max(1, Math.round(parseDuration(d) / 1000));

export function gatewayPlanFromSpec(spec: Spec, bind: GatewayTargetBinding): GatewayPlan {
  const g = spec.gateway;
  const routed = spec.services.filter((s) => s.route);
  return makeGatewayPlan({
    kind: g.kind,
    domains: g.domains,
    tls: {
      minVersion: g.tls.minVersion,
      certFile: bind.certFile,
      keyFile: bind.keyFile,
      hstsMaxAgeSeconds: g.tls.hstsMaxAgeSeconds,
      ...(bind.rsaFallback ? { rsaFallback: bind.rsaFallback } : {}),
      ...(bind.sessionTicketKeyFiles?.length
        ? { sessionTicketKeyFiles: bind.sessionTicketKeyFiles }
        : {}),
    },
    listen: { publicHttpsPort: bind.publicHttpsPort },
    http3: g.http3,
    rateLimit: g.rateLimit,
    stripHeaders: g.piiHeaders,
    stripCookieOnPublic: g.stripCookieOnPublic,
    upstream: {
      keepalive: g.upstream.keepalive,
      maxFails: g.upstream.maxFails,
      failTimeoutSeconds: seconds(g.upstream.failTimeout),
      connectTimeoutMs: parseDuration(g.upstream.connectTimeout),
      readTimeoutMs: parseDuration(g.upstream.readTimeout),
      nextUpstreamTries: g.upstream.nextUpstreamTries,
    },
    circuitBreaker: {
      expression: g.circuitBreaker.expression,
      checkPeriodSeconds: seconds(g.circuitBreaker.checkPeriod),
      fallbackDurationSeconds: seconds(g.circuitBreaker.fallbackDuration),
      recoveryDurationSeconds: seconds(g.circuitBreaker.recoveryDuration),
    },
    retry: {
      attempts: g.retry.attempts,
      initialIntervalMs: parseDuration(g.retry.initialInterval),
    },
    routes: routed.map((s) => ({
      name: s.name,
      path: s.route!.path,
      public: s.route!.public,
      upstream: s.name,
      budgetMs: s.route!.budgetMs,
    })),
    upstreams: routed.map((s) => ({
      name: s.name,
      servers: bind.servers(s),
      ...(bind.endpoints ? { endpoints: bind.endpoints(s) } : {}),
      healthCheckPath: s.healthPath,
    })),
    ...(bind.resolver ? { resolver: bind.resolver } : {}),
  });
}
