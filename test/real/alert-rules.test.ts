/**
 * `promtool test rules` on the rendered rule file: for every alert in the catalogue, synthetic
 * series that must fire it and series that must not (alert-rules-cases.ts). Annotations are
 * stripped from the tested copy (their templates are checked by `promtool check rules` in
 * prometheus-config.test.ts), so expectations name labels only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  alertCatalogue,
  GATEWAY_SERIES,
  renderAlertRules,
  type ObservabilityModel,
} from "../../components/plan/observability";
import { ensurePrometheus, promtool } from "../../testkit/prometheus";
import { stackModel } from "../unit/plan/observability-fixtures";
import { alertCases, counter, s, STEP, type Case } from "./alert-rules-cases";

/** The rendered rule file without annotations (see the file comment). */
function ruleFileForTests(m: ObservabilityModel): string {
  const doc = parse(renderAlertRules(m)) as {
    groups: Array<{ rules: Array<Record<string, unknown>> }>;
  };
  for (const g of doc.groups) for (const r of g.rules) delete r.annotations;
  return stringify(doc, { lineWidth: 0 });
}

function promtoolTests(alertname: string, cs: Case[]): string {
  return stringify(
    {
      rule_files: ["rules.yml"],
      evaluation_interval: "15s",
      tests: cs.map((c) => ({
        name: c.what,
        interval: c.interval ?? `${STEP}s`,
        input_series: c.series,
        alert_rule_test: c.checks.map((k) => ({
          eval_time: k.at,
          alertname,
          exp_alerts: k.firing.map((labels) => ({ exp_labels: labels })),
        })),
      })),
    },
    { lineWidth: 0 },
  );
}

let dir: string;
beforeAll(() => {
  ensurePrometheus();
  dir = mkdtempSync(path.join(tmpdir(), "fjord-alert-tests-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runPromtool(name: string, rules: string, tests: string): Promise<void> {
  const sub = mkdtempSync(path.join(dir, `${name}-`));
  writeFileSync(path.join(sub, "rules.yml"), rules);
  writeFileSync(path.join(sub, "tests.yml"), tests);
  const r = await promtool(["test", "rules", "tests.yml"], { cwd: sub });
  expect(r.code, `${r.stdout}\n${r.stderr}\n--- tests.yml ---\n${tests}`).toBe(0);
}

const prod = stackModel("prod");

describe("alert rules under promtool test rules (prod stack, nginx gateway)", () => {
  const table = alertCases(prod);
  const rules = ruleFileForTests(prod);

  it("GIVEN the prod stack's alert catalogue and its case table WHEN the table's alerts are listed THEN they are the catalogue's, each with at least one firing and one quiet case", () => {
    const names = [...new Set(alertCatalogue(prod).map((a) => a.name))];
    expect(Object.keys(table).sort()).toEqual(names.sort());
    for (const n of names) {
      expect(table[n].fire.length, n).toBeGreaterThan(0);
      expect(table[n].quiet.length, n).toBeGreaterThan(0);
    }
  });

  for (const [name, c] of Object.entries(table)) {
    it(`GIVEN the rendered prod rules and ${name}'s firing series WHEN promtool test rules runs them THEN at each checked time ${name} fires exactly as expected, labels included`, () =>
      runPromtool(`${name}-fire`, rules, promtoolTests(name, c.fire)));
    it(`GIVEN the rendered prod rules and ${name}'s quiet series WHEN promtool test rules runs them THEN ${name} fires at no checked time`, () =>
      runPromtool(`${name}-quiet`, rules, promtoolTests(name, c.quiet)));
  }
});

describe("Traefik recording rules feed the same gateway alerts", () => {
  const traefik = stackModel("prod", { gateway: { kind: "traefik", domains: ["api.example.no"] } });
  const rules = ruleFileForTests(traefik);
  const svc = { job: "gateway", service: "orders@file" };
  const requests = (ok: number, failed: number) => [
    s("traefik_service_requests_total", { ...svc, code: "200" }, counter([[20, ok]])),
    s("traefik_service_requests_total", { ...svc, code: "500" }, counter([[20, failed]])),
  ];
  const buckets = (perLe: Record<string, number>) =>
    Object.entries(perLe).map(([le, rate]) =>
      s("traefik_service_request_duration_seconds_bucket", { ...svc, le }, counter([[20, rate]])),
    );

  it("GIVEN the Traefik stack's rules and a route whose counters show 2 in 12 requests failing and whose histogram puts 10 in 12 over 300 ms WHEN promtool test rules runs them THEN its p99 series is 0.99 s and the 5xx-ratio and latency alerts fire for that route", () =>
    runPromtool(
      "traefik-fire",
      rules,
      stringify({
        rule_files: ["rules.yml"],
        evaluation_interval: "15s",
        tests: [
          {
            interval: "15s",
            input_series: [
              ...requests(10, 2),
              ...buckets({ "0.1": 1, "0.3": 2, "1": 12, "+Inf": 12 }),
            ],
            alert_rule_test: [
              {
                eval_time: "16m",
                alertname: "GatewayHigh5xxRatio",
                exp_alerts: [{ exp_labels: { route: "orders", severity: "critical" } }],
              },
              {
                eval_time: "16m",
                alertname: "GatewayRouteLatencyOverBudget",
                exp_alerts: [
                  { exp_labels: { route: "orders", budget_ms: "200", severity: "warning" } },
                ],
              },
            ],
            promql_expr_test: [
              {
                expr: `round(${GATEWAY_SERIES.p99}, 0.01)`,
                eval_time: "10m",
                exp_samples: [{ labels: `{route="orders"}`, value: 0.99 }],
              },
            ],
          },
        ],
      }),
    ));

  it("GIVEN the Traefik stack's rules and a route with no 5xx and every request under 100 ms WHEN promtool test rules runs them THEN neither gateway alert fires", () =>
    runPromtool(
      "traefik-quiet",
      rules,
      stringify({
        rule_files: ["rules.yml"],
        evaluation_interval: "15s",
        tests: [
          {
            interval: "15s",
            input_series: [
              ...requests(10, 0),
              ...buckets({ "0.1": 10, "0.3": 10, "1": 10, "+Inf": 10 }),
            ],
            alert_rule_test: [
              { eval_time: "16m", alertname: "GatewayHigh5xxRatio", exp_alerts: [] },
              { eval_time: "16m", alertname: "GatewayRouteLatencyOverBudget", exp_alerts: [] },
            ],
          },
        ],
      }),
    ));
});
