import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { Database } from "../config";
import { planDatabase } from "../plan/database";
import { fjordContainer } from "./container";
import type { LogShipping } from "./logging";
import { labelList, labels } from "./topology";

export interface ServiceDatabaseArgs {
  stack: string;
  /** The owning service: the only one on the database's network. */
  owner: string;
  /** Resolved database spec: engine, version, memory, cpu, name. */
  database: Database;
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

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:ServiceDatabase", name, {}, opts);
    const db = args.database;
    const plan = planDatabase(db);
    const child = { parent: this };

    const password = new random.RandomPassword(
      `${name}-password`,
      { length: 32, special: false },
      child,
    );
    const rootPassword =
      db.engine === "mysql"
        ? new random.RandomPassword(`${name}-root-password`, { length: 32, special: false }, child)
        : undefined;

    // Named after the owner, never renamed: a new name would be a new, empty database.
    const volume = new docker.Volume(
      `${name}-data`,
      {
        name: `${args.containerName}-data`,
        labels: labelList(labels(args.stack, "volume", args.owner)),
      },
      child,
    );

    const secretEnv: Record<string, pulumi.Input<string>> = db.engine === "postgres"
      ? { POSTGRES_PASSWORD: password.result }
      : { MARIADB_PASSWORD: password.result, MARIADB_ROOT_PASSWORD: rootPassword!.result };
    const env: Record<string, string> =
      db.engine === "postgres"
        ? // A subdirectory, as on Kubernetes, so the volume root can hold other things.
          { POSTGRES_USER: db.name, POSTGRES_DB: db.name, PGDATA: `${plan.dataDir}/pgdata` }
        : { MARIADB_USER: db.name, MARIADB_DATABASE: db.name };

    const server = fjordContainer(
      `${name}-server`,
      {
        name: args.containerName,
        stack: args.stack,
        role: "database",
        process: db.engine,
        logShipping: args.logShipping,
        service: args.owner,
        image: args.image,
        networks: [args.network],
        limits: { cpu: db.cpu, memory: db.memory },
        user: plan.uid,
        env,
        secretEnv,
        command: plan.args.length > 0 ? plan.args : undefined,
        files: { [`${plan.configDir}/${plan.configFile}`]: { content: plan.configText } },
        volumes: { [plan.dataDir]: volume.name },
        // uid/gid: for a path the image already has, Docker copies its mode onto the tmpfs and
        // ignores `mode`, which leaves e.g. /run/mysqld unwritable for the server.
        tmpfs: Object.fromEntries(
          plan.scratchDirs.map((d) => [
            d,
            `rw,nosuid,nodev,size=64m,uid=${plan.uid},gid=${plan.uid},mode=1777`,
          ]),
        ),
        health:
          plan.readyCommand[0] === "sh"
            ? ["CMD-SHELL", plan.readyCommand[2]]
            : ["CMD", ...plan.readyCommand],
        healthInterval: "5s",
        // A clean shutdown flushes the WAL / redo log instead of recovering on next start.
        stopGraceSeconds: 60,
        waitTimeoutSeconds: 180,
      },
      child,
    );

    const exporterName = `${args.containerName}-exporter`;
    const host = `${args.containerName}:${plan.port}`;
    const exporter: {
      env: Record<string, string>;
      secretEnv: Record<string, pulumi.Input<string>>;
      command: string[];
    } =
      db.engine === "postgres"
        ? {
            env: {
              DATA_SOURCE_URI: `${host}/${db.name}?sslmode=disable`,
              DATA_SOURCE_USER: db.name,
            },
            secretEnv: { DATA_SOURCE_PASS: password.result },
            command: [],
          }
        : {
            env: {},
            secretEnv: { MYSQLD_EXPORTER_PASSWORD: password.result },
            command: [`--mysqld.address=${host}`, `--mysqld.username=${db.name}`],
          };
    fjordContainer(
      `${name}-exporter`,
      {
        name: exporterName,
        stack: args.stack,
        role: "database-exporter",
        process: "exporter",
        logShipping: args.logShipping,
        service: args.owner,
        image: args.exporterImage,
        networks: [args.network, args.metricsNetwork],
        limits: { cpu: "100m", memory: "64Mi" },
        user: 65534,
        env: exporter.env,
        secretEnv: exporter.secretEnv,
        ...(exporter.command.length > 0 ? { command: exporter.command } : {}),
        readOnly: true,
      },
      { parent: this, dependsOn: [server] },
    );

    this.endpoint = pulumi.output(host);
    this.password = pulumi.secret(password.result);
    this.volumeName = volume.name;
    this.config = pulumi.output(plan.configText);
    this.metricsEndpoint = pulumi.output(`${exporterName}:${plan.exporterPort}`);
    this.registerOutputs({
      endpoint: this.endpoint,
      password: this.password,
      volumeName: this.volumeName,
      config: this.config,
      metricsEndpoint: this.metricsEndpoint,
    });
  }
}
