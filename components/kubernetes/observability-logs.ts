/** Loki (single binary, one volume) and the Fluent Bit DaemonSet that feeds it. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LOKI_TENANT, MOUNTS, PORTS, type ObservabilityFiles } from "../plan/observability";
import {
  clusterService,
  configMap,
  containerSecurity,
  dataClaim,
  httpProbe,
  labelsFor,
  opts,
  podSecurity,
  scrapeAnnotations,
  type Scope,
} from "./observability-parts";

/** The grafana/loki image's user. */
const LOKI_UID = 10001;

export interface LokiArgs {
  namespace: pulumi.Input<string>;
  image: string;
  files: ObservabilityFiles["loki"];
  rules: ObservabilityFiles["lokiRules"];
  storage: string;
  storageClassName?: string;
}

export function loki(s: Scope, a: LokiArgs): k8s.core.v1.Service {
  const app = "loki";
  const labels = labelsFor(s, app);
  const config = configMap(
    s,
    "loki-config",
    { name: "loki-config", namespace: a.namespace, labels },
    a.files,
  );
  const hasRules = Object.keys(a.rules).length > 0;
  const rules = hasRules
    ? configMap(s, "loki-rules", { name: "loki-rules", namespace: a.namespace, labels }, a.rules)
    : undefined;
  new k8s.apps.v1.StatefulSet(
    `${s.name}-loki`,
    {
      metadata: { name: app, namespace: a.namespace, labels },
      spec: {
        serviceName: app,
        replicas: 1,
        selector: { matchLabels: { app } },
        template: {
          metadata: {
            labels,
            annotations: {
              "fjord.io/config-hash": config.hash + (rules?.hash ?? ""),
              ...scrapeAnnotations(PORTS.loki),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurity(LOKI_UID),
            containers: [
              {
                name: app,
                image: a.image,
                args: [`-config.file=${MOUNTS.lokiConfig}/loki.yaml`, "-target=all"],
                ports: [{ name: "http", containerPort: PORTS.loki }],
                readinessProbe: httpProbe("/ready", 15),
                livenessProbe: httpProbe("/ready", 120),
                resources: {
                  requests: { cpu: "100m", memory: "256Mi" },
                  limits: { cpu: "1", memory: "1Gi" },
                },
                securityContext: containerSecurity(LOKI_UID),
                volumeMounts: [
                  { name: "config", mountPath: MOUNTS.lokiConfig, readOnly: true },
                  { name: "data", mountPath: "/loki" },
                  ...(rules
                    ? [
                        {
                          name: "rules",
                          mountPath: `${MOUNTS.lokiRules}/${LOKI_TENANT}`,
                          readOnly: true,
                        },
                      ]
                    : []),
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: config.map.metadata.name } },
              ...(rules ? [{ name: "rules", configMap: { name: rules.map.metadata.name } }] : []),
              { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
            ],
          },
        },
        volumeClaimTemplates: [dataClaim(a.storage, a.storageClassName)],
      },
    },
    opts(s),
  );
  return clusterService(s, app, a.namespace, PORTS.loki);
}

export interface LogShipperArgs {
  namespace: pulumi.Input<string>;
  image: string;
  files: ObservabilityFiles["logShipper"];
}

/**
 * Fluent Bit on every node, tailing the kubelet's container logs. It runs as uid 0 because those
 * files are root-owned and not world-readable, but with every capability dropped: root without
 * CAP_DAC_OVERRIDE reads only what root owns, and cannot escalate. It needs no API access (the
 * labels come from the log file names), so it gets no service account token.
 */
export function logShipper(s: Scope, a: LogShipperArgs): void {
  const app = "log-shipper";
  const labels = { ...labelsFor(s, app), "fjord.io/host-access": "read-only-logs" };
  const config = configMap(
    s,
    "log-shipper-config",
    { name: "log-shipper-config", namespace: a.namespace, labels },
    a.files,
  );
  new k8s.apps.v1.DaemonSet(
    `${s.name}-log-shipper`,
    {
      metadata: {
        name: app,
        namespace: a.namespace,
        labels,
        // The one root container fjord runs; the policy pack reports the exemption with its reason.
        annotations: {
          "fjord.io/policy-exempt": "run-as-non-root",
          "fjord.io/policy-exempt-reason":
            "Fluent Bit reads the root-owned container logs under /var/log; it runs with every capability dropped, a read-only host mount and no API access.",
        },
      },
      spec: {
        selector: { matchLabels: { app } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: {
            labels,
            annotations: {
              "fjord.io/config-hash": config.hash,
              ...scrapeAnnotations(PORTS.logShipper, "/api/v2/metrics/prometheus"),
            },
          },
          spec: {
            automountServiceAccountToken: false,
            securityContext: {
              runAsUser: 0,
              runAsGroup: 0,
              seccompProfile: { type: "RuntimeDefault" },
            },
            tolerations: [{ operator: "Exists" }],
            containers: [
              {
                name: "fluent-bit",
                image: a.image,
                command: [
                  "/fluent-bit/bin/fluent-bit",
                  "-c",
                  `${MOUNTS.logShipperConfig}/fluent-bit.yaml`,
                ],
                ports: [{ name: "http", containerPort: PORTS.logShipper }],
                livenessProbe: httpProbe("/api/v1/health", 10),
                resources: {
                  requests: { cpu: "20m", memory: "32Mi" },
                  limits: { cpu: "300m", memory: "128Mi" },
                },
                securityContext: { ...containerSecurity(0), runAsNonRoot: false },
                volumeMounts: [
                  { name: "config", mountPath: MOUNTS.logShipperConfig, readOnly: true },
                  { name: "varlog", mountPath: "/var/log", readOnly: true },
                  // Tail offsets survive restarts, so lines are neither lost nor sent twice.
                  { name: "state", mountPath: "/var/lib/fluent-bit" },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: config.map.metadata.name } },
              { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
              {
                name: "state",
                hostPath: { path: "/var/lib/fjord/fluent-bit", type: "DirectoryOrCreate" },
              },
            ],
          },
        },
      },
    },
    opts(s),
  );
}
