/** Listening ports of the observability processes, identical on every target (schema and renderers). */
export const PORTS = {
  prometheus: 9090,
  alertmanager: 9093,
  grafana: 3000,
  loki: 3100,
  nodeExporter: 9100,
  /** Fluent Bit's built-in HTTP server (health and its own metrics). */
  logShipper: 2020,
  /** Fluent Bit's forward input, where Docker's fluentd log driver sends (the dev target). */
  logForward: 24224,
} as const;
