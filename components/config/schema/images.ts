/** Pinned images of everything fjord runs besides the services. */
import { z } from "zod";
import { pinnedImage } from "../fields";

export const images = z
  .strictObject({
    nginx: pinnedImage.default("nginx:1.27.3-alpine").meta({ description: "nginx gateway image." }),
    traefik: pinnedImage.default("traefik:v3.6.12").meta({ description: "Traefik gateway image." }),
    nginxExporter: pinnedImage
      .default("nginx/nginx-prometheus-exporter:1.4.0")
      .meta({ description: "nginx metrics exporter sidecar." }),
    postgres: pinnedImage.optional().meta({
      description: "PostgreSQL image for every database (default postgres:<version>-bookworm).",
    }),
    mysql: pinnedImage.optional().meta({
      description: "MariaDB image for every database (default mariadb:<version>).",
    }),
    prometheus: pinnedImage
      .default("prom/prometheus:v3.1.0")
      .meta({ description: "Prometheus image." }),
    alertmanager: pinnedImage
      .default("prom/alertmanager:v0.28.0")
      .meta({ description: "Alertmanager image." }),
    nodeExporter: pinnedImage
      .default("prom/node-exporter:v1.8.2")
      .meta({ description: "Node exporter image." }),
    grafana: pinnedImage.default("grafana/grafana:11.4.0").meta({ description: "Grafana image." }),
    loki: pinnedImage.default("grafana/loki:3.3.2").meta({ description: "Loki image." }),
    logShipper: pinnedImage
      .default("fluent/fluent-bit:3.2.4")
      .meta({ description: "Fluent Bit image." }),
    postgresExporter: pinnedImage
      .default("quay.io/prometheuscommunity/postgres-exporter:v0.16.0")
      .meta({ description: "PostgreSQL exporter sidecar." }),
    mysqlExporter: pinnedImage
      .default("prom/mysqld-exporter:v0.16.0")
      .meta({ description: "MariaDB exporter sidecar." }),
  })
  .prefault({});
