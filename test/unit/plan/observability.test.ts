import { readFileSync } from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { planDatabase } from "../../../components/plan/database";
import {
  alertCatalogue,
  BACKUP_METRICS,
  BACKUP_METRICS_PATH,
  BACKUP_METRICS_PORT,
  BACKUP_METRICS_PORT_NAME,
  backupScrapeJob,
  DATASOURCE_UIDS,
  DEFAULT_RECEIVER,
  GATEWAY_SERIES,
  JOBS,
  rateWindow,
  renderAlertmanagerConfig,
  renderAlertRules,
  renderFluentBitConfig,
  renderGrafanaProvisioning,
  renderLokiConfig,
  renderLokiGatewayRules,
  renderPrometheusConfig,
  retentionHours,
} from "../../../components/plan/observability";
import { stackModel, stackSpec } from "./observability-fixtures";

/* eslint-disable @typescript-eslint/no-explicit-any */
const prod = stackModel("prod");

describe("observability model", () => {
  it("GIVEN the prod stack WHEN the observability model is built THEN routes with their budgets, databases with their engines and backup ages, the scrape interval and thresholds come from the spec", () => {
    expect(prod.routes).toEqual([
      { route: "orders", path: "/orders/", budgetMs: 200 },
      { route: "inventory", path: "/inventory/", budgetMs: 150 },
    ]);
    expect(prod.databases.map((d) => `${d.service}:${d.engine}`)).toEqual([
      "orders:postgres",
      "inventory:mysql",
      "payment:postgres",
    ]);
    // The default daily schedule: a 24 h gap, plus the hour a backup may take.
    expect(prod.databases.map((d) => [d.name, d.backup?.maxAgeSeconds])).toEqual([
      ["orders", 25 * 3600],
      ["inventory", 25 * 3600],
      ["payment", 25 * 3600],
    ]);
    expect(prod.scrapeInterval).toBe("15s");
    expect(prod.thresholds.cpuStealPercent).toBe(2);
  });

  it("GIVEN scrape intervals from 5s to 30s WHEN the rate window is sized THEN it is four intervals, never under a minute", () => {
    expect(rateWindow("15s")).toBe("1m");
    expect(rateWindow("30s")).toBe("2m");
    expect(rateWindow("5s")).toBe("1m");
    expect(rateWindow("25s")).toBe("100s");
  });

  it("GIVEN retentions in days, hours and minutes WHEN converted to hours THEN they round up to whole days", () => {
    expect(retentionHours("7d")).toBe("168h");
    expect(retentionHours("36h")).toBe("48h");
    expect(retentionHours("1m")).toBe("24h");
  });
});

describe("prometheus.yml", () => {
  const k8s = parse(
    renderPrometheusConfig({
      scrapeInterval: "15s",
      discovery: { kind: "kubernetes", namespaces: ["fjord-system", "fjord-orders"] },
      alertmanagers: ["alertmanager.fjord-system.svc.cluster.local:9093"],
      externalLabels: { fjord_stack: "prod" },
    }),
  );

  it("GIVEN Kubernetes discovery in two namespaces WHEN prometheus.yml is rendered THEN the node exporter, gateway, databases, backups and annotated pods are discovered as pods through the API, with the global interval and labels", () => {
    const jobs = k8s.scrape_configs.map((j: any) => j.job_name);
    expect(jobs).toEqual([
      JOBS.prometheus,
      JOBS.nodeExporter,
      JOBS.gateway,
      JOBS.databases,
      JOBS.backups,
      JOBS.pods,
    ]);
    for (const j of k8s.scrape_configs.slice(1)) {
      expect(j.kubernetes_sd_configs, j.job_name).toHaveLength(1);
      expect(j.kubernetes_sd_configs[0].role, j.job_name).toBe("pod");
    }
    const pods = k8s.scrape_configs.find((j: any) => j.job_name === JOBS.pods);
    expect(pods.kubernetes_sd_configs[0].namespaces.names).toEqual([
      "fjord-system",
      "fjord-orders",
    ]);
    expect(k8s.global).toMatchObject({
      scrape_interval: "15s",
      external_labels: { fjord_stack: "prod" },
    });
  });

  it("GIVEN Kubernetes discovery WHEN prometheus.yml is rendered THEN each database pod's backup runner is scraped by its port's name, at the runner's path", () => {
    const backups = k8s.scrape_configs.find((j: any) => j.job_name === JOBS.backups);
    expect(backups.metrics_path).toBe(BACKUP_METRICS_PATH);
    expect(backups.kubernetes_sd_configs[0].namespaces.names).toEqual([
      "fjord-system",
      "fjord-orders",
    ]);
    expect(backups.relabel_configs[0]).toEqual({
      source_labels: ["__meta_kubernetes_pod_container_port_name"],
      action: "keep",
      regex: BACKUP_METRICS_PORT_NAME,
    });
    // The address stays the discovered port's (no annotation rewrite), and the runner's own
    // `database` and `engine` labels are not overwritten by target labels.
    const targets = backups.relabel_configs.map((r: any) => r.target_label).filter(Boolean);
    expect(targets).toEqual(["namespace", "pod", "node", "service"]);
    // The databases job scrapes the exporter only; the catch-all job skips database pods.
    const db = k8s.scrape_configs.find((j: any) => j.job_name === JOBS.databases);
    expect(db.metrics_path).toBeUndefined();
  });

  it("GIVEN a backup runner's host on Docker WHEN its scrape job is made and rendered THEN it is a static job at the runner's port and path", () => {
    expect(backupScrapeJob({ service: "orders", host: "fjord-dev-orders-db-backup" })).toEqual({
      job: "backups-orders",
      targets: [`fjord-dev-orders-db-backup:${BACKUP_METRICS_PORT}`],
      metricsPath: BACKUP_METRICS_PATH,
      labels: { service: "orders" },
    });
    const doc = parse(
      renderPrometheusConfig({
        scrapeInterval: "15s",
        discovery: {
          kind: "static",
          jobs: [backupScrapeJob({ service: "orders", host: "orders-db-backup", port: 19188 })],
        },
      }),
    );
    expect(doc.scrape_configs).toEqual([
      {
        job_name: "backups-orders",
        metrics_path: "/metrics.txt",
        static_configs: [{ targets: ["orders-db-backup:19188"], labels: { service: "orders" } }],
      },
    ]);
  });

  it("GIVEN no remote write, then one WHEN prometheus.yml is rendered THEN metrics stay in the platform unless remote write is configured", () => {
    expect(k8s.remote_write).toBeUndefined();
    const withExport = parse(
      renderPrometheusConfig({
        scrapeInterval: "15s",
        discovery: { kind: "static", jobs: [] },
        remoteWrite: [{ name: "archive", url: "https://metrics.example.no/api/v1/write" }],
      }),
    );
    expect(withExport.remote_write).toEqual([
      { name: "archive", url: "https://metrics.example.no/api/v1/write" },
    ]);
  });

  it("GIVEN static jobs, then two with the same name WHEN prometheus.yml is rendered THEN a job keeps its targets and labels, and the duplicate name is refused", () => {
    const text = renderPrometheusConfig({
      scrapeInterval: "5s",
      discovery: {
        kind: "static",
        jobs: [
          {
            job: "databases",
            targets: ["db:9187"],
            labels: { service: "orders", engine: "postgres" },
          },
          { job: "gateway", targets: ["gw:9113"], metricsPath: "/metrics" },
        ],
      },
    });
    const doc = parse(text);
    expect(doc.scrape_configs[0].static_configs[0]).toEqual({
      targets: ["db:9187"],
      labels: { service: "orders", engine: "postgres" },
    });
    expect(() =>
      renderPrometheusConfig({
        scrapeInterval: "5s",
        discovery: {
          kind: "static",
          jobs: [
            { job: "a", targets: [] },
            { job: "a", targets: [] },
          ],
        },
      }),
    ).toThrow(/defined twice/);
  });
});

describe("alert rules", () => {
  const doc = parse(renderAlertRules(prod));

  it("GIVEN the prod model with nginx WHEN the alert rules are rendered THEN there is one group per domain and no Prometheus-side gateway recording rules", () => {
    expect(doc.groups.map((g: any) => g.name)).toEqual([
      "fjord-node",
      "fjord-targets",
      "fjord-gateway",
      "fjord-databases",
      "fjord-backups",
      "fjord-certificates",
    ]);
  });

  it("GIVEN the prod model, then one with another CPU steal threshold WHEN the alerts are built THEN the rule follows the spec's threshold", () => {
    const steal = (m: typeof prod) => alertCatalogue(m).find((a) => a.name === "NodeCpuStealHigh")!;
    expect(steal(prod).expr).toMatch(/mode="steal".*\[1m\]\)\) > 2$/);
    expect(steal(prod).for).toBe("5m");
    const tuned = stackModel("prod", { observability: { alerts: { cpuStealPercent: 5 } } });
    expect(steal(tuned).expr).toMatch(/> 5$/);
  });

  it("GIVEN the prod model WHEN the alerts are built THEN each route has one latency alert at its own budget", () => {
    const latency = alertCatalogue(prod).filter((a) => a.name === "GatewayRouteLatencyOverBudget");
    expect(latency.map((a) => [a.labels?.route, a.expr])).toEqual([
      ["orders", `${GATEWAY_SERIES.p99}{route="orders"} > 0.2`],
      ["inventory", `${GATEWAY_SERIES.p99}{route="inventory"} > 0.15`],
    ]);
  });

  it("GIVEN Traefik as the gateway WHEN the alert rules are rendered THEN a recording group derives the per-route series from Traefik's histograms, and there are no Loki gateway rules", () => {
    const traefik = stackModel("prod", {
      gateway: { kind: "traefik", domains: ["api.example.no"] },
    });
    const t = parse(renderAlertRules(traefik));
    expect(t.groups[0].name).toBe("fjord-gateway-recording");
    expect(t.groups[0].rules.map((r: any) => r.record)).toEqual(Object.values(GATEWAY_SERIES));
    expect(t.groups[0].rules[2].expr).toContain("traefik_service_request_duration_seconds_bucket");
    expect(renderLokiGatewayRules(traefik)).toBeUndefined();
  });

  it("GIVEN nginx as the gateway WHEN the Loki gateway rules are rendered THEN the ruler derives the same series from the JSON access log", () => {
    const rules = parse(renderLokiGatewayRules(prod)!);
    const records = rules.groups[0].rules;
    expect(records.map((r: any) => r.record)).toEqual(Object.values(GATEWAY_SERIES));
    expect(records[2].expr).toContain("unwrap duration_s");
  });

  it("GIVEN daily, hourly and no backups WHEN the alerts are built THEN there is one BackupFailed per schedule period, over the databases that are backed up", () => {
    const failed = (m: typeof prod) => alertCatalogue(m).filter((a) => a.name === "BackupFailed");
    expect(failed(prod).map((a) => [a.labels?.window, a.expr])).toEqual([
      [
        "25h",
        `sum by (service, database, engine) (increase(${BACKUP_METRICS.runs}{service=~"orders|inventory|payment",result="failure"}[25h])) > 0`,
      ],
    ]);
    const mixed = {
      ...prod,
      databases: [
        { ...prod.databases[0], backup: { schedule: "0 * * * *", maxAgeSeconds: 2 * 3600 } },
        { ...prod.databases[1], backup: undefined },
        prod.databases[2],
      ],
    };
    expect(
      failed(mixed).map((a) => [a.labels?.window, a.expr.match(/service=~"([^"]+)"/)?.[1]]),
    ).toEqual([
      ["2h", "orders"],
      ["25h", "payment"],
    ]);
    expect(failed({ ...prod, databases: [] })).toEqual([]);
  });

  it("GIVEN the prod model WHEN the alert rules are rendered THEN every backup alert links to its runbook in docs/backups.md and has its severity", () => {
    const rules = doc.groups.find((g: any) => g.name === "fjord-backups").rules;
    expect(rules.map((r: any) => [r.alert, r.annotations.runbook_url])).toEqual([
      ["BackupTooOld", "docs/backups.md#backup-too-old"],
      ["WalArchivingFailing", "docs/backups.md#wal-archiving-failing"],
      ["BackupFailed", "docs/backups.md#backup-failed"],
    ]);
    expect(rules.map((r: any) => r.labels.severity)).toEqual(["critical", "critical", "warning"]);
  });

  it("GIVEN each prod database's backup plan WHEN its runner is rendered THEN it serves on the port and path Prometheus scrapes and writes the metrics the alerts read (WAL ones for PostgreSQL only)", () => {
    const spec = stackSpec("prod");
    for (const s of spec.services.filter((x) => x.database)) {
      const backup = planDatabase(s.database!).backup!;
      expect(backup.metricsPort).toBe(BACKUP_METRICS_PORT);
      expect(backup.metricsPath).toBe(BACKUP_METRICS_PATH);
      const runner = Object.entries(backup.files).find(([f]) => f.endsWith("/run.sh"))![1];
      for (const [key, name] of Object.entries(BACKUP_METRICS)) {
        const wal = key.startsWith("wal");
        expect(runner.includes(`# TYPE ${name} `), `${s.name}: ${name}`).toBe(
          !wal || s.database!.engine === "postgres",
        );
      }
      expect(runner).toContain('result=\\"failure\\"');
    }
  });

  it("GIVEN the prod model's alerts WHEN docs/observability.md is read THEN each alert has a threshold, a severity and how to change it, and the doc lists it", () => {
    const docs = readFileSync(path.resolve(__dirname, "../../../docs/observability.md"), "utf8");
    for (const a of alertCatalogue(prod)) {
      expect(a.threshold, a.name).not.toBe("");
      expect(a.change, a.name).not.toBe("");
      expect(["critical", "warning"]).toContain(a.severity);
      expect(docs, `docs/observability.md lists ${a.name}`).toContain(`\`${a.name}\``);
    }
  });
});

describe("alertmanager.yml", () => {
  it("GIVEN no webhooks WHEN alertmanager.yml is rendered THEN alerts go nowhere outside", () => {
    const doc = parse(renderAlertmanagerConfig());
    expect(doc.route.receiver).toBe(DEFAULT_RECEIVER);
    expect(doc.route.routes).toBeUndefined();
    expect(doc.receivers).toEqual([{ name: DEFAULT_RECEIVER }]);
  });

  it("GIVEN a webhook WHEN alertmanager.yml is rendered THEN it is a receiver that gets every alert, resolved ones too", () => {
    const doc = parse(
      renderAlertmanagerConfig({
        webhooks: [{ name: "oncall", url: "https://hooks.example.no/a" }],
      }),
    );
    expect(doc.route.routes).toEqual([{ receiver: "webhook-oncall", continue: true }]);
    expect(doc.receivers[1].webhook_configs).toEqual([
      { url: "https://hooks.example.no/a", send_resolved: true },
    ]);
  });
});

describe("Grafana provisioning", () => {
  it("GIVEN Prometheus and Loki URLs WHEN Grafana provisioning is rendered THEN both data sources have fixed UIDs and are read-only, and so are the dashboards", () => {
    const p = renderGrafanaProvisioning({
      prometheusUrl: "http://prometheus:9090",
      lokiUrl: "http://loki:3100",
    });
    const ds = parse(p["datasources.yaml"]).datasources;
    expect(ds.map((d: any) => [d.type, d.uid, d.editable])).toEqual([
      ["prometheus", DATASOURCE_UIDS.prometheus, false],
      ["loki", DATASOURCE_UIDS.loki, false],
    ]);
    const provider = parse(p["dashboards.yaml"]).providers[0];
    expect(provider).toMatchObject({ type: "file", allowUiUpdates: false, disableDeletion: true });
  });
});

describe("loki.yaml", () => {
  it("GIVEN a retention of 7d WHEN loki.yaml is rendered THEN logs are kept 168h with the compactor enforcing it, nothing is reported out, and there is no ruler", () => {
    const doc = parse(renderLokiConfig({ retention: "7d" }));
    expect(doc.limits_config.retention_period).toBe("168h");
    expect(doc.compactor).toMatchObject({
      retention_enabled: true,
      delete_request_store: "filesystem",
    });
    expect(doc.schema_config.configs[0]).toMatchObject({
      store: "tsdb",
      object_store: "filesystem",
    });
    expect(doc.analytics).toEqual({ reporting_enabled: false });
    expect(doc.ruler).toBeUndefined();
  });

  it("GIVEN the in-platform Prometheus's write URL WHEN loki.yaml is rendered THEN the ruler remote-writes recording rules only to it", () => {
    const doc = parse(
      renderLokiConfig({
        retention: "7d",
        rulerRemoteWriteUrl: "http://prometheus:9090/api/v1/write",
      }),
    );
    expect(doc.ruler.remote_write).toEqual({
      enabled: true,
      clients: { prometheus: { url: "http://prometheus:9090/api/v1/write" } },
    });
  });
});

describe("fluent-bit.yaml", () => {
  const doc = parse(
    renderFluentBitConfig({ source: { kind: "kubernetes" }, lokiHost: "loki.fjord-system.svc" }),
  );

  it("GIVEN the Kubernetes source WHEN fluent-bit.yaml is rendered THEN it tails CRI container logs and ships them only to Loki with namespace, pod and container labels", () => {
    expect(doc.pipeline.inputs[0]).toMatchObject({
      name: "tail",
      "multiline.parser": "cri, docker",
    });
    const out = doc.pipeline.outputs;
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ name: "loki", host: "loki.fjord-system.svc", port: 3100 });
    for (const label of ["namespace", "pod", "container"])
      expect(out[0].labels).toContain(`${label}=$`);
  });

  it("GIVEN the Kubernetes source WHEN fluent-bit.yaml is rendered THEN PII is masked by the last filter, after parsing", () => {
    const filters = doc.pipeline.filters;
    expect(filters.at(-1)).toMatchObject({ name: "lua", call: "fjord_mask_pii" });
    expect(filters.findIndex((f: any) => f.name === "parser")).toBeLessThan(filters.length - 1);
  });
});
