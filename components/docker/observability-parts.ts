/**
 * Alertmanager, Grafana, Loki and Fluent Bit on Docker. Their files are the ones the Kubernetes
 * target mounts (plan/observability), uploaded read-only at the same paths (MOUNTS).
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import {
  COMMANDS,
  GRAFANA_LOCKED_DOWN_ENV,
  LOKI_TENANT,
  MOUNTS,
  PORTS,
  type ObservabilityFiles,
} from "../plan/observability";
import { fjordContainer } from "./container";
import type { LogShipping } from "./logging";
import { labelList, labels } from "./topology";

/** What every part shares: where it is created and the internal network it lives on. */
export interface PartScope {
  /** Resource name prefix. */
  name: string;
  parent: pulumi.ComponentResource;
  stack: string;
  metricsNetwork: pulumi.Input<string>;
  /**
   * Where the parts that are not in the log path ship their logs. Loki and Fluent Bit never do:
   * their own lines must stay readable (`docker logs`) when the pipeline itself is what is broken.
   */
  logShipping?: LogShipping;
}

/** Same users as the Kubernetes pods: the images' own non-root UIDs. */
const UID = { nobody: 65534, grafana: 472, loki: 10001 } as const;

const wget = (port: number, path: string) => [
  "CMD",
  "wget",
  "-q",
  "-O",
  "/dev/null",
  `http://127.0.0.1:${port}${path}`,
];

/** Uploads for every file of one process, under its mount directory. */
const under = (dir: string, files: Record<string, string>) =>
  Object.fromEntries(Object.entries(files).map(([f, content]) => [`${dir}/${f}`, { content }]));

export function alertmanagerContainer(
  s: PartScope,
  a: {
    containerName: string;
    image: pulumi.Input<string>;
    files: ObservabilityFiles["alertmanager"];
  },
): docker.Container {
  return fjordContainer(
    `${s.name}-alertmanager`,
    {
      name: a.containerName,
      stack: s.stack,
      role: "alertmanager",
      process: "alertmanager",
      logShipping: s.logShipping,
      image: a.image,
      networks: [s.metricsNetwork],
      limits: { cpu: "200m", memory: "128Mi" },
      reservation: "32Mi",
      user: UID.nobody,
      // Silences live in the writable layer: like the pod's emptyDir, they reset on recreate.
      command: COMMANDS.alertmanager,
      files: under(MOUNTS.alertmanagerConfig, a.files),
      health: wget(PORTS.alertmanager, "/-/ready"),
    },
    { parent: s.parent },
  );
}

export interface GrafanaPart {
  container: docker.Container;
  adminPassword: pulumi.Output<string>;
}

export function grafanaContainer(
  s: PartScope,
  a: {
    containerName: string;
    image: pulumi.Input<string>;
    adminUser: string;
    files: Pick<
      ObservabilityFiles,
      "grafanaDatasources" | "grafanaDashboardProviders" | "grafanaDashboards"
    >;
    /** `front` first (Grafana publishes its port), then `metrics`. */
    frontNetwork: pulumi.Input<string>;
    publishPort: number;
    address: string;
  },
): GrafanaPart {
  const password = new random.RandomPassword(
    `${s.name}-grafana-admin-password`,
    { length: 32, special: false },
    { parent: s.parent },
  );
  const adminPassword = pulumi.secret(password.result);
  const container = fjordContainer(
    `${s.name}-grafana`,
    {
      name: a.containerName,
      stack: s.stack,
      role: "grafana",
      process: "grafana",
      logShipping: s.logShipping,
      image: a.image,
      networks: [a.frontNetwork, s.metricsNetwork],
      limits: { cpu: "500m", memory: "256Mi" },
      reservation: "128Mi",
      user: UID.grafana,
      // Anonymous access, sign-up and phoning home stay off, exactly as on Kubernetes.
      env: { ...GRAFANA_LOCKED_DOWN_ENV, GF_SECURITY_ADMIN_USER: a.adminUser },
      secretEnv: { GF_SECURITY_ADMIN_PASSWORD: adminPassword },
      files: {
        ...under(MOUNTS.grafanaDatasources, a.files.grafanaDatasources),
        ...under(MOUNTS.grafanaDashboardProviders, a.files.grafanaDashboardProviders),
        ...under(MOUNTS.grafanaDashboards, a.files.grafanaDashboards),
      },
      // Everything is provisioned, so /var/lib/grafana can live in the writable layer and start
      // empty on every recreate, like the pod's emptyDir.
      publish: {
        address: a.address,
        ports: [{ internal: PORTS.grafana, external: a.publishPort }],
      },
      health: wget(PORTS.grafana, "/api/health"),
    },
    { parent: s.parent },
  );
  return { container, adminPassword };
}

export function lokiContainer(
  s: PartScope,
  a: {
    containerName: string;
    volumeName: string;
    image: pulumi.Input<string>;
    files: ObservabilityFiles["loki"];
    rules: ObservabilityFiles["lokiRules"];
  },
): docker.Container {
  const data = new docker.Volume(
    `${s.name}-loki-data`,
    { name: a.volumeName, labels: labelList(labels(s.stack, "volume")) },
    { parent: s.parent },
  );
  return fjordContainer(
    `${s.name}-loki`,
    {
      name: a.containerName,
      stack: s.stack,
      role: "loki",
      process: "loki",
      image: a.image,
      networks: [s.metricsNetwork],
      limits: { cpu: "1", memory: "1Gi" },
      reservation: "256Mi",
      user: UID.loki,
      command: COMMANDS.loki,
      files: {
        ...under(MOUNTS.lokiConfig, a.files),
        ...under(`${MOUNTS.lokiRules}/${LOKI_TENANT}`, a.rules),
      },
      volumes: { "/loki": data.name },
      // No health check: the image has no shell or HTTP client to run one with.
      stopGraceSeconds: 30,
    },
    { parent: s.parent },
  );
}

/**
 * Fluent Bit with the renderer's `forward` input, as nobody: every other container's fluentd log
 * driver sends to it (see ./logging.ts), and it pushes to Loki on the metrics network through the
 * production pipeline (JSON parse, PII mask, labels). The daemon dials the driver's address from
 * its own network namespace, so the input is published, on loopback only whatever
 * `publishAddress` says: the forward protocol has no authentication. It joins `front` first
 * because a container whose primary network is internal cannot publish ports.
 */
export function logShipperContainer(
  s: PartScope,
  a: {
    containerName: string;
    image: pulumi.Input<string>;
    files: ObservabilityFiles["logShipper"];
    frontNetwork: pulumi.Input<string>;
    /** Loopback port the forward input is published on. */
    forwardPort: number;
  },
): docker.Container {
  return fjordContainer(
    `${s.name}-log-shipper`,
    {
      name: a.containerName,
      stack: s.stack,
      role: "log-shipper",
      process: "log-shipper",
      image: a.image,
      networks: [a.frontNetwork, s.metricsNetwork],
      // The daemon's loopback only: nobody else may inject log lines.
      publish: {
        address: "127.0.0.1",
        ports: [{ internal: PORTS.logForward, external: a.forwardPort }],
      },
      limits: { cpu: "300m", memory: "128Mi" },
      reservation: "32Mi",
      user: UID.nobody,
      entrypoint: COMMANDS.logShipper,
      files: under(MOUNTS.logShipperConfig, a.files),
    },
    { parent: s.parent },
  );
}
