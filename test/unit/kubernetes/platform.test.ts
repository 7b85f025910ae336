import { beforeAll, describe, expect, it } from "vitest";
import {
  TEST_BACKUP_KEYS,
  isSecret,
  secretInput,
  setupMocks,
  stackConfig,
  valueOf,
} from "../../../testkit/mocks";
import { parseSpec } from "../../../components/config";

const rec = await setupMocks({ stack: "prod" });
const { Platform } = await import("../../../components/kubernetes");

/** The prod stack file, through the same spec the program uses. */
function prodSpec(overrides: Record<string, unknown> = {}) {
  const values = Object.fromEntries(
    Object.entries(stackConfig("prod")).map(([k, v]) => [
      k.slice("fjord:".length),
      JSON.parse(JSON.stringify(safeJson(v))),
    ]),
  );
  return parseSpec({
    stack: "prod",
    values: { ...values, ...overrides },
    secrets: {},
    dryRun: true,
  }).spec;
}
function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const spec = prodSpec();

let platform: InstanceType<typeof Platform>;

beforeAll(async () => {
  platform = new Platform("fjord", { spec, backupKeys: TEST_BACKUP_KEYS });
  await rec.settle();
});

describe("Platform (prod stack file)", () => {
  it("GIVEN the prod stack file WHEN the Platform is built THEN every service has its own restricted namespace, only the node agents' are looser, and each namespace starts from default-deny", () => {
    const all = rec.ofType("kubernetes:core/v1:Namespace");
    const namespaces = all.map((r) => r.inputs.metadata.name);
    const restricted = all.filter(
      (r) => r.inputs.metadata.labels["pod-security.kubernetes.io/enforce"] === "restricted",
    );
    expect(restricted.map((r) => r.inputs.metadata.name).sort()).toEqual([
      "fjord-inventory",
      "fjord-orders",
      "fjord-payment",
      "fjord-system",
    ]);
    // Only the node agents (host /proc, /sys, logs) get namespaces of their own with a looser level.
    expect(
      namespaces.filter((n) => !restricted.some((r) => r.inputs.metadata.name === n)).sort(),
    ).toEqual(["fjord-log-shipper", "fjord-node-exporter"]);
    for (const ns of namespaces) {
      const deny = rec
        .ofType(NP)
        .find(
          (r) => r.inputs.metadata.name === "default-deny" && r.inputs.metadata.namespace === ns,
        );
      expect(deny?.inputs.spec, ns).toEqual({
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
      });
    }
    const labels = rec.get("kubernetes:core/v1:Namespace", "fjord-ns-fjord-orders").inputs.metadata
      .labels;
    expect(labels).toMatchObject({
      "fjord.io/jurisdiction": "NO",
      "fjord.io/region": "no-osl1",
      "pod-security.kubernetes.io/enforce": "restricted",
    });
  });

  it("GIVEN the prod stack file's three services with databases WHEN the Platform is built THEN there is exactly one database StatefulSet per such service, behind ClusterIP Services", () => {
    const owners = rec
      .ofType("kubernetes:apps/v1:StatefulSet")
      .filter((r) => r.inputs.metadata.labels["app.kubernetes.io/component"] === "database")
      .map((r) => r.inputs.metadata.labels["fjord.io/owner-service"]);
    expect(owners.sort()).toEqual(["inventory", "orders", "payment"]);
    for (const s of rec
      .ofType("kubernetes:core/v1:Service")
      .filter((r) => r.inputs.metadata.labels["app.kubernetes.io/component"] === "database")) {
      expect(s.inputs.spec.type, s.name).toBe("ClusterIP");
    }
  });

  it("GIVEN orders with a database WHEN the Platform is built THEN its DB_HOST is its own database and DB_PASSWORD a Secret reference", () => {
    const orders = rec.get("kubernetes:apps/v1:Deployment", "orders-deployment").inputs.spec
      .template.spec.containers[0];
    const env = Object.fromEntries(
      orders.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [
        e.name,
        e.value ?? e.valueFrom,
      ]),
    );
    expect(env.DB_HOST).toBe("orders-db.fjord-orders.svc.cluster.local");
    expect(env.DB_PASSWORD).toEqual({
      secretKeyRef: { name: "orders-db-credentials", key: "password" },
    });
  });

  it("GIVEN services that call each other WHEN the Platform is built THEN traffic comes in only from the gateway and callers, and goes out only to the own database and callees", () => {
    const inventoryIn = rec.get(NP, "inventory-np-ingress").inputs.spec;
    const sources = inventoryIn.ingress[0].from.map(
      (f: {
        namespaceSelector: { matchLabels: Record<string, string> };
        podSelector: { matchLabels: { app: string } };
      }) => [
        f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
        f.podSelector.matchLabels.app,
      ],
    );
    expect(sources).toEqual([
      ["fjord-system", "gateway"],
      ["fjord-orders", "orders"],
    ]);
    // payment has no route: only orders may call it.
    const paymentIn = rec.get(NP, "payment-np-ingress").inputs.spec.ingress[0].from;
    expect(paymentIn).toHaveLength(1);
    const ordersOut = rec
      .get(NP, "orders-np-egress")
      .inputs.spec.egress.map(
        (e: {
          to: Array<{ podSelector: { matchLabels: { app: string } } }>;
          ports: Array<{ port: number }>;
        }) => [e.to[0].podSelector.matchLabels.app, e.ports[0].port],
      );
    expect(ordersOut).toEqual([
      ["orders-db", 5432],
      ["inventory", 8080],
      ["payment", 8080],
    ]);
  });

  it("GIVEN the prod stack file WHEN the Platform is built THEN nginx.conf has TLS 1.2/1.3, the seed's rate limit, PII headers stripped and the routed upstreams' endpoint placeholders", () => {
    const conf: string = rec.get("kubernetes:core/v1:ConfigMap", "fjord-gateway-config").inputs
      .data["nginx.conf"];
    expect(conf).toMatch(/ssl_protocols\s+TLSv1\.2 TLSv1\.3;/);
    expect(conf).toMatch(/rate=100r\/s/);
    expect(conf).toMatch(/burst=50/);
    expect(conf).toMatch(/proxy_set_header\s+X-User-Email\s+"";/);
    expect(conf).toContain("@@endpoints:orders@@ max_fails=3 fail_timeout=10s;");
    expect(conf).not.toContain("payment.fjord-payment");
  });

  it("GIVEN the prod services WHEN the Platform is built THEN each gets a headless Service of ready pods beside its ClusterIP one, and the gateway's watcher resolves the routed ones before nginx starts", () => {
    const svc = "kubernetes:core/v1:Service";
    for (const name of ["orders", "inventory", "payment"]) {
      // GIVEN the prod services THEN each keeps its ClusterIP Service and gets a headless one
      expect(rec.get(svc, `${name}-service`).inputs.spec.type).toBe("ClusterIP");
      const pods = rec.get(svc, `${name}-pods`).inputs;
      expect(pods.metadata).toMatchObject({ name: `${name}-pods`, namespace: `fjord-${name}` });
      expect(pods.spec).toMatchObject({
        clusterIP: "None",
        publishNotReadyAddresses: false,
        selector: { app: name },
      });
    }
    // ... and the gateway's watcher resolves the headless names, with the ClusterIP as fallback
    const data = rec.get("kubernetes:core/v1:ConfigMap", "fjord-gateway-config").inputs.data;
    expect(data["endpoints.sh"]).toContain(
      "orders orders-pods.fjord-orders.svc.cluster.local 8080 orders.fjord-orders.svc.cluster.local:8080",
    );
    expect(data["endpoints.sh"]).not.toContain("payment-pods");
    const container = rec.get("kubernetes:apps/v1:Deployment", "fjord-gateway-deployment").inputs
      .spec.template.spec.containers[0];
    expect(container.command).toEqual([
      "sh",
      "/etc/fjord/endpoints.sh",
      "nginx",
      "-e",
      "stderr",
      "-c",
      "/tmp/fjord/nginx.conf",
      "-g",
      "daemon off;",
    ]);
    expect(container.volumeMounts).toContainEqual({ name: "tmp", mountPath: "/tmp" });
  });

  it("GIVEN the prod stack file WHEN the Platform is built THEN the gateway's private key is in a secret Secret and its Service keeps the client IP on ports 80 and 443", () => {
    const tls = rec.get("kubernetes:core/v1:Secret", "fjord-gateway-tls").inputs;
    expect(secretInput(tls.stringData)["tls.key"]).toContain("PRIVATE KEY");
    const svc = rec.get("kubernetes:core/v1:Service", "fjord-gateway-service").inputs.spec;
    expect(svc.externalTrafficPolicy).toBe("Local");
    expect(svc.ports.map((p: { port: number }) => p.port)).toEqual([80, 443]);
  });

  it("GIVEN the prod stack file WHEN the Platform is built THEN every multi-replica Deployment has pod anti-affinity and every container a memory limit and a CPU request", () => {
    for (const d of rec.ofType("kubernetes:apps/v1:Deployment")) {
      const pod = d.inputs.spec.template.spec;
      if (d.inputs.spec.replicas > 1) expect(pod.affinity?.podAntiAffinity, d.name).toBeDefined();
      for (const c of pod.containers) {
        expect(c.resources?.limits?.memory, `${d.name}/${c.name}`).toBeDefined();
        expect(c.resources?.requests?.cpu, `${d.name}/${c.name}`).toBeDefined();
      }
    }
  });

  it("GIVEN the prod stack file WHEN the Platform is built THEN the generated Grafana admin password output is secret", async () => {
    expect(await isSecret(platform.grafanaAdminPassword)).toBe(true);
    expect(await valueOf(platform.grafanaAdminPassword)).toBe(
      "mock-password-fjord-observability-grafana-admin-password",
    );
  });
});
