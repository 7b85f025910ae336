import * as pulumi from "@pulumi/pulumi";
import { fjordContainer, type Limits } from "./container";
import type { LogShipping } from "./logging";

export interface MicroserviceArgs {
  stack: string;
  /** Image ID of the service's pinned image. */
  image: pulumi.Input<string>;
  /** Container name of each replica, in order (`<stack>-<service>-<i>`). */
  replicaNames: string[];
  /** Networks each replica joins, primary first (see Topology.serviceNetworks). */
  networks: Array<pulumi.Input<string> | { name: pulumi.Input<string>; aliases: string[] }>;
  /** Port serving HTTP, health and metrics. */
  port: number;
  resources: { requests: Limits; limits: Limits };
  healthPath: string;
  /** Plain environment. */
  env?: Record<string, pulumi.Input<string>>;
  /** Secret environment (DB_PASSWORD); stored encrypted in state. */
  secretEnv?: Record<string, pulumi.Input<string>>;
  /** UID the process runs as. @default 10001 */
  runAsUser?: number;
  /** Ship logs to this forward-protocol agent (see ./logging.ts). @default json-file only */
  logShipping?: LogShipping;
}

/**
 * A stateless service on Docker: one container per replica, so the gateway balances across real
 * upstreams and its passive failure detection takes a broken replica out, as on Kubernetes.
 */
export class Microservice extends pulumi.ComponentResource {
  /** Container names, one per replica. */
  public readonly containers: pulumi.Output<string[]>;
  /** host:port of each replica, as the gateway and callers dial them. */
  public readonly endpoints: pulumi.Output<string[]>;

  constructor(name: string, args: MicroserviceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:Microservice", name, {}, opts);
    const healthPath = args.healthPath;
    const runAsUser = args.runAsUser ?? 10001;

    const url = `http://127.0.0.1:${args.port}${healthPath}`;
    const replicas = args.replicaNames.map((containerName, i) =>
      fjordContainer(
        `${name}-${i}`,
        {
          name: containerName,
          stack: args.stack,
          role: "service",
          service: name,
          process: name,
          logShipping: args.logShipping,
          image: args.image,
          networks: args.networks,
          limits: args.resources.limits,
          reservation: args.resources.requests.memory,
          // Service images differ; wget (busybox, Debian) or curl covers the common ones.
          health: ["CMD-SHELL", `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`],
          user: runAsUser,
          env: { PORT: String(args.port), ...args.env },
          ...(args.secretEnv ? { secretEnv: args.secretEnv } : {}),
          tmpfs: {
            "/tmp": `rw,noexec,nosuid,size=64m,uid=${runAsUser},gid=${runAsUser},mode=1777`,
          },
          readOnly: true,
        },
        { parent: this },
      ),
    );

    this.containers = pulumi.all(replicas.map((c) => c.name));
    this.endpoints = pulumi.output(args.replicaNames.map((n) => `${n}:${args.port}`));
    this.registerOutputs({ containers: this.containers, endpoints: this.endpoints });
  }
}
