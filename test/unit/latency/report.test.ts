import { execFile } from "child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { afterAll, describe, expect, it } from "vitest";
import { SpecError } from "../../../components/config";
import { analyzeRoutes, latencyModelFromSpec } from "../../../components/plan/latency";
import {
  ReportError,
  formatRouteTable,
  loadStackSpec,
  runReport,
} from "../../../scripts/report/report";
import { topologyDot } from "../../../scripts/report/dot";
import { budget, specWith, unchecked } from "./fixtures";
import { FONT_ENV, findReportFont, fontFamilyOf } from "../../../scripts/report/render";

const ROOT = path.resolve(__dirname, "../../..");
const tmp = mkdtempSync(path.join(os.tmpdir(), "fjord-report-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.each(["dev", "prod"])("npm run report -- %s", (stack) => {
  it("GIVEN the stack's file WHEN the report runs THEN it prints every route and writes a non-empty SVG and PNG naming every service, database and node", async () => {
    const { spec } = loadStackSpec(ROOT, stack);
    const result = await runReport({ root: ROOT, stack, outDir: path.join(tmp, stack) });
    for (const s of spec.services.filter((x) => x.route))
      expect(result.text).toContain(s.route!.path);
    expect(result.text).toMatch(/ROUTE +CHAIN +WORST +BUDGET +USE +STATUS +COSTLIEST HOP/);

    // Graphviz writes some characters as numeric entities ("-" is &#45;).
    const svg = readFileSync(result.svgPath, "utf8").replace(/&#(\d+);/g, (_, n: string) =>
      String.fromCharCode(Number(n)),
    );
    expect(svg).toMatch(/^<\?xml|^<svg/);
    for (const s of spec.services) {
      expect(svg, s.name).toContain(`>${s.name}<`);
      if (s.database) expect(svg).toContain(`>${s.name}-db<`);
    }
    for (const n of spec.nodes) expect(svg).toContain(`>${n.name}<`);

    const png = readFileSync(result.pngPath);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    // Width and height from the IHDR chunk: a real picture, not a blank stub.
    expect(png.readUInt32BE(16)).toBeGreaterThan(800);
    expect(png.readUInt32BE(20)).toBeGreaterThan(300);
    expect(statSync(result.pngPath).size).toBeGreaterThan(20_000);
  });
});

describe("report contents", () => {
  // What the report draws, the config refuses (over budget, outside NO): edited after validation.
  const spec = unchecked(
    specWith(
      [
        { name: "api", route: { path: "/api/", budgetMs: 200 }, calls: ["far", "near"] },
        { name: "far", region: "us-east1" },
        { name: "near" },
      ],
      { allowedJurisdictions: ["NO", "US"], latency: { rttMs: { "no-osl1/no-osl9": 3 } } },
    ),
    (s) => {
      budget("/api/", 100)(s);
      s.allowedJurisdictions = ["NO"];
    },
  );
  const model = latencyModelFromSpec(spec);
  const routes = analyzeRoutes(model);

  it("GIVEN a route over budget with a call outside the allowed jurisdictions WHEN the topology is drawn THEN the over-budget chain is red and the call is marked as not allowed", () => {
    const dot = topologyDot(spec, model, routes, { fontFamily: "DejaVu Sans" });
    const edge = (from: string, to: string) =>
      dot.split("\n").find((l) => l.includes(`"${from}" -> "${to}"`)) ?? "";
    expect(edge("gateway", "svc:api")).toContain('color="#c62828"');
    expect(edge("svc:api", "svc:far")).toContain('color="#c62828"');
    expect(edge("svc:api", "svc:far")).toContain("US not allowed");
    expect(edge("svc:api", "svc:near")).not.toContain("#c62828");
    expect(dot).toContain("1 route over budget");
  });

  it("GIVEN a route over budget, a call outside the allowed jurisdictions and an override naming an unknown region WHEN the table is printed THEN it gives the verdict, the residency finding and a warning about the key", () => {
    const text = formatRouteTable(spec, model, routes);
    expect(text).toContain("Over budget: /api/ (152 of 100 ms)."); // 2 + 20 + 110 + 20
    expect(text).toContain("Residency: api → far goes to us-east1 (US); allowed: NO.");
    expect(text).toContain('Warning: fjord:latency.rttMs "no-osl1/no-osl9" names a region');
  });
});

describe("docs/latency.md", () => {
  it("GIVEN the prod stack WHEN its route table is printed THEN docs/latency.md shows every route line as printed today", async () => {
    const { spec } = loadStackSpec(ROOT, "prod");
    const model = latencyModelFromSpec(spec);
    const text = formatRouteTable(spec, model, analyzeRoutes(model));
    const doc = readFileSync(path.join(ROOT, "docs/latency.md"), "utf8");
    for (const line of text.split("\n").filter((l) => l.startsWith("/")))
      expect(doc).toContain(line);
  });
});

describe("report inputs", () => {
  it("GIVEN an unknown stack name, or a path WHEN the report loads it THEN both are refused, the unknown name with the known stacks", () => {
    expect(() => loadStackSpec(ROOT, "staging")).toThrow(ReportError);
    expect(() => loadStackSpec(ROOT, "staging")).toThrow(
      /no stack "staging".*Stacks here: .*dev.*prod/,
    );
    expect(() => loadStackSpec(ROOT, "../etc/passwd")).toThrow(ReportError);
  });

  it("GIVEN a stack file with a call cycle WHEN the report loads it THEN it fails with the spec's own error", () => {
    const root = mkdtempSync(path.join(tmp, "bad-"));
    writeFileSync(
      path.join(root, "Pulumi.broken.yaml"),
      [
        "config:",
        "  fjord:environment: prod",
        "  fjord:target: kubernetes",
        "  fjord:cluster: { mode: render }",
        "  fjord:gateway: { domains: [api.example.no] }",
        "  fjord:services:",
        "    - { name: a, image: r.example.no/a:1.0.0, calls: [b], route: { path: /a/ },",
        "        resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 200m, memory: 64Mi } } }",
        "    - { name: b, image: r.example.no/b:1.0.0, calls: [a],",
        "        resources: { requests: { cpu: 100m, memory: 64Mi }, limits: { cpu: 200m, memory: 64Mi } } }",
      ].join("\n"),
    );
    expect(() => loadStackSpec(root, "broken")).toThrow(SpecError);
    expect(() => loadStackSpec(root, "broken")).toThrow("synchronous call cycle a → b → a");
  });

  it("GIVEN an unknown stack WHEN the CLI runs THEN it exits 1 with the error and no stack trace", async () => {
    const tsx = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");
    const run = promisify(execFile)(process.execPath, [tsx, "scripts/report.ts", "nosuch"], {
      cwd: ROOT,
    });
    const err = await run.then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr.trim()).toMatch(/^fjord report: no stack "nosuch"/);
    expect(err?.stderr).not.toContain("    at ");
  });
});

describe("report font", () => {
  it("GIVEN the font the report finds WHEN its file is read THEN the family name is the one found, and the file is the first of its files", () => {
    const font = findReportFont({});
    expect(fontFamilyOf(readFileSync(font.file))).toBe(font.family);
    expect(font.files[0]).toBe(font.file);
  });

  it("GIVEN no font on the machine, or FJORD_REPORT_FONT naming a missing file WHEN the font is looked up THEN it is refused, explaining what to install or set", () => {
    expect(() => findReportFont({}, [path.join(tmp, "no-fonts-here")])).toThrow(
      /no font found, so the PNG would have no text[\s\S]*fonts-dejavu-core[\s\S]*FJORD_REPORT_FONT/,
    );
    expect(() => findReportFont({ [FONT_ENV]: path.join(tmp, "missing.ttf") })).toThrow(
      /is not a readable/,
    );
  });
});
