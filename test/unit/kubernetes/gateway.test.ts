import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { secretInput, setupMocks } from "../../../testkit/mocks";
import {
  GATEWAY_CONFIG_DIR,
  gatewayFiles,
  makeGatewayPlan,
} from "../../../components/plan/gateway";

const rec = await setupMocks();
const { ApiGateway } = await import("../../../components/kubernetes");

const TICKETS = ["/etc/fjord/tickets/current.key", "/etc/fjord/tickets/previous.key"];
const ticketKeys = { current: "Q1VSUkVOVA==", previous: "UFJFVklPVVM=" };
const bound = (kind: "nginx" | "traefik", rsa = false) => {
  const p = makeGatewayPlan({
    kind,
    domains: ["api.example.no"],
    http3: kind === "traefik",
    tls: {
      certFile: "/etc/fjord/tls/tls.crt",
      keyFile: "/etc/fjord/tls/tls.key",
      sessionTicketKeyFiles: TICKETS,
      ...(rsa
        ? { rsaFallback: { certFile: "/etc/fjord/tls/rsa.crt", keyFile: "/etc/fjord/tls/rsa.key" } }
        : {}),
    },
    routes: [{ name: "orders", path: "/orders/", public: true, upstream: "orders", budgetMs: 200 }],
    upstreams: [
      { name: "orders", servers: [{ host: "orders.fjord-orders.svc.cluster.local", port: 8080 }] },
    ],
  });
  return { plan: p, files: gatewayFiles(p, GATEWAY_CONFIG_DIR), configDir: GATEWAY_CONFIG_DIR };
};
const resources = {
  requests: { cpu: "250m", memory: "128Mi" },
  limits: { cpu: "1", memory: "256Mi" },
};

beforeAll(async () => {
  new ApiGateway("edge", {
    namespace: "fjord-system",
    gateway: bound("traefik"),
    image: "traefik:v3.6.2",
    exporterImage: "x:1",
    replicas: 2,
    resources,
    region: "no-osl1",
    tlsSecretName: "edge-cert",
    ticketKeys,
  });
  new ApiGateway("web", {
    namespace: "fjord-system",
    gateway: bound("nginx", true),
    image: "nginx:1.27.3-alpine",
    exporterImage: "nginx/nginx-prometheus-exporter:1.4.0",
    replicas: 2,
    resources,
    region: "no-osl1",
    certificate: { certPem: "CERT", keyPem: "KEY", rsa: { certPem: "RSACERT", keyPem: "RSAKEY" } },
    ticketKeys,
  });
  await rec.settle();
});

describe("ApiGateway", () => {
  it("GIVEN a Traefik gateway plan WHEN the ApiGateway is built THEN one container runs Traefik from the rendered static and dynamic files, never with an insecure API", () => {
    const data = rec.get("kubernetes:core/v1:ConfigMap", "edge-config").inputs.data;
    const staticCfg = parse(data["traefik.yml"]);
    expect(staticCfg.api?.insecure).not.toBe(true);
    expect(staticCfg.providers.file.filename).toBe("/etc/fjord/dynamic.yml");
    const dynamic = parse(data["dynamic.yml"]);
    expect(dynamic.http.middlewares).toBeDefined();
    const c = rec.get("kubernetes:apps/v1:Deployment", "edge-deployment").inputs.spec.template.spec
      .containers;
    expect(c).toHaveLength(1);
    expect(c[0].command).toEqual(["traefik", "--configFile=/etc/fjord/traefik.yml"]);
    expect(JSON.stringify(c[0])).not.toContain("insecure");
  });

  it("GIVEN a Traefik gateway with http3 on and an nginx one WHEN both are built THEN only Traefik's Service publishes HTTP/3 over UDP 443", () => {
    const udp = (name: string) =>
      rec
        .get("kubernetes:core/v1:Service", `${name}-service`)
        .inputs.spec.ports.filter((p: { protocol: string }) => p.protocol === "UDP");
    expect(udp("edge")).toEqual([
      { name: "http3", port: 443, targetPort: "http3", protocol: "UDP" },
    ]);
    expect(udp("web")).toEqual([]);
  });

  it("GIVEN one gateway naming an existing TLS Secret and one given a certificate WHEN both are built THEN the first mounts the named Secret and creates none, the second stores a kubernetes.io/tls Secret", () => {
    expect(rec.resources.some((r) => r.name === "edge-tls")).toBe(false);
    const vol = rec
      .get("kubernetes:apps/v1:Deployment", "edge-deployment")
      .inputs.spec.template.spec.volumes.find((v: { name: string }) => v.name === "tls");
    expect(vol.secret.secretName).toBe("edge-cert");
    expect(rec.get("kubernetes:core/v1:Secret", "web-tls").inputs.type).toBe("kubernetes.io/tls");
  });

  it("GIVEN an nginx gateway WHEN it is built THEN an exporter sidecar scrapes stub_status on loopback and the pod is annotated with its port", () => {
    const pod = rec.get("kubernetes:apps/v1:Deployment", "web-deployment").inputs.spec.template;
    expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual(["nginx", "exporter"]);
    expect(pod.spec.containers[1].args[0]).toMatch(
      /^--nginx\.scrape-uri=http:\/\/127\.0\.0\.1:\d+\/stub_status$/,
    );
    expect(pod.metadata.annotations["prometheus.io/port"]).toBe("9113");
    expect(pod.spec.containers[0].command).toEqual([
      "nginx",
      "-e",
      "stderr",
      "-c",
      "/etc/fjord/nginx.conf",
      "-g",
      "daemon off;",
    ]);
  });

  it("GIVEN an nginx gateway given ECDSA and RSA pairs WHEN it is built THEN both pairs are in the TLS Secret and nginx.conf serves the RSA one", () => {
    const data = secretInput(rec.get("kubernetes:core/v1:Secret", "web-tls").inputs.stringData);
    expect(Object.keys(data).sort()).toEqual(["rsa.crt", "rsa.key", "tls.crt", "tls.key"]);
    const conf = rec.get("kubernetes:core/v1:ConfigMap", "web-config").inputs.data["nginx.conf"];
    expect(conf).toContain("ssl_certificate /etc/fjord/tls/rsa.crt;");
  });

  it("GIVEN session ticket keys WHEN an nginx gateway is built THEN they are in a Secret of their own, secret in state too, mounted at the paths nginx.conf names", () => {
    // Secret in state as a whole, not only in the cluster.
    const data = secretInput(rec.get("kubernetes:core/v1:Secret", "web-tickets").inputs.data);
    expect(data).toEqual({
      "current.key": ticketKeys.current,
      "previous.key": ticketKeys.previous,
    });
    const pod = rec.get("kubernetes:apps/v1:Deployment", "web-deployment").inputs.spec.template
      .spec;
    const mount = pod.containers[0].volumeMounts.find(
      (m: { name: string }) => m.name === "tickets",
    );
    const vol = pod.volumes.find((v: { name: string }) => v.name === "tickets");
    expect(vol.secret.secretName).toBe("gateway-tls-tickets");
    for (const f of TICKETS) expect(f.startsWith(`${mount.mountPath}/`)).toBe(true);
    const conf = rec.get("kubernetes:core/v1:ConfigMap", "web-config").inputs.data["nginx.conf"];
    for (const f of TICKETS) expect(conf).toContain(`ssl_session_ticket_key ${f};`);
  });

  it("GIVEN a plan with an RSA fallback and a certificate without an RSA pair WHEN the gateway is built THEN it is refused", () => {
    expect(
      () =>
        new ApiGateway("norsa", {
          namespace: "x",
          gateway: bound("nginx", true),
          image: "nginx:1",
          exporterImage: "x:1",
          replicas: 2,
          resources,
          region: "no-osl1",
          certificate: { certPem: "CERT", keyPem: "KEY" },
          ticketKeys,
        }),
    ).toThrow(/RSA fallback certificate but was given no RSA pair/);
  });

  it("GIVEN neither a certificate nor an existing TLS Secret WHEN the gateway is built THEN it is refused", async () => {
    expect(
      () =>
        new ApiGateway("bad", {
          namespace: "x",
          gateway: bound("nginx"),
          image: "nginx:1",
          exporterImage: "x:1",
          replicas: 2,
          resources,
          region: "no-osl1",
          ticketKeys,
        }),
    ).toThrow(/needs a certificate or an existing TLS Secret/);
  });
});
