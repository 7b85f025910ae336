/**
 * TLS at the gateway: minimum protocol, strong ciphers, HSTS, plain HTTP only redirecting, and
 * Traefik's API never insecure. Reads rendered nginx.conf and Traefik files wherever they are
 * carried (ConfigMaps, Secrets, Docker uploads), Traefik flags, Traefik CRDs and Ingresses.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy, setting } from "./lib/policy";
import {
  INGRESS_NGINX,
  ParseError,
  eachConfig as each,
  gatewayConfigOf,
  gatewayScope as inScope,
  ingressNginxAnnotation,
  ingressNginxSettings,
  traefikKind,
} from "./lib/gateway";
import {
  cipherProblems,
  hasTls,
  hstsProblems,
  plainHttpProblems,
  protocolProblems,
} from "./lib/nginx-tls";
import {
  apiDashboard,
  apiInsecure,
  entrypointRedirectProblems,
  hstsProblems as traefikHsts,
  tlsOptionProblems,
} from "./lib/traefik";
import {
  WEAK_GO_VERSIONS,
  WEAK_PROTOCOLS,
  goCipherProblems,
  opensslCipherProblems,
} from "./lib/ciphers";
import { kindOf } from "./lib/k8s";
import { type Obj, UNKNOWN, at, list, str, strMap } from "./lib/values";

interface MinVersionConfig {
  minVersion: "1.2" | "1.3";
}

export const tlsMinVersion: ResourceValidationPolicy = resourcePolicy<MinVersionConfig>({
  name: "tls-min-version",
  description:
    "The gateway accepts nothing below TLS 1.2 (nginx ssl_protocols, Traefik minVersion, TLSOption CRDs, ingress-nginx).",
  severity: "high",
  config: {
    minVersion: {
      schema: { type: "string", enum: ["1.2", "1.3"], description: "Lowest TLS version allowed." },
      default: "1.2",
    },
  },
  scope: inScope,
  validate: (r, ctx) => {
    const strict = ctx.config.minVersion === "1.3";
    const weakNginx = strict ? [...WEAK_PROTOCOLS, "TLSv1.2"] : WEAK_PROTOCOLS;
    const weakGo = strict ? [...WEAK_GO_VERSIONS, "VersionTLS12"] : WEAK_GO_VERSIONS;
    const fixNginx = strict ? "ssl_protocols TLSv1.3" : "ssl_protocols TLSv1.2 TLSv1.3";
    const fixGo = strict ? "VersionTLS13" : "VersionTLS12";
    const cfg = gatewayConfigOf(r.type, r.props);
    each(cfg.nginx, r.label, "TLS protocols", ctx, (tree, where) => {
      if (!hasTls(tree)) return;
      const problems = protocolProblems(tree, weakNginx);
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) allows protocols below TLS ${ctx.config.minVersion}: ${problems.join("; ")}. Set ${fixNginx}.`,
        );
    });
    each(cfg.traefikDynamic, r.label, "TLS options", ctx, (doc, where) => {
      const problems = tlsOptionProblems(doc, weakGo).version;
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) allows protocols below TLS ${ctx.config.minVersion}: ${problems.join("; ")}. Set minVersion: ${fixGo}.`,
        );
    });
    if (traefikKind(r.type) === "TLSOption") {
      const min = str(r.props, "spec.minVersion");
      if (min === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the minimum TLS version of ${r.label} at preview: spec.minVersion is computed.`,
        );
      else if (typeof min === "string" && weakGo.includes(min))
        ctx.violation(
          `${r.label} sets spec.minVersion to ${min}, below TLS ${ctx.config.minVersion}. Set spec.minVersion: ${fixGo}.`,
        );
    }
    for (const [src, value] of [
      [
        "annotation " + INGRESS_NGINX + "ssl-protocols",
        ingressNginxAnnotation(r.type, r.props, "ssl-protocols"),
      ],
      ["ssl-protocols", ingressNginxSettings(r.type, r.props)?.["ssl-protocols"]],
    ] as const) {
      if (typeof value !== "string") continue;
      const weak = value.split(/\s+/).filter((p) => weakNginx.includes(p));
      if (weak.length)
        ctx.violation(
          `${r.label} (${src}) enables ${weak.join(" and ")}, below TLS ${ctx.config.minVersion}. Set it to "${fixNginx.replace("ssl_protocols ", "")}".`,
        );
    }
  },
});

interface CipherConfig {
  allowSuites: string[];
}

export const tlsStrongCiphers: ResourceValidationPolicy = resourcePolicy<CipherConfig>({
  name: "tls-strong-ciphers",
  description:
    "The gateway offers no weak cipher suites (CBC-mode SHA-1, RC4, 3DES/DES, MD5, NULL, EXPORT, anonymous).",
  severity: "high",
  config: {
    allowSuites: setting.strings(
      "Suite names accepted even though the policy counts them as weak.",
      [],
    ),
  },
  scope: inScope,
  validate: (r, ctx) => {
    const keep = (ps: string[]) =>
      ps.filter(
        (p) =>
          !ctx.config.allowSuites.some((s) => p.startsWith(`'${s}'`) || p.includes(`: '${s}'`)),
      );
    const cfg = gatewayConfigOf(r.type, r.props);
    const fixOpenssl =
      "list only AEAD suites, e.g. ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
    each(cfg.nginx, r.label, "cipher suites", ctx, (tree, where) => {
      if (!hasTls(tree)) return;
      const problems = keep(cipherProblems(tree));
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) allows weak ciphers: ${problems.join("; ")}. In ssl_ciphers, ${fixOpenssl}.`,
        );
    });
    each(cfg.traefikDynamic, r.label, "cipher suites", ctx, (doc, where) => {
      const problems = keep(tlsOptionProblems(doc).ciphers);
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) allows weak ciphers: ${problems.join("; ")}. List only TLS_ECDHE_*_GCM_* and *_CHACHA20_POLY1305_* suites in cipherSuites.`,
        );
    });
    if (traefikKind(r.type) === "TLSOption") {
      const suites = list(r.props, "spec.cipherSuites");
      if (suites === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the cipher suites of ${r.label} at preview: spec.cipherSuites is computed.`,
        );
      else {
        const problems = keep(
          goCipherProblems(suites.filter((s): s is string => typeof s === "string")),
        );
        if (problems.length)
          ctx.violation(
            `${r.label} allows weak ciphers: ${problems.join("; ")}. List only ECDHE AEAD suites in spec.cipherSuites.`,
          );
      }
    }
    for (const v of [
      ingressNginxAnnotation(r.type, r.props, "ssl-ciphers"),
      ingressNginxSettings(r.type, r.props)?.["ssl-ciphers"],
    ]) {
      if (typeof v !== "string") continue;
      const problems = keep(opensslCipherProblems(v));
      if (problems.length)
        ctx.violation(
          `${r.label} (ssl-ciphers) allows weak ciphers: ${problems.join("; ")}. ${fixOpenssl[0]!.toUpperCase()}${fixOpenssl.slice(1)}.`,
        );
    }
  },
});

interface HstsConfig {
  minMaxAgeSeconds: number;
}

export const tlsHsts: ResourceValidationPolicy = resourcePolicy<HstsConfig>({
  name: "tls-hsts",
  description:
    "Every HTTPS response carries Strict-Transport-Security (nginx add_header, Traefik headers.stsSeconds).",
  severity: "medium",
  config: {
    minMaxAgeSeconds: {
      schema: {
        type: "integer",
        minimum: 1,
        description: "Smallest accepted HSTS max-age, in seconds.",
      },
      default: 15_552_000,
    },
  },
  scope: inScope,
  validate: (r, ctx) => {
    const min = ctx.config.minMaxAgeSeconds;
    const cfg = gatewayConfigOf(r.type, r.props);
    each(cfg.nginx, r.label, "HSTS header", ctx, (tree, where) => {
      const problems = hstsProblems(tree, min);
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) does not enforce HSTS: ${problems.join("; ")}. Add 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;' to each TLS server.`,
        );
    });
    const stat = cfg.traefikStatic.find(
      (s) => s.value !== UNKNOWN && !(s.value instanceof ParseError),
    )?.value as Obj | undefined;
    each(cfg.traefikDynamic, r.label, "HSTS header", ctx, (doc, where) => {
      const problems = traefikHsts(doc, stat, min);
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) does not enforce HSTS: ${problems.join("; ")}. Attach a headers middleware with stsSeconds: 31536000 to every TLS router (or to the websecure entry point).`,
        );
    });
    if (traefikKind(r.type) === "Middleware") {
      const secs = at(r.props, "spec.headers.stsSeconds");
      if (secs === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the HSTS max-age of ${r.label} at preview: spec.headers.stsSeconds is computed.`,
        );
      else if (secs !== undefined && Number(secs) < min)
        ctx.violation(
          `${r.label} sets spec.headers.stsSeconds to ${String(secs)}, below ${min}. Set stsSeconds to at least ${min}.`,
        );
    }
    const controller = ingressNginxSettings(r.type, r.props);
    if (controller?.hsts === "false")
      ctx.violation(
        `${r.label} turns HSTS off (hsts: "false"). Remove the key or set it to "true".`,
      );
  },
});

interface RedirectConfig {
  publicHttpPorts: number[];
  internalPaths: string[];
}

export const tlsHttpRedirectOnly: ResourceValidationPolicy = resourcePolicy<RedirectConfig>({
  name: "tls-http-redirect-only",
  description:
    "Plain-HTTP listeners only redirect to HTTPS; internal ports serve only health and metrics paths.",
  severity: "high",
  config: {
    publicHttpPorts: setting.integers(
      "Container/host ports where plain HTTP is public.",
      [80, 8080],
    ),
    internalPaths: setting.strings("Locations allowed on non-public plain-HTTP ports.", [
      "/healthz",
      "/health",
      "/readyz",
      "/livez",
      "/ready",
      "/ping",
      "/metrics",
      "/stub_status",
      "/nginx_status",
    ]),
  },
  scope: inScope,
  validate: (r, ctx) => {
    const cfg = gatewayConfigOf(r.type, r.props);
    each(cfg.nginx, r.label, "plain-HTTP servers", ctx, (tree, where) => {
      const problems = plainHttpProblems(
        tree,
        ctx.config.publicHttpPorts,
        ctx.config.internalPaths,
      );
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) serves plain HTTP: ${problems.join("; ")}. Make each plain-HTTP server only 'return 301 https://$host$request_uri;'.`,
        );
    });
    each(cfg.traefikStatic, r.label, "entry points", ctx, (stat, where) => {
      const problems = entrypointRedirectProblems(stat, ctx.config.publicHttpPorts);
      if (problems.length)
        ctx.violation(
          `${r.label} (${where}) serves plain HTTP: ${problems.join("; ")}. Set entryPoints.<name>.http.redirections.entryPoint.to to the HTTPS entry point.`,
        );
    });
    if (kindOf(r.type) === "Ingress") {
      const annotations = strMap(r.props, "metadata.annotations");
      const tls = list(r.props, "spec.tls");
      if (annotations === UNKNOWN || tls === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify whether ${r.label} redirects plain HTTP at preview: its annotations or spec.tls are computed.`,
        );
      else if (
        tls.length === 0 &&
        annotations["traefik.ingress.kubernetes.io/router.tls"] !== "true"
      ) {
        ctx.violation(
          `${r.label} has no spec.tls, so its hosts are served over plain HTTP. Add a spec.tls entry with a certificate Secret.`,
        );
      } else if (
        annotations[`${INGRESS_NGINX}ssl-redirect`] === "false" &&
        annotations[`${INGRESS_NGINX}force-ssl-redirect`] !== "true"
      ) {
        ctx.violation(
          `${r.label} disables the HTTPS redirect (${INGRESS_NGINX}ssl-redirect: "false"). Remove the annotation or set it to "true".`,
        );
      }
    }
  },
});

interface ApiConfig {
  allowDashboard: boolean;
}

export const traefikApiSecure: ResourceValidationPolicy = resourcePolicy<ApiConfig>({
  name: "traefik-api-secure",
  description:
    "Traefik's API and dashboard are never served insecurely (--api.insecure, api.insecure: true, TRAEFIK_API_INSECURE).",
  severity: "critical",
  config: {
    allowDashboard: setting.flag(
      "Whether the (authenticated) dashboard may be enabled at all.",
      true,
    ),
  },
  scope: inScope,
  validate: (r, ctx) => {
    const cfg = gatewayConfigOf(r.type, r.props);
    each(cfg.traefikStatic, r.label, "API settings", ctx, (stat, where) => {
      if (apiInsecure(stat)) {
        ctx.violation(
          `${r.label} (${where}) serves Traefik's API and dashboard without authentication (api.insecure). Remove --api.insecure / api.insecure: true and expose the dashboard through a router with authentication on an internal entry point.`,
        );
      } else if (!ctx.config.allowDashboard && apiDashboard(stat)) {
        ctx.violation(
          `${r.label} (${where}) enables Traefik's dashboard, which this environment does not allow. Set api.dashboard: false.`,
        );
      }
    });
  },
});
