/** Grafana: provisioned data sources and dashboards, a generated admin password, no phoning home. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import {
  GRAFANA_LOCKED_DOWN_ENV,
  MOUNTS,
  PORTS,
  type ObservabilityFiles,
} from "../plan/observability";
import {
  clusterService,
  configMap,
  containerSecurity,
  httpProbe,
  labelsFor,
  opts,
  podSecurity,
  scrapeAnnotations,
  type Scope,
} from "./observability-parts";

/** The grafana/grafana image's user. */
const GRAFANA_UID = 472;

export interface GrafanaArgs {
  namespace: pulumi.Input<string>;
  image: string;
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
  const app = "grafana";
  const labels = labelsFor(s, app);
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
  const meta = (name: string) => ({ name, namespace: a.namespace, labels });
  const datasources = configMap(
    s,
    "grafana-datasources",
    meta("grafana-datasources"),
    a.files.grafanaDatasources,
  );
  const providers = configMap(
    s,
    "grafana-dashboard-providers",
    meta("grafana-dashboard-providers"),
    a.files.grafanaDashboardProviders,
  );
  const dashboards = configMap(
    s,
    "grafana-dashboards",
    meta("grafana-dashboards"),
    a.files.grafanaDashboards,
  );
  const fromSecret = (key: string) => ({
    valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
  });
  new k8s.apps.v1.Deployment(
    `${s.name}-grafana`,
    {
      metadata: { name: app, namespace: a.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app } },
        template: {
          metadata: {
            labels,
            annotations: {
              "fjord.io/config-hash": datasources.hash + providers.hash + dashboards.hash,
              ...scrapeAnnotations(PORTS.grafana),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurity(GRAFANA_UID),
            containers: [
              {
                name: app,
                image: a.image,
                env: [
                  { name: "GF_SECURITY_ADMIN_USER", ...fromSecret("admin-user") },
                  { name: "GF_SECURITY_ADMIN_PASSWORD", ...fromSecret("admin-password") },
                  ...Object.entries(GRAFANA_LOCKED_DOWN_ENV).map(([name, value]) => ({
                    name,
                    value,
                  })),
                ],
                ports: [{ name: "http", containerPort: PORTS.grafana }],
                readinessProbe: httpProbe("/api/health", 5),
                livenessProbe: httpProbe("/api/health", 60),
                resources: {
                  requests: { cpu: "50m", memory: "128Mi" },
                  limits: { cpu: "500m", memory: "256Mi" },
                },
                securityContext: containerSecurity(GRAFANA_UID),
                volumeMounts: [
                  { name: "datasources", mountPath: MOUNTS.grafanaDatasources, readOnly: true },
                  {
                    name: "providers",
                    mountPath: MOUNTS.grafanaDashboardProviders,
                    readOnly: true,
                  },
                  { name: "dashboards", mountPath: MOUNTS.grafanaDashboards, readOnly: true },
                  // Everything Grafana needs is provisioned, so its database can start empty.
                  { name: "data", mountPath: "/var/lib/grafana" },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "datasources", configMap: { name: datasources.map.metadata.name } },
              { name: "providers", configMap: { name: providers.map.metadata.name } },
              { name: "dashboards", configMap: { name: dashboards.map.metadata.name } },
              { name: "data", emptyDir: { sizeLimit: "256Mi" } },
              { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
            ],
          },
        },
      },
    },
    opts(s),
  );
  return {
    service: clusterService(s, app, a.namespace, PORTS.grafana),
    adminPassword: pulumi.secret(password.result),
  };
}
