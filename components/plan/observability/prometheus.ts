/**
 * `prometheus.yml`. Two discovery modes: `kubernetes` finds fjord's pods through the API (their
 * `prometheus.io/*` annotations), `static` lists host:port targets (the Docker dev target).
 * Job names are part of the contract: alert rules and dashboards select on them (see JOBS).
 */
import { BACKUP_METRICS_PATH, BACKUP_METRICS_PORT, BACKUP_METRICS_PORT_NAME } from "./backups";
import { JOBS, PORTS } from "./model";
import { toYaml } from "./yaml";

export interface StaticJob {
  job: string;
  /** "host:port" entries. */
  targets: string[];
  /** @default "/metrics" */
  metricsPath?: string;
  /** Labels added to every series of the job (e.g. `service`, `engine` for databases). */
  labels?: Record<string, string>;
}

export type Discovery =
  | {
      kind: "kubernetes";
      /** Namespace of the gateway and the observability stack. @default "fjord-system" */
      systemNamespace?: string;
      /** @default "fjord-node-exporter" */
      nodeExporterNamespace?: string;
      /** Where the service, database and other annotated pods live. @default every namespace */
      namespaces?: string[];
    }
  | { kind: "static"; jobs: StaticJob[] };

export interface PrometheusConfigInput {
  /** e.g. "15s" (spec `observability.scrapeInterval`). */
  scrapeInterval: string;
  /** @default scrapeInterval */
  evaluationInterval?: string;
  discovery: Discovery;
  /** Rule files, as paths Prometheus sees. @default ["/etc/prometheus/alerts.yml"] */
  ruleFiles?: string[];
  /** Alertmanager "host:port" addresses. @default [] */
  alertmanagers?: string[];
  /** Optional exports (spec `observability.remoteWrite`); nothing leaves the platform otherwise. @default [] */
  remoteWrite?: Array<{ name: string; url: string }>;
  /** Labels on every series and alert, e.g. `{ fjord_stack: "prod" }`. @default {} */
  externalLabels?: Record<string, string>;
}

type Relabel = Record<string, unknown>;

const meta = (name: string) => `__meta_kubernetes_pod_${name}`;
/** Prometheus' name for a pod label or annotation key (every non-alphanumeric becomes `_`). */
const sanitize = (key: string) => key.replace(/[^a-zA-Z0-9_]/g, "_");
const podLabel = (key: string) => meta(`label_${sanitize(key)}`);
const annotation = (key: string) => meta(`annotation_${sanitize(key)}`);

const keep = (source: string, regex: string): Relabel => ({
  source_labels: [source],
  action: "keep",
  regex,
});
const drop = (source: string, regex: string): Relabel => ({
  source_labels: [source],
  action: "drop",
  regex,
});
const copy = (source: string, target: string): Relabel => ({
  source_labels: [source],
  target_label: target,
});

/** Follow the pod's `prometheus.io/{scrape,port,path}` annotations. */
const annotated: Relabel[] = [
  keep(annotation("prometheus.io/scrape"), "true"),
  {
    source_labels: [annotation("prometheus.io/path")],
    action: "replace",
    regex: "(.+)",
    target_label: "__metrics_path__",
  },
  {
    // A pod has one target per declared port; rewriting them all to the annotated port lets
    // Prometheus merge the duplicates into one target.
    source_labels: [meta("ip"), annotation("prometheus.io/port")],
    action: "replace",
    regex: "(.+);(\\d+)",
    replacement: "$1:$2",
    target_label: "__address__",
  },
];

const podIdentity: Relabel[] = [
  copy("__meta_kubernetes_namespace", "namespace"),
  copy(meta("name"), "pod"),
  copy(meta("node_name"), "node"),
];

function podJob(job: string, namespaces: string[] | undefined, relabel: Relabel[]) {
  return {
    job_name: job,
    kubernetes_sd_configs: [
      { role: "pod", ...(namespaces ? { namespaces: { names: namespaces } } : {}) },
    ],
    relabel_configs: relabel,
  };
}

function kubernetesJobs(d: Extract<Discovery, { kind: "kubernetes" }>): unknown[] {
  const system = d.systemNamespace ?? "fjord-system";
  const nodeNs = d.nodeExporterNamespace ?? "fjord-node-exporter";
  const component = podLabel("app.kubernetes.io/component");
  return [
    {
      job_name: JOBS.prometheus,
      static_configs: [{ targets: [`localhost:${PORTS.prometheus}`] }],
    },
    podJob(
      JOBS.nodeExporter,
      [nodeNs],
      [
        keep(podLabel("app"), "node-exporter"),
        keep(meta("container_port_number"), String(PORTS.nodeExporter)),
        // Alerts name the VPS, not the exporter pod.
        copy(meta("node_name"), "instance"),
      ],
    ),
    podJob(
      JOBS.gateway,
      [system],
      [keep(podLabel("app"), "gateway"), ...annotated, ...podIdentity],
    ),
    podJob(JOBS.databases, d.namespaces, [
      keep(component, "database"),
      ...annotated,
      ...podIdentity,
      copy(podLabel("fjord.io/owner-service"), "service"),
      copy(podLabel("fjord.io/database-engine"), "engine"),
    ]),
    {
      // A second endpoint of the database pods (their annotations name the exporter): the
      // backup runner, found by its container port's name. Its series carry their own
      // `database` and `engine`, so only the pod's identity and service are added here.
      ...podJob(JOBS.backups, d.namespaces, [
        keep(meta("container_port_name"), BACKUP_METRICS_PORT_NAME),
        ...podIdentity,
        copy(podLabel("fjord.io/owner-service"), "service"),
      ]),
      metrics_path: BACKUP_METRICS_PATH,
    },
    podJob(JOBS.pods, d.namespaces, [
      // The jobs above own these; scraping them twice would double every sum.
      drop(component, "gateway|database"),
      drop("__meta_kubernetes_namespace", nodeNs),
      ...annotated,
      ...podIdentity,
      copy(podLabel("app"), "service"),
    ]),
  ];
}

/**
 * The static job for one database's backup runner (the Docker target): `backups-<service>`,
 * scraped at `host:9188/metrics.txt` and labelled with the service, like its database's job.
 * No `engine` or `database` label: the runner's series carry both, and a target label of the
 * same name would push the series' own into `exported_*`.
 */
export function backupScrapeJob(runner: {
  service: string;
  host: string;
  port?: number;
}): StaticJob {
  return {
    job: `${JOBS.backups}-${runner.service}`,
    targets: [`${runner.host}:${runner.port ?? BACKUP_METRICS_PORT}`],
    metricsPath: BACKUP_METRICS_PATH,
    labels: { service: runner.service },
  };
}

function staticJobs(jobs: StaticJob[]): unknown[] {
  return jobs.map((j) => ({
    job_name: j.job,
    ...(j.metricsPath ? { metrics_path: j.metricsPath } : {}),
    static_configs: [
      {
        targets: j.targets,
        ...(j.labels && Object.keys(j.labels).length ? { labels: j.labels } : {}),
      },
    ],
  }));
}

export function renderPrometheusConfig(input: PrometheusConfigInput): string {
  const jobs =
    input.discovery.kind === "kubernetes"
      ? kubernetesJobs(input.discovery)
      : staticJobs(input.discovery.jobs);
  const names = jobs.map((j) => (j as { job_name: string }).job_name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`fjord: scrape job "${dup}" is defined twice`);
  const alertmanagers = input.alertmanagers ?? [];
  const remoteWrite = input.remoteWrite ?? [];
  const doc = {
    global: {
      scrape_interval: input.scrapeInterval,
      evaluation_interval: input.evaluationInterval ?? input.scrapeInterval,
      ...(input.externalLabels && Object.keys(input.externalLabels).length
        ? { external_labels: input.externalLabels }
        : {}),
    },
    rule_files: input.ruleFiles ?? ["/etc/prometheus/alerts.yml"],
    ...(alertmanagers.length
      ? { alerting: { alertmanagers: [{ static_configs: [{ targets: alertmanagers }] }] } }
      : {}),
    scrape_configs: jobs,
    ...(remoteWrite.length
      ? { remote_write: remoteWrite.map((r) => ({ name: r.name, url: r.url })) }
      : {}),
  };
  return toYaml(doc, "Generated by fjord; edit the spec (fjord:observability), not this file.");
}
