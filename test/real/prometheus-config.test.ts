/**
 * promtool and amtool against every rendered Prometheus-side file.
 *
 * Debian builds Prometheus without Kubernetes service discovery, so its promtool rejects
 * `kubernetes_sd_configs`. The Kubernetes-mode config is therefore checked by swapping each
 * job's discovery block for synthetic pods carrying the same `__meta_kubernetes_*` labels the
 * real discovery produces; promtool then validates everything else in the file, and
 * `promtool check service-discovery` runs the real relabelling on those pods.
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  BACKUP_METRICS_PATH,
  BACKUP_METRICS_PORT,
  BACKUP_METRICS_PORT_NAME,
  backupScrapeJob,
  JOBS,
  observabilityFiles,
  renderAlertmanagerConfig,
  renderAlertRules,
  renderPrometheusConfig,
  type ObservabilityAddresses,
} from "../../components/plan/observability";
import { ensurePackages, findBinary } from "../../testkit/apt";
import { run } from "../../testkit/proc";
import { ensurePrometheus, promtool } from "../../testkit/prometheus";
import { stackModel } from "../unit/plan/observability-fixtures";

/* eslint-disable @typescript-eslint/no-explicit-any */
let dir: string;
beforeAll(() => {
  ensurePrometheus();
  ensurePackages({ amtool: "prometheus-alertmanager" });
  dir = mkdtempSync(path.join(tmpdir(), "fjord-prom-config-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const prod = stackModel("prod");
const traefik = stackModel("prod", { gateway: { kind: "traefik", domains: ["api.example.no"] } });

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const addresses = (discovery: ObservabilityAddresses["discovery"]): ObservabilityAddresses => ({
  discovery,
  alertmanager: "127.0.0.1:9093",
  prometheusUrl: "http://127.0.0.1:9090",
  lokiUrl: "http://127.0.0.1:3100",
  alertmanagerUrl: "http://127.0.0.1:9093",
  lokiHost: "127.0.0.1",
  logSource: { kind: "forward" },
});

describe("promtool check", () => {
  it("GIVEN the static-mode prometheus.yml (the Docker dev target's) with its rule file WHEN promtool check config runs THEN it passes and finds 18 rules", async () => {
    const files = observabilityFiles(
      prod,
      addresses({
        kind: "static",
        jobs: [
          { job: JOBS.nodeExporter, targets: ["node-exporter:9100"] },
          { job: JOBS.gateway, targets: ["gateway:9113"] },
          {
            job: JOBS.databases,
            targets: ["orders-db:9187"],
            labels: { service: "orders", engine: "postgres" },
          },
          backupScrapeJob({ service: "orders", host: "orders-db-backup" }),
        ],
      }),
    );
    const rules = write("alerts.yml", files.prometheus["alerts.yml"]);
    const config = parse(files.prometheus["prometheus.yml"]);
    config.rule_files = [rules];
    const r = await promtool(["check", "config", write("static.yml", stringify(config))]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // 15 before backups; BackupTooOld, WalArchivingFailing and a BackupFailed per schedule period.
    expect(r.stdout).toMatch(/SUCCESS: 18 rules found/);
  });

  it("GIVEN alerts.yml rendered for an nginx and a Traefik gateway WHEN promtool check rules runs THEN both pass, annotation templates included", async () => {
    for (const [name, m] of [
      ["nginx", prod],
      ["traefik", traefik],
    ] as const) {
      const r = await promtool([
        "check",
        "rules",
        write(`alerts-${name}.yml`, renderAlertRules(m)),
      ]);
      expect(r.code, `${name}: ${r.stdout}${r.stderr}`).toBe(0);
    }
  });
});

/** A pod as Kubernetes pod discovery describes each of its container ports. */
interface Pod {
  namespace: string;
  name: string;
  ip: string;
  node: string;
  port: number;
  /** The container port's name, where the pod spec gives one. */
  portName?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}
const clean = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, "_");
function metaLabels(p: Pod): Record<string, string> {
  return {
    __meta_kubernetes_namespace: p.namespace,
    __meta_kubernetes_pod_name: p.name,
    __meta_kubernetes_pod_ip: p.ip,
    __meta_kubernetes_pod_node_name: p.node,
    __meta_kubernetes_pod_container_port_number: String(p.port),
    ...(p.portName ? { __meta_kubernetes_pod_container_port_name: p.portName } : {}),
    ...Object.fromEntries(
      Object.entries(p.labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${clean(k)}`, v]),
    ),
    ...Object.fromEntries(
      Object.entries(p.annotations ?? {}).map(([k, v]) => [
        `__meta_kubernetes_pod_annotation_${clean(k)}`,
        v,
      ]),
    ),
  };
}
const scrape = (port: number, p = "/metrics") => ({
  "prometheus.io/scrape": "true",
  "prometheus.io/port": String(port),
  "prometheus.io/path": p,
});

const ORDERS_DB: Pod = {
  namespace: "fjord-orders",
  name: "orders-db-0",
  ip: "10.42.1.5",
  node: "osl-2",
  port: 5432,
  portName: "postgres",
  labels: {
    app: "orders-db",
    "app.kubernetes.io/component": "database",
    "fjord.io/owner-service": "orders",
    "fjord.io/database-engine": "postgres",
  },
  annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9187" },
};

const PODS: Pod[] = [
  {
    namespace: "fjord-system",
    name: "gateway-7f9c",
    ip: "10.42.0.10",
    node: "osl-1",
    port: 8443,
    labels: { app: "gateway", "app.kubernetes.io/component": "gateway" },
    annotations: scrape(9113),
  },
  // One target per container port: the server, its exporter and its backup runner.
  ORDERS_DB,
  { ...ORDERS_DB, port: 9187, portName: "metrics" },
  { ...ORDERS_DB, port: BACKUP_METRICS_PORT, portName: BACKUP_METRICS_PORT_NAME },
  {
    namespace: "fjord-orders",
    name: "orders-5d8b",
    ip: "10.42.1.6",
    node: "osl-2",
    port: 8080,
    labels: { app: "orders", "app.kubernetes.io/component": "service" },
    annotations: scrape(8080, "/metrics"),
  },
  {
    namespace: "fjord-orders",
    name: "debug-shell",
    ip: "10.42.1.7",
    node: "osl-2",
    port: 8080,
    labels: { app: "debug-shell" },
  },
  {
    namespace: "fjord-node-exporter",
    name: "node-exporter-x1",
    ip: "10.42.2.7",
    node: "osl-3",
    port: 9100,
    labels: { app: "node-exporter", "app.kubernetes.io/component": "observability" },
  },
  {
    namespace: "kube-system",
    name: "coredns-1",
    ip: "10.42.0.2",
    node: "osl-1",
    port: 9153,
    labels: { app: "coredns" },
    annotations: scrape(9153),
  },
];

/** The config with each pod-discovery block replaced by the pods that discovery would return. */
function withSyntheticPods(config: any): any {
  for (const job of config.scrape_configs) {
    const sd = job.kubernetes_sd_configs?.[0];
    if (!sd) continue;
    expect(sd.role, job.job_name).toBe("pod");
    const names: string[] | undefined = sd.namespaces?.names;
    const pods = PODS.filter((p) => !names || names.includes(p.namespace));
    delete job.kubernetes_sd_configs;
    job.static_configs = pods.map((p) => ({
      targets: [`${p.ip}:${p.port}`],
      labels: metaLabels(p),
    }));
  }
  return config;
}

describe("Kubernetes-mode prometheus.yml", () => {
  const namespaces = [
    "fjord-system",
    "fjord-log-shipper",
    "fjord-orders",
    "fjord-inventory",
    "fjord-payment",
  ];
  let file: string;
  beforeAll(() => {
    const config = parse(
      renderPrometheusConfig({
        scrapeInterval: "15s",
        discovery: { kind: "kubernetes", namespaces },
        ruleFiles: [write("k8s-alerts.yml", renderAlertRules(prod))],
        alertmanagers: ["alertmanager.fjord-system.svc.cluster.local:9093"],
        externalLabels: { fjord_stack: "prod" },
      }),
    );
    file = write("k8s.yml", stringify(withSyntheticPods(config)));
  });

  it("GIVEN the Kubernetes-mode prometheus.yml with discovery replaced by synthetic pods WHEN promtool check config runs THEN it passes", async () => {
    const r = await promtool(["check", "config", file]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });

  /** Targets after relabelling, as promtool's service discovery check reports them. */
  async function targets(job: string): Promise<Array<Record<string, string>>> {
    const r = await promtool(["check", "service-discovery", "--timeout=2s", file, job]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Array<{ labels: Record<string, string> | null }>;
    const kept = out.map((t) => t.labels ?? {}).filter((l) => Object.keys(l).length > 0);
    // promtool lists one target per discovered port; Prometheus scrapes targets whose labels
    // are all equal (a pod's ports rewritten to its annotated one) once.
    const key = (l: Record<string, string>) => JSON.stringify(Object.entries(l).sort());
    return kept.filter((l, i) => kept.findIndex((o) => key(o) === key(l)) === i);
  }

  it("GIVEN synthetic pods in place of Kubernetes discovery WHEN promtool check service-discovery relabels each job THEN the node, gateway, database, backup and service targets carry the labels alerts and dashboards select on, and no other pod is a target", async () => {
    const [node, gateway, databases, backups, pods] = await Promise.all(
      [JOBS.nodeExporter, JOBS.gateway, JOBS.databases, JOBS.backups, JOBS.pods].map(targets),
    );
    expect(node).toHaveLength(1);
    expect(node[0]).toMatchObject({
      __address__: "10.42.2.7:9100",
      instance: "osl-3",
      job: "node-exporter",
    });

    expect(gateway).toHaveLength(1);
    expect(gateway[0]).toMatchObject({
      __address__: "10.42.0.10:9113",
      __metrics_path__: "/metrics",
      namespace: "fjord-system",
      pod: "gateway-7f9c",
      node: "osl-1",
    });

    expect(databases).toHaveLength(1);
    expect(databases[0]).toMatchObject({
      __address__: "10.42.1.5:9187",
      service: "orders",
      engine: "postgres",
      namespace: "fjord-orders",
    });

    // The same pod's runner, by its port's name, at its own path; `engine` and `database` come
    // from the runner's series, so the target must not set them.
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatchObject({
      __address__: `10.42.1.5:${BACKUP_METRICS_PORT}`,
      __metrics_path__: BACKUP_METRICS_PATH,
      job: JOBS.backups,
      service: "orders",
      namespace: "fjord-orders",
      pod: "orders-db-0",
      node: "osl-2",
    });
    expect(backups[0].engine).toBeUndefined();
    expect(backups[0].database).toBeUndefined();

    // Only the annotated service pod: gateway and database pods belong to their own jobs,
    // unannotated pods are skipped, and namespaces outside fjord are never looked at.
    expect(pods).toHaveLength(1);
    expect(pods[0]).toMatchObject({
      __address__: "10.42.1.6:8080",
      service: "orders",
      pod: "orders-5d8b",
    });
  });
});

describe("amtool check-config", () => {
  it("GIVEN alertmanager.yml with the in-platform default and with webhooks WHEN amtool check-config runs THEN both pass", async () => {
    const amtool = findBinary("amtool")!;
    for (const [name, text] of [
      ["default", renderAlertmanagerConfig()],
      [
        "webhooks",
        renderAlertmanagerConfig({
          webhooks: [{ name: "oncall", url: "https://hooks.example.no/fjord" }],
        }),
      ],
    ]) {
      const out = await run(amtool, ["check-config", write(`am-${name}.yml`, text)]);
      expect(out, name).toMatch(/SUCCESS/);
    }
  });
});
