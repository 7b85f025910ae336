/**
 * `fjord:*` config that runs Pulumi.prod.yaml on the test cluster in kubeconfig mode: the local
 * images, the sample service in every service's place, and sizes that fit three nodes sharing two
 * cores. Everything else (TLS, policies, probes, anti-affinity, NetworkPolicies) is prod's own.
 */
import { imageVersion } from "../images";
import { stackConfig } from "../mocks";
import type { TestCluster } from ".";

type Loose = Record<string, unknown>;

export const DOMAIN = "api.example.no";

export function prodClusterConfig(
  cluster: TestCluster,
  overrides: { sampleImage?: string; backups?: Loose } = {},
): Loose {
  const base = stackConfig("prod");
  const images = cluster.images.local;
  const services = (
    JSON.parse(base["fjord:services"]) as Array<Loose & { database?: Loose & { engine: string } }>
  ).map((s) => ({
    ...s,
    image: overrides.sampleImage ?? images.sampleService,
    resources: {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "192Mi" },
    },
    // The sample service starts a client process per /db request; the budgets are for real services.
    route: s.route ? { ...(s.route as Loose), budgetMs: 5000 } : undefined,
    ...(s.database
      ? {
          database: {
            ...s.database,
            memory: "512Mi",
            cpu: "500m",
            storage: "1Gi",
            // The tuning follows the server version, so tell it which one the local image runs.
            version: imageVersion(
              s.database.engine === "postgres" ? images.postgres : images.mysql,
            ),
          },
        }
      : {}),
  }));
  const { sampleService, ...roles } = images;
  void sampleService;
  return {
    cluster: { mode: "kubeconfig" },
    images: { ...roles, ...(images.traefik ? { traefik: images.traefik } : {}) },
    services,
    gateway: {
      ...JSON.parse(base["fjord:gateway"]),
      domains: [DOMAIN],
      // Small enough for a test to exceed quickly, large enough for a paced rolling-update probe.
      rateLimit: { average: 20, burst: 20 },
      resources: {
        requests: { cpu: "50m", memory: "64Mi" },
        limits: { cpu: "500m", memory: "128Mi" },
      },
    },
    // The cluster has no object store of its own; the backup drills bring one (test/e2e/backup-*).
    backups: overrides.backups ?? {
      enabled: false,
      reason: "the rollout e2e and the cluster bench run without an object store",
    },
    observability: {
      ...JSON.parse(base["fjord:observability"]),
      storage: "2Gi",
      logStorage: "1Gi",
      retentionSize: "1GB",
      scrapeInterval: "2s",
      // Grafana and Fluent Bit have no offline image; their manifests are checked by the API
      // server in the acceptance test instead (test/e2e/prod-manifests.test.ts).
      components: { alertmanager: true, grafana: false, loki: !!images.loki, logShipper: false },
    },
  };
}
