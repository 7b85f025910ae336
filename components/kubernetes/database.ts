import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { EnvVar, ServiceDatabasePlan } from "../plan";
import { type BackupEnvVar, databaseExporter } from "../plan/database";
import { restrictedSecurityContext, serviceDns, workloadLabels } from "./naming";
import { allowIngress, allowScrape } from "./network";
import {
  BACKUP_OFF_ANNOTATION,
  type BackupKeys,
  backupConfigMap,
  backupFilesHash,
  backupPod,
  backupPolicies,
  backupSecretData,
} from "./database-backup";

export type { BackupKeys } from "./database-backup";

export interface ServiceDatabaseArgs {
  /** The owning service's namespace; the database never leaves it. */
  namespace: pulumi.Input<string>;
  /** The planned database: owner, resolved spec, tuned config, credentials, exporter image. */
  database: ServiceDatabasePlan;
  /** The owner's region (the `fjord.io/region` label). */
  region: string;
  /** @default the cluster's default StorageClass */
  storageClassName?: string;
  /** The object store's keys. Required when the plan has backups. */
  backupKeys?: BackupKeys;
}

/**
 * One service's private database: StatefulSet with its own volume, tuned config, generated
 * credentials in a Secret, a ClusterIP Service and a NetworkPolicy admitting only its owner.
 */
export class ServiceDatabase extends pulumi.ComponentResource {
  public readonly serviceName: pulumi.Output<string>;
  /** host:port of the database, inside the cluster. */
  public readonly endpoint: pulumi.Output<string>;
  public readonly secretName: pulumi.Output<string>;
  public readonly password: pulumi.Output<string>;
  /** The rendered server config (postgresql.conf or my.cnf). */
  public readonly config: pulumi.Output<string>;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:kubernetes:ServiceDatabase", name, {}, opts);
    const { owner, app, spec: db, plan } = args.database;
    const labels = workloadLabels(app, "database", args.region);
    const dbLabels = {
      ...labels,
      "fjord.io/owner-service": owner,
      "fjord.io/database-engine": plan.engine,
    };

    const backup = plan.backup;
    const keys = args.backupKeys;
    if (backup && !keys) {
      throw new pulumi.ResourceError(
        `fjord:backupAccessKeyId, fjord:backupSecretAccessKey: the database of ${owner} is backed up, so set the object store's keys with \`pulumi config set --secret\``,
        this,
      );
    }

    const credentials = new Map(
      plan.credentials.map((key) => [
        key,
        new random.RandomPassword(
          `${name}-${key}`,
          { length: 32, special: false },
          { parent: this },
        ).result,
      ]),
    );

    // Renaming these objects orphans the volume claim and the credentials: never rename.
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: `${app}-credentials`, namespace: args.namespace, labels: dbLabels },
        type: "Opaque",
        stringData: {
          username: plan.user,
          database: plan.name,
          ...Object.fromEntries(
            [
              ...credentials,
              ...Object.entries(backup ? backupSecretData(name, backup, keys!, this) : {}),
            ].map(([k, v]) => [k, pulumi.secret(v)]),
          ),
        },
      },
      { parent: this },
    );

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: `${app}-config`, namespace: args.namespace, labels: dbLabels },
        data: { [plan.configFile]: plan.configText },
      },
      { parent: this },
    );

    const env = (vars: Array<EnvVar | BackupEnvVar>) =>
      vars.map((v) =>
        "secret" in v
          ? {
              name: v.name,
              valueFrom: { secretKeyRef: { name: secret.metadata.name, key: v.secret } },
            }
          : v,
      );
    // In the pod, the exporter reaches the server on loopback.
    const exporter = databaseExporter(plan, "127.0.0.1");

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: app, namespace: args.namespace, labels: dbLabels },
        // ClusterIP only: a database is never reachable from outside the cluster.
        spec: {
          type: "ClusterIP",
          selector: { app },
          ports: [{ name: "db", port: plan.port, targetPort: "db" }],
        },
      },
      { parent: this },
    );

    const resources = {
      requests: { cpu: db.cpu, memory: db.memory },
      limits: { cpu: db.cpu, memory: db.memory },
    };
    const exporterResources = {
      requests: { cpu: "25m", memory: "32Mi" },
      limits: { cpu: "100m", memory: "64Mi" },
    };
    // A restore gets a new claim, named after its restore point: the StatefulSet is replaced, and
    // the old claim (which Kubernetes retains) keeps the database the restore started from.
    const dataVolume = backup?.restore ? `data-${backup.restore.volumeSuffix}` : "data";
    const scratch = (d: string) => {
      const i = plan.scratchDirs.indexOf(d);
      if (i < 0) {
        throw new pulumi.ResourceError(
          `fjord: database ${app}: the plan mounts ${d}, which is not one of its scratch directories (${plan.scratchDirs.join(", ")}); add it to the plan's scratchDirs`,
          this,
        );
      }
      return `scratch-${i}`;
    };
    // The backup's variables for the server too: PostgreSQL's archive_command runs pgBackRest.
    const serverEnv = env([...plan.serverEnv, ...(backup?.env ?? [])]);
    const backupFiles = backup
      ? backupConfigMap(name, { app, namespace: args.namespace, labels: dbLabels, backup }, this)
      : undefined;
    const extra = backup
      ? backupPod({
          plan,
          backup,
          image: db.image,
          env: serverEnv,
          // The literal name (known at preview, so the policy pack ties the mount to this
          // ConfigMap, not to the server's config); dependsOn below keeps the order.
          configMapName: `${app}-backup`,
          dataVolume,
          socketVolume: scratch(plan.socketDir),
          serverResources: resources,
          parent: this,
        })
      : undefined;
    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: {
          name: app,
          namespace: args.namespace,
          labels: dbLabels,
          ...(plan.backupOff ? { annotations: { [BACKUP_OFF_ANNOTATION]: plan.backupOff } } : {}),
        },
        spec: {
          serviceName: service.metadata.name,
          replicas: 1,
          selector: { matchLabels: { app } },
          template: {
            metadata: {
              labels: dbLabels,
              annotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(plan.exporterPort),
                // Restart on config change: the servers read their config only at start.
                "fjord.io/config-hash": plan.configHash,
                ...(backup ? { "fjord.io/backup-hash": backupFilesHash(backup) } : {}),
              },
            },
            spec: {
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: 60,
              securityContext: {
                runAsNonRoot: true,
                fsGroup: plan.uid,
                seccompProfile: { type: "RuntimeDefault" },
              },
              ...(extra?.initContainers.length ? { initContainers: extra.initContainers } : {}),
              containers: [
                {
                  name: plan.engine,
                  image: db.image,
                  args: plan.args,
                  env: serverEnv,
                  ports: [{ name: "db", containerPort: plan.port }],
                  resources,
                  readinessProbe: {
                    exec: { command: plan.readyCommand },
                    periodSeconds: 10,
                    timeoutSeconds: 5,
                  },
                  livenessProbe: {
                    tcpSocket: { port: "db" },
                    initialDelaySeconds: 30,
                    periodSeconds: 20,
                  },
                  securityContext: restrictedSecurityContext(plan.uid),
                  volumeMounts: [
                    { name: dataVolume, mountPath: plan.dataDir },
                    { name: "config", mountPath: plan.configDir, readOnly: true },
                    ...plan.scratchDirs.map((d) => ({ name: scratch(d), mountPath: d })),
                    ...(extra?.serverMounts ?? []),
                  ],
                },
                {
                  name: "exporter",
                  image: args.database.exporterImage,
                  args: exporter.args,
                  env: env(exporter.env),
                  ports: [{ name: "metrics", containerPort: plan.exporterPort }],
                  resources: exporterResources,
                  securityContext: restrictedSecurityContext(65534),
                },
                ...(extra ? [extra.sidecar] : []),
              ],
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                ...plan.scratchDirs.map((d) => ({ name: scratch(d), emptyDir: {} })),
                ...(extra?.volumes ?? []),
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: dataVolume, labels: dbLabels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
                resources: { requests: { storage: db.storage } },
              },
            },
          ],
        },
      },
      // A restore downloads the whole backup before the server answers.
      {
        parent: this,
        ...(backupFiles ? { dependsOn: [backupFiles] } : {}),
        ...(backup?.restore ? { customTimeouts: { create: "30m", update: "30m" } } : {}),
      },
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-ingress`,
      {
        metadata: { name: `${app}-ingress`, namespace: args.namespace, labels: dbLabels },
        spec: allowIngress(app, plan.port, [{ namespace: args.namespace, app: owner }]),
      },
      { parent: this },
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-scrape`,
      {
        metadata: { name: `${app}-scrape`, namespace: args.namespace, labels: dbLabels },
        spec: allowScrape(app, plan.exporterPort),
      },
      { parent: this },
    );
    if (backup) {
      backupPolicies(name, { app, namespace: args.namespace, labels: dbLabels, backup }, this);
    }

    this.serviceName = service.metadata.name;
    this.endpoint = pulumi
      .all([service.metadata.name, service.metadata.namespace])
      .apply(([n, ns]) => `${serviceDns(n, ns)}:${plan.port}`);
    this.secretName = secret.metadata.name;
    this.password = pulumi.secret(credentials.get("password")!);
    this.config = pulumi.output(plan.configText);
    this.registerOutputs({
      serviceName: this.serviceName,
      endpoint: this.endpoint,
      secretName: this.secretName,
      password: this.password,
      config: this.config,
    });
  }
}
