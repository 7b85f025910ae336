/** Shared builders for fjord's dashboards: one look, fixed data sources, explicit ids. */
import {
  DashboardBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from "@grafana/grafana-foundation-sdk/dashboard";
import {
  LegendDisplayMode,
  LegendPlacement,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
} from "@grafana/grafana-foundation-sdk/common";
import { PanelBuilder as LogsPanel } from "@grafana/grafana-foundation-sdk/logs";
import { DataqueryBuilder as LokiQuery } from "@grafana/grafana-foundation-sdk/loki";
import { DataqueryBuilder as PromQuery } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as TimeSeriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";
import { DATASOURCE_UIDS } from "../model";

export const PROMETHEUS = { type: "prometheus", uid: DATASOURCE_UIDS.prometheus };
export const LOKI = { type: "loki", uid: DATASOURCE_UIDS.loki };

export interface Query {
  expr: string;
  legend?: string;
}

export interface TimeSeriesOptions {
  unit?: string;
  /** Panel width in grid columns (24 per row). @default 12 */
  width?: number;
  /** A red threshold line, e.g. the alert threshold. */
  threshold?: number;
  min?: number;
  description?: string;
}

/** Panel ids must be unique per dashboard; each dashboard takes a fresh counter. */
export class Ids {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

const refId = (i: number) => String.fromCharCode(65 + i);

export function timeSeries(ids: Ids, title: string, queries: Query[], o: TimeSeriesOptions = {}) {
  const panel = new TimeSeriesPanel()
    .id(ids.take())
    .title(title)
    .datasource(PROMETHEUS)
    .height(8)
    .span(o.width ?? 12)
    .unit(o.unit ?? "short")
    .legend(
      new VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(LegendDisplayMode.List)
        .placement(LegendPlacement.Bottom),
    )
    .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi))
    .lineWidth(1)
    .fillOpacity(10);
  if (o.description) panel.description(o.description);
  if (o.min !== undefined) panel.min(o.min);
  if (o.threshold !== undefined) {
    panel.thresholds(
      new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
        // Grafana's base step has no value; null is how its schema spells that.
        { value: null as unknown as number, color: "green" },
        { value: o.threshold, color: "red" },
      ]),
    );
  }
  queries.forEach((q, i) =>
    panel.withTarget(
      new PromQuery()
        .refId(refId(i))
        .datasource(PROMETHEUS)
        .expr(q.expr)
        .legendFormat(q.legend ?? "__auto"),
    ),
  );
  return panel;
}

export function logs(ids: Ids, title: string, expr: string) {
  return new LogsPanel()
    .id(ids.take())
    .title(title)
    .datasource(LOKI)
    .height(10)
    .span(24)
    .showTime(true)
    .wrapLogMessage(true)
    .enableLogDetails(true)
    .withTarget(new LokiQuery().refId("A").datasource(LOKI).expr(expr).maxLines(500));
}

export function row(ids: Ids, title: string) {
  return new RowBuilder(title).id(ids.take());
}

/** A multi-value variable listing the values of one label. */
export function labelVariable(name: string, label: string, metric: string) {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(PROMETHEUS)
    .query(`label_values(${metric}, ${name})`)
    .definition(`label_values(${metric}, ${name})`)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(".*");
}

export function dashboard(uid: string, title: string, description: string) {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(["fjord"])
    .readonly()
    .timezone("browser")
    .time({ from: "now-6h", to: "now" })
    .refresh("30s");
}
