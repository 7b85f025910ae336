import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { CredentialKey, EnvVar, ServiceDatabasePlan } from "../plan";
import { type BackupCredential, type BackupEnvVar, databaseExporter } from "../plan/database";
import { fjordContainer } from "./container";
import type { LogShipping } from "./logging";
import { labelList, labels } from "./topology";
import {
  BACKUP_OFF_LABEL,
  type BackupKeys,
  backupRunner,
  backupSecret,
  backupVolumes,
  restoreEntrypoint,
  tmpfsFor,
} from "./database-backup";

export type { BackupKeys } from "./database-backup";

export interface ServiceDatabaseArgs {
  stack: string;
  /** The planned database: owner, resolved spec, tuned config, credentials, exporter image. */
  database: ServiceDatabasePlan;
  /** Container name, also the host name the owner dials. */
  containerName: string;
  /** Image ID of the server image. */
  image: pulumi.Input<string>;
  /** Image ID of the metrics exporter for this engine. */
  exporterImage: pulumi.Input<string>;
  /** The owner's private database network (internal). */
  network: pulumi.Input<string>;
  /** Where Prometheus reaches the exporter. */
  metricsNetwork: pulumi.Input<string>;
  /** Ship logs to this forward-protocol agent (see ./logging.ts). @default json-file only */
  logShipping?: LogShipping;
  /** Where the backup runner reaches the object store. Required when the plan has backups. */
  backupNetwork?: pulumi.Input<string>;
  /** The object store's keys. Required when the plan has backups. */
  backupKeys?: BackupKeys;
}

/**
 * One service's private database on Docker: a named volume, the same tuned config file the
 * Kubernetes target mounts, generated passwords passed only as secret env, and an exporter.
 * The server joins nothing but the owner's internal network.
 */
export class ServiceDatabase extends pulumi.ComponentResource {
  /** host:port the owner dials. */
  public readonly endpoint: pulumi.Output<string>;
  public readonly password: pulumi.Output<string>;
  public readonly volumeName: pulumi.Output<string>;
  /** The rendered server config (postgresql.conf or fjord.cnf). */
  public readonly config: pulumi.Output<string>;
  /** host:port of the exporter on the metrics network. */
  public readonly metricsEndpoint: pulumi.Output<string>;
  /** host:port of the backup runner's metrics on the metrics network, when backed up. */
  public readonly backupMetricsEndpoint: pulumi.Output<string | undefined>;
  private readonly credentials: Map<CredentialKey, pulumi.Output<string>>;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:ServiceDatabase", name, {}, opts);
    const { owner, spec: db, plan } = args.database;
    const child = { parent: this };

    const backup = plan.backup;
    const keys = args.backupKeys;
    if (backup && (!keys || !args.backupNetwork)) {
      throw new pulumi.ResourceError(
        `fjord:backupAccessKeyId, fjord:backupSecretAccessKey: the database of ${owner} is backed up, so set the object store's keys with \`pulumi config set --secret\``,
        this,
      );
    }
    // Never rename: a new name is a new password, or (backup-cipher) backups nobody can read.
    const generated = new Map<CredentialKey | BackupCredential, pulumi.Output<string>>(
      [...plan.credentials, ...(backup?.generated ?? [])].map((key) => [
        key,
        new random.RandomPassword(`${name}-${key}`, { length: 32, special: false }, child).result,
      ]),
    );
    const secretOf = (key: CredentialKey | BackupCredential): pulumi.Input<string> =>
      key === "password" || key === "root-password"
        ? generated.get(key)!
        : backupSecret(key, keys!, (k) => generated.get(k)!);
    const credentials = new Map(plan.credentials.map((k) => [k, generated.get(k)!]));
    // Plain values as env, credential references as secret env: the container's two lists.
    const envOf = (vars: Array<EnvVar | BackupEnvVar>) => ({
      env: Object.fromEntries(vars.flatMap((v) => ("value" in v ? [[v.name, v.value]] : []))),
      secretEnv: Object.fromEntries(
        vars.flatMap((v) => ("secret" in v ? [[v.name, secretOf(v.secret)]] : [])),
      ),
    });

    // Named after the owner, never renamed: a new name would be a new, empty database.
    const volume = new docker.Volume(
      `${name}-data`,
      {
        name: `${args.containerName}-data`,
        labels: labelList(labels(args.stack, "volume", owner)),
      },
      child,
    );
    const extra = backup
      ? backupVolumes(
          name,
          { stack: args.stack, owner, containerName: args.containerName, backup },
          this,
        )
      : undefined;
    const dataVolume = (extra?.restored ?? volume).name;

    // The server gets the backup variables too: PostgreSQL's archive_command runs pgBackRest.
    const serverEnv = envOf([...plan.serverEnv, ...(backup?.env ?? [])]);
    const backupFiles = Object.fromEntries(
      Object.entries(backup?.files ?? {}).map(([path, content]) => [path, { content }]),
    );
    const server = fjordContainer(
      `${name}-server`,
      {
        name: args.containerName,
        stack: args.stack,
        role: "database",
        process: plan.engine,
        logShipping: args.logShipping,
        service: owner,
        image: args.image,
        // PostgreSQL's archive_command pushes each WAL segment to the store from here, so the
        // server needs the way out too; services are never on that network.
        networks: backup ? [args.network, args.backupNetwork!] : [args.network],
        limits: { cpu: db.cpu, memory: db.memory },
        user: plan.uid,
        ...serverEnv,
        ...(plan.backupOff ? { extraLabels: { [BACKUP_OFF_LABEL]: plan.backupOff } } : {}),
        ...(backup
          ? restoreEntrypoint(plan, backup)
          : plan.args.length > 0
            ? { command: plan.args }
            : {}),
        files: {
          [`${plan.configDir}/${plan.configFile}`]: { content: plan.configText },
          ...backupFiles,
        },
        volumes: {
          [plan.dataDir]: dataVolume,
          ...(extra ? { [plan.socketDir]: extra.socket.name } : {}),
        },
        // uid/gid: for a path the image already has, Docker copies its mode onto the tmpfs and
        // ignores `mode`, which leaves e.g. /run/mysqld unwritable for the server.
        tmpfs: Object.fromEntries(
          plan.scratchDirs
            .filter((d) => !(extra && d === plan.socketDir))
            .concat(backup ? [backup.stateDir] : [])
            .map((d) => [d, tmpfsFor(plan.uid, "64m")]),
        ),
        health:
          plan.readyCommand[0] === "sh"
            ? ["CMD-SHELL", plan.readyCommand[2]]
            : ["CMD", ...plan.readyCommand],
        healthInterval: "5s",
        // A clean shutdown flushes the WAL / redo log instead of recovering on next start.
        stopGraceSeconds: 60,
        // A restore downloads the whole backup before the server answers.
        waitTimeoutSeconds: backup?.restore ? 1800 : 180,
      },
      child,
    );

    if (backup) {
      backupRunner(
        `${name}-backup`,
        {
          stack: args.stack,
          owner,
          containerName: args.containerName,
          plan,
          backup,
          image: args.image,
          env: serverEnv,
          files: backupFiles,
          dataVolume,
          socketVolume: extra!.socket.name,
          networks: [args.network, args.backupNetwork!, args.metricsNetwork],
          logShipping: args.logShipping,
        },
        { parent: this, dependsOn: [server] },
      );
    }

    const exporterName = `${args.containerName}-exporter`;
    const host = `${args.containerName}:${plan.port}`;
    const exporter = databaseExporter(plan, args.containerName);
    fjordContainer(
      `${name}-exporter`,
      {
        name: exporterName,
        stack: args.stack,
        role: "database-exporter",
        process: "exporter",
        logShipping: args.logShipping,
        service: owner,
        image: args.exporterImage,
        networks: [args.network, args.metricsNetwork],
        limits: { cpu: "100m", memory: "64Mi" },
        user: 65534,
        ...envOf(exporter.env),
        ...(exporter.args.length > 0 ? { command: exporter.args } : {}),
        readOnly: true,
      },
      { parent: this, dependsOn: [server] },
    );

    this.endpoint = pulumi.output(host);
    this.credentials = credentials;
    this.password = pulumi.secret(credentials.get("password")!);
    this.volumeName = dataVolume;
    this.config = pulumi.output(plan.configText);
    this.metricsEndpoint = pulumi.output(`${exporterName}:${plan.exporterPort}`);
    this.backupMetricsEndpoint = pulumi.output(
      backup ? `${args.containerName}-backup:${backup.metricsPort}` : undefined,
    );
    this.registerOutputs({
      endpoint: this.endpoint,
      password: this.password,
      volumeName: this.volumeName,
      config: this.config,
      metricsEndpoint: this.metricsEndpoint,
      backupMetricsEndpoint: this.backupMetricsEndpoint,
    });
  }

  /** A generated credential (secret), for a client's secret env. */
  credential(key: CredentialKey): pulumi.Output<string> {
    return pulumi.secret(this.credentials.get(key)!);
  }
}
