/**
 * The backup runners' metrics as alerts, dashboards and scrape jobs read them. The runner
 * (components/plan/database/backup/runner.ts) writes them; a unit test holds the names here to
 * what it writes. Every series carries `database` and `engine`; scraping adds `service`.
 */
import { METRICS_PATH, METRICS_PORT } from "../database/backup/runner";

export const BACKUP_METRICS = {
  /** End of the newest complete backup in the repository; 0 while there is none. */
  lastSuccess: "fjord_backup_last_success_timestamp_seconds",
  /** Age the newest backup may reach while the schedule is kept (longest gap + 1 h). */
  maxAge: "fjord_backup_max_age_seconds",
  runnerStart: "fjord_backup_runner_start_timestamp_seconds",
  lastSize: "fjord_backup_last_size_bytes",
  lastDuration: "fjord_backup_last_duration_seconds",
  /** Counter with `result="success"|"failure"`. */
  runs: "fjord_backup_runs_total",
  /** PostgreSQL only, from pg_stat_archiver (reset when the server restarts). */
  walArchived: "fjord_backup_wal_archived_total",
  walFailed: "fjord_backup_wal_failed_total",
  walLastArchived: "fjord_backup_wal_last_archived_timestamp_seconds",
  walLastFailed: "fjord_backup_wal_last_failed_timestamp_seconds",
} as const;

/** Where a runner serves its metrics (busybox httpd), the same on both targets. */
export const BACKUP_METRICS_PORT = METRICS_PORT;
export const BACKUP_METRICS_PATH = METRICS_PATH;

/**
 * Name of the runner's container port on Kubernetes. A database pod's scrape annotations point
 * at its exporter; the `backups` job finds the runner by this port name instead.
 */
export const BACKUP_METRICS_PORT_NAME = "backup-metrics";
