import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import type { Spec } from "../spec";
import { observabilityModel, PORTS } from "../plan/observability/model";
import { renderPrometheusConfig, type StaticJob } from "../plan/observability/prometheus";
import { renderAlertRules } from "../plan/observability/rules";
import { fjordContainer } from "./container";
import { labelList, labels } from "./topology";

export interface ObservabilityArgs {
  spec: Spec;
  /** Container names. */
  names: { prometheus: string; nodeExporter: string; volume: string };
  images: { prometheus: pulumi.Input<string>; nodeExporter: pulumi.Input<string> };
  /** Prometheus' networks: `front` first (it publishes its port), then everything it scrapes. */
  prometheusNetworks: pulumi.Input<string>[];
  metricsNetwork: pulumi.Input<string>;
  /** The static scrape jobs (see dockerScrapeJobs). */
  jobs: StaticJob[];
  /** Host port for the Prometheus UI/API. */
  publishPort: number;
  /** @default "127.0.0.1" */
  publishAddress?: string;
}

const CONFIG = "/etc/prometheus";

/**
 * Prometheus and the node exporter on Docker, fed by the same renderers as Kubernetes (static
 * discovery instead of pod annotations). Grafana, Loki and the log shipper are not wired on
 * Docker yet (see docs/dev.md).
 */
export class Observability extends pulumi.ComponentResource {
  /** http://<address>:<port>/ on the host. */
  public readonly prometheusUrl: pulumi.Output<string>;
  public readonly prometheusConfig: pulumi.Output<string>;
  public readonly alertRules: pulumi.Output<string>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:Observability", name, {}, opts);
    const address = args.publishAddress ?? "127.0.0.1";
    const o = args.spec.observability;
    const stack = args.spec.stack;
    const child = { parent: this };

    const prometheusYml = renderPrometheusConfig({
      scrapeInterval: o.scrapeInterval,
      discovery: { kind: "static", jobs: args.jobs },
      ruleFiles: [`${CONFIG}/alerts.yml`],
      remoteWrite: o.remoteWrite,
      externalLabels: { fjord_stack: stack },
    });
    const alertsYml = renderAlertRules(observabilityModel(args.spec));

    const data = new docker.Volume(
      `${name}-prometheus-data`,
      { name: args.names.volume, labels: labelList(labels(stack, "volume")) },
      child,
    );

    fjordContainer(
      `${name}-node-exporter`,
      {
        name: args.names.nodeExporter,
        stack,
        role: "node-exporter",
        image: args.images.nodeExporter,
        networks: [args.metricsNetwork],
        limits: { cpu: "100m", memory: "64Mi" },
        user: 65534,
        command: [`--web.listen-address=:${PORTS.nodeExporter}`],
        readOnly: true,
      },
      child,
    );

    fjordContainer(
      `${name}-prometheus`,
      {
        name: args.names.prometheus,
        stack,
        role: "prometheus",
        image: args.images.prometheus,
        networks: args.prometheusNetworks,
        limits: { cpu: "1", memory: "1Gi" },
        reservation: "256Mi",
        user: 65534,
        command: [
          `--config.file=${CONFIG}/prometheus.yml`,
          "--storage.tsdb.path=/prometheus",
          `--storage.tsdb.retention.time=${o.retentionTime}`,
          `--storage.tsdb.retention.size=${o.retentionSize}`,
          `--web.listen-address=:${PORTS.prometheus}`,
        ],
        files: {
          [`${CONFIG}/prometheus.yml`]: { content: prometheusYml },
          [`${CONFIG}/alerts.yml`]: { content: alertsYml },
        },
        volumes: { "/prometheus": data.name },
        ports: [{ internal: PORTS.prometheus, external: args.publishPort }],
        address,
        health: [
          "CMD",
          "wget",
          "-q",
          "-O",
          "/dev/null",
          `http://127.0.0.1:${PORTS.prometheus}/-/ready`,
        ],
        // Flushes the head block so a restart does not replay the whole WAL.
        stopGraceSeconds: 30,
      },
      child,
    );

    this.prometheusUrl = pulumi.output(`http://${address}:${args.publishPort}/`);
    this.prometheusConfig = pulumi.output(prometheusYml);
    this.alertRules = pulumi.output(alertsYml);
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      prometheusConfig: this.prometheusConfig,
      alertRules: this.alertRules,
    });
  }
}
