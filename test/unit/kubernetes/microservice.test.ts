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
  it("GIVEN a Microservice named payment WHEN it is built THEN it is recorded as a fjord component with payment-deployment, payment-service and payment-pdb", () => {
    expect(rec.get("fjord:kubernetes:Microservice", "payment").custom).toBe(false);
    for (const role of ["deployment", "service", "pdb"]) {
      expect(rec.resources.some((r) => r.name === `payment-${role}`)).toBe(true);
    }
  });

  it("GIVEN three replicas (the seed's payment Deployment) WHEN the Microservice is built THEN anti-affinity on the hostname is required and rollouts never surge", () => {
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

  it("GIVEN a single replica WHEN the Microservice is built THEN there is no anti-affinity and rollouts surge instead", () => {
    const spec = deployment("single").spec;
    expect(spec.template.spec.affinity).toBeUndefined();
    expect(spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it("GIVEN a health path, a metrics path and resources WHEN the Microservice is built THEN its pod has those probes, requests/limits and scrape annotations, a restricted security context and no service account token", () => {
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

  it("GIVEN a Microservice WHEN it is built THEN a ClusterIP Service and a PodDisruptionBudget use the same selector, and the endpoint output is the Service's DNS name and port", async () => {
    const service = rec.get("kubernetes:core/v1:Service", "payment-service").inputs;
    expect(service.spec.type).toBe("ClusterIP");
    expect(service.spec.selector).toEqual({ app: "payment" });
    const pdb = rec.get("kubernetes:policy/v1:PodDisruptionBudget", "payment-pdb").inputs;
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: { app: "payment" } } });
    expect(await valueOf(svc.endpoint)).toBe("payment.fjord-payment.svc.cluster.local:8080");
  });

  it("GIVEN a Microservice WHEN it is built THEN a headless Service lists only ready pods on the same selector and port, named in the podsServiceName output", async () => {
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
