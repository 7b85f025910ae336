/**
 * The Kubernetes side of a database's backups: the secrets they need, the files in a ConfigMap,
 * the runner sidecar, the restore init container and the network flows. The plan
 * (plan/database/backup) decides what runs; this file only makes the objects.
 */
import { createHash } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { BackupCredential, BackupPlan, DatabasePlan } from "../plan/database";
import { restrictedSecurityContext } from "./naming";
import { allowScrape } from "./network";

/** The object store's keys, from the stack's secret config. */
export interface BackupKeys {
  accessKeyId: pulumi.Input<string>;
  secretAccessKey: pulumi.Input<string>;
}

/** Marks a database whose backups are off, with the reason the config gives; policies read it. */
export const BACKUP_OFF_ANNOTATION = "fjord.io/backup-off";
/** Container port name the Prometheus job for backup runners scrapes (at `metricsPath`). */
export const BACKUP_METRICS_PORT_NAME = "backup-metrics";

const RUNNER_RESOURCES = {
  requests: { cpu: "25m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

/**
 * The backup's entries for the database's credentials Secret, under the keys the plan's env
 * refers to: generated ones (the cipher) and the object store's keys from config.
 */
export function backupSecretData(
  name: string,
  backup: BackupPlan,
  keys: BackupKeys,
  parent: pulumi.Resource,
): Partial<Record<BackupCredential, pulumi.Output<string>>> {
  const generated = Object.fromEntries(
    backup.generated.map((key) => [
      key,
      // Never rename: a new name is a new cipher key, and every backup made so far unreadable.
      new random.RandomPassword(`${name}-${key}`, { length: 32, special: false }, { parent })
        .result,
    ]),
  );
  return {
    ...generated,
    "backup-access-key-id": pulumi.output(keys.accessKeyId),
    "backup-secret-access-key": pulumi.output(keys.secretAccessKey),
  };
}

/** The one directory the plan's backup files live in (a ConfigMap mounts one directory). */
function backupDir(backup: BackupPlan, database: pulumi.Resource): string {
  const dirs = [...new Set(Object.keys(backup.files).map((f) => path.posix.dirname(f)))];
  if (dirs.length !== 1) {
    throw new pulumi.ResourceError(
      `fjord: the backup files must share one directory (one ConfigMap mounts them), got ${dirs.join(", ") || "none"}`,
      database,
    );
  }
  return dirs[0];
}

/** Short hash of the backup files: the runner reads them only at start. */
export const backupFilesHash = (backup: BackupPlan): string =>
  createHash("sha256").update(JSON.stringify(backup.files)).digest("hex").slice(0, 16);

export interface BackupConfigArgs {
  app: string;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
  backup: BackupPlan;
}

/** run.sh, restore.sh, pgbackrest.conf and ca.pem, keyed by file name. */
export function backupConfigMap(
  name: string,
  a: BackupConfigArgs,
  parent: pulumi.Resource,
): k8s.core.v1.ConfigMap {
  return new k8s.core.v1.ConfigMap(
    `${name}-backup`,
    {
      metadata: { name: `${a.app}-backup`, namespace: a.namespace, labels: a.labels },
      data: Object.fromEntries(
        Object.entries(a.backup.files).map(([f, content]) => [path.posix.basename(f), content]),
      ),
    },
    { parent },
  );
}

type Container = k8s.types.input.core.v1.Container;
type Volume = k8s.types.input.core.v1.Volume;
type VolumeMount = k8s.types.input.core.v1.VolumeMount;

export interface BackupPodArgs {
  plan: DatabasePlan;
  backup: BackupPlan;
  image: string;
  /** The server's env plus the backup's, credentials as secretKeyRefs. */
  env: pulumi.Input<k8s.types.input.core.v1.EnvVar>[];
  configMapName: pulumi.Input<string>;
  /** Volume name of the data volume (its claim template's name). */
  dataVolume: string;
  /** Volume name of the emptyDir the server's socket lives in, shared with the runner. */
  socketVolume: string;
  /** The server's resources: a restore is as heavy as the server. */
  serverResources: k8s.types.input.core.v1.ResourceRequirements;
  /** The database component, named in errors. */
  parent: pulumi.Resource;
}

/**
 * What backups add to the database pod: a mount of the files for the server (PostgreSQL's
 * archive_command runs pgBackRest there), the runner sidecar, the restore init container when
 * restoring, and their volumes.
 */
export function backupPod(a: BackupPodArgs): {
  serverMounts: VolumeMount[];
  sidecar: Container;
  initContainers: Container[];
  volumes: Volume[];
} {
  const { plan, backup } = a;
  const filesMount = {
    name: "backup-files",
    mountPath: backupDir(backup, a.parent),
    readOnly: true,
  };
  const mounts: VolumeMount[] = [
    { name: a.dataVolume, mountPath: plan.dataDir },
    { name: a.socketVolume, mountPath: plan.socketDir },
    filesMount,
    { name: "backup-state", mountPath: backup.stateDir },
    { name: "backup-tmp", mountPath: "/tmp" },
  ];
  const common = {
    image: a.image,
    env: a.env,
    securityContext: restrictedSecurityContext(plan.uid),
    volumeMounts: mounts,
  };
  return {
    serverMounts: [filesMount],
    sidecar: {
      name: "backup",
      ...common,
      command: backup.command,
      ports: [{ name: BACKUP_METRICS_PORT_NAME, containerPort: backup.metricsPort }],
      resources: RUNNER_RESOURCES,
    },
    // restore.sh leaves a data directory that holds a database alone, so a restarted pod
    // never restores over live data.
    initContainers: backup.restore
      ? [
          {
            name: "restore",
            ...common,
            command: backup.restoreCommand,
            resources: a.serverResources,
          },
        ]
      : [],
    volumes: [
      { name: "backup-files", configMap: { name: a.configMapName } },
      { name: "backup-state", emptyDir: {} },
      { name: "backup-tmp", emptyDir: {} },
    ],
  };
}

/** host and port (443 unless given) of the plan's FJORD_BACKUP_ENDPOINT. */
function backupEndpoint(
  backup: BackupPlan,
  database: pulumi.Resource,
): { host: string; port: number } {
  const v = backup.env.find((e) => e.name === "FJORD_BACKUP_ENDPOINT");
  const endpoint = v && "value" in v ? v.value : undefined;
  const m = endpoint ? /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(endpoint) : null;
  if (!m) {
    throw new pulumi.ResourceError(
      `fjord:backups.target.endpoint: ${JSON.stringify(endpoint)} is not host or host:port; set it like "s3.example.no:9000"`,
      database,
    );
  }
  return { host: m[1].replace(/^\[|\]$/g, ""), port: m[2] ? Number(m[2]) : 443 };
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The database pod may open connections to the object store, on its port only. A host name can
 * resolve anywhere, so it is any address on that port; an IP address is that address alone.
 */
function allowBackupEgress(app: string, backup: BackupPlan, database: pulumi.Resource) {
  const { host, port } = backupEndpoint(backup, database);
  const cidr = IPV4.test(host) ? `${host}/32` : host.includes(":") ? `${host}/128` : "0.0.0.0/0";
  return {
    podSelector: { matchLabels: { app } },
    policyTypes: ["Egress"],
    egress: [{ to: [{ ipBlock: { cidr } }], ports: [{ protocol: "TCP", port }] }],
  };
}

/** The flows backups need: out to the object store, and Prometheus in to the runner's metrics. */
export function backupPolicies(name: string, a: BackupConfigArgs, parent: pulumi.Resource): void {
  const policy = (role: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
    new k8s.networking.v1.NetworkPolicy(
      `${name}-${role}`,
      { metadata: { name: `${a.app}-${role}`, namespace: a.namespace, labels: a.labels }, spec },
      { parent },
    );
  policy("backup-egress", allowBackupEgress(a.app, a.backup, parent));
  policy("backup-scrape", allowScrape(a.app, a.backup.metricsPort));
}
