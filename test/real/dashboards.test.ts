/**
 * The rendered Grafana dashboards: schema-level checks of the JSON Grafana loads (uid, title,
 * unique panel ids, non-overlapping gridPos, targets with refIds), every data-source UID among
 * the provisioned ones, and every PromQL query parsed by promtool. Debian's promtool (2.42) has
 * no `promql` command, so the queries become recording rules that `promtool check rules` parses.
 * Grafana itself is not packaged for Debian; LogQL queries get a structural check only.
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  BACKUP_METRICS,
  provisionedDatasourceUids,
  renderDashboards,
  renderGrafanaProvisioning,
  type GrafanaProvisioningInput,
  type ObservabilityModel,
} from "../../components/plan/observability";
import { ensurePrometheus, promtool } from "../../testkit/prometheus";
import { stackModel } from "../unit/plan/observability-fixtures";

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}

const PROVISIONING: GrafanaProvisioningInput = {
  prometheusUrl: "http://prometheus.fjord-system.svc.cluster.local:9090",
  lokiUrl: "http://loki.fjord-system.svc.cluster.local:3100",
  alertmanagerUrl: "http://alertmanager.fjord-system.svc.cluster.local:9093",
};

const STACKS: Array<[string, ObservabilityModel]> = [
  ["nginx", stackModel("prod")],
  ["traefik", stackModel("prod", { gateway: { kind: "traefik", domains: ["api.example.no"] } })],
];

/** Grafana's template variables, replaced by values PromQL can parse. */
function substitute(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$__interval|\$__range/g, "5m")
    .replace(/\$\{?(instance|service)(:[a-z]+)?\}?/g, ".*");
}

let dir: string;
beforeAll(() => {
  ensurePrometheus();
  dir = mkdtempSync(path.join(tmpdir(), "fjord-dashboards-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const [kind, model] of STACKS) {
  describe(`dashboards (${kind} gateway)`, () => {
    const files = renderDashboards(model);
    const dashboards = Object.entries(files).map(
      ([file, text]) => [file, JSON.parse(text)] as const,
    );
    const datasources = parse(
      renderGrafanaProvisioning(PROVISIONING)["datasources.yaml"],
    ).datasources;
    const uids = new Set<string>(datasources.map((d: any) => d.uid));

    it("GIVEN the prod stack WHEN its dashboards are rendered THEN they are the node, gateway, services and databases dashboards, one read-only file per uid", () => {
      expect(Object.keys(files).sort()).toEqual([
        "fjord-databases.json",
        "fjord-gateway.json",
        "fjord-nodes.json",
        "fjord-services.json",
      ]);
      for (const [file, d] of dashboards) {
        expect(file).toBe(`${d.uid}.json`);
        expect(d.uid.length, file).toBeLessThanOrEqual(40);
        expect(d.title, file).toMatch(/^fjord \/ /);
        expect(d.editable, file).toBe(false);
      }
      expect(provisionedDatasourceUids(PROVISIONING).sort()).toEqual([...uids].sort());
    });

    it("GIVEN the rendered dashboards WHEN each panel's id and gridPos are read THEN the ids are unique and every panel lies inside 24 columns without overlapping another", () => {
      for (const [file, d] of dashboards) {
        const panels = d.panels as Panel[];
        expect(panels.length, file).toBeGreaterThan(1);
        const ids = panels.map((p) => p.id);
        expect(new Set(ids).size, `${file} panel ids`).toBe(ids.length);
        const cells = new Set<string>();
        for (const p of panels) {
          const g = p.gridPos;
          expect([g.x, g.y, g.w, g.h].every(Number.isInteger), `${file} ${p.title}`).toBe(true);
          expect(g.w > 0 && g.h > 0 && g.x >= 0 && g.x + g.w <= 24, `${file} ${p.title}`).toBe(
            true,
          );
          for (let x = g.x; x < g.x + g.w; x++) {
            for (let y = g.y; y < g.y + g.h; y++) {
              expect(cells.has(`${x},${y}`), `${file} ${p.title} overlaps at ${x},${y}`).toBe(
                false,
              );
              cells.add(`${x},${y}`);
            }
          }
        }
      }
    });

    it("GIVEN the rendered dashboards and the provisioned data sources WHEN every panel, query and variable is read THEN each points at a provisioned data source", () => {
      for (const [file, d] of dashboards) {
        for (const p of (d.panels as Panel[]).filter((x) => x.type !== "row")) {
          const where = `${file} "${p.title}"`;
          expect(["timeseries", "logs", "stat"], where).toContain(p.type);
          expect(uids.has(p.datasource?.uid ?? ""), `${where} panel data source`).toBe(true);
          expect(p.targets?.length, where).toBeGreaterThan(0);
          const refIds = p.targets!.map((t) => t.refId);
          expect(new Set(refIds).size, `${where} refIds`).toBe(refIds.length);
          for (const t of p.targets!) {
            expect(t.refId, where).toMatch(/^[A-Z]$/);
            expect(uids.has(t.datasource?.uid ?? ""), `${where} target data source`).toBe(true);
            expect(t.expr, where).toBeTruthy();
            if (t.datasource!.type === "loki") {
              // LogQL: a stream selector with at least one matcher that cannot match empty.
              expect(t.expr, where).toMatch(/^\{[a-z_]+(=~?)"[^"]*[^"*]"/);
            }
          }
        }
        for (const v of d.templating?.list ?? []) {
          expect(uids.has(v.datasource?.uid), `${file} variable ${v.name}`).toBe(true);
        }
      }
    });

    it("GIVEN the rendered databases dashboard WHEN its Backups row is read THEN it shows each database's backup age against its limit, and the backup's size", () => {
      const d = dashboards.find(([file]) => file === "fjord-databases.json")![1];
      const panels = d.panels as Panel[];
      const backups = panels.findIndex((p) => p.type === "row" && p.title === "Backups");
      expect(backups).toBeGreaterThan(0);
      const [age, size] = panels.slice(backups + 1, backups + 3);
      expect(age.title).toBe("Age of the newest backup");
      expect(age.targets!.map((t) => t.expr)).toEqual([
        `time() - max by (service, database) (${BACKUP_METRICS.lastSuccess}{service=~"$service"} > 0)`,
        `max by (service, database) (${BACKUP_METRICS.maxAge}{service=~"$service"})`,
      ]);
      expect(size.title).toBe("Size of the newest backup");
      expect(size.targets!.map((t) => t.expr)).toEqual([
        `max by (service, database) (${BACKUP_METRICS.lastSize}{service=~"$service"})`,
      ]);
      expect((age as any).fieldConfig.defaults.unit).toBe("s");
      expect((size as any).fieldConfig.defaults.unit).toBe("bytes");
    });

    it("GIVEN every Prometheus query and variable query of the rendered dashboards, with Grafana's variables substituted, WHEN promtool check rules parses them THEN it accepts every one", async () => {
      const queries: Array<{ where: string; expr: string }> = [];
      for (const [file, d] of dashboards) {
        for (const p of d.panels as Panel[]) {
          for (const t of p.targets ?? []) {
            if (t.datasource?.type === "prometheus")
              queries.push({ where: `${file} "${p.title}" ${t.refId}`, expr: substitute(t.expr!) });
          }
        }
        for (const v of d.templating?.list ?? []) {
          const m = /^label_values\((.+), *[a-z_]+\)$/.exec(v.query);
          expect(m, `${file} variable ${v.name} query ${v.query}`).not.toBeNull();
          queries.push({ where: `${file} variable ${v.name}`, expr: m![1] });
        }
      }
      const rules = {
        groups: [
          {
            name: "dashboard-queries",
            rules: queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: q.expr })),
          },
        ],
      };
      const file = path.join(dir, `queries-${kind}.yml`);
      writeFileSync(file, stringify(rules, { lineWidth: 0 }));
      const r = await promtool(["check", "rules", file]);
      const failed = [...`${r.stdout}${r.stderr}`.matchAll(/query_(\d+)/g)].map(
        (m) => queries[Number(m[1])],
      );
      expect(r.code, `${r.stdout}${r.stderr}\n${JSON.stringify(failed, null, 2)}`).toBe(0);
      expect(r.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
    });
  });
}
