/** The gateway: rate, errors and p99 by route (against each route's budget), and its logs. */
import { GATEWAY_SERIES } from "../alerts";
import { JOBS, type ObservabilityModel } from "../model";
import { dashboard, Ids, logs, row, timeSeries, type Query } from "./common";

export function gatewayDashboard(m: ObservabilityModel) {
  const ids = new Ids();
  const gw = `job="${JOBS.gateway}"`;
  const proxy: Query[] =
    m.gatewayKind === "nginx"
      ? [
          { expr: `sum(nginx_connections_active{${gw}})`, legend: "active connections" },
          {
            expr: `sum(rate(nginx_http_requests_total{${gw}}[$__rate_interval]))`,
            legend: "requests/s",
          },
        ]
      : [
          { expr: `sum(traefik_open_connections{${gw}})`, legend: "open connections" },
          {
            expr: `sum by (entrypoint) (rate(traefik_entrypoint_requests_total{${gw}}[$__rate_interval]))`,
            legend: "{{entrypoint}} requests/s",
          },
        ];
  const budgets: Query[] = m.routes.map((r) => ({
    expr: `vector(${r.budgetMs / 1000})`,
    legend: `${r.route} budget`,
  }));
  return dashboard(
    "fjord-gateway",
    "fjord / Gateway",
    `${m.gatewayKind} gateway. Per-route series are ${GATEWAY_SERIES.requests} and friends (see docs/observability.md, "Gateway series").`,
  )
    .withRow(row(ids, "Routes"))
    .withPanel(
      timeSeries(
        ids,
        "Requests by route",
        [{ expr: `sum by (route) (${GATEWAY_SERIES.requests})`, legend: "{{route}}" }],
        {
          unit: "reqps",
          min: 0,
        },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "5xx ratio by route",
        [{ expr: `${GATEWAY_SERIES.errors} / ${GATEWAY_SERIES.requests}`, legend: "{{route}}" }],
        { unit: "percentunit", threshold: m.thresholds.gateway5xxRatio, min: 0 },
      ),
    )
    .withPanel(
      timeSeries(
        ids,
        "p99 duration by route, with budgets",
        [{ expr: GATEWAY_SERIES.p99, legend: "{{route}}" }, ...budgets],
        { unit: "s", min: 0, width: 24 },
      ),
    )
    .withRow(row(ids, "Proxy"))
    .withPanel(timeSeries(ids, `${m.gatewayKind} traffic`, proxy, { width: 24 }))
    .withPanel(
      logs(ids, "Gateway 5xx responses", `{container="${m.gatewayKind}"} | json | status >= 500`),
    );
}
