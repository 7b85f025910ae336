import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { PlatformPlan } from "../plan";
import { COMMANDS, MOUNTS, observabilityFiles, PORTS, type StaticJob } from "../plan/observability";
import {
  alertmanagerContainer,
  grafanaContainer,
  lokiContainer,
  logShipperContainer,
  partContainer,
  type PartScope,
} from "./observability-parts";
import type { LogShipping } from "./logging";
import { labelList, labels } from "./topology";

/** Container and volume names of every part; those of parts switched off are unused. */
export interface ObservabilityNames {
  prometheus: string;
  nodeExporter: string;
  /** Prometheus' data volume. */
  volume: string;
  alertmanager: string;
  grafana: string;
  loki: string;
  lokiVolume: string;
  logShipper: string;
}

export interface ObservabilityArgs {
  /** The platform plan: its observability model, and the spec's images and settings. */
  platform: PlatformPlan;
  names: ObservabilityNames;
  /** Image ID for a reference; called only for the parts that run, so nothing else is pulled. */
  image: (ref: string) => pulumi.Input<string>;
  /** Prometheus' networks: `front` first (it publishes its port), then everything it scrapes. */
  prometheusNetworks: pulumi.Input<string>[];
  /** Grafana's published network. */
  frontNetwork: pulumi.Input<string>;
  metricsNetwork: pulumi.Input<string>;
  /** The static scrape jobs (see dockerScrapeJobs); the observability parts' own are added here. */
  jobs: StaticJob[];
  /** Host port for the Prometheus UI/API. */
  publishPort: number;
  /** Host port for Grafana. */
  grafanaPort: number;
  /** Host address the UIs are published on. */
  publishAddress: string;
  /** Where containers ship their logs (see ./logging.ts). @default json-file only */
  logShipping?: LogShipping;
  /** Loopback port of Fluent Bit's forward input, for the daemon's fluentd driver. */
  logForwardPort: number;
}

const CONFIG = MOUNTS.prometheusConfig;

/**
 * The observability stack on Docker, fed by the same renderers as Kubernetes (static discovery
 * instead of pod annotations): Prometheus and the node exporter always, Alertmanager, Grafana,
 * Loki and Fluent Bit as `observability.components` says. Everything but Grafana's and
 * Prometheus' published ports stays on the internal `metrics` network.
 */
export class Observability extends pulumi.ComponentResource {
  /** http://<address>:<port>/ on the host. */
  public readonly prometheusUrl: pulumi.Output<string>;
  public readonly prometheusConfig: pulumi.Output<string>;
  public readonly alertRules: pulumi.Output<string>;
  /** http://<address>:<grafanaPort>/ on the host, when Grafana runs. */
  public readonly grafanaUrl: pulumi.Output<string | undefined>;
  /** Generated Grafana admin password (secret), when Grafana runs. */
  public readonly grafanaAdminPassword: pulumi.Output<string | undefined>;
  /** Names of the volumes this component created. */
  public readonly volumes: string[];

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:Observability", name, {}, opts);
    const address = args.publishAddress;
    const forwardPort = args.logForwardPort;
    const { spec, stack, observability: model } = args.platform;
    const o = spec.observability;
    const on = o.components;
    const n = args.names;
    const child = { parent: this };
    const scope: PartScope = {
      name,
      parent: this,
      stack,
      metricsNetwork: args.metricsNetwork,
      logShipping: args.logShipping,
    };

    const url = (host: string, port: number) => `http://${host}:${port}`;
    const jobs: StaticJob[] = [
      ...args.jobs,
      ...(on.alertmanager
        ? [{ job: "alertmanager", targets: [`${n.alertmanager}:${PORTS.alertmanager}`] }]
        : []),
      ...(on.grafana ? [{ job: "grafana", targets: [`${n.grafana}:${PORTS.grafana}`] }] : []),
      ...(on.loki ? [{ job: "loki", targets: [`${n.loki}:${PORTS.loki}`] }] : []),
      ...(on.logShipper
        ? [
            {
              job: "log-shipper",
              targets: [`${n.logShipper}:${PORTS.logShipper}`],
              metricsPath: "/api/v2/metrics/prometheus",
            },
          ]
        : []),
    ];
    const alertmanager = on.alertmanager ? `${n.alertmanager}:${PORTS.alertmanager}` : undefined;
    const files = observabilityFiles(model, {
      discovery: { kind: "static", jobs },
      alertmanager,
      prometheusUrl: url(n.prometheus, PORTS.prometheus),
      lokiUrl: url(n.loki, PORTS.loki),
      alertmanagerUrl: alertmanager && `http://${alertmanager}`,
      lokiHost: n.loki,
      logSource: { kind: "forward" },
    });
    const lokiRuler = on.loki && Object.keys(files.lokiRules).length > 0;
    const prometheusYml = files.prometheus["prometheus.yml"];
    const alertsYml = files.prometheus["alerts.yml"];

    const data = new docker.Volume(
      `${name}-prometheus-data`,
      { name: n.volume, labels: labelList(labels(stack, "volume")) },
      child,
    );
    const volumes = [n.volume];

    partContainer(
      scope,
      "nodeExporter",
      { containerName: n.nodeExporter, image: args.image(spec.images.nodeExporter) },
      {
        logShipping: args.logShipping,
        networks: [args.metricsNetwork],
        user: 65534,
        command: [`--web.listen-address=:${PORTS.nodeExporter}`],
        readOnly: true,
      },
    );

    partContainer(
      scope,
      "prometheus",
      { containerName: n.prometheus, image: args.image(spec.images.prometheus) },
      {
        logShipping: args.logShipping,
        networks: args.prometheusNetworks,
        user: 65534,
        command: COMMANDS.prometheus({
          retentionTime: o.retentionTime,
          retentionSize: o.retentionSize,
          remoteWriteReceiver: lokiRuler,
        }),
        files: {
          [`${CONFIG}/prometheus.yml`]: { content: prometheusYml },
          [`${CONFIG}/alerts.yml`]: { content: alertsYml },
        },
        volumes: { "/prometheus": data.name },
        publish: { address, ports: [{ internal: PORTS.prometheus, external: args.publishPort }] },
        // Flushes the head block so a restart does not replay the whole WAL.
        stopGraceSeconds: 30,
      },
    );

    if (on.alertmanager) {
      alertmanagerContainer(scope, {
        containerName: n.alertmanager,
        image: args.image(spec.images.alertmanager),
        files: files.alertmanager,
      });
    }
    let grafanaUrl: pulumi.Output<string | undefined> = pulumi.output(undefined);
    let grafanaAdminPassword: pulumi.Output<string | undefined> = pulumi.output(undefined);
    if (on.grafana) {
      const grafanaPort = args.grafanaPort;
      const g = grafanaContainer(scope, {
        containerName: n.grafana,
        image: args.image(spec.images.grafana),
        adminUser: o.grafanaAdminUser,
        files,
        frontNetwork: args.frontNetwork,
        publishPort: grafanaPort,
        address,
      });
      grafanaUrl = pulumi.output(`http://${address}:${grafanaPort}/`);
      grafanaAdminPassword = g.adminPassword;
    }
    if (on.loki) {
      lokiContainer(scope, {
        containerName: n.loki,
        volumeName: n.lokiVolume,
        image: args.image(spec.images.loki),
        files: files.loki,
        rules: files.lokiRules,
      });
      volumes.push(n.lokiVolume);
    }
    if (on.logShipper) {
      logShipperContainer(scope, {
        containerName: n.logShipper,
        image: args.image(spec.images.logShipper),
        files: files.logShipper,
        frontNetwork: args.frontNetwork,
        forwardPort,
      });
    }

    this.prometheusUrl = pulumi.output(`http://${address}:${args.publishPort}/`);
    this.prometheusConfig = pulumi.output(prometheusYml);
    this.alertRules = pulumi.output(alertsYml);
    this.grafanaUrl = grafanaUrl;
    this.grafanaAdminPassword = grafanaAdminPassword;
    this.volumes = volumes;
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      prometheusConfig: this.prometheusConfig,
      alertRules: this.alertRules,
      grafanaUrl: this.grafanaUrl,
      grafanaAdminPassword: this.grafanaAdminPassword,
    });
  }
}
