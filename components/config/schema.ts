/**
 * The one schema for a fjord stack's config (`fjord:*` keys). Defaults live here and only here.
 * Cross-field rules (references, sizes, cycles) are in ./checks.ts.
 */
import { z } from "zod";
import { DEFAULT_REGION } from "../../lib/regions";
import { GATEWAY_DEFAULTS as GW } from "./defaults";
import { formatDuration } from "./units";
import { PORTS } from "./ports";
import {
  cidr,
  cpu,
  cpuMem,
  dnsLabel,
  domainName,
  duration,
  host,
  hostPort,
  httpUrl,
  memory,
  pinnedImage,
  port,
  strippableHeader,
  urlPath,
  wholeDuration,
  wholeMs,
} from "./fields";

export const DISK_CLASSES = ["nvme", "ssd", "hdd"] as const;
export const VIRTUALIZATIONS = ["kvm", "xen", "vmware", "microsoft", "openvz", "lxc"] as const;

const nodeClass = z.strictObject({
  vcpu: z.int().min(1).max(512),
  memory,
  disk: z.enum(DISK_CLASSES),
  virtualization: z.enum(VIRTUALIZATIONS).default("kvm"),
});

const node = z.strictObject({
  name: dnsLabel,
  host,
  /** @default ssh.port */
  port: port.optional(),
  /** @default ssh.user */
  user: z.string().min(1).optional(),
  role: z.enum(["server", "agent"]),
  /** Gateway nodes get 80/443 opened in the host firewall. */
  gateway: z.boolean().default(false),
  /** @default the stack's region */
  region: z.string().optional(),
  class: nodeClass,
  /** Allow a non-KVM hypervisor (container VPS cannot run k3s properly). */
  allowNonKvm: z.boolean().default(false),
});

const regionEntry = z.strictObject({
  jurisdiction: z
    .string()
    .regex(/^[A-Z]{2}$/, { error: "must be an ISO 3166-1 alpha-2 code such as NO" }),
  eea: z.boolean(),
  city: z.string().default(""),
});

const database = z.strictObject({
  engine: z.enum(["postgres", "mysql"]),
  /** Server version; picks the default image (postgres:<v>-bookworm or mariadb:<v>). */
  version: z
    .string()
    .regex(/^\d+(\.\d+){0,2}$/, { error: 'must be a version such as "16.6" or "11.4.4"' })
    .optional(),
  memory: memory.default("1Gi"),
  cpu: cpu.default("1"),
  storage: memory.default("10Gi"),
  /** @default the smallest disk class among the nodes, or nvme */
  disk: z.enum(DISK_CLASSES).optional(),
  /** @default the service name */
  name: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be a lower-case SQL identifier" })
    .optional(),
  /** Image override for this database only. */
  image: pinnedImage.optional(),
});

/** The gateway turns a route's budget into proxy timeouts, which are whole milliseconds. */
const routeBudgetMs = z
  .int({
    error: (iss) =>
      typeof iss.input === "number" && Number.isFinite(iss.input)
        ? `must be a whole number of milliseconds (the gateway's timeouts have no fractions); use ${Math.max(1, Math.ceil(iss.input))}`
        : undefined,
  })
  .min(1, { error: "must be at least 1 (milliseconds)" });

const call = z.union([
  dnsLabel,
  z.strictObject({
    service: dnsLabel,
    /** How many calls one request makes to the callee. @default 1 */
    fanOut: z.int().min(1).max(100).default(1),
    /** `parallel` fan-out costs one call's latency, `sequential` costs fanOut of them. @default sequential */
    mode: z.enum(["sequential", "parallel"]).default("sequential"),
  }),
]);

const service = z.strictObject({
  name: dnsLabel,
  image: pinnedImage,
  port: port.default(8080),
  replicas: z.int().min(1).max(100).default(2),
  resources: z.strictObject({ requests: cpuMem, limits: cpuMem }),
  healthPath: urlPath.default("/health"),
  metricsPath: urlPath.default("/metrics"),
  /** @default the stack's region */
  region: z.string().optional(),
  /** Worst-case time the service itself spends per request, excluding its calls. @default 20 */
  processingBudgetMs: z.number().positive().default(20),
  route: z
    .strictObject({
      path: urlPath,
      /** Public routes have Cookie stripped. @default true */
      public: z.boolean().default(true),
      /** @default latency.defaultRouteBudgetMs */
      budgetMs: routeBudgetMs.optional(),
    })
    .optional(),
  calls: z.array(call).default([]),
  /** Plain (non-secret) environment. Secrets never go here. */
  env: z
    .record(
      z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an upper-case env name" }),
      z.string(),
    )
    .default({}),
  database: database.optional(),
});

const gateway = z.strictObject({
  kind: z.enum(["nginx", "traefik"]).default("nginx"),
  replicas: z.int().min(1).max(20).default(2),
  domains: z.array(domainName).min(1, { error: "needs at least one domain" }),
  resources: z
    .strictObject({ requests: cpuMem, limits: cpuMem })
    .default({ requests: { cpu: "250m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } }),
  tls: z
    .strictObject({
      minVersion: z
        .enum(["1.2", "1.3"], { error: 'must be "1.2" or "1.3"; TLS 1.0 and 1.1 are not allowed' })
        .default(GW.tls.minVersion),
      /** `self-signed` is generated in-platform; `secret` names an existing TLS Secret. */
      certificate: z.enum(["self-signed", "secret"]).default("self-signed"),
      secretName: z.string().optional(),
      hstsMaxAgeSeconds: z
        .int()
        .min(86400, { error: "must be at least 86400 (one day)" })
        .default(GW.tls.hstsMaxAgeSeconds),
    })
    .prefault({}),
  rateLimit: z
    .strictObject({
      average: z.int().min(1).default(GW.rateLimit.average),
      burst: z.int().min(0).default(GW.rateLimit.burst),
    })
    .prefault({}),
  /** Headers removed before proxying (personal data must not reach service logs). */
  piiHeaders: z.array(strippableHeader).default([]),
  stripCookieOnPublic: z.boolean().default(true),
  http3: z.boolean().default(true),
  upstream: z
    .strictObject({
      keepalive: z
        .int()
        .min(1, {
          error:
            "must be at least 1 idle connection per upstream (nginx refuses 0 rather than turning keepalive off)",
        })
        .default(GW.upstream.keepalive),
      maxFails: z.int().min(1).default(GW.upstream.maxFails),
      failTimeout: duration.default(`${GW.upstream.failTimeoutSeconds}s`),
      connectTimeout: wholeMs(1).default(formatDuration(GW.upstream.connectTimeoutMs)),
      readTimeout: wholeMs(1).default(formatDuration(GW.upstream.readTimeoutMs)),
      nextUpstreamTries: z.int().min(1).default(GW.upstream.nextUpstreamTries),
    })
    .prefault({}),
  circuitBreaker: z
    .strictObject({
      expression: z
        .string()
        .regex(/^[^\r\n]*\S[^\r\n]*$/, {
          error: 'must be one non-empty line, such as "NetworkErrorRatio() > 0.30"',
        })
        .default(GW.circuitBreaker.expression),
      checkPeriod: duration.default(`${GW.circuitBreaker.checkPeriodSeconds}s`),
      fallbackDuration: duration.default(`${GW.circuitBreaker.fallbackDurationSeconds}s`),
      recoveryDuration: duration.default(`${GW.circuitBreaker.recoveryDurationSeconds}s`),
    })
    .prefault({}),
  retry: z
    .strictObject({
      attempts: z.int().min(0).max(5).default(GW.retry.attempts),
      initialInterval: wholeMs(0).default(formatDuration(GW.retry.initialIntervalMs)),
    })
    .prefault({}),
});

const observability = z.strictObject({
  enabled: z.boolean().default(true),
  /**
   * Parts of the stack to run besides Prometheus and the node exporter, on both targets: a stack
   * can drop what it has no image for (the Docker e2e has none for Grafana, Loki or Fluent Bit).
   */
  components: z
    .strictObject({
      alertmanager: z.boolean().default(true),
      grafana: z.boolean().default(true),
      loki: z.boolean().default(true),
      logShipper: z.boolean().default(true),
    })
    .prefault({}),
  scrapeInterval: wholeDuration.default("15s"),
  retentionTime: wholeDuration.default("15d"),
  retentionSize: z
    .string()
    .regex(/^\d+(B|KB|MB|GB|TB)$/, { error: 'must be a size such as "10GB"' })
    .default("10GB"),
  storage: memory.default("20Gi"),
  /** Loki's volume (logs are kept for `logRetention`). */
  logStorage: memory.default("10Gi"),
  /** Grafana's login; the password is generated and kept as a Pulumi secret. */
  grafanaAdminUser: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{2,31}$/, { error: "must be a lower-case login name" })
    .default("admin"),
  /** Optional exports; the residency policy checks each URL. */
  remoteWrite: z.array(z.strictObject({ name: dnsLabel, url: httpUrl })).default([]),
  alertWebhooks: z.array(z.strictObject({ name: dnsLabel, url: httpUrl })).default([]),
  logRetention: duration.default("7d"),
  /** Log fields masked before storage. */
  piiFields: z
    .array(z.string().min(1))
    .default(["email", "phone", "ssn", "fnr", "authorization", "cookie"]),
  alerts: z
    .strictObject({
      cpuStealPercent: z.number().positive().max(100).default(2),
      ioWaitPercent: z.number().positive().max(100).default(20),
      memoryAvailablePercent: z.number().positive().max(100).default(10),
      diskFillHours: z.number().positive().default(4),
      gateway5xxRatio: z.number().positive().max(1).default(0.05),
      dbConnectionsRatio: z.number().positive().max(1).default(0.8),
      certExpiryDays: z.number().positive().default(14),
      /** Only fires where a replica exports its lag (fjord's databases are single-instance). */
      replicationLagSeconds: z.number().positive().default(30),
    })
    .prefault({}),
});

const cluster = z.strictObject({
  /** k3s: install on `nodes` over SSH; kubeconfig: use `fjord:kubeconfig`; render: write YAML only. */
  mode: z.enum(["k3s", "kubeconfig", "render"]).default("k3s"),
  renderDir: z.string().default("out/manifests"),
  k3sVersion: z
    .string()
    .regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, { error: 'must be a k3s release such as "v1.31.4+k3s1"' })
    .default("v1.31.4+k3s1"),
  /** Copy k3s and its images from these local paths instead of downloading. */
  airgap: z
    .strictObject({ k3sBinary: z.string(), imagesTarball: z.string(), installScript: z.string() })
    .optional(),
});

const docker = z.strictObject({
  /** @default the DOCKER_HOST of the machine running pulumi */
  host: z.string().optional(),
  publishAddress: z.string().default("127.0.0.1"),
  httpPort: port.default(8080),
  httpsPort: port.default(8443),
  prometheusPort: port.default(9090),
  grafanaPort: port.default(3000),
  /**
   * Port of fjord's Fluent Bit `forward` input, published on the daemon's loopback only: the
   * daemon's fluentd log driver connects from there, and nobody else may inject log lines.
   */
  logForwardPort: port.default(PORTS.logForward),
  /**
   * Ship container logs to this forward-protocol endpoint instead (a central Fluent Bit, Fluentd or
   * Vector), as the daemon dials it. Needs `observability.components.logShipper: false`.
   */
  logForward: hostPort.optional(),
});

const images = z
  .strictObject({
    nginx: pinnedImage.default("nginx:1.27.3-alpine"),
    traefik: pinnedImage.default("traefik:v3.6.12"),
    nginxExporter: pinnedImage.default("nginx/nginx-prometheus-exporter:1.4.0"),
    postgres: pinnedImage.optional(),
    mysql: pinnedImage.optional(),
    prometheus: pinnedImage.default("prom/prometheus:v3.1.0"),
    alertmanager: pinnedImage.default("prom/alertmanager:v0.28.0"),
    nodeExporter: pinnedImage.default("prom/node-exporter:v1.8.2"),
    grafana: pinnedImage.default("grafana/grafana:11.4.0"),
    loki: pinnedImage.default("grafana/loki:3.3.2"),
    logShipper: pinnedImage.default("fluent/fluent-bit:3.2.4"),
    postgresExporter: pinnedImage.default("quay.io/prometheuscommunity/postgres-exporter:v0.16.0"),
    mysqlExporter: pinnedImage.default("prom/mysqld-exporter:v0.16.0"),
  })
  .prefault({});

export const platformSchema = z.strictObject({
  environment: z.enum(["dev", "prod"], { error: 'must be "dev" or "prod"' }),
  target: z.enum(["kubernetes", "docker"], { error: 'must be "kubernetes" or "docker"' }),
  region: z.string().default(DEFAULT_REGION),
  allowedJurisdictions: z
    .array(
      z.string().regex(/^([A-Z]{2}|EEA)$/, {
        error: 'must be an ISO 3166-1 alpha-2 code such as NO, or "EEA" for every EEA state',
      }),
    )
    .min(1)
    .default(["NO"]),
  regions: z.record(z.string(), regionEntry).default({}),
  ssh: z
    .strictObject({
      user: z.string().min(1).default("fjord"),
      port: port.default(22),
      adminCidrs: z.array(cidr).default([]),
    })
    .prefault({}),
  nodes: z.array(node).default([]),
  cluster: cluster.prefault({}),
  docker: docker.prefault({}),
  gateway,
  services: z.array(service).min(1, { error: "needs at least one service" }),
  observability: observability.prefault({}),
  latency: z
    .strictObject({
      defaultRouteBudgetMs: routeBudgetMs.default(200),
      /** Round-trip overrides, keyed "regionA/regionB". */
      rttMs: z
        .record(
          z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { error: 'must be "regionA/regionB"' }),
          z.number().nonnegative(),
        )
        .default({}),
    })
    .prefault({}),
  images,
});

/** Top-level config keys, each read as `fjord:<key>`. */
export const CONFIG_KEYS = Object.keys(
  platformSchema.shape,
) as (keyof typeof platformSchema.shape)[];

export type PlatformSpec = z.output<typeof platformSchema>;
export type ServiceSpec = PlatformSpec["services"][number];
export type DatabaseSpec = NonNullable<ServiceSpec["database"]>;
export type NodeSpec = PlatformSpec["nodes"][number];
export type GatewaySpec = PlatformSpec["gateway"];
export type ObservabilitySpec = PlatformSpec["observability"];
export type DiskClass = (typeof DISK_CLASSES)[number];
