/**
 * Where a gateway config listens for HTTP/3 (QUIC over UDP) and for HTTPS over TCP, from nginx
 * `listen ... quic` and Traefik entry points with an `http3` block (Traefik then listens on UDP
 * at the entry point's own port). Pure; the policy ties these ports to what is opened.
 */
import { type Found, type GatewayConfig, ParseError } from "./gateway";
import { listenPort, servers } from "./nginx-tls";
import type { NginxDirective } from "../../lib/parse/nginx";
import { type Obj, UNKNOWN, isObj } from "./values";

export interface ListenFacts {
  /** Ports where the gateway answers QUIC, i.e. listens on UDP for HTTP/3. */
  quic: Set<number>;
  /** Ports where it terminates TLS over TCP (where HTTP/3 would be offered). */
  https: Set<number>;
  /** Some config is computed at preview, so the sets may be incomplete. */
  unknown: boolean;
}

export const noFacts = (): ListenFacts => ({ quic: new Set(), https: new Set(), unknown: false });

export function mergeFacts(into: ListenFacts, from: ListenFacts): ListenFacts {
  for (const p of from.quic) into.quic.add(p);
  for (const p of from.https) into.https.add(p);
  into.unknown ||= from.unknown;
  return into;
}

function nginxFacts(tree: NginxDirective[], out: ListenFacts): void {
  for (const s of servers(tree)) {
    for (const args of s.listens) {
      const port = listenPort(args)?.port;
      if (port === undefined) continue;
      if (args.includes("quic")) out.quic.add(port);
      else if (args.includes("ssl") || s.ssl) out.https.add(port);
    }
  }
}

const entryPort = (address: unknown): { port: number; udp: boolean } | undefined => {
  const m = /:(\d+)(\/(tcp|udp))?$/i.exec(String(address ?? ""));
  return m ? { port: Number(m[1]), udp: m[3]?.toLowerCase() === "udp" } : undefined;
};

function traefikFacts(stat: Obj, out: ListenFacts): void {
  const eps = isObj(stat.entrypoints) ? stat.entrypoints : {};
  for (const ep of Object.values(eps)) {
    if (!isObj(ep)) continue;
    const at = entryPort(ep.address);
    if (!at || at.udp) continue;
    const h3 = ep.http3;
    if (h3 !== undefined && h3 !== false && h3 !== "false") out.quic.add(at.port);
    const http = isObj(ep.http) ? ep.http : {};
    if (http.tls !== undefined && http.tls !== false && http.tls !== "false")
      out.https.add(at.port);
  }
}

function each<T>(items: Found<T>[], out: ListenFacts, read: (v: T) => void): void {
  for (const it of items) {
    if (it.value === UNKNOWN) out.unknown = true;
    else if (!(it.value instanceof ParseError)) read(it.value as T);
  }
}

/** The listen facts of one resource's gateway configs; undefined when it carries none. */
export function listenFacts(cfg: GatewayConfig): ListenFacts | undefined {
  if (cfg.nginx.length === 0 && cfg.traefikStatic.length === 0) return undefined;
  const out = noFacts();
  each(cfg.nginx, out, (tree) => nginxFacts(tree, out));
  each(cfg.traefikStatic, out, (stat) => traefikFacts(stat, out));
  return out;
}
