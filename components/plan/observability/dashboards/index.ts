/** Dashboard JSON files (`<uid>.json`), built with Grafana's typed foundation SDK. */
import type { ObservabilityModel } from "../model";
import { databasesDashboard } from "./databases";
import { gatewayDashboard } from "./gateway";
import { nodeDashboard } from "./node";
import { servicesDashboard } from "./services";

/** File name → dashboard JSON, for Grafana's file provider. */
export function renderDashboards(m: ObservabilityModel): Record<string, string> {
  const built = [
    nodeDashboard(m),
    gatewayDashboard(m),
    servicesDashboard(m),
    databasesDashboard(m),
  ].map((b) => b.build());
  return Object.fromEntries(built.map((d) => [`${d.uid}.json`, `${JSON.stringify(d, null, 2)}\n`]));
}
