/**
 * The observability plan: pure renderers for every config file of Prometheus, Alertmanager,
 * Grafana, Loki and Fluent Bit, and `observabilityFiles`, which renders them all at once for a
 * target (Kubernetes or Docker) that only supplies addresses.
 */
import { createHash } from "crypto";
import { renderAlertmanagerConfig } from "./alertmanager";
import { renderDashboards } from "./dashboards";
import { renderFluentBitConfig, type LogSource } from "./fluent-bit";
import { renderPiiMaskLua } from "./fluent-bit-lua";
import { renderGrafanaProvisioning } from "./grafana-provisioning";
import { renderLokiConfig } from "./loki";
import { renderLokiGatewayRules } from "./loki-rules";
import { PORTS, type ObservabilityModel } from "./model";
import { renderPrometheusConfig, type Discovery } from "./prometheus";
import { renderAlertRules } from "./rules";

export * from "./model";
export * from "./alerts";
export * from "./backups";
export * from "./prometheus";
export * from "./rules";
export * from "./alertmanager";
export * from "./grafana-provisioning";
export * from "./loki";
export * from "./loki-rules";
export * from "./fluent-bit";
export * from "./fluent-bit-lua";
export * from "./parts";
export { renderDashboards } from "./dashboards";

/** Where each process finds its files; the targets mount them exactly here. */
export const MOUNTS = {
  prometheusConfig: "/etc/prometheus",
  alertmanagerConfig: "/etc/alertmanager",
  grafanaDatasources: "/etc/grafana/provisioning/datasources",
  grafanaDashboardProviders: "/etc/grafana/provisioning/dashboards",
  grafanaDashboards: "/etc/grafana/dashboards",
  /** Beside, not above, the rules mount: a ConfigMap volume cannot hold another mount. */
  lokiConfig: "/etc/loki/config",
  /** The ruler reads `<dir>/<tenant>/`; mount the rule files at `lokiRules/fake`. */
  lokiRules: "/etc/loki/rules",
  logShipperConfig: "/fluent-bit/etc/fjord",
} as const;

/** Each process's command line, the same on both targets: it reads its files at MOUNTS. */
export const COMMANDS = {
  prometheus: (a: {
    retentionTime: string;
    retentionSize: string;
    remoteWriteReceiver: boolean;
  }) => [
    `--config.file=${MOUNTS.prometheusConfig}/prometheus.yml`,
    "--storage.tsdb.path=/prometheus",
    `--storage.tsdb.retention.time=${a.retentionTime}`,
    `--storage.tsdb.retention.size=${a.retentionSize}`,
    `--web.listen-address=:${PORTS.prometheus}`,
    // The Loki ruler pushes the nginx gateway's per-route series here.
    ...(a.remoteWriteReceiver ? ["--web.enable-remote-write-receiver"] : []),
  ],
  alertmanager: [
    `--config.file=${MOUNTS.alertmanagerConfig}/alertmanager.yml`,
    "--storage.path=/alertmanager",
    `--web.listen-address=:${PORTS.alertmanager}`,
    // One replica: no gossip port, nothing listening that nobody needs.
    "--cluster.listen-address=",
  ],
  loki: [`-config.file=${MOUNTS.lokiConfig}/loki.yaml`, "-target=all"],
  /** The image's entrypoint, replaced so it reads the rendered config. */
  logShipper: ["/fluent-bit/bin/fluent-bit", "-c", `${MOUNTS.logShipperConfig}/fluent-bit.yaml`],
};

export interface ObservabilityAddresses {
  discovery: Discovery;
  /**
   * How Prometheus reaches Alertmanager ("host:port"); omitted when it does not run, so neither
   * Prometheus nor Grafana is pointed at a host that is not there.
   */
  alertmanager?: string;
  /** How Grafana reaches each backend (URLs). */
  prometheusUrl: string;
  lokiUrl: string;
  /** Omitted, like `alertmanager`, when Alertmanager does not run. */
  alertmanagerUrl?: string;
  /** How the log shipper reaches Loki. */
  lokiHost: string;
  logSource: LogSource;
}

/** Rendered files per process: ConfigMap data on Kubernetes, bind-mounted files on Docker. */
export interface ObservabilityFiles {
  prometheus: { "prometheus.yml": string; "alerts.yml": string };
  alertmanager: { "alertmanager.yml": string };
  grafanaDatasources: { "datasources.yaml": string };
  grafanaDashboardProviders: { "dashboards.yaml": string };
  /** `<uid>.json` per dashboard. */
  grafanaDashboards: Record<string, string>;
  loki: { "loki.yaml": string };
  /** Loki ruler files (nginx only), mounted under `MOUNTS.lokiRules/<LOKI_TENANT>`. */
  lokiRules: Record<string, string>;
  logShipper: { "fluent-bit.yaml": string; "pii-mask.lua": string };
}

export function observabilityFiles(
  m: ObservabilityModel,
  a: ObservabilityAddresses,
): ObservabilityFiles {
  const lokiRules = renderLokiGatewayRules(m);
  const grafana = renderGrafanaProvisioning({
    prometheusUrl: a.prometheusUrl,
    lokiUrl: a.lokiUrl,
    alertmanagerUrl: a.alertmanagerUrl,
    dashboardsDir: MOUNTS.grafanaDashboards,
    scrapeInterval: m.scrapeInterval,
  });
  return {
    prometheus: {
      "prometheus.yml": renderPrometheusConfig({
        scrapeInterval: m.scrapeInterval,
        discovery: a.discovery,
        ruleFiles: [`${MOUNTS.prometheusConfig}/alerts.yml`],
        alertmanagers: a.alertmanager ? [a.alertmanager] : [],
        remoteWrite: m.remoteWrite,
        externalLabels: { fjord_stack: m.stack },
      }),
      "alerts.yml": renderAlertRules(m),
    },
    alertmanager: { "alertmanager.yml": renderAlertmanagerConfig({ webhooks: m.alertWebhooks }) },
    grafanaDatasources: { "datasources.yaml": grafana["datasources.yaml"] },
    grafanaDashboardProviders: { "dashboards.yaml": grafana["dashboards.yaml"] },
    grafanaDashboards: renderDashboards(m),
    loki: {
      "loki.yaml": renderLokiConfig({
        retention: m.logRetention,
        rulesDir: MOUNTS.lokiRules,
        ...(lokiRules ? { rulerRemoteWriteUrl: `${a.prometheusUrl}/api/v1/write` } : {}),
      }),
    },
    lokiRules: lokiRules ? { "fjord-gateway.yaml": lokiRules } : {},
    logShipper: {
      "fluent-bit.yaml": renderFluentBitConfig({
        source: a.logSource,
        lokiHost: a.lokiHost,
        luaScript: `${MOUNTS.logShipperConfig}/pii-mask.lua`,
      }),
      "pii-mask.lua": renderPiiMaskLua(m.piiFields),
    },
  };
}

/** Short content hash, put on pod templates so a config change restarts the process. */
export function filesHash(files: Record<string, string>): string {
  return createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 16);
}
