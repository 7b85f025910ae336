/**
 * What each observability process is called, how big it is and how its health is read, decided
 * once for both targets: Kubernetes sets the requests, limits and probes; Docker takes the limits, the memory
 * request as its soft reservation, and the readiness path as its health check.
 */

/** The observability processes, named as in PORTS. */
export type ObservabilityPart =
  "prometheus" | "alertmanager" | "grafana" | "loki" | "nodeExporter" | "logShipper";

/**
 * Each part's name: its Kubernetes workload, Service and `app` label, its Docker role label and
 * the suffix of its resource names on both. Never rename one: that replaces the part.
 */
export const PART_NAMES = {
  prometheus: "prometheus",
  alertmanager: "alertmanager",
  grafana: "grafana",
  loki: "loki",
  nodeExporter: "node-exporter",
  logShipper: "log-shipper",
} as const satisfies Record<ObservabilityPart, string>;

// Type aliases, not interfaces: Kubernetes takes them as string maps, which needs their implicit
// index signature.
export type Quantity = { cpu: string; memory: string };

export type PartResources = { requests: Quantity; limits: Quantity };

/** An HTTP GET on the process's own port; 2xx is healthy. */
export interface HttpCheck {
  path: string;
  /** Seconds after start before the first check: how long the process takes to come up. */
  initialDelaySeconds: number;
}

export interface PartSizing {
  resources: PartResources;
  /** When it takes traffic, and when Docker's `up` may go on. Fluent Bit has none: no Service. */
  ready?: HttpCheck;
  /** When it is restarted: later than `ready`, so a slow start is not killed. */
  live: HttpCheck;
}

/** Every check polls every 10 s and gives up after 6 failures in a row: a minute of trouble. */
export const CHECK_TIMING = { periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 6 } as const;

/** One row: request and limit (CPU, memory), then readiness and liveness (path, delay s). */
type Row = [
  request: [cpu: string, memory: string],
  limit: [cpu: string, memory: string],
  ready: [path: string, delaySeconds: number] | undefined,
  live: [path: string, delaySeconds: number],
];

// prettier-ignore
const TABLE: Record<ObservabilityPart, Row> = {
  //              request             limit              ready               live
  // 2Gi on both targets: the head block grows with the active series, which are the same
  // services on Docker as on Kubernetes, so a smaller dev limit would only OOM-kill dev first.
  prometheus:   [["250m", "512Mi"], ["1", "2Gi"],      ["/-/ready", 5],    ["/-/healthy", 60]],
  alertmanager: [["10m", "32Mi"],   ["200m", "128Mi"], ["/-/ready", 5],    ["/-/healthy", 30]],
  grafana:      [["50m", "128Mi"],  ["500m", "256Mi"], ["/api/health", 5], ["/api/health", 60]],
  loki:         [["100m", "256Mi"], ["1", "1Gi"],      ["/ready", 15],     ["/ready", 120]],
  // 200m on both targets: a scrape is a short burst (the filesystem collector stats every
  // mount), and a 100m quota stretches it towards the scrape timeout on a busy node.
  nodeExporter: [["10m", "24Mi"],   ["200m", "64Mi"],  ["/", 5],           ["/", 30]],
  logShipper:   [["20m", "32Mi"],   ["300m", "128Mi"], undefined,          ["/api/v1/health", 10]],
};

const quantity = ([cpu, memory]: [string, string]): Quantity => ({ cpu, memory });
const check = ([path, initialDelaySeconds]: [string, number]): HttpCheck => ({
  path,
  initialDelaySeconds,
});

export const PART_SIZING = Object.fromEntries(
  Object.entries(TABLE).map(([part, [request, limit, ready, live]]) => [
    part,
    {
      resources: { requests: quantity(request), limits: quantity(limit) },
      ...(ready ? { ready: check(ready) } : {}),
      live: check(live),
    },
  ]),
) as Record<ObservabilityPart, PartSizing>;
