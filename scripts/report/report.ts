/**
 * `npm run report -- <stack>`: the latency table and topology picture of one stack, straight
 * from its Pulumi.<stack>.yaml through the same spec the program uses (no engine, no cluster).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
  SECRET_KEYS,
  parseSpec,
  type ParsedSpec,
  type SecretKey,
  type Spec,
} from "../../components/config";
import {
  analyzeRoutes,
  callResidency,
  formatChain,
  formatHop,
  ms,
  type RouteLatency,
  latencyModelFromSpec,
  type LatencyModel,
} from "../../components/plan/latency";
import { topologyDot } from "./dot";
import { dotToSvg, findReportFont, svgToPng, type ReportFont } from "./render";

const PROJECT = "fjord";

/** A report that cannot start (unknown stack, unreadable file); the message says what to do. */
export class ReportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReportError";
  }
}

function stacksIn(root: string): string[] {
  return readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * The stack file's config as the engine would hand it to the program: `fjord:` keys (a bare key
 * belongs to the project, which is fjord), secure values seen only as "set, and secret".
 */
export function loadStackSpec(root: string, stack: string): ParsedSpec {
  const known = stacksIn(root);
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(stack) || !existsSync(file)) {
    throw new ReportError(
      `fjord report: no stack "${stack}": ${path.relative(process.cwd(), file) || file} does not exist. ` +
        `Stacks here: ${known.join(", ") || "none"}. Usage: npm run report -- <stack>`,
    );
  }
  let doc: { config?: Record<string, unknown> } | null;
  try {
    doc = parse(readFileSync(file, "utf8")) as typeof doc;
  } catch (e) {
    throw new ReportError(`fjord report: ${file} is not valid YAML: ${(e as Error).message}`);
  }
  const values: Record<string, unknown> = {};
  const secrets: Partial<Record<SecretKey, { secret: boolean }>> = {};
  for (const [key, value] of Object.entries(doc?.config ?? {})) {
    const [ns, name] = key.includes(":") ? key.split(":", 2) : [PROJECT, key];
    if (ns !== PROJECT || !name) continue;
    if ((SECRET_KEYS as readonly string[]).includes(name)) {
      const secure = value !== null && typeof value === "object" && "secure" in value;
      secrets[name as SecretKey] = { secret: secure };
    } else {
      values[name] = value;
    }
  }
  return parseSpec({ stack, values, secrets, dryRun: true });
}

const pct = (r: RouteLatency): string => `${r.percent.toFixed(1)}%`;

function pad(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => [...r[i]].length)));
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + " ".repeat(widths[i] - [...c].length)))
      .join("  ")
      .trimEnd(),
  );
}

/** The printed report: one row per route, then what the numbers assume. */
export function formatRouteTable(spec: Spec, model: LatencyModel, routes: RouteLatency[]): string {
  const gw = spec.regions[spec.region];
  const out = [
    `fjord latency report · stack ${spec.stack} (${spec.environment}, ${spec.target}) · gateway in ${spec.region}${gw ? ` (${gw.city}, ${gw.jurisdiction})` : ""}`,
    "",
  ];
  if (routes.length === 0) {
    out.push(
      "No service has a route: nothing is reachable through the gateway, so nothing to check.",
    );
  } else {
    const header = ["ROUTE", "CHAIN", "WORST", "BUDGET", "USE", "STATUS", "COSTLIEST HOP"];
    const rows = routes.map((r) => [
      r.path,
      formatChain(r.chain),
      `${ms(r.worstCaseMs)} ms`,
      `${ms(r.budgetMs)} ms`,
      pct(r),
      r.overBudget ? "OVER" : "ok",
      formatHop(r.costliest),
    ]);
    out.push(...pad([header, ...rows]));
  }
  const overrides = Object.entries(model.rtt.overrides);
  out.push(
    "",
    "WORST = gateway→entry RTT + each service's processing budget + its deepest call chain;",
    "sequential fan-out n counts n times, parallel fan-out once. RTT is the worst case per region pair",
    `(docs/latency.md, "Round-trip times"); stack overrides: ${overrides.length ? overrides.map(([k, v]) => `${k}=${v} ms`).join(", ") : "none"}.`,
  );
  const strays = overrides.filter(([k]) => k.split("/").some((region) => !spec.regions[region]));
  if (strays.length > 0)
    out.push(
      `Warning: fjord:latency.rttMs ${strays.map(([k]) => `"${k}"`).join(", ")} names a region this stack does not know; check the spelling.`,
    );
  const over = routes.filter((r) => r.overBudget);
  out.push(
    over.length
      ? `Over budget: ${over.map((r) => `${r.path} (${ms(r.worstCaseMs)} of ${ms(r.budgetMs)} ms)`).join(", ")}.`
      : "Every route fits its budget.",
  );
  const foreign = callResidency(model, spec.allowedJurisdictions);
  out.push(
    foreign.length
      ? `Residency: ${foreign.map((f) => `${f.from} → ${f.to} goes to ${f.toRegion} (${f.jurisdiction ?? "unknown jurisdiction"})`).join("; ")}; allowed: ${spec.allowedJurisdictions.join(", ")}.`
      : `Residency: every synchronous call stays in ${spec.allowedJurisdictions.join(", ")}.`,
  );
  return out.join("\n");
}

export interface ReportOptions {
  /** Repository root holding Pulumi.<stack>.yaml. */
  root: string;
  stack: string;
  /** @default <root>/out/report/<stack> */
  outDir?: string;
  /** @default findReportFont() */
  font?: ReportFont;
}

export interface ReportResult {
  text: string;
  routes: RouteLatency[];
  warnings: string[];
  dot: string;
  svgPath: string;
  pngPath: string;
}

/** Loads, analyses, prints and draws one stack. Throws ReportError, SpecError or LatencyModelError. */
export async function runReport(opts: ReportOptions): Promise<ReportResult> {
  const { spec, warnings } = loadStackSpec(opts.root, opts.stack);
  const model = latencyModelFromSpec(spec);
  const routes = analyzeRoutes(model);
  // Find the font before any work is written, so a fontless machine fails cleanly.
  const font = opts.font ?? findReportFont();
  const dot = topologyDot(spec, model, routes, { fontFamily: font.family });
  const svg = await dotToSvg(dot);
  const png = await svgToPng(svg, font);
  const outDir = opts.outDir ?? path.join(opts.root, "out", "report", opts.stack);
  mkdirSync(outDir, { recursive: true });
  const svgPath = path.join(outDir, "topology.svg");
  const pngPath = path.join(outDir, "topology.png");
  writeFileSync(svgPath, svg);
  writeFileSync(pngPath, png);
  return { text: formatRouteTable(spec, model, routes), routes, warnings, dot, svgPath, pngPath };
}
