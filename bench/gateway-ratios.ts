/**
 * The gateway section's figures and, for each, the measured reason behind it: CPU per request of
 * every configuration comes from its accounting cgroup in the same run, so a missed goal is
 * explained by where the microseconds went, not by a guess.
 */
import { fmt, type Ratio } from "./report";

export interface GatewayMeasures {
  /** Median of per-round rps ratios a / b. */
  ratio(a: string, b: string): number;
  /** "per round: ..." for a / b. */
  rounds(a: string, b: string): string;
  /** Median of per-round CPU-per-request ratios b / a (above 1: a does the same work cheaper). */
  cpuRatio(a: string, b: string): number;
  /** Median server CPU µs per request. */
  cpuUs(key: string): number;
  /** Median rps. */
  rps(key: string): number;
  has(key: string): boolean;
  /** Cores of the machine, shared by wrk, the gateway and the upstream. */
  cores: number;
}

export function gatewayRatios(m: GatewayMeasures): Ratio[] {
  const us = (k: string) => fmt(m.cpuUs(k));
  const r = m.cpuUs("rendered");
  const h = m.cpuUs("hand");
  const features = [
    `JSON access log formatting ${fmt(r - m.cpuUs("renderedNoLog"))} µs (access log off: ${us("renderedNoLog")} µs)`,
    `limit_req, $request_id (one getpid() and one OpenSSL DRBG draw per request), HSTS and the 11 proxy_set_header lines ${fmt(r - m.cpuUs("renderedBare"))} µs (all of them off: ${us("renderedBare")} µs)`,
  ].join("; ");
  const ratios: Ratio[] = [
    {
      name: "rendered / hand-tuned keepalive (HTTP rps)",
      value: m.ratio("rendered", "hand"),
      goal: 1.0,
      note: `${m.rounds("rendered", "hand")}; gateway CPU per request rendered ${fmt(r)} µs vs hand-tuned ${fmt(h)} µs (${fmt(m.cpuRatio("rendered", "hand"))}×): rps follows CPU per request when the gateway's one worker has a core to itself, and the rest of the machine's load decides the difference between the two. The log buffer saves the per-request write() the hand-tuned config still pays (unbuffered: ${us("renderedUnbufLog")} µs); what the features cost on top: ${features}. Limit: with those features off the rendered file costs ${us("renderedBare")} µs against the hand-tuned ${fmt(h)} µs (${fmt(h / m.cpuUs("renderedBare"))}×), so what separates the two is the price of the features the goal keeps on (rate limiting, request ids for tracing, HSTS, and the header resets that strip PII), not how the file is written`,
    },
    {
      name: "gateway CPU per request, hand-tuned / rendered (HTTP)",
      value: m.cpuRatio("rendered", "hand"),
      note: `${fmt(r)} µs vs ${fmt(h)} µs of gateway CPU per request; below 1 = the rendered config does more work per request`,
    },
    {
      name: "rendered / the same without access log (HTTP rps, diagnostic)",
      value: m.ratio("rendered", "renderedNoLog"),
      note: "what the JSON access log still costs once buffered: formatting and escaping 14 fields",
    },
    {
      name: "rendered / the same with one access-log write per request (HTTP rps, diagnostic)",
      value: m.ratio("rendered", "renderedUnbufLog"),
      note: `what the 4 KiB log buffer buys: ${us("renderedUnbufLog")} µs of gateway CPU per request unbuffered, ${fmt(r)} µs buffered`,
    },
    {
      name: "rendered without limit_req, request id, HSTS and extra headers / rendered (HTTP rps, diagnostic)",
      value: m.ratio("renderedBare", "rendered"),
      note: `what those features cost together: ${us("renderedBare")} vs ${fmt(r)} µs of gateway CPU per request`,
    },
    {
      name: "rendered / naive no-keepalive (HTTP rps)",
      value: m.ratio("rendered", "naive"),
      goal: 3.5,
      note: `${m.rounds("rendered", "naive")}; naive spends ${us("naive")} µs of gateway CPU per request, rendered ${fmt(r)} µs: on loopback a fresh upstream TCP connection costs only about ${fmt(m.cpuUs("naive") - h)} µs more, so the ratio is CPU-bound and far from what a real network RTT per request would add`,
    },
    {
      name: "rendered / direct to upstream (HTTP rps)",
      value: m.ratio("rendered", "direct"),
      goal: 0.4,
      note: `${m.rounds("rendered", "direct")}; the upstream spends ${us("direct")} µs of CPU per request, the gateway ${fmt(r)} µs (hand-tuned ${fmt(h)} µs): a proxied request costs the gateway two socket round trips (client and upstream) and an HTTP parse of each, where the upstream answering alone does one. Limit on this machine: wrk, the gateway's one worker and the upstream share ${m.cores} cores; direct, wrk and the upstream have them to themselves (${fmt(m.rps("direct"), 0)} rps). ${fmt(m.cpuUs("direct") / h)}× (upstream CPU / hand-tuned gateway CPU) is the ceiling even for the hand-tuned config`,
    },
    {
      name: "rendered HTTPS / rendered HTTP (rps)",
      value: m.ratio("renderedTls", "rendered"),
      goal: 0.85,
      note: `${m.rounds("renderedTls", "rendered")}; TLS adds ${fmt(m.cpuUs("renderedTls") - r)} µs of gateway CPU per request (${us("renderedTls")} vs ${fmt(r)} µs), the hand-tuned config ${fmt(m.cpuUs("handTls") - h)} µs (its own ratio: ${fmt(m.ratio("handTls", "hand"))}×). wrk keeps its 64 connections open, so this is per-request record work, not handshakes: AES-GCM on both sides, OpenSSL's record layer, and one read() per request that returns EAGAIN (nginx 1.22 reads an SSL connection until the socket is drained). wrk decrypts on the same ${m.cores} cores, so the client's TLS cost comes out of the same budget`,
    },
    {
      name: "gateway CPU per request, rendered HTTP / rendered HTTPS",
      value: m.cpuRatio("renderedTls", "rendered"),
      note: `${us("renderedTls")} µs with TLS vs ${fmt(r)} µs without`,
    },
    {
      name: "hand-tuned HTTPS / hand-tuned HTTP (rps, diagnostic)",
      value: m.ratio("handTls", "hand"),
      note: `${m.rounds("handTls", "hand")}; the same TLS cost without fjord's config: what TLS itself costs on this box`,
    },
  ];
  if (m.has("traefikTls")) ratios.push(...traefikRatios(m));
  return ratios;
}

/**
 * Traefik against nginx, and where Traefik's microseconds go: the same rendered files without the
 * access log, then without every fjord feature (middlewares, metrics), which is Traefik's own
 * floor as a TLS reverse proxy on this machine, and the full files with one P.
 */
function traefikRatios(m: GatewayMeasures): Ratio[] {
  const us = (k: string) => fmt(m.cpuUs(k));
  const full = m.cpuUs("traefikTls");
  const noLog = m.cpuUs("traefikNoLog");
  const bare = m.cpuUs("traefikBare");
  const nginx = m.cpuUs("renderedTls");
  const goFloor = m.has("goProxyTls")
    ? ` For comparison, Go's standard-library TLS reverse proxy with nothing else spends ${us("goProxyTls")} µs and reaches ${fmt(m.ratio("goProxyTls", "renderedTls"))}× of nginx's rps: a Go gateway with no features at all lands at the same level as Traefik's floor`
    : "";
  return [
    {
      name: "Traefik HTTPS / nginx HTTPS, both rendered (rps)",
      value: m.ratio("traefikTls", "renderedTls"),
      goal: 0.5,
      note: `${m.rounds("traefikTls", "renderedTls")}; Traefik spends ${fmt(full)} µs of CPU per request, nginx ${fmt(nginx)} µs. Measured split of Traefik's: its access log ${fmt(full - noLog)} µs (a Go map of every field marshalled by logrus and one write() per request, whatever the format or field list), fjord's middlewares (rate limit, PII headers, breaker, retry) and the Prometheus series ${fmt(noLog - bare)} µs, and ${fmt(bare)} µs that Traefik spends with none of them (Go's TLS and HTTP/1.1 server, Traefik's own entrypoint chain, the reverse proxy). Limit on this machine: with every feature off Traefik reaches ${fmt(m.ratio("traefikBare", "renderedTls"))}× of nginx's rps.${goFloor}. The access log and the middlewares are features the goal keeps on, and no rendered setting makes them cheaper (JSON or common format, fewer fields and log buffering were tried), so the gap is Traefik's and Go's per-request cost, not the configuration's`,
    },
    {
      name: "Traefik HTTPS, access log off / on (rps, diagnostic)",
      value: m.ratio("traefikNoLog", "traefikTls"),
      note: `${m.rounds("traefikNoLog", "traefikTls")}; ${us("traefikNoLog")} vs ${fmt(full)} µs of CPU per request`,
    },
    {
      name: "Traefik HTTPS, no fjord feature / rendered (rps, diagnostic)",
      value: m.ratio("traefikBare", "traefikTls"),
      note: `${m.rounds("traefikBare", "traefikTls")}; ${us("traefikBare")} vs ${fmt(full)} µs of CPU per request: no middleware, access log or metrics, only the router, TLS and the service`,
    },
    {
      name: "Traefik HTTPS with no fjord feature / nginx HTTPS rendered (rps, diagnostic)",
      value: m.ratio("traefikBare", "renderedTls"),
      note: `${m.rounds("traefikBare", "renderedTls")}; Traefik's floor against nginx with every feature on`,
    },
    {
      name: "Traefik HTTPS, GOMAXPROCS=1 / default 2 (rps, diagnostic)",
      value: m.ratio("traefikOneProc", "traefikTls"),
      note: `${m.rounds("traefikOneProc", "traefikTls")}; ${us("traefikOneProc")} vs ${fmt(full)} µs of CPU per request: whether Go's scheduler spreading over both cores is what costs the CPU`,
    },
    ...(m.has("goProxyTls")
      ? [
          {
            name: "Go standard-library reverse proxy HTTPS / nginx HTTPS rendered (rps, diagnostic)",
            value: m.ratio("goProxyTls", "renderedTls"),
            note: `${m.rounds("goProxyTls", "renderedTls")}; ${us("goProxyTls")} vs ${fmt(nginx)} µs of CPU per request: Go's floor (no log, no middleware) against nginx with every feature on`,
          },
        ]
      : []),
  ];
}
