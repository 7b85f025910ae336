/**
 * A real Prometheus, running the rendered static-mode config and rule file, scrapes a real node
 * exporter on loopback. Proves the config loads, the target is up, the node metrics the alerts
 * and the VPS dashboard rely on exist, and every rule evaluates without error.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  alertCatalogue,
  JOBS,
  observabilityFiles,
  renderDashboards,
} from "../../components/plan/observability";
import { startNodeExporter, type NodeExporterInstance } from "../../testkit/node-exporter";
import { startPrometheus, type PrometheusInstance } from "../../testkit/prometheus";
import { stackModel } from "../unit/plan/observability-fixtures";

// A one-second interval keeps the test short; everything else is the prod stack's.
const model = stackModel("prod", { observability: { scrapeInterval: "1s" } });
let exporter: NodeExporterInstance;
let prom: PrometheusInstance;

beforeAll(async () => {
  exporter = await startNodeExporter();
  const files = observabilityFiles(model, {
    discovery: { kind: "static", jobs: [{ job: JOBS.nodeExporter, targets: [exporter.target] }] },
    alertmanager: "127.0.0.1:9",
    prometheusUrl: "http://127.0.0.1:9090",
    lokiUrl: "http://127.0.0.1:3100",
    alertmanagerUrl: "http://127.0.0.1:9093",
    lokiHost: "127.0.0.1",
    logSource: { kind: "forward" },
  });
  prom = await startPrometheus({
    files: { "alerts.yml": files.prometheus["alerts.yml"] },
    config: ({ dir }) => {
      const config = parse(files.prometheus["prometheus.yml"]);
      config.rule_files = [`${dir}/alerts.yml`];
      // No Alertmanager runs here; alerts are only evaluated.
      delete config.alerting;
      return stringify(config);
    },
  });
});

afterAll(async () => {
  await prom?.stop();
  await exporter?.stop();
});

/** Metric names a set of PromQL expressions mention, of one family. */
const metricsIn = (exprs: string[], prefix: string) =>
  [
    ...new Set(exprs.flatMap((e) => e.match(new RegExp(`\\b${prefix}[a-zA-Z0-9_]+`, "g")) ?? [])),
  ].sort();

describe("Prometheus scraping a real node exporter", () => {
  it("GIVEN Prometheus with the rendered static config and a real node exporter WHEN up is queried THEN the exporter's target is up", async () => {
    const up = await prom.waitFor(
      `up{job="${JOBS.nodeExporter}"}`,
      (r) => r.length === 1 && r[0].value[1] === "1",
    );
    expect(up[0].metric).toMatchObject({ instance: exporter.target, job: JOBS.nodeExporter });
  });

  it("GIVEN Prometheus scraping a real node exporter WHEN each node metric the node alerts and the VPS dashboard use is looked up THEN the exporter exposes it and Prometheus stores it", async () => {
    const dashboard = renderDashboards(model)["fjord-nodes.json"];
    const exprs = [
      ...alertCatalogue(model)
        .filter((a) => a.group === "node")
        .map((a) => a.expr),
      ...[...dashboard.matchAll(/"expr": "((?:[^"\\]|\\.)*)"/g)].map(
        (m) => JSON.parse(`"${m[1]}"`) as string,
      ),
    ];
    const names = metricsIn(exprs, "node_");
    expect(names).toContain("node_cpu_seconds_total");
    const text = await exporter.metrics();
    const missing = names.filter((n) => !new RegExp(`^${n}[{ ]`, "m").test(text));
    expect(missing, "metrics the exporter does not expose").toEqual([]);
    for (const n of names) {
      const r = await prom.waitFor(
        `count(${n}{job="${JOBS.nodeExporter}"})`,
        (x) => x.length === 1,
      );
      expect(Number(r[0].value[1]), n).toBeGreaterThan(0);
    }
  });

  it("GIVEN Prometheus scraping a real node exporter WHEN NodeCpuStealHigh's expression is queried without its threshold THEN it gives one non-negative value for that node", async () => {
    const steal = alertCatalogue(model).find((a) => a.name === "NodeCpuStealHigh")!;
    const measure = steal.expr.replace(/ > [\d.]+$/, "");
    const r = await prom.waitFor(measure, (x) => x.length === 1, 60_000);
    expect(r[0].metric.instance).toBe(exporter.target);
    expect(Number(r[0].value[1])).toBeGreaterThanOrEqual(0);
  });

  it("GIVEN Prometheus with the rendered rule file WHEN its rules API is read after evaluation THEN the six fjord groups are loaded and every rule is healthy", async () => {
    type Rules = {
      data: {
        groups: Array<{
          name: string;
          rules: Array<{ name: string; health: string; lastError?: string }>;
        }>;
      };
    };
    const deadline = Date.now() + 30_000;
    let groups: Rules["data"]["groups"] = [];
    while (Date.now() < deadline) {
      groups = ((await (await fetch(`${prom.url}/api/v1/rules`)).json()) as Rules).data.groups;
      if (groups.length > 0 && groups.every((g) => g.rules.every((r) => r.health !== "unknown")))
        break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(groups.map((g) => g.name).sort()).toEqual([
      "fjord-backups",
      "fjord-certificates",
      "fjord-databases",
      "fjord-gateway",
      "fjord-node",
      "fjord-targets",
    ]);
    const bad = groups.flatMap((g) => g.rules).filter((r) => r.health !== "ok");
    expect(bad.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`)).toEqual([]);
  });
});
