/**
 * HTTP/3 kept honest: UDP is opened for a gateway exactly where it answers QUIC. A UDP port
 * (Docker publish, container port, Service port, a node firewall's UDP 443) in front of a gateway
 * that serves no HTTP/3 there is an open port nothing should answer on; an HTTP/3 entry point
 * whose UDP port is not opened advertises (Alt-Svc) a protocol clients cannot reach.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { nftInputAccepts, nftOpenToAll } from "../lib/parse/nftables";
import { DOCKER } from "./lib/containers";
import { gatewayConfigOf } from "./lib/gateway";
import { type ListenFacts, listenFacts, mergeFacts, noFacts } from "./lib/http3";
import { containersOf, isWorkload, kindOf, namespaceIn, podOf, selects } from "./lib/k8s";
import { type Ctx, type StackResource, describe, stackPolicy } from "./lib/policy";
import { type Unknown, UNKNOWN, isObj, isUnknown, list, num, obj, str } from "./lib/values";

interface Port {
  port: number;
  udp: boolean;
  name?: string;
}

interface Gateway {
  r: StackResource;
  label: string;
  facts: ListenFacts;
  /** Ports the gateway's process gets traffic on (Docker internal ports, container ports). */
  ports: Port[] | Unknown;
  /** Kubernetes only: namespace and pod labels, to find the Services in front of it. */
  pod?: { namespace: string | Unknown; labels: Record<string, string | Unknown> | Unknown };
}

const FIX_CLOSE =
  "Open UDP only for a gateway that serves HTTP/3 (nginx 1.22 has none; with fjord set fjord:gateway.http3 to false or use kind traefik).";
const FIX_OPEN =
  "Open the UDP port too (Docker: publish it with protocol udp; Kubernetes: a UDP container port and Service port), or turn HTTP/3 off.";

function portOf(p: unknown, portKey: string): Port | Unknown | undefined {
  const n = num(p, portKey);
  const proto = str(p, "protocol");
  if (n === UNKNOWN || proto === UNKNOWN) return UNKNOWN;
  if (typeof n !== "number") return undefined;
  const name = str(p, "name");
  return {
    port: n,
    udp: typeof proto === "string" && proto.toLowerCase() === "udp",
    ...(typeof name === "string" ? { name } : {}),
  };
}

function portsOf(items: unknown[] | Unknown, portKey: string): Port[] | Unknown {
  if (items === UNKNOWN) return UNKNOWN;
  const out: Port[] = [];
  for (const p of items) {
    const port = isUnknown(p) ? UNKNOWN : portOf(p, portKey);
    if (port === UNKNOWN) return UNKNOWN;
    if (port) out.push(port);
  }
  return out;
}

/** Config carriers (ConfigMaps, Secrets) by "namespace/name". */
function carriers(
  resources: StackResource[],
  byUrn: ReadonlyMap<string, StackResource>,
): Map<string, ListenFacts> {
  const out = new Map<string, ListenFacts>();
  for (const r of resources) {
    const kind = kindOf(r.type);
    if (kind !== "ConfigMap" && kind !== "Secret") continue;
    const facts = listenFacts(gatewayConfigOf(r.type, r.props));
    const name = str(r.props, "metadata.name");
    const ns = namespaceIn(r, byUrn);
    if (facts && typeof name === "string" && typeof ns === "string")
      out.set(`${ns}/${name}`, facts);
  }
  return out;
}

/** The gateways of the stack: Docker containers carrying a config, workloads mounting one. */
function gateways(
  resources: StackResource[],
  byUrn: ReadonlyMap<string, StackResource>,
): Gateway[] {
  const mounted = carriers(resources, byUrn);
  const out: Gateway[] = [];
  for (const r of resources) {
    const label = describe(r.type, r.name, r.props);
    if (r.type === DOCKER) {
      const facts = listenFacts(gatewayConfigOf(r.type, r.props));
      if (facts) out.push({ r, label, facts, ports: portsOf(list(r.props, "ports"), "internal") });
      continue;
    }
    if (!isWorkload(r.type)) continue;
    const pod = podOf(r.type, r.props)!;
    if (!pod.spec || pod.spec === UNKNOWN) continue;
    const ns = namespaceIn(r, byUrn);
    let facts = listenFacts(gatewayConfigOf(r.type, r.props));
    const volumes = list(pod.spec, "volumes");
    for (const v of volumes === UNKNOWN ? [] : volumes) {
      const ref = str(v, "configMap.name") ?? str(v, "secret.secretName");
      if (ref === UNKNOWN || ns === UNKNOWN) continue;
      const found = typeof ref === "string" ? mounted.get(`${ns}/${ref}`) : undefined;
      if (found) facts = mergeFacts(facts ?? noFacts(), found);
    }
    if (!facts) continue;
    const cs = containersOf(pod.spec);
    const ports: Port[] | Unknown =
      cs === UNKNOWN
        ? UNKNOWN
        : cs.flatMap((c) => {
            const ps = c.c === UNKNOWN ? UNKNOWN : portsOf(list(c.c, "ports"), "containerPort");
            return ps === UNKNOWN ? [] : ps;
          });
    out.push({ r, label, facts, ports, pod: { namespace: ns, labels: pod.labels } });
  }
  return out;
}

/** The process's own ports: UDP where it serves no QUIC, and QUIC ports whose UDP is not open. */
function checkOwnPorts(g: Gateway, ctx: Ctx<unknown>): void {
  const what = g.r.type === DOCKER ? "publishes" : "declares container port";
  if (g.ports === UNKNOWN) {
    ctx.cannotVerify(
      `Cannot verify the UDP ports of ${g.label} at preview: its ports are computed.`,
      g.r.urn,
    );
    return;
  }
  for (const p of g.ports.filter((p) => p.udp && !g.facts.quic.has(p.port))) {
    if (g.facts.unknown) {
      ctx.cannotVerify(
        `Cannot verify whether ${g.label} serves HTTP/3 on UDP ${p.port} at preview: its gateway config is computed.`,
        g.r.urn,
      );
      continue;
    }
    ctx.violation(
      `${g.label} ${what} UDP ${p.port}, but its gateway config serves no HTTP/3 (QUIC) on ${p.port}. ${FIX_CLOSE}`,
      g.r.urn,
    );
  }
  const tcp = new Set(g.ports.filter((p) => !p.udp).map((p) => p.port));
  const udp = new Set(g.ports.filter((p) => p.udp).map((p) => p.port));
  for (const q of g.facts.quic) {
    // Only a port the gateway exposes over TCP is public; an unexposed one is judged nowhere.
    if (tcp.has(q) && !udp.has(q))
      ctx.violation(
        `${g.label} serves HTTP/3 on ${q} (and advertises it with Alt-Svc), but ${what} only TCP ${q}, so clients cannot reach it over QUIC. ${FIX_OPEN}`,
        g.r.urn,
      );
  }
}

/** A Service port's target on the pod: a number, a container port's name, or its own port. */
function targetOf(raw: unknown, p: Port, pod: Port[]): number | undefined {
  const t = isObj(raw) ? raw.targetPort : undefined;
  if (typeof t === "number") return t;
  if (typeof t === "string") return pod.find((c) => c.udp === p.udp && c.name === t)?.port;
  return p.port;
}

/**
 * Services in front of a Kubernetes gateway: a UDP port must land on a QUIC listener, and a
 * Service carrying HTTPS to a QUIC port must carry its UDP too.
 */
function checkServices(
  g: Gateway,
  services: StackResource[],
  byUrn: ReadonlyMap<string, StackResource>,
  ctx: Ctx<unknown>,
): void {
  const { namespace, labels } = g.pod!;
  for (const s of services) {
    const ns = namespaceIn(s, byUrn);
    const sel = obj(s.props, "spec.selector");
    if (ns === UNKNOWN || sel === UNKNOWN || namespace === UNKNOWN || labels === UNKNOWN) {
      ctx.cannotVerify(
        `Cannot verify which Services front ${g.label} at preview: namespaces or selectors are computed.`,
        s.urn,
      );
      continue;
    }
    if (ns !== namespace || selects(isObj(sel) ? sel : undefined, labels, true) !== true) continue;
    const raw = list(s.props, "spec.ports");
    const ports = portsOf(raw, "port");
    if (ports === UNKNOWN || raw === UNKNOWN || g.ports === UNKNOWN || g.facts.unknown) continue;
    const pod = g.ports;
    const label = describe(s.type, s.name, s.props);
    const udpTargets = new Set<number>();
    ports.forEach((p, i) => {
      if (!p.udp) return;
      const target = targetOf(raw[i], p, pod);
      if (target !== undefined && g.facts.quic.has(target)) udpTargets.add(target);
      else
        ctx.violation(
          `${label} exposes UDP ${p.port} for ${g.label}, whose gateway config serves no HTTP/3 (QUIC) there. ${FIX_CLOSE}`,
          s.urn,
        );
    });
    ports.forEach((p, i) => {
      const target = p.udp ? undefined : targetOf(raw[i], p, pod);
      if (target !== undefined && g.facts.quic.has(target) && !udpTargets.has(target))
        ctx.violation(
          `${label} carries HTTPS (TCP ${p.port}) to ${g.label}, which serves HTTP/3 on ${target}, but no UDP port, so clients cannot reach it over QUIC. ${FIX_OPEN}`,
          s.urn,
        );
    });
  }
}

const NFT = /chain input\s*\{/;

/** Node firewalls (remote commands carrying an nftables ruleset) and what they open on 443. */
function checkFirewalls(
  resources: StackResource[],
  clusterHttp3: boolean | Unknown,
  ctx: Ctx<unknown>,
): void {
  for (const r of resources) {
    if (r.type !== "command:remote:Command") continue;
    const texts = ["stdin", "create"].map((k) => str(r.props, k));
    const label = describe(r.type, r.name, r.props);
    if (texts.some((t) => t === UNKNOWN) && /-firewall$/.test(r.name)) {
      ctx.cannotVerify(
        `Cannot verify the UDP 443 rule of ${label} at preview: its script is computed.`,
        r.urn,
      );
      continue;
    }
    const text = texts.find((t): t is string => typeof t === "string" && NFT.test(t));
    if (!text || clusterHttp3 === UNKNOWN) continue;
    const rules = nftInputAccepts(text);
    const udp = nftOpenToAll(rules, "udp", 443);
    if (udp && !clusterHttp3)
      ctx.violation(
        `${label} opens UDP 443 to everyone, but no gateway in this stack serves HTTP/3. ${FIX_CLOSE}`,
        r.urn,
      );
    else if (!udp && clusterHttp3 && nftOpenToAll(rules, "tcp", 443))
      ctx.violation(
        `${label} admits HTTPS (TCP 443) but not UDP 443, while the gateway serves HTTP/3. Add 'udp dport 443 accept' (fjord does when fjord:gateway.http3 is true).`,
        r.urn,
      );
  }
}

export const gatewayHttp3Udp: StackValidationPolicy = stackPolicy<Record<string, never>>({
  name: "gateway-http3-udp",
  description:
    "UDP is opened for a gateway exactly where it serves HTTP/3: no UDP port (published, container, Service, node firewall 443) without a QUIC listener, and no HTTP/3 entry point without its UDP port.",
  severity: "medium",
  config: {},
  validate: (resources, ctx, byUrn) => {
    const gws = gateways(resources, byUrn);
    const services = resources.filter((r) => kindOf(r.type) === "Service");
    for (const g of gws) {
      checkOwnPorts(g, ctx);
      if (g.pod) checkServices(g, services, byUrn, ctx);
    }
    // Node firewalls are judged only beside the Kubernetes gateway they front.
    const k8s = gws.filter((g) => g.pod);
    if (k8s.length === 0) return;
    const http3 = k8s.some((g) => g.facts.quic.size > 0)
      ? true
      : k8s.some((g) => g.facts.unknown)
        ? UNKNOWN
        : false;
    checkFirewalls(resources, http3, ctx);
  },
});
