/** Grafana: provisioned data sources and dashboards, a generated admin password, no phoning home. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { GRAFANA_LOCKED_DOWN_ENV, MOUNTS, type ObservabilityFiles } from "../plan/observability";
import {
  clusterService,
  configVolume,
  deployment,
  partOf,
  opts,
  partContainer,
  podSecurity,
  scrapeAnnotations,
  type PartArgs,
  type Scope,
} from "./observability-parts";

/** The grafana/grafana image's user. */
const GRAFANA_UID = 472;

export interface GrafanaArgs extends PartArgs {
  adminUser: string;
  files: Pick<
    ObservabilityFiles,
    "grafanaDatasources" | "grafanaDashboardProviders" | "grafanaDashboards"
  >;
}

export interface GrafanaResult {
  service: k8s.core.v1.Service;
  adminPassword: pulumi.Output<string>;
}

export function grafana(s: Scope, a: GrafanaArgs): GrafanaResult {
  const part = partOf(s, "grafana", a.namespace);
  const { labels } = part;
  const password = new random.RandomPassword(
    `${s.name}-grafana-admin-password`,
    { length: 32, special: false },
    { parent: s.parent },
  );
  const secret = new k8s.core.v1.Secret(
    `${s.name}-grafana-admin`,
    {
      metadata: { name: "grafana-admin", namespace: a.namespace, labels },
      type: "Opaque",
      stringData: { "admin-user": a.adminUser, "admin-password": pulumi.secret(password.result) },
    },
    opts(s),
  );
  const configs = [
    configVolume(s, part, MOUNTS.grafanaDatasources, a.files.grafanaDatasources, {
      volume: "datasources",
      role: "grafana-datasources",
    }),
    configVolume(s, part, MOUNTS.grafanaDashboardProviders, a.files.grafanaDashboardProviders, {
      volume: "providers",
      role: "grafana-dashboard-providers",
    }),
    configVolume(s, part, MOUNTS.grafanaDashboards, a.files.grafanaDashboards, {
      volume: "dashboards",
      role: "grafana-dashboards",
    }),
  ];
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
  });
  deployment(s, part, {
    podAnnotations: {
      "fjord.io/config-hash": configs.map((c) => c.hash).join(""),
      ...scrapeAnnotations(part),
    },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(GRAFANA_UID),
      containers: [
        partContainer(part, GRAFANA_UID, {
          image: a.image,
          env: [
            { name: "GF_SECURITY_ADMIN_USER", ...fromSecret("admin-user") },
            { name: "GF_SECURITY_ADMIN_PASSWORD", ...fromSecret("admin-password") },
            ...Object.entries(GRAFANA_LOCKED_DOWN_ENV).map(([name, value]) => ({ name, value })),
          ],
          volumeMounts: [
            ...configs.map((c) => c.mount),
            // Everything Grafana needs is provisioned, so its database can start empty.
            { name: "data", mountPath: "/var/lib/grafana" },
            { name: "tmp", mountPath: "/tmp" },
          ],
        }),
      ],
      volumes: [
        ...configs.map((c) => c.volume),
        { name: "data", emptyDir: { sizeLimit: "256Mi" } },
        { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      ],
    },
  });
  return {
    service: clusterService(s, part),
    adminPassword: pulumi.secret(password.result),
  };
}
