/** Metrics, logs, dashboards and alerts, and where they may be exported. */
import { z } from "zod";
import { dnsLabel, duration, httpUrl, memory, wholeDuration } from "../fields";

/** Alert thresholds: a positive number, a percentage or a share of one, with its default. */
const positive = (value: number, description: string) =>
  z.number().positive().default(value).meta({ description });
const percent = (value: number, description: string) =>
  z.number().positive().max(100).default(value).meta({ description });
const ratio = (value: number, description: string) =>
  z.number().positive().max(1).default(value).meta({ description });

export const observability = z
  .strictObject({
    enabled: z.boolean().default(true).meta({
      description: "Deploy Prometheus, Alertmanager, Grafana, Loki and the log shipper.",
    }),
    // On both targets, a stack can drop what it has no image for (the Docker e2e has none for
    // Grafana, Loki or Fluent Bit); Prometheus and the node exporter always run.
    components: z
      .strictObject({
        alertmanager: z.boolean().default(true).meta({
          description: "Run Alertmanager (Prometheus then sends alerts nowhere when off).",
        }),
        grafana: z.boolean().default(true).meta({ description: "Run Grafana." }),
        loki: z.boolean().default(true).meta({
          description: "Run Loki (Grafana keeps a Loki data source that answers nothing when off).",
        }),
        logShipper: z
          .boolean()
          .default(true)
          .meta({ description: "Run Fluent Bit, the log shipper." }),
      })
      .prefault({}),
    scrapeInterval: wholeDuration
      .default("15s")
      .meta({ description: "Prometheus scrape interval." }),
    retentionTime: wholeDuration
      .default("15d")
      .meta({ description: "Prometheus retention by time." }),
    retentionSize: z
      .string()
      .regex(/^\d+(B|KB|MB|GB|TB)$/, { error: 'must be a size such as "10GB"' })
      .default("10GB")
      .meta({ description: "Prometheus retention by size." }),
    storage: memory.default("20Gi").meta({ description: "Prometheus volume size." }),
    logStorage: memory.default("10Gi").meta({ description: "Loki volume size." }),
    grafanaAdminUser: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{2,31}$/, { error: "must be a lower-case login name" })
      .default("admin")
      .meta({ description: "Grafana admin user; the password is generated and secret." }),
    remoteWrite: z
      .array(
        z.strictObject({
          name: dnsLabel.meta({ description: "Name of a remote_write target." }),
          url: httpUrl.meta({
            description: "remote_write URL; the residency policy must accept it.",
          }),
        }),
      )
      .default([]),
    alertWebhooks: z
      .array(
        z.strictObject({
          name: dnsLabel.meta({ description: "Name of an Alertmanager webhook receiver." }),
          url: httpUrl.meta({
            description: "Webhook URL; the residency policy must accept it.",
          }),
        }),
      )
      .default([]),
    logRetention: duration.default("7d").meta({ description: "Loki retention." }),
    piiFields: z
      .array(z.string().min(1))
      .default(["email", "phone", "ssn", "fnr", "authorization", "cookie"])
      .meta({ description: "Log fields masked by the shipper before storage." }),
    alerts: z
      .strictObject({
        cpuStealPercent: percent(2, "CPU steal alert threshold (5 minutes)."),
        ioWaitPercent: percent(20, "I/O wait alert threshold."),
        memoryAvailablePercent: percent(
          10,
          "Memory pressure alert when available memory is below this.",
        ),
        diskFillHours: positive(4, "Alert when a disk is predicted full within this many hours."),
        gateway5xxRatio: ratio(0.05, "Gateway 5xx ratio alert threshold."),
        dbConnectionsRatio: ratio(0.8, "Database connection saturation alert threshold."),
        certExpiryDays: positive(14, "Certificate expiry alert threshold."),
        // Only fires where a replica exports its lag; fjord's databases are single-instance.
        replicationLagSeconds: positive(30, "Database replication lag alert threshold."),
      })
      .prefault({}),
  })
  .prefault({});
