/** Databases: availability, connection saturation, throughput, cache efficiency, lag, backups. */
import { BACKUP_METRICS as B } from "../backups";
import { JOBS, type ObservabilityModel } from "../model";
import { dashboard, Ids, labelVariable, logs, row, timeSeries } from "./common";

const SEL = `job="${JOBS.databases}",service=~"$service"`;
const rate = (metric: string) => `rate(${metric}{${SEL}}[$__rate_interval])`;
const sumRate = (metric: string) => `sum by (service) (${rate(metric)})`;
/** Backup runners are their own scrape job (one per database on Docker), so no `job` here. */
const BACKUP_SEL = `service=~"$service"`;
const perDatabase = (expr: string) => `max by (service, database) (${expr})`;

export function databasesDashboard(m: ObservabilityModel) {
  const ids = new Ids();
  const engines = new Set(m.databases.map((d) => d.engine));
  const backedUp = m.databases.filter((d) => d.backup).map((d) => d.service);
  return dashboard(
    "fjord-databases",
    "fjord / Databases",
    "One database per service; the red line on saturation is the alert threshold.",
  )
    .withVariable(labelVariable("service", "Service", `up{job="${JOBS.databases}"}`))
    .withRow(row(ids, "Health"))
    .withPanel(
      timeSeries(
        ids,
        "Up",
        [
          { expr: `pg_up{${SEL}}`, legend: "{{service}} postgres" },
          { expr: `mysql_up{${SEL}}`, legend: "{{service}} mariadb" },
        ],
        { min: 0, description: `Engines in this stack: ${[...engines].join(", ") || "none"}.` },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Connections / max_connections",
        [
          {
            expr: `sum by (service) (pg_stat_activity_count{${SEL}}) / max by (service) (pg_settings_max_connections{${SEL}})`,
            legend: "{{service}} postgres",
          },
          {
            expr: `max by (service) (mysql_global_status_threads_connected{${SEL}}) / max by (service) (mysql_global_variables_max_connections{${SEL}})`,
            legend: "{{service}} mariadb",
          },
        ],
        { unit: "percentunit", threshold: m.thresholds.dbConnectionsRatio, min: 0 },
      ),
    )
    .withRow(row(ids, "Work"))
    .withPanel(
      timeSeries(
        ids,
        "Transactions / queries per second",
        [
          { expr: sumRate("pg_stat_database_xact_commit"), legend: "{{service}} commits" },
          { expr: sumRate("pg_stat_database_xact_rollback"), legend: "{{service}} rollbacks" },
          { expr: sumRate("mysql_global_status_queries"), legend: "{{service}} queries" },
        ],
        { unit: "ops", min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Reads served from memory",
        [
          {
            expr:
              `${sumRate("pg_stat_database_blks_hit")} / ` +
              `(${sumRate("pg_stat_database_blks_hit")} + ${sumRate("pg_stat_database_blks_read")})`,
            legend: "{{service}} postgres",
          },
          {
            expr:
              `1 - ${sumRate("mysql_global_status_innodb_buffer_pool_reads")} / ` +
              `${sumRate("mysql_global_status_innodb_buffer_pool_read_requests")}`,
            legend: "{{service}} mariadb",
          },
        ],
        {
          unit: "percentunit",
          description: "Low values mean the working set outgrew memory and the disk is hit.",
        },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Replication lag",
        [
          {
            expr: `max by (service) (pg_replication_lag_seconds{${SEL}})`,
            legend: "{{service}} postgres",
          },
          {
            expr: `max by (service) (mysql_slave_status_seconds_behind_master{${SEL}})`,
            legend: "{{service}} mariadb",
          },
        ],
        { unit: "s", threshold: m.thresholds.replicationLagSeconds, min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Deadlocks",
        [{ expr: sumRate("pg_stat_database_deadlocks"), legend: "{{service}}" }],
        {
          min: 0,
        },
      ),
    )
    .withRow(row(ids, "Backups"))
    .withPanel(
      timeSeries(
        ids,
        "Age of the newest backup",
        [
          {
            // A runner that has found no backup reports 0; leave it out rather than plot 56 years.
            expr: `time() - ${perDatabase(`${B.lastSuccess}{${BACKUP_SEL}} > 0`)}`,
            legend: "{{service}} {{database}}",
          },
          {
            expr: perDatabase(`${B.maxAge}{${BACKUP_SEL}}`),
            legend: "{{service}} {{database}} limit",
          },
        ],
        {
          unit: "s",
          min: 0,
          description:
            "BackupTooOld fires when the age passes its limit: the schedule's longest gap plus one hour. " +
            `Backed-up databases: ${backedUp.join(", ") || "none"}.`,
        },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Size of the newest backup",
        [
          {
            expr: perDatabase(`${B.lastSize}{${BACKUP_SEL}}`),
            legend: "{{service}} {{database}}",
          },
        ],
        {
          unit: "bytes",
          min: 0,
          description:
            "Stored size in the bucket (compressed, and encrypted where backups are); a sudden change is worth a look.",
        },
      ),
    )
    .withPanel(logs(ids, "Database logs", `{namespace=~"fjord-.+", container=~"postgres|mysql"}`));
}
