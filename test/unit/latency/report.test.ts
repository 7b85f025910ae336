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
  it("prints every route and writes a non-empty SVG and PNG naming every service", async () => {
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

  it("draws the over-budget chain in red and marks calls leaving the allowed jurisdictions", () => {
    const dot = topologyDot(spec, model, routes, { fontFamily: "DejaVu Sans" });
    const edge = (from: string, to: string) =>
      dot.split("\n").find((l) => l.includes(`"${from}" -> "${to}"`)) ?? "";
    expect(edge("gateway", "svc:api")).toContain('color="#c62828"');
    expect(edge("svc:api", "svc:far")).toContain('color="#c62828"');
    expect(edge("svc:api", "svc:far")).toContain("US not allowed");
    expect(edge("svc:api", "svc:near")).not.toContain("#c62828");
    expect(dot).toContain("1 route over budget");
  });

  it("prints the verdict, residency findings and override keys naming unknown regions", () => {
    const text = formatRouteTable(spec, model, routes);
    expect(text).toContain("Over budget: /api/ (152 of 100 ms)."); // 2 + 20 + 110 + 20
    expect(text).toContain("Residency: api → far goes to us-east1 (US); allowed: NO.");
    expect(text).toContain('Warning: fjord:latency.rttMs "no-osl1/no-osl9" names a region');
  });
});

describe("docs/latency.md", () => {
  it("shows the prod table as the report prints it today", async () => {
    const { spec } = loadStackSpec(ROOT, "prod");
    const model = latencyModelFromSpec(spec);
    const text = formatRouteTable(spec, model, analyzeRoutes(model));
    const doc = readFileSync(path.join(ROOT, "docs/latency.md"), "utf8");
    for (const line of text.split("\n").filter((l) => l.startsWith("/")))
      expect(doc).toContain(line);
  });
});

describe("report inputs", () => {
  it("names the known stacks when the stack does not exist", () => {
    expect(() => loadStackSpec(ROOT, "staging")).toThrow(ReportError);
    expect(() => loadStackSpec(ROOT, "staging")).toThrow(
      /no stack "staging".*Stacks here: .*dev.*prod/,
    );
    expect(() => loadStackSpec(ROOT, "../etc/passwd")).toThrow(ReportError);
  });

  it("fails with the spec's own error for a bad config", () => {
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

  it("prints the error, not a stack trace, from the CLI", async () => {
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
  it("reads the family name out of the font file", () => {
    const font = findReportFont({});
    expect(fontFamilyOf(readFileSync(font.file))).toBe(font.family);
    expect(font.files[0]).toBe(font.file);
  });

  it("explains what to install when the machine has no font", () => {
    expect(() => findReportFont({}, [path.join(tmp, "no-fonts-here")])).toThrow(
      /no font found, so the PNG would have no text[\s\S]*fonts-dejavu-core[\s\S]*FJORD_REPORT_FONT/,
    );
    expect(() => findReportFont({ [FONT_ENV]: path.join(tmp, "missing.ttf") })).toThrow(
      /is not a readable/,
    );
  });
});
