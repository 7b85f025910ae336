/**
 * The in-platform observability stack: Prometheus, Alertmanager, Grafana, Loki, the node
 * exporter and Fluent Bit. Every config file comes from the pure renderers in
 * plan/observability, so the Docker dev target runs the same files.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { PlatformPlan } from "../plan";
import { observabilityFiles, PORTS, type ObservabilityFiles } from "../plan/observability";
import { MANAGED_BY, SYSTEM_NAMESPACE, serviceDns } from "./naming";
import { alertmanager, nodeExporter, prometheus } from "./observability-metrics";
import { grafana } from "./observability-grafana";
import { logShipper, loki } from "./observability-logs";
import {
  LOG_SHIPPER_NAMESPACE,
  NODE_EXPORTER_NAMESPACE,
  observabilityNetwork,
} from "./observability-network";
import type { Resources, Scope } from "./observability-parts";

export interface ObservabilityArgs {
  /** The platform plan: its observability model, services, region, and the spec's images and settings. */
  platform: PlatformPlan;
  /** The system namespace (`fjord-system`), already created by the Platform. */
  namespace: pulumi.Input<string>;
  /** Port the gateway serves metrics on; opens Prometheus' path to it. @default no gateway scrape policy */
  gatewayMetricsPort?: number;
  /** @default the cluster's default StorageClass */
  storageClassName?: string;
  /**
   * Where Prometheus reaches the Kubernetes API for discovery.
   * @default each node's address as /32 when all are IPs, else 0.0.0.0/0 (ports 443/6443 only)
   */
  apiServerCidrs?: string[];
  /** @default the plan's (PART_SIZING.prometheus) */
  prometheusResources?: Resources;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function urlPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
}

/**
 * Two extra namespaces hold the node agents: reading the host's /proc, /sys and logs needs
 * hostPath volumes, which the `restricted` level of every other fjord namespace rejects.
 */
function nodeAgentNamespaceLabels(region: string, jurisdiction: string): Record<string, string> {
  return {
    ...MANAGED_BY,
    "fjord.io/region": region,
    "fjord.io/jurisdiction": jurisdiction,
    // `baseline` forbids hostPath too, so only `privileged` admits the read-only host mounts;
    // warn/audit at `restricted` keep every other deviation visible.
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
    "fjord.io/node-agents": "true",
  };
}

export class Observability extends pulumi.ComponentResource {
  /** In-cluster Prometheus URL. */
  public readonly prometheusUrl: pulumi.Output<string>;
  /**
   * In-cluster Grafana URL (reach it with `kubectl -n fjord-system port-forward svc/grafana 3000`);
   * undefined when `observability.components.grafana` is off, like the password.
   */
  public readonly grafanaUrl: pulumi.Output<string | undefined>;
  public readonly grafanaAdminUser: pulumi.Output<string>;
  /** Generated Grafana admin password (secret). */
  public readonly grafanaAdminPassword: pulumi.Output<string | undefined>;
  /** Every rendered config file, by process. */
  public readonly files: pulumi.Output<ObservabilityFiles>;

  constructor(name: string, args: ObservabilityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:kubernetes:Observability", name, {}, opts);
    const { spec, region, jurisdiction, observability: model } = args.platform;
    const o = spec.observability;
    const on = o.components;
    const hosts = spec.nodes.map((n) => n.host);
    const apiServerCidrs =
      args.apiServerCidrs ??
      (hosts.length > 0 && hosts.every((h) => IPV4.test(h))
        ? hosts.map((h) => `${h}/32`)
        : ["0.0.0.0/0"]);

    const dns = (app: string) => serviceDns(app, SYSTEM_NAMESPACE);
    const discovery = {
      kind: "kubernetes" as const,
      systemNamespace: SYSTEM_NAMESPACE,
      nodeExporterNamespace: NODE_EXPORTER_NAMESPACE,
      namespaces: [
        SYSTEM_NAMESPACE,
        ...(on.logShipper ? [LOG_SHIPPER_NAMESPACE] : []),
        ...args.platform.services.map((s) => s.namespace),
      ],
    };
    const files = observabilityFiles(model, {
      discovery,
      alertmanager: on.alertmanager ? `${dns("alertmanager")}:${PORTS.alertmanager}` : undefined,
      prometheusUrl: `http://${dns("prometheus")}:${PORTS.prometheus}`,
      lokiUrl: `http://${dns("loki")}:${PORTS.loki}`,
      alertmanagerUrl: on.alertmanager
        ? `http://${dns("alertmanager")}:${PORTS.alertmanager}`
        : undefined,
      lokiHost: dns("loki"),
      logSource: { kind: "kubernetes" },
    });
    const lokiRuler = on.loki && Object.keys(files.lokiRules).length > 0;

    const agentNs = (ns: string) =>
      new k8s.core.v1.Namespace(
        `${name}-ns-${ns}`,
        { metadata: { name: ns, labels: nodeAgentNamespaceLabels(region, jurisdiction) } },
        { parent: this },
      );
    const nodeNs = agentNs(NODE_EXPORTER_NAMESPACE);
    // No shipper, no privileged namespace left empty for someone else to use.
    const shipperNs = on.logShipper ? agentNs(LOG_SHIPPER_NAMESPACE) : undefined;
    const scope: Scope = { name, parent: this, region };
    const agents: Scope = { ...scope, dependsOn: shipperNs ? [nodeNs, shipperNs] : [nodeNs] };

    const promService = prometheus(scope, {
      namespace: args.namespace,
      image: spec.images.prometheus,
      files: files.prometheus,
      retentionTime: o.retentionTime,
      retentionSize: o.retentionSize,
      storage: o.storage,
      storageClassName: args.storageClassName,
      remoteWriteReceiver: lokiRuler,
      resources: args.prometheusResources,
    });
    if (on.alertmanager) {
      alertmanager(scope, {
        namespace: args.namespace,
        image: spec.images.alertmanager,
        files: files.alertmanager,
      });
    }
    nodeExporter(agents, { namespace: nodeNs.metadata.name, image: spec.images.nodeExporter });
    if (on.loki) {
      loki(scope, {
        namespace: args.namespace,
        image: spec.images.loki,
        files: files.loki,
        rules: files.lokiRules,
        storage: o.logStorage,
        storageClassName: args.storageClassName,
      });
    }
    if (shipperNs) {
      logShipper(agents, {
        namespace: shipperNs.metadata.name,
        image: spec.images.logShipper,
        files: files.logShipper,
      });
    }
    const g = on.grafana
      ? grafana(scope, {
          namespace: args.namespace,
          image: spec.images.grafana,
          adminUser: o.grafanaAdminUser,
          files,
        })
      : undefined;
    observabilityNetwork(agents, {
      gatewayMetricsPort: args.gatewayMetricsPort,
      apiServerCidrs,
      remoteWritePorts: o.remoteWrite.map((r) => urlPort(r.url)),
      webhookPorts: o.alertWebhooks.map((w) => urlPort(w.url)),
      lokiRuler,
      components: on,
    });

    const url = (svc: k8s.core.v1.Service, port: number) =>
      pulumi
        .all([svc.metadata.name, svc.metadata.namespace])
        .apply(([n, ns]) => `http://${serviceDns(n, ns)}:${port}`);
    this.prometheusUrl = url(promService, PORTS.prometheus);
    this.grafanaUrl = g ? url(g.service, PORTS.grafana) : pulumi.output(undefined);
    this.grafanaAdminUser = pulumi.output(o.grafanaAdminUser);
    this.grafanaAdminPassword = g ? g.adminPassword : pulumi.output(undefined);
    this.files = pulumi.output(files);
    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      grafanaUrl: this.grafanaUrl,
      grafanaAdminUser: this.grafanaAdminUser,
      grafanaAdminPassword: this.grafanaAdminPassword,
      files: this.files,
    });
  }
}
