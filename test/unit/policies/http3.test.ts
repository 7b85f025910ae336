/**
 * gateway-http3-udp: UDP opened for a gateway exactly where it serves HTTP/3, on Docker,
 * Kubernetes (container port, Service) and in the node firewalls fjord renders.
 */
import { describe, expect, it } from "vitest";
import { type Fixture, runStack, unknown } from "./harness";
import {
  NGINX_CONF,
  T,
  TRAEFIK_STATIC,
  dockerContainer,
  gatewayConfigMap,
  labels,
} from "./fixtures";
import { gatewayHttp3Udp } from "../../../policies/http3";
import { nftInputAccepts, nftOpenToAll } from "../../../lib/parse/nftables";
import { renderNftables, renderFirewallBody } from "../../../components/nodes";

const H3_STATIC = TRAEFIK_STATIC.replace(
  "    http:\n      tls: {}\n",
  "    http:\n      tls: {}\n    http3:\n      advertisedPort: 443\n",
);
const QUIC_NGINX = NGINX_CONF.replace(
  "listen 8443 ssl http2;",
  "listen 8443 ssl http2;\n        listen 8443 quic reuseport;",
);

const tcp = (p: number) => ({ internal: p, external: p, ip: "127.0.0.1", protocol: "tcp" });
const udp = (p: number) => ({ ...tcp(p), protocol: "udp" });
const dockerGw = (file: string, content: string, ports: unknown[]): Fixture => ({
  type: T.docker,
  name: "gateway-proxy",
  props: dockerContainer({
    name: "fjord-dev-gateway",
    uploads: [{ file: `/etc/fjord/${file}`, content }],
    ports,
  }),
});

/** fjord's Kubernetes gateway: its ConfigMap, the Deployment mounting it, the Service in front. */
function k8sGateway(
  conf: Record<string, string>,
  udpPort: boolean,
  serviceUdp: boolean,
): Fixture[] {
  const l = labels("gateway", "gateway");
  return [
    { type: T.configMap, name: "gateway-config", props: gatewayConfigMap(conf) },
    {
      type: T.deployment,
      name: "gateway-deployment",
      props: {
        metadata: { name: "gateway", namespace: "fjord-system", labels: l },
        spec: {
          selector: { matchLabels: { app: "gateway" } },
          template: {
            metadata: { labels: l },
            spec: {
              containers: [
                {
                  name: "proxy",
                  image: "traefik:v3.6.2",
                  ports: [
                    { name: "http", containerPort: 8080 },
                    { name: "https", containerPort: 8443 },
                    ...(udpPort ? [{ name: "http3", containerPort: 8443, protocol: "UDP" }] : []),
                  ],
                },
              ],
              volumes: [{ name: "config", configMap: { name: "gateway-config" } }],
            },
          },
        },
      },
    },
    {
      type: T.service,
      name: "gateway-service",
      props: {
        metadata: { name: "gateway", namespace: "fjord-system", labels: l },
        spec: {
          type: "LoadBalancer",
          selector: { app: "gateway" },
          ports: [
            { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
            { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
            ...(serviceUdp
              ? [{ name: "http3", port: 443, targetPort: "http3", protocol: "UDP" }]
              : []),
          ],
        },
      },
    },
  ];
}

/** A gateway node's firewall step, its script rendered by fjord's own renderer. */
const firewall = (http3: boolean, stdin?: string): Fixture => ({
  type: T.command,
  name: "cluster-nodes-osl-1-firewall",
  props: {
    connection: { host: "192.0.2.11", port: 22, user: "fjord" },
    create: "bash -s create",
    environment: { FJORD_NODE: "osl-1", FJORD_REGION: "no-osl1" },
    stdin:
      stdin ??
      renderFirewallBody(
        renderNftables({
          node: "osl-1",
          role: "server",
          sshPort: 22,
          adminCidrs: [],
          gateway: true,
          http3,
          peers: [],
          serverPeers: [],
        }),
      ),
  },
});

const mandatory = async (stack: Fixture[]) => (await runStack(gatewayHttp3Udp, stack)).mandatory;

describe("nftables reading (lib/parse/nftables)", () => {
  it("GIVEN fjord's rendered node firewall with and without http3 WHEN its input rules are read THEN UDP 443 is open to all exactly when http3 is on, TCP 443 always, UDP 8472 never", () => {
    for (const http3 of [true, false]) {
      const rules = nftInputAccepts(String(firewall(http3).props.stdin));
      expect(nftOpenToAll(rules, "udp", 443)).toBe(http3);
      expect(nftOpenToAll(rules, "tcp", 443)).toBe(true);
      expect(nftOpenToAll(rules, "udp", 8472)).toBe(false); // peers only
    }
  });
});

describe("gateway-http3-udp on Docker", () => {
  it("GIVEN Traefik with http3 and UDP published on its HTTPS port WHEN judged THEN it passes", async () => {
    expect(
      await mandatory([dockerGw("traefik.yml", H3_STATIC, [tcp(8080), tcp(8443), udp(8443)])]),
    ).toEqual([]);
  });

  it("GIVEN Traefik advertising HTTP/3 without the UDP port WHEN judged THEN it is flagged", async () => {
    expect(await mandatory([dockerGw("traefik.yml", H3_STATIC, [tcp(8080), tcp(8443)])])).toEqual([
      "Docker container 'fjord-dev-gateway' serves HTTP/3 on 8443 (and advertises it with Alt-Svc), but publishes only TCP 8443, so clients cannot reach it over QUIC. Open the UDP port too (Docker: publish it with protocol udp; Kubernetes: a UDP container port and Service port), or turn HTTP/3 off.",
    ]);
  });

  it("GIVEN nginx 1.22 (no quic listen) with UDP published WHEN judged THEN it is flagged", async () => {
    const got = await mandatory([dockerGw("nginx.conf", NGINX_CONF, [tcp(8443), udp(8443)])]);
    expect(got).toEqual([
      "Docker container 'fjord-dev-gateway' publishes UDP 8443, but its gateway config serves no HTTP/3 (QUIC) on 8443. Open UDP only for a gateway that serves HTTP/3 (nginx 1.22 has none; with fjord set fjord:gateway.http3 to false or use kind traefik).",
    ]);
  });

  it("GIVEN an nginx that listens quic with UDP published WHEN judged THEN it passes", async () => {
    expect(await mandatory([dockerGw("nginx.conf", QUIC_NGINX, [tcp(8443), udp(8443)])])).toEqual(
      [],
    );
  });

  it("GIVEN Traefik without http3 and no UDP WHEN judged THEN it passes", async () => {
    expect(await mandatory([dockerGw("traefik.yml", TRAEFIK_STATIC, [tcp(8443)])])).toEqual([]);
  });

  it("GIVEN a computed config at preview WHEN judged THEN it cannot verify, never blocks", async () => {
    const r = await runStack(gatewayHttp3Udp, [
      dockerGw("traefik.yml", unknown(), [tcp(8443), udp(8443)]),
    ]);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify whether Docker container 'fjord-dev-gateway' serves HTTP/3 on UDP 8443 at preview: its gateway config is computed.",
    ]);
  });
});

describe("gateway-http3-udp on Kubernetes", () => {
  const traefik = { "traefik.yml": H3_STATIC };
  const plain = { "traefik.yml": TRAEFIK_STATIC };

  it("GIVEN fjord's Traefik shape (UDP port, UDP Service port, firewall UDP 443) WHEN judged THEN it passes", async () => {
    expect(await mandatory([...k8sGateway(traefik, true, true), firewall(true)])).toEqual([]);
  });

  it("GIVEN fjord's nginx shape (no UDP anywhere) WHEN judged THEN it passes", async () => {
    expect(
      await mandatory([...k8sGateway({ "nginx.conf": NGINX_CONF }, false, false), firewall(false)]),
    ).toEqual([]);
  });

  it("GIVEN a gateway without HTTP/3 behind a UDP container and Service port WHEN judged THEN both are flagged", async () => {
    const got = await mandatory(k8sGateway(plain, true, true));
    expect(got).toEqual([
      "Deployment fjord-system/gateway declares container port UDP 8443, but its gateway config serves no HTTP/3 (QUIC) on 8443. Open UDP only for a gateway that serves HTTP/3 (nginx 1.22 has none; with fjord set fjord:gateway.http3 to false or use kind traefik).",
      "Service fjord-system/gateway exposes UDP 443 for Deployment fjord-system/gateway, whose gateway config serves no HTTP/3 (QUIC) there. Open UDP only for a gateway that serves HTTP/3 (nginx 1.22 has none; with fjord set fjord:gateway.http3 to false or use kind traefik).",
    ]);
  });

  it("GIVEN HTTP/3 Traefik whose Service carries only TCP WHEN judged THEN the Service is flagged", async () => {
    const got = await mandatory(k8sGateway(traefik, true, false));
    expect(got).toEqual([
      "Service fjord-system/gateway carries HTTPS (TCP 443) to Deployment fjord-system/gateway, which serves HTTP/3 on 8443, but no UDP port, so clients cannot reach it over QUIC. Open the UDP port too (Docker: publish it with protocol udp; Kubernetes: a UDP container port and Service port), or turn HTTP/3 off.",
    ]);
  });

  it("GIVEN a node firewall opening UDP 443 for a gateway without HTTP/3 WHEN judged THEN the firewall is flagged", async () => {
    const got = await mandatory([
      ...k8sGateway({ "nginx.conf": NGINX_CONF }, false, false),
      firewall(true),
    ]);
    expect(got).toEqual([
      "remote command 'cluster-nodes-osl-1-firewall' opens UDP 443 to everyone, but no gateway in this stack serves HTTP/3. Open UDP only for a gateway that serves HTTP/3 (nginx 1.22 has none; with fjord set fjord:gateway.http3 to false or use kind traefik).",
    ]);
  });

  it("GIVEN HTTP/3 Traefik behind a node firewall without UDP 443 WHEN judged THEN the firewall is flagged", async () => {
    const got = await mandatory([...k8sGateway(traefik, true, true), firewall(false)]);
    expect(got).toEqual([
      "remote command 'cluster-nodes-osl-1-firewall' admits HTTPS (TCP 443) but not UDP 443, while the gateway serves HTTP/3. Add 'udp dport 443 accept' (fjord does when fjord:gateway.http3 is true).",
    ]);
  });

  it("GIVEN the firewall script computed at preview WHEN judged THEN it cannot verify, never blocks", async () => {
    const r = await runStack(gatewayHttp3Udp, [
      ...k8sGateway({ "nginx.conf": NGINX_CONF }, false, false),
      firewall(false, unknown()),
    ]);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory.join("\n")).toContain(
      "Cannot verify the UDP 443 rule of remote command 'cluster-nodes-osl-1-firewall' at preview",
    );
  });
});
