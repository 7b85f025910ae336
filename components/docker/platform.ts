import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { Spec } from "../config";
import { bindGateway, planPlatform, serviceEnv } from "../plan";
import { SelfSignedCertificate, SessionTicketKeys } from "../tls";
import { ImageSet } from "./images";
import { Microservice } from "./microservice";
import { type BackupKeys, ServiceDatabase } from "./database";
import { ApiGateway } from "./gateway";
import { Observability } from "./observability";
import { dockerScrapeJobs } from "./scrape";
import { logShipping } from "./logging";
import { dockerTopology, labelList, labels, netKey, type Topology } from "./topology";

export interface PlatformArgs {
  /** The validated stack spec (target "docker"). */
  spec: Spec;
  /** The object store's keys (secret config), when fjord:backups.target is set. */
  backupKeys?: BackupKeys;
}

/** Docker's embedded DNS, the resolver every container on a user-defined network has. */
const DOCKER_DNS = "127.0.0.11";

/**
 * The whole topology on one Docker host: the gateway, each service with its own database on its
 * own internal network, and the observability stack. Pass the Docker provider in `opts`.
 */
export class Platform extends pulumi.ComponentResource {
  public readonly gatewayUrl: pulumi.Output<string>;
  public readonly prometheusUrl: pulumi.Output<string | undefined>;
  public readonly grafanaUrl: pulumi.Output<string | undefined>;
  /** Generated Grafana admin password (secret), when Grafana runs. */
  public readonly grafanaAdminPassword: pulumi.Output<string | undefined>;
  /** Service name → host:port of its database, on its private network. */
  public readonly databases: pulumi.Output<Record<string, string>>;
  public readonly networks: pulumi.Output<string[]>;
  public readonly volumes: pulumi.Output<string[]>;
  /** Service name → its replicas' container names. */
  public readonly services: pulumi.Output<Record<string, string[]>>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:Platform", name, {}, opts);
    const spec = args.spec;
    const platform = planPlatform(spec);
    const topo = topologyOf(spec, this);
    const stack = platform.stack;
    const child = { parent: this };
    const address = spec.docker.publishAddress;
    const ship = logShipping(spec);
    if (spec.gateway.tls.certificate !== "self-signed") {
      throw new pulumi.ResourceError(
        'fjord:gateway.tls.certificate: "secret" names a Kubernetes Secret, which the docker target does not have; use "self-signed" for dev',
        this,
      );
    }
    if (spec.gateway.replicas > 1) {
      void pulumi.log.warn(
        `fjord:gateway.replicas is ${spec.gateway.replicas}; the docker target runs one gateway container (a host port can be published once)`,
        this,
      );
    }

    const nets = new Map<string, pulumi.Output<string>>();
    for (const n of topo.networks) {
      nets.set(
        n.key,
        n.external
          ? pulumi.output(n.name)
          : new docker.Network(
              `${name}-net-${n.key}`,
              {
                name: n.name,
                driver: "bridge",
                internal: n.internal,
                labels: labelList(labels(stack, "network", n.service)),
              },
              child,
            ).name,
      );
    }
    const net = (key: string) => nets.get(key)!;
    const images = new ImageSet(name, child);

    const databases: Record<string, pulumi.Output<string>> = {};
    const volumes: pulumi.Output<string>[] = [];
    const services = new Map<string, Microservice>();
    for (const svc of platform.services) {
      const s = svc.spec;
      const database = svc.database;
      const db = database
        ? new ServiceDatabase(
            database.app,
            {
              stack,
              database,
              containerName: topo.databaseHost(s.name),
              image: images.id(database.spec.image),
              exporterImage: images.id(database.exporterImage),
              network: net(netKey.db(s.name)),
              metricsNetwork: net(netKey.metrics),
              ...(database.plan.backup
                ? { backupNetwork: net(netKey.backup), backupKeys: args.backupKeys }
                : {}),
              logShipping: ship,
            },
            child,
          )
        : undefined;
      if (db) {
        databases[s.name] = db.endpoint;
        volumes.push(db.volumeName);
      }
      // Same variables as the Kubernetes target, so one image runs on both.
      const env = serviceEnv(svc, () => topo.databaseHost(s.name));
      services.set(
        s.name,
        new Microservice(
          s.name,
          {
            stack,
            image: images.id(s.image),
            replicaNames: topo.replicas(s.name),
            networks: topo
              .serviceNetworks(s.name)
              .map((n) =>
                n.aliases.length ? { name: net(n.key), aliases: n.aliases } : net(n.key),
              ),
            port: s.port,
            resources: s.resources,
            healthPath: s.healthPath,
            env: env.env,
            ...(db
              ? {
                  secretEnv: Object.fromEntries(
                    Object.entries(env.secretEnv).map(([k, key]) => [k, db.credential(key)]),
                  ),
                }
              : {}),
            logShipping: ship,
          },
          child,
        ),
      );
    }

    const cert = new SelfSignedCertificate(
      `${name}-gateway-cert`,
      { domains: spec.gateway.domains, rsaFallback: true },
      child,
    );
    const ticketKeys = new SessionTicketKeys(
      `${name}-gateway-tickets`,
      { generation: spec.gateway.tls.ticketKeyGeneration },
      child,
    );
    const gw = bindGateway(platform, {
      // One upstream server per replica container: nginx's max_fails then acts per replica.
      servers: (s) => topo.replicas(s.name).map((host) => ({ host, port: s.port })),
      publicHttpsPort: spec.docker.httpsPort,
      resolver: DOCKER_DNS,
      rsaFallback: true,
    });
    const gatewayName = topo.name("gateway");
    const gateway = new ApiGateway(
      `${name}-gateway`,
      {
        stack,
        containerName: gatewayName,
        gateway: gw,
        image: images.id(platform.gateway.image),
        ...(platform.gateway.exporterImage
          ? { exporterImage: images.id(platform.gateway.exporterImage) }
          : {}),
        networks: topo.gatewayNetworks.map(net),
        resources: platform.gateway.resources,
        certificate: { certPem: cert.certPem, keyPem: cert.keyPem, rsa: cert.rsa },
        ticketKeys: { current: ticketKeys.current, previous: ticketKeys.previous },
        publish: { http: spec.docker.httpPort, https: spec.docker.httpsPort },
        publishAddress: address,
        logShipping: ship,
      },
      // nginx resolves upstream names once, at start: every replica must exist by then.
      {
        parent: this,
        dependsOn: platform.services
          .filter((s) => s.spec.route)
          .map((s) => services.get(s.spec.name)!),
      },
    );

    let prometheusUrl: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let grafanaUrl: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let grafanaAdminPassword: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (spec.observability.enabled) {
      const names = {
        prometheus: topo.name("prometheus"),
        nodeExporter: topo.name("node-exporter"),
        volume: topo.name("prometheus", "data"),
        alertmanager: topo.name("alertmanager"),
        grafana: topo.name("grafana"),
        loki: topo.name("loki"),
        lokiVolume: topo.name("loki", "data"),
        logShipper: topo.name("log-shipper"),
      };
      const obs = new Observability(
        `${name}-observability`,
        {
          platform,
          names,
          image: (ref) => images.id(ref),
          prometheusNetworks: topo.prometheusNetworks.map(net),
          frontNetwork: net(netKey.front),
          metricsNetwork: net(netKey.metrics),
          jobs: dockerScrapeJobs(platform, topo, {
            gateway: {
              endpoint: `${gatewayName}:${gw.files.metrics.port}`,
              path: gw.files.metrics.path,
            },
            nodeExporter: names.nodeExporter,
          }),
          publishPort: spec.docker.prometheusPort,
          grafanaPort: spec.docker.grafanaPort,
          publishAddress: address,
          logShipping: ship,
          logForwardPort: spec.docker.logForwardPort,
        },
        { parent: this, dependsOn: [gateway, ...services.values()] },
      );
      prometheusUrl = obs.prometheusUrl;
      grafanaUrl = obs.grafanaUrl;
      grafanaAdminPassword = obs.grafanaAdminPassword;
      volumes.push(...obs.volumes.map((v) => pulumi.output(v)));
    }

    this.gatewayUrl = gateway.url;
    this.prometheusUrl = prometheusUrl;
    this.grafanaUrl = grafanaUrl;
    this.grafanaAdminPassword = grafanaAdminPassword;
    this.databases = pulumi.all(databases);
    this.networks = pulumi.all([...nets.values()]);
    this.volumes = pulumi.all(volumes);
    this.services = pulumi.all(
      Object.fromEntries([...services].map(([n, m]) => [n, m.containers])),
    );
    this.registerOutputs({
      gatewayUrl: this.gatewayUrl,
      prometheusUrl: this.prometheusUrl,
      grafanaUrl: this.grafanaUrl,
      grafanaAdminPassword: this.grafanaAdminPassword,
      databases: this.databases,
      networks: this.networks,
      volumes: this.volumes,
      services: this.services,
    });
  }
}

/** The topology, with the resource named in its errors (a reserved service name, say). */
function topologyOf(spec: Spec, platform: pulumi.Resource): Topology {
  try {
    return dockerTopology(spec);
  } catch (e) {
    throw new pulumi.ResourceError((e as Error).message, platform);
  }
}
