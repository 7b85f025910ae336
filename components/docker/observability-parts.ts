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
  PART_NAMES,
  PART_SIZING,
  PORTS,
  type ObservabilityFiles,
  type ObservabilityPart,
} from "../plan/observability";
import { fjordContainer, type FjordContainerArgs } from "./container";
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

/**
 * Which parts Docker waits on through the plan's readiness check, run with the image's wget.
 * Loki's and Fluent Bit's images have no shell or HTTP client to run one with; the node exporter
 * has nothing to wait for (only the scraper talks to it, and `up` reports it missing).
 */
const HEALTH_CHECKED: Record<ObservabilityPart, boolean> = {
  prometheus: true,
  alertmanager: true,
  grafana: true,
  loki: false,
  nodeExporter: false,
  logShipper: false,
};

type PartContainerArgs = Omit<
  FjordContainerArgs,
  "name" | "stack" | "role" | "process" | "image" | "limits" | "reservation" | "health"
>;

/**
 * One part's container, named and labelled after the part, with the plan's limits, its memory
 * request as the soft reservation and, where HEALTH_CHECKED, its readiness path as health check.
 */
export function partContainer(
  s: PartScope,
  part: ObservabilityPart,
  a: { containerName: string; image: pulumi.Input<string> },
  c: PartContainerArgs,
): docker.Container {
  const role = PART_NAMES[part];
  const { resources, ready } = PART_SIZING[part];
  const url = ready && `http://127.0.0.1:${PORTS[part]}${ready.path}`;
  return fjordContainer(
    `${s.name}-${role}`,
    {
      name: a.containerName,
      stack: s.stack,
      role,
      process: role,
      image: a.image,
      limits: resources.limits,
      reservation: resources.requests.memory,
      ...(HEALTH_CHECKED[part] && url
        ? { health: ["CMD", "wget", "-q", "-O", "/dev/null", url] }
        : {}),
      ...c,
    },
    { parent: s.parent },
  );
}

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
  return partContainer(s, "alertmanager", a, {
    logShipping: s.logShipping,
    networks: [s.metricsNetwork],
    user: UID.nobody,
    // Silences live in the writable layer: like the pod's emptyDir, they reset on recreate.
    command: COMMANDS.alertmanager,
    files: under(MOUNTS.alertmanagerConfig, a.files),
  });
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
  const container = partContainer(s, "grafana", a, {
    logShipping: s.logShipping,
    networks: [a.frontNetwork, s.metricsNetwork],
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
  });
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
  return partContainer(s, "loki", a, {
    networks: [s.metricsNetwork],
    user: UID.loki,
    command: COMMANDS.loki,
    files: {
      ...under(MOUNTS.lokiConfig, a.files),
      ...under(`${MOUNTS.lokiRules}/${LOKI_TENANT}`, a.rules),
    },
    volumes: { "/loki": data.name },
    stopGraceSeconds: 30,
  });
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
  return partContainer(s, "logShipper", a, {
    networks: [a.frontNetwork, s.metricsNetwork],
    // The daemon's loopback only: nobody else may inject log lines.
    publish: {
      address: "127.0.0.1",
      ports: [{ internal: PORTS.logForward, external: a.forwardPort }],
    },
    user: UID.nobody,
    entrypoint: COMMANDS.logShipper,
    files: under(MOUNTS.logShipperConfig, a.files),
  });
}
