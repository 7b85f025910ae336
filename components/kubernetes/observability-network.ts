/**
 * NetworkPolicies of the observability stack. The namespaces start at default-deny; each rule
 * below opens one flow. Only Prometheus talks to the API server, and only configured exports
 * (remote write, alert webhooks) may leave the cluster, on their own ports.
 */
import * as k8s from "@pulumi/kubernetes";
import { PORTS } from "../plan/observability";
import { MANAGED_BY, SYSTEM_NAMESPACE } from "./naming";
import { allowDns, allowEgress, allowIngress, allowScrape, defaultDeny } from "./network";
import { opts, type Scope } from "./observability-parts";

export const NODE_EXPORTER_NAMESPACE = "fjord-node-exporter";
export const LOG_SHIPPER_NAMESPACE = "fjord-log-shipper";

export interface ObservabilityNetworkArgs {
  /** Port Prometheus scrapes the gateway on (nginx exporter or Traefik's internal port). */
  gatewayMetricsPort?: number;
  /** Where the Kubernetes API is reached (service discovery). */
  apiServerCidrs: string[];
  /** Ports of `observability.remoteWrite` URLs (leave the cluster). */
  remoteWritePorts: number[];
  /** Ports of `observability.alertWebhooks` URLs. */
  webhookPorts: number[];
  /** The Loki ruler pushes recording-rule results to Prometheus (nginx gateway). */
  lokiRuler: boolean;
  /** Which optional parts run (`observability.components`); only their flows are opened. */
  components: { alertmanager: boolean; grafana: boolean; loki: boolean; logShipper: boolean };
}

type Body = k8s.types.input.networking.v1.NetworkPolicySpec;

const system = (app: string) => ({ namespace: SYSTEM_NAMESPACE, app });
const anywhere = (ports: number[]) => ({
  to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
  ports: [...new Set(ports)].map((port) => ({ protocol: "TCP", port })),
});

export function observabilityNetwork(s: Scope, a: ObservabilityNetworkArgs): void {
  const on = a.components;
  const policy = (namespace: string, role: string, spec: Body) =>
    new k8s.networking.v1.NetworkPolicy(
      `${s.name}-np-${namespace}-${role}`,
      { metadata: { name: role, namespace, labels: MANAGED_BY }, spec },
      opts(s),
    );

  // The node-agent namespaces are fjord's own, so they start where the Platform's do.
  for (const ns of [NODE_EXPORTER_NAMESPACE, ...(on.logShipper ? [LOG_SHIPPER_NAMESPACE] : [])]) {
    policy(ns, "default-deny", defaultDeny());
    policy(ns, "allow-dns", allowDns());
  }

  policy(SYSTEM_NAMESPACE, "prometheus-egress", {
    podSelector: { matchLabels: { app: "prometheus" } },
    policyTypes: ["Egress"],
    egress: [
      // Scrapes: any port, but only in fjord's namespaces.
      { to: [{ namespaceSelector: { matchLabels: MANAGED_BY } }] },
      {
        to: a.apiServerCidrs.map((cidr) => ({ ipBlock: { cidr } })),
        ports: [443, 6443].map((port) => ({ protocol: "TCP", port })),
      },
      ...(a.remoteWritePorts.length ? [anywhere(a.remoteWritePorts)] : []),
    ],
  });
  const prometheusPeers = [
    ...(on.grafana ? [system("grafana")] : []),
    ...(a.lokiRuler ? [system("loki")] : []),
  ];
  // An empty `from` would admit every source: with no peer, default-deny stays in force.
  if (prometheusPeers.length) {
    policy(
      SYSTEM_NAMESPACE,
      "prometheus-ingress",
      allowIngress("prometheus", PORTS.prometheus, prometheusPeers),
    );
  }
  if (on.alertmanager) {
    policy(
      SYSTEM_NAMESPACE,
      "alertmanager-ingress",
      allowIngress("alertmanager", PORTS.alertmanager, [
        system("prometheus"),
        ...(on.grafana ? [system("grafana")] : []),
      ]),
    );
  }
  if (on.alertmanager && a.webhookPorts.length) {
    policy(SYSTEM_NAMESPACE, "alertmanager-egress", {
      podSelector: { matchLabels: { app: "alertmanager" } },
      policyTypes: ["Egress"],
      egress: [anywhere(a.webhookPorts)],
    });
  }
  if (on.grafana) {
    policy(
      SYSTEM_NAMESPACE,
      "grafana-egress",
      allowEgress("grafana", [
        { ...system("prometheus"), port: PORTS.prometheus },
        ...(on.loki ? [{ ...system("loki"), port: PORTS.loki }] : []),
        ...(on.alertmanager ? [{ ...system("alertmanager"), port: PORTS.alertmanager }] : []),
      ]),
    );
    // Grafana takes no in-cluster traffic but scrapes; people reach it with `kubectl port-forward`.
    policy(SYSTEM_NAMESPACE, "grafana-scrape", allowScrape("grafana", PORTS.grafana));
  }
  if (on.loki) {
    policy(
      SYSTEM_NAMESPACE,
      "loki-ingress",
      allowIngress("loki", PORTS.loki, [
        ...(on.logShipper ? [{ namespace: LOG_SHIPPER_NAMESPACE, app: "log-shipper" }] : []),
        ...(on.grafana ? [system("grafana")] : []),
        system("prometheus"),
      ]),
    );
  }
  if (a.lokiRuler) {
    policy(
      SYSTEM_NAMESPACE,
      "loki-egress",
      allowEgress("loki", [{ ...system("prometheus"), port: PORTS.prometheus }]),
    );
  }
  if (a.gatewayMetricsPort !== undefined) {
    policy(SYSTEM_NAMESPACE, "gateway-scrape", allowScrape("gateway", a.gatewayMetricsPort));
  }
  if (on.logShipper) {
    policy(
      LOG_SHIPPER_NAMESPACE,
      "log-shipper-egress",
      allowEgress("log-shipper", on.loki ? [{ ...system("loki"), port: PORTS.loki }] : []),
    );
    policy(
      LOG_SHIPPER_NAMESPACE,
      "log-shipper-scrape",
      allowScrape("log-shipper", PORTS.logShipper),
    );
  }
  policy(
    NODE_EXPORTER_NAMESPACE,
    "node-exporter-scrape",
    allowScrape("node-exporter", PORTS.nodeExporter),
  );
}
