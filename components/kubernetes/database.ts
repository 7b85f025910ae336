import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { Database } from "../config";
import { planDatabase } from "../plan/database";
import { restrictedSecurityContext, serviceDns, workloadLabels } from "./naming";
import { allowIngress, allowScrape } from "./network";

export interface ServiceDatabaseArgs {
  /** The owning service's namespace; the database never leaves it. */
  namespace: pulumi.Input<string>;
  /** The one service (its `app` label) allowed to connect. */
  owner: string;
  /** Resolved database spec: engine, version, image, memory, disk class. */
  database: Database;
  /** Metrics exporter image for this engine. */
  exporterImage: string;
  /** @default "no-osl1" */
  region?: string;
  /** @default the cluster's default StorageClass */
  storageClassName?: string;
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
    const region = args.region ?? "no-osl1";
    const db = args.database;
    const plan = planDatabase(db);
    const app = `${args.owner}-db`;
    const labels = workloadLabels(app, "database", region);
    const dbLabels = {
      ...labels,
      "fjord.io/owner-service": args.owner,
      "fjord.io/database-engine": db.engine,
    };

    const password = new random.RandomPassword(
      `${name}-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const rootPassword =
      db.engine === "mysql"
        ? new random.RandomPassword(
            `${name}-root-password`,
            { length: 32, special: false },
            { parent: this },
          )
        : undefined;

    // Renaming these objects orphans the volume claim and the credentials: never rename.
    const secret = new k8s.core.v1.Secret(
      `${name}-credentials`,
      {
        metadata: { name: `${app}-credentials`, namespace: args.namespace, labels: dbLabels },
        type: "Opaque",
        stringData: {
          username: db.name,
          database: db.name,
          password: pulumi.secret(password.result),
          ...(rootPassword ? { "root-password": pulumi.secret(rootPassword.result) } : {}),
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

    const fromSecret = (key: string) => ({
      valueFrom: { secretKeyRef: { name: secret.metadata.name, key } },
    });
    const engineEnv =
      db.engine === "postgres"
        ? [
            { name: "POSTGRES_USER", value: db.name },
            { name: "POSTGRES_DB", value: db.name },
            { name: "POSTGRES_PASSWORD", ...fromSecret("password") },
            // A subdirectory, because a fresh volume's root may hold lost+found.
            { name: "PGDATA", value: `${plan.dataDir}/pgdata` },
          ]
        : [
            { name: "MARIADB_USER", value: db.name },
            { name: "MARIADB_DATABASE", value: db.name },
            { name: "MARIADB_PASSWORD", ...fromSecret("password") },
            { name: "MARIADB_ROOT_PASSWORD", ...fromSecret("root-password") },
          ];
    const exporter =
      db.engine === "postgres"
        ? {
            env: [
              {
                name: "DATA_SOURCE_URI",
                value: `127.0.0.1:${plan.port}/${db.name}?sslmode=disable`,
              },
              { name: "DATA_SOURCE_USER", value: db.name },
              { name: "DATA_SOURCE_PASS", ...fromSecret("password") },
            ],
            args: [],
          }
        : {
            env: [{ name: "MYSQLD_EXPORTER_PASSWORD", ...fromSecret("password") }],
            args: [`--mysqld.address=127.0.0.1:${plan.port}`, `--mysqld.username=${db.name}`],
          };

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
    new k8s.apps.v1.StatefulSet(
      `${name}-statefulset`,
      {
        metadata: { name: app, namespace: args.namespace, labels: dbLabels },
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
              containers: [
                {
                  name: db.engine,
                  image: db.image,
                  args: plan.args,
                  env: engineEnv,
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
                    { name: "data", mountPath: plan.dataDir },
                    { name: "config", mountPath: plan.configDir, readOnly: true },
                    ...plan.scratchDirs.map((d, i) => ({ name: `scratch-${i}`, mountPath: d })),
                  ],
                },
                {
                  name: "exporter",
                  image: args.exporterImage,
                  args: exporter.args,
                  env: exporter.env,
                  ports: [{ name: "metrics", containerPort: plan.exporterPort }],
                  resources: exporterResources,
                  securityContext: restrictedSecurityContext(65534),
                },
              ],
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                ...plan.scratchDirs.map((_, i) => ({ name: `scratch-${i}`, emptyDir: {} })),
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels: dbLabels },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(args.storageClassName ? { storageClassName: args.storageClassName } : {}),
                resources: { requests: { storage: db.storage } },
              },
            },
          ],
        },
      },
      { parent: this },
    );

    new k8s.networking.v1.NetworkPolicy(
      `${name}-ingress`,
      {
        metadata: { name: `${app}-ingress`, namespace: args.namespace, labels: dbLabels },
        spec: allowIngress(app, plan.port, [{ namespace: args.namespace, app: args.owner }]),
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

    this.serviceName = service.metadata.name;
    this.endpoint = pulumi
      .all([service.metadata.name, service.metadata.namespace])
      .apply(([n, ns]) => `${serviceDns(n, ns)}:${plan.port}`);
    this.secretName = secret.metadata.name;
    this.password = pulumi.secret(password.result);
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
