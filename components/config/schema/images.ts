/** Pinned images of everything fjord runs besides the services. */
import { z } from "zod";
import { pinnedImage } from "../fields";

/** An image key: pinned, with its default reference. */
const image = (ref: string, description: string) => pinnedImage.default(ref).meta({ description });

export const images = z
  .strictObject({
    nginx: image("nginx:1.27.3-alpine", "nginx gateway image."),
    traefik: image("traefik:v3.6.12", "Traefik gateway image."),
    nginxExporter: image(
      "nginx/nginx-prometheus-exporter:1.4.0",
      "nginx metrics exporter sidecar.",
    ),
    // Their defaults follow each database's `version` (see ../resolve.ts).
    postgres: pinnedImage.optional().meta({
      description: "PostgreSQL image for every database (default postgres:<version>-bookworm).",
    }),
    mysql: pinnedImage.optional().meta({
      description: "MariaDB image for every database (default mariadb:<version>).",
    }),
    prometheus: image("prom/prometheus:v3.1.0", "Prometheus image."),
    alertmanager: image("prom/alertmanager:v0.28.0", "Alertmanager image."),
    nodeExporter: image("prom/node-exporter:v1.8.2", "Node exporter image."),
    grafana: image("grafana/grafana:11.4.0", "Grafana image."),
    loki: image("grafana/loki:3.3.2", "Loki image."),
    logShipper: image("fluent/fluent-bit:3.2.4", "Fluent Bit image."),
    postgresExporter: image(
      "quay.io/prometheuscommunity/postgres-exporter:v0.16.0",
      "PostgreSQL exporter sidecar.",
    ),
    mysqlExporter: image("prom/mysqld-exporter:v0.16.0", "MariaDB exporter sidecar."),
  })
  .prefault({});
