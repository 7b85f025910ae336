/**
 * What the observability renderers need to know about a platform, in one plain object, so the
 * Kubernetes and Docker targets feed every renderer from the same facts.
 */
import type { Spec } from "../../config";
import { PORTS } from "../../config/ports";
import { parseDuration } from "../../config/units";
import { maxBackupAgeSeconds } from "../database/backup";

export { PORTS };

/** Fixed data-source UIDs: dashboards refer to them, so they must never change. */
export const DATASOURCE_UIDS = {
  prometheus: "fjord-prometheus",
  loki: "fjord-loki",
  alertmanager: "fjord-alertmanager",
} as const;

/** Scrape job names; alert expressions and dashboards select on them. */
export const JOBS = {
  pods: "kubernetes-pods",
  nodeExporter: "node-exporter",
  gateway: "gateway",
  databases: "databases",
  /** The database backup runners (Docker: `backups-<service>`, one per database). */
  backups: "backups",
  prometheus: "prometheus",
} as const;

/** Filesystem types that are no disk: they come and go with pods, and none of them fills a disk. */
export const PSEUDO_FS = "tmpfs|ramfs|overlay|squashfs|nsfs|fuse.*";

/** Percent of CPU time each node spends in `mode` (steal, iowait, ...), over `window`. */
export const cpuModePercent = (selector: string, mode: string, window: string): string =>
  `100 * avg by (instance) (rate(node_cpu_seconds_total{${selector},mode="${mode}"}[${window}]))`;

/** Thresholds for the alert rules (the spec's `observability.alerts`). */
export interface AlertThresholds {
  cpuStealPercent: number;
  ioWaitPercent: number;
  memoryAvailablePercent: number;
  diskFillHours: number;
  gateway5xxRatio: number;
  dbConnectionsRatio: number;
  certExpiryDays: number;
  replicationLagSeconds: number;
}

/** One public route and its end-to-end latency budget. */
export interface RouteBudget {
  /** Route name: the service name, as the gateway labels it. */
  route: string;
  path: string;
  budgetMs: number;
}

export interface DatabaseTarget {
  /** Owning service. */
  service: string;
  engine: "postgres" | "mysql";
  /** SQL database name: the backup metrics' `database` label. */
  name: string;
  /** Present when the database is backed up. */
  backup?: {
    /** Cron, UTC. */
    schedule: string;
    /** The longest the schedule leaves between two backups, plus an hour (as the runner reports). */
    maxAgeSeconds: number;
  };
}

export interface ObservabilityModel {
  /** Stack name, attached to every series as `fjord_stack`. */
  stack: string;
  /** Prometheus duration, e.g. "15s". */
  scrapeInterval: string;
  gatewayKind: "nginx" | "traefik";
  routes: RouteBudget[];
  databases: DatabaseTarget[];
  services: string[];
  thresholds: AlertThresholds;
  /** Loki retention, a Prometheus duration such as "7d". */
  logRetention: string;
  piiFields: string[];
  remoteWrite: Array<{ name: string; url: string }>;
  alertWebhooks: Array<{ name: string; url: string }>;
}

/** The model for a validated spec. */
export function observabilityModel(spec: Spec): ObservabilityModel {
  const o = spec.observability;
  return {
    stack: spec.stack,
    scrapeInterval: o.scrapeInterval,
    gatewayKind: spec.gateway.kind,
    routes: spec.services
      .filter((s) => s.route)
      .map((s) => ({ route: s.name, path: s.route!.path, budgetMs: s.route!.budgetMs })),
    databases: spec.services
      .filter((s) => s.database)
      .map((s) => {
        const db = s.database!;
        return {
          service: s.name,
          engine: db.engine,
          name: db.name,
          ...(db.backup
            ? {
                backup: {
                  schedule: db.backup.schedule,
                  maxAgeSeconds: maxBackupAgeSeconds(db.backup.schedule),
                },
              }
            : {}),
        };
      }),
    services: spec.services.map((s) => s.name),
    thresholds: { ...o.alerts },
    logRetention: o.logRetention,
    piiFields: o.piiFields,
    remoteWrite: o.remoteWrite,
    alertWebhooks: o.alertWebhooks,
  };
}

/**
 * Rate window for alert expressions: four scrape intervals, so every `rate()` sees at least three
 * samples even where a range excludes its left edge (Prometheus 3), and never under one minute.
 */
export function rateWindow(scrapeInterval: string): string {
  const seconds = Math.max(60, (4 * parseDuration(scrapeInterval)) / 1000);
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${Math.ceil(seconds)}s`;
}

/**
 * Loki retention in hours, rounded up to whole days: Loki rejects a retention that is not a
 * multiple of its 24h index period, and its Go durations have no day unit.
 */
export function retentionHours(duration: string): string {
  const days = Math.max(1, Math.ceil(parseDuration(duration) / 8.64e7));
  return `${days * 24}h`;
}
