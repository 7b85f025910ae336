/**
 * DOT → SVG (Graphviz compiled to WebAssembly) → PNG (resvg), with no system tools.
 *
 * resvg draws no text without a font, and a PNG with blank labels is worse than an error, so we
 * pick one font file up front, tell Graphviz to name its family in the SVG, and load exactly that
 * file into resvg. Same input, same picture, on any machine that has one usable font.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import * as os from "os";
import * as path from "path";

export interface ReportFont {
  file: string;
  /** `file` plus its bold/italic siblings of the same family, so <B> in labels renders bold. */
  files: string[];
  /** The family name stored in the font (what SVG's font-family must say to select it). */
  family: string;
}

/** Set to a .ttf/.otf file to choose the report font explicitly. */
export const FONT_ENV = "FJORD_REPORT_FONT";

const FONT_DIRS = [
  "/usr/share/fonts",
  "/usr/local/share/fonts",
  path.join(os.homedir(), ".local/share/fonts"),
  path.join(os.homedir(), ".fonts"),
  "/Library/Fonts",
  "/System/Library/Fonts",
  "C:\\Windows\\Fonts",
];

// Plain sans faces first: their widths are close to what Graphviz assumes when it sizes boxes.
const PREFERRED = [
  /^DejaVuSans\.ttf$/i,
  /^LiberationSans-Regular\.ttf$/i,
  /^Arial\.ttf$/i,
  /^NotoSans-Regular\.ttf$/i,
  /^Helvetica\.ttc$/i,
  /^Roboto-Regular\.ttf$/i,
];

function fontFiles(dir: string, depth = 0, out: string[] = []): string[] {
  if (depth > 5 || !existsSync(dir)) return out;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    try {
      if (statSync(p).isDirectory()) fontFiles(p, depth + 1, out);
      else if (/\.(ttf|otf)$/i.test(e)) out.push(p);
    } catch {
      // A dangling symlink or unreadable entry is just not a candidate.
    }
  }
  return out;
}

/**
 * The family name (name ID 1) from a TrueType/OpenType file's `name` table, or undefined when the
 * file is not one we can read. Windows-platform names are UTF-16BE, Mac-platform ones 8-bit.
 */
export function fontFamilyOf(buf: Buffer): string | undefined {
  if (buf.length < 12) return undefined;
  const numTables = buf.readUInt16BE(4);
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + i * 16;
    if (rec + 16 > buf.length) return undefined;
    if (buf.toString("latin1", rec, rec + 4) !== "name") continue;
    const table = buf.readUInt32BE(rec + 8);
    const count = buf.readUInt16BE(table + 2);
    const strings = table + buf.readUInt16BE(table + 4);
    let mac: string | undefined;
    for (let j = 0; j < count; j++) {
      const r = table + 6 + j * 12;
      const platform = buf.readUInt16BE(r);
      const nameId = buf.readUInt16BE(r + 6);
      const len = buf.readUInt16BE(r + 8);
      const start = strings + buf.readUInt16BE(r + 10);
      if (nameId !== 1 || start + len > buf.length) continue;
      if (platform === 3 || platform === 0) {
        const bytes = Buffer.from(buf.subarray(start, start + len));
        return bytes.swap16().toString("utf16le");
      }
      if (platform === 1) mac ??= buf.toString("latin1", start, start + len);
    }
    return mac;
  }
  return undefined;
}

/** The font the report uses; throws with what to install when the machine has none. */
export function findReportFont(
  env: NodeJS.ProcessEnv = process.env,
  dirs: readonly string[] = FONT_DIRS,
): ReportFont {
  const explicit = env[FONT_ENV];
  if (explicit) {
    const family = existsSync(explicit) ? fontFamilyOf(readFileSync(explicit)) : undefined;
    if (!family)
      throw new Error(
        `fjord report: ${FONT_ENV}=${explicit} is not a readable .ttf/.otf font; point it at one, or unset it to search ${FONT_DIRS.join(", ")}`,
      );
    return { file: explicit, family, files: [explicit] };
  }
  const files = dirs.flatMap((d) => fontFiles(d));
  const ranked = [
    ...PREFERRED.flatMap((re) => files.filter((f) => re.test(path.basename(f)))),
    ...files.filter((f) => /sans/i.test(path.basename(f)) && !/bold|italic|oblique|mono/i.test(f)),
    ...files,
  ];
  for (const file of ranked) {
    const family = fontFamilyOf(readFileSync(file));
    if (!family) continue;
    const dir = path.dirname(file);
    const siblings = files.filter(
      (f) => f !== file && path.dirname(f) === dir && fontFamilyOf(readFileSync(f)) === family,
    );
    return { file, family, files: [file, ...siblings] };
  }
  throw new Error(
    [
      "fjord report: no font found, so the PNG would have no text.",
      `  Searched: ${dirs.join(", ")}`,
      "  Install one (Debian/Ubuntu: apt-get install fonts-dejavu-core; Alpine: apk add font-dejavu),",
      `  or set ${FONT_ENV}=/path/to/font.ttf. The SVG does not need it; the PNG does.`,
    ].join("\n"),
  );
}

/** Graphviz layout and SVG output, in-process. */
export async function dotToSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  const result = viz.render(dot, { format: "svg" });
  if (result.status !== "success") {
    const why = result.errors.map((e) => e.message).join("; ");
    throw new Error(`fjord report: Graphviz could not lay out the topology: ${why}`);
  }
  return result.output;
}

/** PNG of an SVG at `scale` (Graphviz points → pixels), drawn with exactly `font`. */
export async function svgToPng(svg: string, font: ReportFont, scale = 1.5): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const resvg = new Resvg(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: font.files,
      defaultFontFamily: font.family,
      sansSerifFamily: font.family,
      serifFamily: font.family,
    },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    logLevel: "off",
  });
  return resvg.render().asPng();
}
