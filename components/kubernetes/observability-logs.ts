/** Loki (single binary, one volume) and the Fluent Bit DaemonSet that feeds it. */
import * as k8s from "@pulumi/kubernetes";
import {
  COMMANDS,
  LOKI_TENANT,
  MOUNTS,
  PORTS,
  type ObservabilityFiles,
} from "../plan/observability";
import {
  clusterService,
  configVolume,
  containerSecurity,
  daemonSet,
  dataClaim,
  httpProbe,
  partOf,
  partContainer,
  podSecurity,
  scrapeAnnotations,
  statefulSet,
  type PartArgs,
  type Scope,
} from "./observability-parts";

/** The grafana/loki image's user. */
const LOKI_UID = 10001;

export interface LokiArgs extends PartArgs {
  files: ObservabilityFiles["loki"];
  rules: ObservabilityFiles["lokiRules"];
  storage: string;
  storageClassName?: string;
}

export function loki(s: Scope, a: LokiArgs): k8s.core.v1.Service {
  const app = "loki";
  const part = partOf(s, app, a.namespace);
  const config = configVolume(s, part, MOUNTS.lokiConfig, a.files);
  const rules =
    Object.keys(a.rules).length > 0
      ? configVolume(s, part, `${MOUNTS.lokiRules}/${LOKI_TENANT}`, a.rules, {
          volume: "rules",
          role: "loki-rules",
        })
      : undefined;
  statefulSet(s, part, {
    podAnnotations: {
      "fjord.io/config-hash": config.hash + (rules?.hash ?? ""),
      ...scrapeAnnotations(PORTS.loki),
    },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(LOKI_UID),
      containers: [
        partContainer(part, LOKI_UID, PORTS.loki, {
          image: a.image,
          args: COMMANDS.loki,
          readinessProbe: httpProbe("/ready", 15),
          livenessProbe: httpProbe("/ready", 120),
          resources: {
            requests: { cpu: "100m", memory: "256Mi" },
            limits: { cpu: "1", memory: "1Gi" },
          },
          volumeMounts: [
            config.mount,
            { name: "data", mountPath: "/loki" },
            ...(rules ? [rules.mount] : []),
            { name: "tmp", mountPath: "/tmp" },
          ],
        }),
      ],
      volumes: [
        config.volume,
        ...(rules ? [rules.volume] : []),
        { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      ],
    },
    claim: dataClaim(a.storage, a.storageClassName),
  });
  return clusterService(s, app, a.namespace, PORTS.loki);
}

export interface LogShipperArgs extends PartArgs {
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
  const part = partOf(s, app, a.namespace, { "fjord.io/host-access": "read-only-logs" });
  const config = configVolume(s, part, MOUNTS.logShipperConfig, a.files);
  daemonSet(s, part, {
    // The one root container fjord runs; the policy pack reports the exemption with its reason.
    annotations: {
      "fjord.io/policy-exempt": "run-as-non-root",
      "fjord.io/policy-exempt-reason":
        "Fluent Bit reads the root-owned container logs under /var/log; it runs with every capability dropped, a read-only host mount and no API access.",
    },
    podAnnotations: {
      "fjord.io/config-hash": config.hash,
      ...scrapeAnnotations(PORTS.logShipper, "/api/v2/metrics/prometheus"),
    },
    pod: {
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
          command: COMMANDS.logShipper,
          ports: [{ name: "http", containerPort: PORTS.logShipper }],
          livenessProbe: httpProbe("/api/v1/health", 10),
          resources: {
            requests: { cpu: "20m", memory: "32Mi" },
            limits: { cpu: "300m", memory: "128Mi" },
          },
          securityContext: { ...containerSecurity(0), runAsNonRoot: false },
          volumeMounts: [
            config.mount,
            { name: "varlog", mountPath: "/var/log", readOnly: true },
            // Tail offsets survive restarts, so lines are neither lost nor sent twice.
            { name: "state", mountPath: "/var/lib/fluent-bit" },
          ],
        },
      ],
      volumes: [
        config.volume,
        { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
        {
          name: "state",
          hostPath: { path: "/var/lib/fjord/fluent-bit", type: "DirectoryOrCreate" },
        },
      ],
    },
  });
}
