/**
 * What a reader of fjord's docs would type or follow, pulled out of the Markdown as text: the
 * commands in shell fences and inline code, the repository paths they name, and the relative
 * links. docs.test.ts checks each against the repository; nothing here runs or fetches anything.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";

export const ROOT = path.resolve(__dirname, "../../..");

/** A Markdown file, by its path relative to the repository root. */
export interface Doc {
  file: string;
  text: string;
}

/** One reference found in a doc, with where it was found. */
export interface Ref {
  file: string;
  line: number;
  /** What the reader sees, e.g. "npm run bench -- db" or "docs/gateway.md#behaviour-tests". */
  text: string;
}

export const where = (r: Ref): string => `${r.file}:${r.line}: ${r.text}`;

export function readDoc(file: string): Doc {
  return { file, text: readFileSync(path.join(ROOT, file), "utf8") };
}

/** README.md, docs/*.md and the module READMEs: the pages the task calls "the docs". */
export function docFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs, "engine/README.md", "lib/README.md", "testkit/README.md"];
}

const SHELL_FENCES = new Set(["sh", "bash", "shell", "console", "zsh"]);
const FENCE = /^\s*(`{3,}|~{3,})\s*([\w-]*)/;
const CODE_SPAN = /(`+)(.+?)\1/g;

/** A piece of code a reader could type: one line of a shell fence, or one inline code span. */
export interface Snippet extends Ref {
  kind: "shell" | "inline";
}

interface Line {
  line: number;
  text: string;
  fence: string | undefined;
}

/** Each line with the language of the fence it is in (undefined outside fences; "" for a bare fence). */
function lines(doc: Doc): Line[] {
  const out: Line[] = [];
  let fence: { marker: string; lang: string } | undefined;
  doc.text.split("\n").forEach((text, i) => {
    const m = FENCE.exec(text);
    if (m && !fence) fence = { marker: m[1]!, lang: m[2]!.toLowerCase() };
    else if (m && fence && m[1]!.startsWith(fence.marker[0]!) && m[2] === "") fence = undefined;
    else out.push({ line: i + 1, text, fence: fence?.lang });
  });
  return out;
}

export function snippets(doc: Doc): Snippet[] {
  const out: Snippet[] = [];
  for (const l of lines(doc)) {
    if (l.fence === undefined) {
      for (const m of l.text.matchAll(CODE_SPAN))
        out.push({ file: doc.file, line: l.line, text: m[2]!.trim(), kind: "inline" });
    } else if (SHELL_FENCES.has(l.fence)) {
      // "$ " is a prompt in console blocks; a " # …" tail is a comment, not part of the command.
      const text = l.text
        .replace(/^\s*\$\s/, "")
        .replace(/(^|\s)#.*$/, "")
        .trim();
      if (text) out.push({ file: doc.file, line: l.line, text, kind: "shell" });
    }
  }
  return out;
}

/** A snippet split into simple commands (at &&, ||, ; and pipes), each as whitespace tokens. */
export interface Command extends Ref {
  argv: string[];
  kind: Snippet["kind"];
}

export function commands(snips: Snippet[]): Command[] {
  const out: Command[] = [];
  for (const s of snips) {
    // A pipe needs spaces around it: "gateway|db|scaling" is a list of alternatives, not a pipe.
    for (const part of s.text.split(/&&|\|\||;|\s\|\s/)) {
      const argv = part.trim().split(/\s+/).filter(Boolean);
      // Leading VAR=value assignments and sudo do not change which program runs.
      while (argv.length && (/^[A-Z_][A-Z0-9_]*=/.test(argv[0]!) || argv[0] === "sudo"))
        argv.shift();
      if (argv.length)
        out.push({ file: s.file, line: s.line, text: part.trim(), argv, kind: s.kind });
    }
  }
  return out;
}

/** A placeholder such as <stack>, vX.Y.Z, or an elision, stands for whatever the reader fills in. */
export const isPlaceholder = (t: string): boolean => /[<>…]|\.\.\.|\bvX\b/.test(t);

/** `npm run <script> [-- args]` (and `npm test`): the script names (a|b for alternatives) and args. */
export interface NpmRun extends Command {
  scripts: string[];
  args: string[];
}

export function npmRuns(cmds: Command[]): NpmRun[] {
  const out: NpmRun[] = [];
  for (const c of cmds) {
    const [npm, verb, name, ...rest] = c.argv;
    if (npm !== "npm") continue;
    if (verb === "test") {
      out.push({ ...c, scripts: ["test"], args: [] });
    } else if ((verb === "run" || verb === "run-script") && name && !isPlaceholder(name)) {
      const dd = rest.indexOf("--");
      out.push({ ...c, scripts: name.split("|"), args: dd >= 0 ? rest.slice(dd + 1) : [] });
    }
  }
  return out;
}

/** Top-level directories the repository tracks (git-ignored output directories excluded). */
export function trackedTopDirs(): Set<string> {
  const ignored = gitIgnoredDirs();
  return new Set(
    readdirSync(ROOT).filter(
      (d) =>
        d !== ".git" &&
        !ignored.has(d) &&
        d !== "node_modules" &&
        statSync(path.join(ROOT, d)).isDirectory(),
    ),
  );
}

/** Directories .gitignore names (`out/`, `.tools/`…): paths under them are made, not committed. */
export function gitIgnoredDirs(): Set<string> {
  return new Set(
    readFileSync(path.join(ROOT, ".gitignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^[\w.-]+\/$/.test(l))
      .map((l) => l.slice(0, -1)),
  );
}

// Files a reader finds at the top of the repository or beside a module README.
const TOP_LEVEL_FILE =
  /^(?:[A-Z][A-Z0-9-]*\.md|Pulumi(?:\.[\w-]+)?\.yaml|package(?:-lock)?\.json|tsconfig\.json|[\w-]+\.config\.(?:ts|mjs))$/;

/** Strips what surrounds a path in prose or a command: brackets, quotes, `--flag=`. */
function bare(token: string): string {
  return token
    .replace(/^--?[\w-]+=/, "")
    .replace(/^[("'[]+/, "")
    .replace(/[)"',.;:\]]+$/, "")
    .replace(/^\.\//, "");
}

/**
 * Whether a token is meant as a path in this repository: it contains a `/` and ends in an
 * extension, or starts with a tracked top-level directory, or is a top-level file's name.
 * URLs, absolute and home paths, module paths (github.com/…), image refs (a:tag), variables and
 * placeholders are not; neither is anything under a git-ignored directory (made at run time).
 */
export function repoPath(
  token: string,
  topDirs: Set<string>,
  ignored: Set<string>,
): string | undefined {
  const p = bare(token);
  if (!p || /^[/~$-]|:\/\/|[:=@{}$]/.test(p) || isPlaceholder(p)) return undefined;
  const [first] = p.split("/");
  if (ignored.has(first!) || ignored.has(p)) return undefined;
  if (!p.includes("/")) return TOP_LEVEL_FILE.test(p) ? p : undefined;
  if (/^[^.]+\.[^/]+\//.test(p)) return undefined; // a host or module path: registry.example.no/…
  if (/\.[A-Za-z][A-Za-z0-9]*$/.test(p) || topDirs.has(first!)) return p;
  return undefined;
}

/** Whether a path exists from the repository root or from the doc's own folder; `*` globs one segment. */
export function pathExists(p: string, docFile: string): boolean {
  return [ROOT, path.join(ROOT, path.dirname(docFile))].some((base) => {
    if (!p.includes("*")) return existsSync(path.join(base, p));
    const dir = path.join(base, path.dirname(p));
    const re = new RegExp(
      `^${path
        .basename(p)
        .replace(/[.+?^()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")}$`,
    );
    return existsSync(dir) && readdirSync(dir).some((f) => re.test(f));
  });
}

/** A relative Markdown link or image, split into its path (may be "") and anchor. */
export interface Link extends Ref {
  target: string;
  anchor: string | undefined;
}

const LINK = /!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g;

export function links(doc: Doc): Link[] {
  const out: Link[] = [];
  for (const l of lines(doc)) {
    if (l.fence !== undefined) continue;
    for (const m of l.text.replace(CODE_SPAN, "").matchAll(LINK)) {
      const href = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto:
      const [target, anchor] = href.split("#") as [string, string | undefined];
      out.push({ file: doc.file, line: l.line, text: href, target, anchor });
    }
  }
  return out;
}

/** The repository path a link points at: relative to the doc, or to the root when it starts with "/". */
export function linkPath(link: Link): string {
  if (link.target === "") return link.file;
  if (link.target.startsWith("/")) return link.target.slice(1);
  return path.normalize(path.join(path.dirname(link.file), decodeURI(link.target)));
}

/** GitHub's heading anchor: lowercase, punctuation dropped (but - and _), each space a -. */
export function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}_ -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown file offers: heading slugs (repeats get -1, -2…) and <a name/id>. */
export function anchors(doc: Doc): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const l of lines(doc)) {
    if (l.fence !== undefined) continue;
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l.text);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.add(n ? `${base}-${n}` : base);
    }
    for (const a of l.text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(a[1]!);
  }
  return out;
}
