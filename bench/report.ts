/**
 * Bench results and BENCHMARKS.md. Each section owns one marked block of the file, so
 * `npm run bench -- db` replaces only the database block; the summary table at the top is rebuilt
 * from the data line every block carries.
 */
import { existsSync, readFileSync, writeFileSync } from "fs";

export interface Ratio {
  /** What is compared, e.g. "rendered / hand-tuned keepalive (HTTP rps)". */
  name: string;
  value: number;
  /** Lower bound the ratio must reach; undefined for figures reported without a goal. */
  goal?: number;
  /** For goals that are upper bounds (latencies): value must stay below. */
  goalMax?: number;
  unit?: string;
  /** Why it came out like this, mandatory when the goal is missed. */
  note?: string;
}

export interface SectionResult {
  section: string;
  title: string;
  /** Start of the `npm run bench` invocation: sections sharing it were measured in one run. */
  runId: string;
  startedAt: string;
  durationS: number;
  machine: string;
  ratios: Ratio[];
  /** Markdown body: method, commands, raw numbers. */
  body: string;
}

export function met(r: Ratio): boolean | undefined {
  if (r.goal !== undefined) return r.value >= r.goal;
  if (r.goalMax !== undefined) return r.value < r.goalMax;
  return undefined;
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  return n.toFixed(digits);
}

function goalText(r: Ratio): string {
  const u = r.unit ?? "×";
  if (r.goal !== undefined) return `≥ ${r.goal}${u}`;
  if (r.goalMax !== undefined) return `< ${r.goalMax}${u === "×" ? "×" : ` ${u}`}`;
  return "—";
}

function verdict(r: Ratio): string {
  const m = met(r);
  return m === undefined ? "reported" : m ? "met" : "**MISSED**";
}

export function ratioTable(ratios: Ratio[]): string {
  const rows = ratios.map((r) => {
    const u = r.unit ?? "×";
    const v = u === "×" ? `${fmt(r.value)}×` : `${fmt(r.value)} ${u}`;
    return `| ${r.name} | ${v} | ${goalText(r)} | ${verdict(r)} | ${r.note ?? ""} |`;
  });
  return [
    "| figure | measured | goal | verdict | why / note |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** A markdown table from rows of cells. */
export function table(head: string[], rows: Array<Array<string | number>>): string {
  const cell = (c: string | number) =>
    typeof c !== "number" ? c : Number.isInteger(c) ? c.toLocaleString("en-US") : fmt(c);
  return [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const ORDER = ["gateway", "db", "scaling", "policy", "cluster", "endpoints", "backups"];
const begin = (s: string) => `<!-- bench:${s} -->`;
const end = (s: string) => `<!-- /bench:${s} -->`;
const DATA = /^<!-- data (.*) -->$/m;

function block(r: SectionResult): string {
  const data = JSON.stringify({
    section: r.section,
    title: r.title,
    runId: r.runId,
    startedAt: r.startedAt,
    ratios: r.ratios,
  });
  return [
    begin(r.section),
    `<!-- data ${data.replace(/--/g, "\\u002d\\u002d")} -->`,
    `## ${r.title}`,
    "",
    `Run ${r.startedAt} (${Math.round(r.durationS)} s) on: ${r.machine}`,
    "",
    ratioTable(r.ratios),
    "",
    r.body.trim(),
    end(r.section),
  ].join("\n");
}

function blocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of ORDER) {
    const a = text.indexOf(begin(s));
    const b = text.indexOf(end(s));
    if (a >= 0 && b > a) out.set(s, text.slice(a, b + end(s).length));
  }
  return out;
}

/** Rewrites BENCHMARKS.md with the new sections, keeping the blocks of sections not run now. */
export function writeBenchmarks(file: string, results: SectionResult[], header: string): void {
  const old = existsSync(file) ? blocks(readFileSync(file, "utf8")) : new Map<string, string>();
  for (const r of results) old.set(r.section, block(r));
  // A section missing from ORDER goes last rather than being dropped with its whole run.
  const names = [...ORDER, ...[...old.keys()].filter((s) => !ORDER.includes(s))];
  const ordered = names.filter((s) => old.has(s)).map((s) => old.get(s)!);
  const summary: Array<{ section: string; runId: string; r: Ratio }> = [];
  for (const b of ordered) {
    const m = DATA.exec(b);
    if (!m) continue;
    const d = JSON.parse(m[1]!) as {
      section: string;
      runId?: string;
      startedAt: string;
      ratios: Ratio[];
    };
    for (const r of d.ratios)
      summary.push({ section: d.section, runId: d.runId ?? d.startedAt, r });
  }
  const runs = [...new Set(summary.map((s) => s.runId))];
  const missed = summary.filter((s) => met(s.r) === false);
  const text = [
    "# fjord benchmarks",
    "",
    "Written by `npm run bench` (bench/). Every figure is a ratio between configurations",
    "measured in the same run on the same machine; absolute numbers are in each section's raw table.",
    runs.length > 1
      ? `Sections come from ${runs.length} separate runs (${runs.join(", ")}): compare ratios within a section only.`
      : `All sections below come from one run, started ${runs[0] ?? "?"}.`,
    "",
    header.trim(),
    "",
    "## Summary",
    "",
    ratioTable(summary.map((s) => ({ ...s.r, name: `${s.section}: ${s.r.name}` }))),
    "",
    missed.length
      ? [
          `**Goals missed: ${missed.length}** (reasons in each row's note and in the section):`,
          "",
          ...missed.map(
            (m) =>
              `- ${m.section}: ${m.r.name}: ${fmt(m.r.value)}${m.r.unit ?? "×"}, goal ${goalText(m.r)}`,
          ),
        ].join("\n")
      : "Every goal with a measured figure was met.",
    "",
    ...ordered.flatMap((b) => [b, ""]),
  ].join("\n");
  writeFileSync(file, text);
}
