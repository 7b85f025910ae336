/** Prometheus (with its discovery RBAC), Alertmanager and the node exporter DaemonSet. */
import * as k8s from "@pulumi/kubernetes";
import { COMMANDS, MOUNTS, PORTS, type ObservabilityFiles } from "../plan/observability";
import {
  clusterService,
  configVolume,
  daemonSet,
  dataClaim,
  deployment,
  partOf,
  opts,
  partContainer,
  podSecurity,
  statefulSet,
  type Resources,
  type PartArgs,
  type Scope,
} from "./observability-parts";

/** `nobody` in the prom/* images. */
const PROM_UID = 65534;

export interface PrometheusArgs extends PartArgs {
  files: ObservabilityFiles["prometheus"];
  retentionTime: string;
  retentionSize: string;
  storage: string;
  storageClassName?: string;
  /** The Loki ruler pushes the nginx gateway's per-route series here. */
  remoteWriteReceiver: boolean;
  /** @default the plan's (PART_SIZING.prometheus) */
  resources?: Resources;
}

export function prometheus(s: Scope, a: PrometheusArgs): k8s.core.v1.Service {
  const part = partOf(s, "prometheus", a.namespace);
  const { labels } = part;
  const account = new k8s.core.v1.ServiceAccount(
    `${s.name}-prometheus-sa`,
    { metadata: { name: part.app, namespace: a.namespace, labels } },
    opts(s),
  );
  // Discovery reads pods and nothing else: no Secrets, ConfigMaps or write verbs.
  const role = new k8s.rbac.v1.ClusterRole(
    `${s.name}-prometheus-discovery`,
    {
      metadata: { name: "fjord-prometheus-discovery", labels },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
    },
    opts(s),
  );
  new k8s.rbac.v1.ClusterRoleBinding(
    `${s.name}-prometheus-discovery-binding`,
    {
      metadata: { name: "fjord-prometheus-discovery", labels },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: role.metadata.name,
      },
      subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace: a.namespace }],
    },
    opts(s),
  );
  const config = configVolume(s, part, MOUNTS.prometheusConfig, a.files);
  statefulSet(s, part, {
    // Discovery needs the API token; the policy pack reports the exemption with its reason.
    annotations: {
      "fjord.io/policy-exempt": "automount-service-account-token",
      "fjord.io/policy-exempt-reason":
        "Prometheus discovers scrape targets through the Kubernetes API (kubernetes_sd), bound to a ClusterRole that only gets, lists and watches pods.",
    },
    podAnnotations: { "fjord.io/config-hash": config.hash },
    pod: {
      serviceAccountName: account.metadata.name,
      securityContext: podSecurity(PROM_UID),
      // TSDB shutdown flushes the head block; give it time rather than replaying the WAL.
      terminationGracePeriodSeconds: 120,
      containers: [
        partContainer(part, PROM_UID, {
          image: a.image,
          args: COMMANDS.prometheus({
            retentionTime: a.retentionTime,
            retentionSize: a.retentionSize,
            remoteWriteReceiver: a.remoteWriteReceiver,
          }),
          ...(a.resources ? { resources: a.resources } : {}),
          volumeMounts: [config.mount, { name: "data", mountPath: "/prometheus" }],
        }),
      ],
      volumes: [config.volume],
    },
    claim: dataClaim(a.storage, a.storageClassName),
  });
  return clusterService(s, part);
}

export interface AlertmanagerArgs extends PartArgs {
  files: ObservabilityFiles["alertmanager"];
}

export function alertmanager(s: Scope, a: AlertmanagerArgs): k8s.core.v1.Service {
  const part = partOf(s, "alertmanager", a.namespace);
  const config = configVolume(s, part, MOUNTS.alertmanagerConfig, a.files);
  deployment(s, part, {
    podAnnotations: {
      "fjord.io/config-hash": config.hash,
      "prometheus.io/scrape": "true",
      "prometheus.io/port": String(PORTS.alertmanager),
    },
    pod: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(PROM_UID),
      containers: [
        partContainer(part, PROM_UID, {
          image: a.image,
          args: COMMANDS.alertmanager,
          volumeMounts: [
            config.mount,
            // Silences live here; they reset on restart, alerts themselves do not.
            { name: "data", mountPath: "/alertmanager" },
          ],
        }),
      ],
      volumes: [config.volume, { name: "data", emptyDir: { sizeLimit: "64Mi" } }],
    },
  });
  return clusterService(s, part);
}

export type NodeExporterArgs = PartArgs;

/**
 * One exporter per node. It reads the host's /proc, /sys and root filesystem through read-only
 * hostPath mounts instead of hostPID/hostNetwork, runs as nobody with no capabilities, and so
 * needs no exemption from fjord's security policy; only its namespace's pod-security level allows
 * hostPath. Without the host network namespace its network counters are its own pod's.
 */
export function nodeExporter(s: Scope, a: NodeExporterArgs): void {
  const part = partOf(s, "nodeExporter", a.namespace, { "fjord.io/host-access": "read-only" });
  const host = (name: string, path: string) => ({ name, hostPath: { path, type: "Directory" } });
  daemonSet(s, part, {
    pod: {
      automountServiceAccountToken: false,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: PROM_UID,
        runAsGroup: PROM_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      // Every VPS, control plane included, must report its steal and I/O wait.
      tolerations: [{ operator: "Exists" }],
      containers: [
        partContainer(part, PROM_UID, {
          image: a.image,
          args: [
            "--path.procfs=/host/proc",
            "--path.sysfs=/host/sys",
            "--path.rootfs=/host/root",
            `--web.listen-address=:${PORTS.nodeExporter}`,
            // Container and kubelet mounts repeat the host disks many times over.
            "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/kubelet|var/lib/rancher/k3s/agent/containerd)($|/)",
          ],
          volumeMounts: [
            { name: "proc", mountPath: "/host/proc", readOnly: true },
            { name: "sys", mountPath: "/host/sys", readOnly: true },
            {
              name: "root",
              mountPath: "/host/root",
              readOnly: true,
              mountPropagation: "HostToContainer",
            },
          ],
        }),
      ],
      volumes: [host("proc", "/proc"), host("sys", "/sys"), host("root", "/")],
    },
  });
}
