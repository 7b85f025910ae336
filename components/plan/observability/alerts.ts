/**
 * The alert catalogue: every alert fjord ships, with its expression, threshold, `for`, severity
 * and the spec key that changes it. The rule file renderer, docs/observability.md and the promtool
 * tests all read this one list, so an alert cannot exist in one of them and not the others.
 */
import { BACKUP_METRICS as B } from "./backups";
import { cpuModePercent, JOBS, PSEUDO_FS, rateWindow, type ObservabilityModel } from "./model";

export type AlertGroup = "node" | "targets" | "gateway" | "databases" | "backups" | "certificates";
export type Severity = "critical" | "warning";

export interface AlertRule {
  /** `alertname`; several rules may share one (one per route, for example). */
  name: string;
  group: AlertGroup;
  expr: string;
  /** How long the condition must hold before the alert fires. */
  for: string;
  severity: Severity;
  /** The threshold in the expression, as a person reads it ("2 %", "200 ms"). */
  threshold: string;
  /** The spec key (or other lever) that changes the threshold. */
  change: string;
  summary: string;
  /** Extra labels on the alert (e.g. `route`, `budget_ms`). */
  labels?: Record<string, string>;
  /** What to do about it: a path and anchor in this repository (the `runbook_url` annotation). */
  runbook?: string;
}

export interface RecordingRule {
  record: string;
  expr: string;
}

/** Gateway series every alert and dashboard uses, whichever proxy or exporter produces them. */
export const GATEWAY_SERIES = {
  requests: "fjord:gateway_route_requests:rate5m",
  errors: "fjord:gateway_route_errors:rate5m",
  p99: "fjord:gateway_route_request_duration_seconds:p99",
} as const;

const NODE = `job="${JOBS.nodeExporter}"`;
const REAL_FS = `${NODE},fstype!~"${PSEUDO_FS}"`;

function nodeAlerts(m: ObservabilityModel): AlertRule[] {
  const t = m.thresholds;
  const w = rateWindow(m.scrapeInterval);
  /** A CPU mode (hypervisor steal, disk wait) above its configured share of CPU time. */
  const cpuModeHigh = (a: {
    name: string;
    mode: "steal" | "iowait";
    key: "cpuStealPercent" | "ioWaitPercent";
    for: string;
    summary: string;
  }): AlertRule => ({
    name: a.name,
    group: "node",
    expr: `${cpuModePercent(NODE, a.mode, w)} > ${t[a.key]}`,
    for: a.for,
    severity: "warning",
    threshold: `${t[a.key]} % ${a.mode}`,
    change: `fjord:observability.alerts.${a.key}`,
    summary: a.summary,
  });
  return [
    cpuModeHigh({
      name: "NodeCpuStealHigh",
      mode: "steal",
      key: "cpuStealPercent",
      for: "5m",
      summary:
        '{{ $labels.instance }}: the hypervisor withholds {{ $value | printf "%.1f" }} % of CPU time (noisy neighbour)',
    }),
    cpuModeHigh({
      name: "NodeIoWaitHigh",
      mode: "iowait",
      key: "ioWaitPercent",
      for: "10m",
      summary:
        '{{ $labels.instance }}: CPUs idle waiting for disk {{ $value | printf "%.1f" }} % of the time',
    }),
    {
      name: "NodeDown",
      group: "node",
      expr: `up{${NODE}} == 0`,
      for: "2m",
      severity: "critical",
      threshold: "exporter unreachable",
      change: "not configurable",
      summary: "{{ $labels.instance }}: node exporter unreachable; the node may be down",
    },
    {
      name: "NodeDiskFillingUp",
      group: "node",
      expr:
        `predict_linear(node_filesystem_avail_bytes{${REAL_FS}}[1h], ${t.diskFillHours} * 3600) < 0` +
        ` and node_filesystem_readonly{${REAL_FS}} == 0`,
      for: "30m",
      severity: "warning",
      threshold: `full within ${t.diskFillHours} h at the last hour's rate`,
      change: "fjord:observability.alerts.diskFillHours",
      summary:
        "{{ $labels.instance }}:{{ $labels.mountpoint }} will be full within " +
        `${t.diskFillHours} hours at the current write rate`,
    },
    {
      name: "NodeMemoryPressure",
      group: "node",
      expr:
        `100 * node_memory_MemAvailable_bytes{${NODE}} / node_memory_MemTotal_bytes{${NODE}}` +
        ` < ${t.memoryAvailablePercent}`,
      for: "5m",
      severity: "warning",
      threshold: `< ${t.memoryAvailablePercent} % available`,
      change: "fjord:observability.alerts.memoryAvailablePercent",
      summary: '{{ $labels.instance }}: only {{ $value | printf "%.1f" }} % of memory is available',
    },
  ];
}

function targetAlerts(): AlertRule[] {
  return [
    {
      name: "TargetDown",
      group: "targets",
      // Nodes have their own, critical alert.
      expr: `up{job!="${JOBS.nodeExporter}"} == 0`,
      for: "5m",
      severity: "warning",
      threshold: "scrape failing",
      change: "not configurable",
      summary: "{{ $labels.job }} target {{ $labels.instance }} cannot be scraped",
    },
  ];
}

function gatewayAlerts(m: ObservabilityModel): AlertRule[] {
  const ratio = m.thresholds.gateway5xxRatio;
  return [
    {
      name: "GatewayHigh5xxRatio",
      group: "gateway",
      expr: `${GATEWAY_SERIES.errors} / ${GATEWAY_SERIES.requests} > ${ratio}`,
      for: "5m",
      severity: "critical",
      threshold: `${ratio * 100} % of requests answered 5xx`,
      change: "fjord:observability.alerts.gateway5xxRatio",
      summary:
        "route {{ $labels.route }}: {{ $value | humanizePercentage }} of requests fail with 5xx",
    },
    // One rule per route: each route has its own budget.
    ...m.routes.map((r): AlertRule => ({
      name: "GatewayRouteLatencyOverBudget",
      group: "gateway",
      expr: `${GATEWAY_SERIES.p99}{route="${r.route}"} > ${r.budgetMs / 1000}`,
      for: "10m",
      severity: "warning",
      threshold: `p99 > ${r.budgetMs} ms (${r.path})`,
      change: `route.budgetMs of service "${r.route}" (or fjord:latency.defaultRouteBudgetMs)`,
      summary: `route ${r.route}: p99 {{ $value | humanizeDuration }} exceeds its ${r.budgetMs} ms budget`,
      labels: { route: r.route, budget_ms: String(r.budgetMs) },
    })),
  ];
}

/** The two engines' exporters report the same signals under their own names. */
const DB_ENGINES = [
  {
    alert: "Postgres",
    server: "PostgreSQL",
    up: "pg_up",
    connectionRatio: (by: string) =>
      `sum ${by} (pg_stat_activity_count) / max ${by} (pg_settings_max_connections)`,
  },
  {
    alert: "Mysql",
    server: "MariaDB",
    up: "mysql_up",
    connectionRatio: (by: string) =>
      `max ${by} (mysql_global_status_threads_connected) / max ${by} (mysql_global_variables_max_connections)`,
  },
];

function databaseAlerts(m: ObservabilityModel): AlertRule[] {
  const t = m.thresholds;
  const by = "by (instance, service)";
  return [
    ...DB_ENGINES.map((e): AlertRule => ({
      name: `${e.alert}Down`,
      group: "databases",
      expr: `${e.up} == 0`,
      for: "2m",
      severity: "critical",
      threshold: `${e.up} == 0`,
      change: "not configurable",
      summary: `${e.server} of {{ $labels.service }} does not accept connections`,
    })),
    ...DB_ENGINES.map((e): AlertRule => ({
      name: `${e.alert}ConnectionsSaturated`,
      group: "databases",
      expr: `${e.connectionRatio(by)} > ${t.dbConnectionsRatio}`,
      for: "5m",
      severity: "warning",
      threshold: `${t.dbConnectionsRatio * 100} % of max_connections`,
      change: "fjord:observability.alerts.dbConnectionsRatio",
      summary: `${e.server} of {{ $labels.service }} uses {{ $value | humanizePercentage }} of max_connections`,
    })),
    {
      name: "DatabaseReplicationLagHigh",
      group: "databases",
      // Both series exist only where a replica runs; on fjord's single instances this stays quiet.
      expr:
        `max ${by} (pg_replication_lag_seconds) > ${t.replicationLagSeconds}` +
        ` or max ${by} (mysql_slave_status_seconds_behind_master) > ${t.replicationLagSeconds}`,
      for: "5m",
      severity: "warning",
      threshold: `${t.replicationLagSeconds} s behind the primary`,
      change: "fjord:observability.alerts.replicationLagSeconds",
      summary: "replica of {{ $labels.service }} is {{ $value | humanizeDuration }} behind",
    },
  ];
}

/** A Prometheus range for a whole number of minutes, in hours where it is whole hours. */
function range(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}

const BACKUP_RUNBOOK = "docs/backups.md";

/** Backed-up databases by their limit (schedule gap + 1 h), in spec order. */
function windows(m: ObservabilityModel): Map<number, ObservabilityModel["databases"]> {
  const out = new Map<number, ObservabilityModel["databases"]>();
  for (const d of m.databases) {
    if (!d.backup) continue;
    out.set(d.backup.maxAgeSeconds, [...(out.get(d.backup.maxAgeSeconds) ?? []), d]);
  }
  return out;
}

/**
 * Backups, from each database's backup runner. The runner reports its own limit
 * (`max_age_seconds`), so one rule serves every schedule. A runner that cannot be scraped is
 * `TargetDown` (its `up` is 0 like any target's).
 */
function backupAlerts(m: ObservabilityModel): AlertRule[] {
  const age = `time() - ${B.lastSuccess}`;
  return [
    {
      name: "BackupTooOld",
      group: "backups",
      // Grace only while the runner has found no backup at all (a new database): it gets one
      // schedule period from the runner's start. A database that has backups is judged by their
      // age alone, so restarts and redeploys of the runner never hide a stale backup.
      expr:
        `${age} > ${B.maxAge}` +
        ` and (${B.lastSuccess} > 0 or time() - ${B.runnerStart} > ${B.maxAge})`,
      for: "15m",
      severity: "critical",
      threshold:
        "newest backup older than the schedule's longest gap + 1 h, or none after that long",
      change: "fjord:backups.schedule (or the database's backup.schedule)",
      summary:
        "database {{ $labels.database }} of {{ $labels.service }}: " +
        "{{ if gt $value 1e9 }}no backup found since its runner started{{ else }}newest backup is " +
        "{{ $value | humanizeDuration }} old{{ end }}, longer than its schedule allows",
      runbook: `${BACKUP_RUNBOOK}#backup-too-old`,
    },
    {
      name: "WalArchivingFailing",
      group: "backups",
      // PostgreSQL retries a failed segment until it is archived, so while the newest attempt
      // failed, the archive (and point-in-time recovery) stops and pg_wal grows.
      expr: `${B.walLastFailed} > ${B.walLastArchived}`,
      for: "5m",
      severity: "critical",
      threshold: "last WAL archive attempt failed, none succeeded since",
      change: "not configurable",
      summary:
        "database {{ $labels.database }} of {{ $labels.service }}: WAL archiving fails " +
        "(last failure {{ $value | humanizeTimestamp }}); point-in-time recovery stops there " +
        "and pg_wal grows until it is fixed",
      runbook: `${BACKUP_RUNBOOK}#wal-archiving-failing`,
    },
    // One rule per schedule period among the backed-up databases: a failed run stays visible
    // for that period plus an hour, until the next scheduled run has had time to succeed.
    ...[...windows(m)].map(([seconds, dbs]): AlertRule => {
      const w = range(seconds);
      const schedules = [...new Set(dbs.map((d) => `"${d.backup!.schedule}"`))].join(", ");
      return {
        name: "BackupFailed",
        group: "backups",
        // Summed over runner restarts: a new pod is a new series.
        expr:
          `sum by (service, database, engine) (increase(${B.runs}` +
          `{service=~"${dbs.map((d) => d.service).join("|")}",result="failure"}[${w}])) > 0`,
        for: "0m",
        severity: "warning",
        threshold: `a failed run within ${w} (schedule ${schedules} + 1 h)`,
        change: "fjord:backups.schedule (or the database's backup.schedule)",
        summary:
          "database {{ $labels.database }} of {{ $labels.service }}: " +
          `{{ $value | printf "%.0f" }} backup run(s) failed within the last ${w}; older backups are untouched`,
        labels: { window: w },
        runbook: `${BACKUP_RUNBOOK}#backup-failed`,
      };
    }),
  ];
}

function certificateAlerts(m: ObservabilityModel): AlertRule[] {
  const d = m.thresholds.certExpiryDays;
  return [
    {
      name: "CertificateExpiringSoon",
      group: "certificates",
      // Blackbox probes where they run; Traefik reports its own certificates.
      expr:
        `(min by (instance) (probe_ssl_earliest_cert_expiry) - time()) / 86400 < ${d}` +
        ` or (min by (cn) (traefik_tls_certs_not_after) - time()) / 86400 < ${d}`,
      for: "15m",
      severity: "warning",
      threshold: `expires within ${d} days`,
      change: "fjord:observability.alerts.certExpiryDays",
      summary:
        'certificate {{ $labels.cn }}{{ $labels.instance }} expires in {{ $value | printf "%.0f" }} days',
    },
  ];
}

/** Every alert for this platform, grouped by domain in the order the rule file lists them. */
export function alertCatalogue(m: ObservabilityModel): AlertRule[] {
  return [
    ...nodeAlerts(m),
    ...targetAlerts(),
    ...gatewayAlerts(m),
    ...databaseAlerts(m),
    ...backupAlerts(m),
    ...certificateAlerts(m),
  ];
}

/**
 * Prometheus recording rules that turn the gateway's own metrics into `GATEWAY_SERIES`.
 * Only Traefik has per-route histograms; for nginx, whose stub_status exporter has no per-route
 * data, the Loki ruler derives the same series from the JSON access log (see loki-rules.ts).
 */
export function gatewayRecordingRules(m: ObservabilityModel): RecordingRule[] {
  if (m.gatewayKind !== "traefik") return [];
  // Traefik names file-provider services "<route>@file".
  const byRoute = (expr: string) =>
    `label_replace(${expr}, "route", "$1", "service", "([^@]+)@.*")`;
  const gw = `job="${JOBS.gateway}"`;
  return [
    {
      record: GATEWAY_SERIES.requests,
      expr: `sum by (route) (${byRoute(`rate(traefik_service_requests_total{${gw}}[5m])`)})`,
    },
    {
      record: GATEWAY_SERIES.errors,
      expr: `sum by (route) (${byRoute(`rate(traefik_service_requests_total{${gw},code=~"5.."}[5m])`)})`,
    },
    {
      record: GATEWAY_SERIES.p99,
      expr:
        "histogram_quantile(0.99, sum by (route, le) (" +
        byRoute(`rate(traefik_service_request_duration_seconds_bucket{${gw}}[5m])`) +
        "))",
    },
  ];
}
