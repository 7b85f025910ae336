/**
 * Per-service RED (rate, errors, duration). Services are expected to export the Prometheus
 * client conventions `http_requests_total{code}` and `http_request_duration_seconds_bucket`.
 */
import { JOBS, type ObservabilityModel } from "../model";
import { dashboard, Ids, labelVariable, logs, row, timeSeries } from "./common";

const SEL = `job="${JOBS.pods}",service=~"$service"`;

export function servicesDashboard(m: ObservabilityModel) {
  const ids = new Ids();
  const requests = `sum by (service) (rate(http_requests_total{${SEL}}[$__rate_interval]))`;
  const errors = `sum by (service) (rate(http_requests_total{${SEL},code=~"5.."}[$__rate_interval]))`;
  const quantile = (q: number) =>
    `histogram_quantile(${q}, sum by (service, le) (rate(http_request_duration_seconds_bucket{${SEL}}[$__rate_interval])))`;
  return dashboard(
    "fjord-services",
    "fjord / Services (RED)",
    `Rate, errors and duration of ${m.services.length} service(s), from their own /metrics.`,
  )
    .withVariable(labelVariable("service", "Service", `up{job="${JOBS.pods}"}`))
    .withRow(row(ids, "RED"))
    .withPanel(
      timeSeries(ids, "Request rate", [{ expr: requests, legend: "{{service}}" }], {
        unit: "reqps",
        min: 0,
      }),
    )
    .withPanel(
      timeSeries(
        ids,
        "Error ratio (5xx)",
        [{ expr: `${errors} / ${requests}`, legend: "{{service}}" }],
        {
          unit: "percentunit",
          min: 0,
        },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Duration",
        [
          { expr: quantile(0.5), legend: "{{service}} p50" },
          { expr: quantile(0.99), legend: "{{service}} p99" },
        ],
        { unit: "s", min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "Replicas up",
        [{ expr: `sum by (service) (up{${SEL}})`, legend: "{{service}}" }],
        { min: 0 },
      ),
    )
    .withPanel(logs(ids, "Service logs", `{namespace=~"fjord-.+", container=~"$service"}`));
}
