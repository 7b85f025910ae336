import { beforeAll, describe, expect, it } from "vitest";
import { setupMocks, valueOf } from "../../../testkit/mocks";

const rec = await setupMocks();
const { Microservice } = await import("../../../components/kubernetes");

const resources = {
  requests: { cpu: "250m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};
let svc: InstanceType<typeof Microservice>;

beforeAll(async () => {
  svc = new Microservice("payment", {
    namespace: "fjord-payment",
    image: "payment:v1.4.2",
    port: 8080,
    replicas: 3,
    resources,
    healthPath: "/health",
    metricsPath: "/metrics",
    region: "no-osl1",
  });
  new Microservice("single", {
    namespace: "fjord-single",
    image: "single:1.0.0",
    port: 9000,
    replicas: 1,
    resources,
    healthPath: "/health",
    metricsPath: "/metrics",
    region: "no-osl1",
  });
  await rec.settle();
});

const deployment = (name: string) =>
  rec.get("kubernetes:apps/v1:Deployment", `${name}-deployment`).inputs;

describe("Microservice", () => {
  it("registers as a fjord component with its children parented", () => {
    expect(rec.get("fjord:kubernetes:Microservice", "payment").custom).toBe(false);
    for (const role of ["deployment", "service", "pdb"]) {
      expect(rec.resources.some((r) => r.name === `payment-${role}`)).toBe(true);
    }
  });

  it("requires anti-affinity on the hostname when replicas > 1 (the seed's payment Deployment)", () => {
    const spec = deployment("payment").spec;
    expect(spec.replicas).toBe(3);
    const term =
      spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0];
    expect(term.topologyKey).toBe("kubernetes.io/hostname");
    expect(term.labelSelector.matchExpressions).toEqual([
      { key: "app", operator: "In", values: ["payment"] },
    ]);
    // A surge pod could never schedule when every node already has a replica.
    expect(spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it("omits anti-affinity for a single replica and surges instead", () => {
    const spec = deployment("single").spec;
    expect(spec.template.spec.affinity).toBeUndefined();
    expect(spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it("sets probes, requests/limits, scrape annotations and a restricted security context", () => {
    const pod = deployment("payment").spec.template;
    const c = pod.spec.containers[0];
    expect(c.resources).toEqual(resources);
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(c.livenessProbe.httpGet.path).toBe("/health");
    expect(c.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
    });
    expect(c.securityContext.capabilities.drop).toEqual(["ALL"]);
    expect(pod.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8080",
      "prometheus.io/path": "/metrics",
    });
    expect(pod.spec.automountServiceAccountToken).toBe(false);
  });

  it("exposes a ClusterIP Service and a PodDisruptionBudget on the same selector", async () => {
    const service = rec.get("kubernetes:core/v1:Service", "payment-service").inputs;
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.spec.selector).toEqual({ app: "payment" });
    const pdb = rec.get("kubernetes:policy/v1:PodDisruptionBudget", "payment-pdb").inputs;
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: "payment" } } });
    expect(await valueOf(svc.endpoint)).toBe("payment.fjord-payment.svc.cluster.local:8080");
  });

  it("adds a headless Service that lists only ready pods, on the same selector and port", async () => {
    const pods = rec.get("kubernetes:core/v1:Service", "payment-pods").inputs;
    expect(pods.metadata).toMatchObject({ name: "payment-pods", namespace: "fjord-payment" });
    expect(pods.spec).toEqual({
      clusterIP: "None",
      publishNotReadyAddresses: false,
      selector: { app: "payment" },
      ports: [{ name: "http", port: 8080, targetPort: "http" }],
    });
    expect(await valueOf(svc.podsServiceName)).toBe("payment-pods");
    expect(rec.get("kubernetes:core/v1:Service", "single-pods").inputs.spec.ports[0].port).toBe(
      9000,
    );
  });
});
