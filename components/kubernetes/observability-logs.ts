/** Loki (single binary, one volume) and the Fluent Bit DaemonSet that feeds it. */
import * as k8s from "@pulumi/kubernetes";
import { COMMANDS, LOKI_TENANT, MOUNTS, type ObservabilityFiles } from "../plan/observability";
import {
  clusterService,
  configVolume,
  containerSecurity,
  daemonSet,
  dataClaim,
  partOf,
  partContainer,
  planned,
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
  const part = partOf(s, "loki", a.namespace);
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
      ...scrapeAnnotations(part),
    },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(LOKI_UID),
      containers: [
        partContainer(part, LOKI_UID, {
          image: a.image,
          args: COMMANDS.loki,
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
  return clusterService(s, part);
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
  const part = partOf(s, "logShipper", a.namespace, { "fjord.io/host-access": "read-only-logs" });
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
      ...scrapeAnnotations(part, "/api/v2/metrics/prometheus"),
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
          ...planned("logShipper"),
          image: a.image,
          command: COMMANDS.logShipper,
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
