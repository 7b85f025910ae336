import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import type { CredentialKey, EnvVar, ServiceDatabasePlan } from "../plan";
import { databaseExporter } from "../plan/database";
import { fjordContainer } from "./container";
import type { LogShipping } from "./logging";
import { labelList, labels } from "./topology";

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
  private readonly credentials: Map<CredentialKey, pulumi.Output<string>>;

  constructor(name: string, args: ServiceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:ServiceDatabase", name, {}, opts);
    const { owner, spec: db, plan } = args.database;
    const child = { parent: this };

    const credentials = new Map(
      plan.credentials.map((key) => [
        key,
        new random.RandomPassword(`${name}-${key}`, { length: 32, special: false }, child).result,
      ]),
    );
    // Plain values as env, credential references as secret env: the container's two lists.
    const envOf = (vars: EnvVar[]) => ({
      env: Object.fromEntries(vars.flatMap((v) => ("value" in v ? [[v.name, v.value]] : []))),
      secretEnv: Object.fromEntries(
        vars.flatMap((v) => ("secret" in v ? [[v.name, credentials.get(v.secret)!]] : [])),
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

    const serverEnv = envOf(plan.serverEnv);
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
        networks: [args.network],
        limits: { cpu: db.cpu, memory: db.memory },
        user: plan.uid,
        ...serverEnv,
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

  /** A generated credential (secret), for a client's secret env. */
  credential(key: CredentialKey): pulumi.Output<string> {
    return pulumi.secret(this.credentials.get(key)!);
  }
}
