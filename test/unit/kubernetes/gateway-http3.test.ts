/**
 * On Kubernetes, the gateway's UDP port (container, Service, NetworkPolicy) follows the resolved
 * fjord:gateway.http3: open for Traefik by default, closed for nginx and for Traefik with it off.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { TEST_BACKUP_KEYS, setupMocks, stackConfig } from "../../../testkit/mocks";
import { parseSpec } from "../../../components/config";

const rec = await setupMocks({ stack: "prod" });
const { Platform } = await import("../../../components/kubernetes");

/** The prod stack file with the gateway's kind and http3 replaced. */
function prodSpec(gateway: Record<string, unknown>) {
  const values = Object.fromEntries(
    Object.entries(stackConfig("prod")).map(([k, v]) => [k.slice("fjord:".length), decode(v)]),
  );
  const base = values.gateway as Record<string, unknown>;
  return parseSpec({
    stack: "prod",
    values: { ...values, gateway: { ...base, ...gateway } },
    secrets: {},
    dryRun: true,
  }).spec;
}
function decode(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const CASES: Record<string, Record<string, unknown>> = {
  h3: { kind: "traefik" },
  off: { kind: "traefik", http3: false },
  ngx: { kind: "nginx" },
};

beforeAll(async () => {
  for (const [name, gateway] of Object.entries(CASES))
    new Platform(name, { spec: prodSpec(gateway), backupKeys: TEST_BACKUP_KEYS });
  await rec.settle();
  // Three whole Platforms: slower than one under a loaded machine's 10 s default.
}, 120_000);

type Port = { protocol?: string; port?: number; containerPort?: number; name?: string };
const udp = (ports: Port[]) => ports.filter((p) => p.protocol === "UDP");
const service = (n: string): Port[] =>
  rec.get("kubernetes:core/v1:Service", `${n}-gateway-service`).inputs.spec.ports;
const container = (n: string): Port[] =>
  rec.get("kubernetes:apps/v1:Deployment", `${n}-gateway-deployment`).inputs.spec.template.spec
    .containers[0].ports;
const ingress = (n: string): Port[] =>
  rec.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", `${n}-gateway-np-ingress`).inputs.spec
    .ingress[0].ports;

describe("Kubernetes gateway and HTTP/3", () => {
  it("GIVEN Traefik with the default WHEN the prod Platform is built THEN the pod, the Service and the NetworkPolicy admit UDP on HTTPS", () => {
    const https = container("h3").find((p) => p.name === "https")!.containerPort;
    expect(udp(container("h3"))).toEqual([
      { name: "http3", containerPort: https, protocol: "UDP" },
    ]);
    expect(udp(service("h3"))).toEqual([
      { name: "http3", port: 443, targetPort: "http3", protocol: "UDP" },
    ]);
    expect(udp(ingress("h3"))).toEqual([{ protocol: "UDP", port: https }]);
  });

  it.each(["off", "ngx"])(
    "GIVEN stack %s (Traefik with http3 false, or nginx) WHEN the prod Platform is built THEN no UDP anywhere on the gateway, and the ingress policy admits two TCP ports",
    (n) => {
      expect(udp(container(n))).toEqual([]);
      expect(udp(service(n))).toEqual([]);
      expect(udp(ingress(n))).toEqual([]);
      expect(ingress(n).map((p) => p.protocol)).toEqual(["TCP", "TCP"]);
    },
  );
});
