/**
 * Issue #14: every command in README.md and the docs works as written. Each check reads the
 * Markdown and the repository as text (no network, no processes) and lists every bad reference
 * with file:line. The "checker" cases feed a doc with one known-bad reference of each kind, so a
 * check that stopped finding anything would fail there, not pass silently on the real docs.
 */
import { existsSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import {
  anchors,
  commands,
  docFiles,
  gitIgnoredDirs,
  isPlaceholder,
  linkPath,
  links,
  npmRuns,
  pathExists,
  readDoc,
  repoPath,
  ROOT,
  snippets,
  trackedTopDirs,
  where,
  type Command,
  type Doc,
  type Ref,
} from "./docs-refs";

const TOP = trackedTopDirs();
const IGNORED = gitIgnoredDirs();
const read = (file: string): string => readFileSync(path.join(ROOT, file), "utf8");
const PKG_SCRIPTS: Record<string, string> = JSON.parse(read("package.json")).scripts;

/** The sections bench/index.ts registers: the keys of its SECTIONS table. */
function benchSections(): Set<string> {
  const table = /const SECTIONS\b.*= \{\n([\s\S]*?)\n\};/.exec(read("bench/index.ts"));
  if (!table) throw new Error("bench/index.ts: no `const SECTIONS = { … };` table to read");
  return new Set([...table[1]!.matchAll(/^\s*([\w-]+):/gm)].map((m) => m[1]!));
}

/** npm scripts whose first argument is a stack: the operations scripts/stack.sh runs, and report. */
function stackScripts(): Set<string> {
  const ops = [...read("scripts/stack.sh").matchAll(/^\s*(\w+)\)\s*exec pulumi /gm)].map(
    (m) => m[1]!,
  );
  const viaStackSh = Object.entries(PKG_SCRIPTS)
    .filter(([, body]) => ops.some((op) => body === `bash scripts/stack.sh ${op}`))
    .map(([name]) => name);
  // scripts/report.ts reads the Pulumi.<stack>.yaml its one positional argument names.
  const report = /npm run report -- <stack>/.test(read("scripts/report.ts")) ? ["report"] : [];
  return new Set([...viaStackSh, ...report]);
}

const stackExists = (stack: string): boolean => pathExists(`Pulumi.${stack}.yaml`, "README.md");

/** Paths the docs quote from upstream modules, not from this repository (file: path). */
const UPSTREAM = [
  // The kubernetes provider's main package, which the wrapper module copies.
  "engine/README.md: cmd/pulumi-resource-kubernetes/main.go",
];

/** Scripts that hand extra arguments to another program, which is then the one to accept them. */
const FORWARDS: Record<string, RegExp> = {
  "scripts/stack.sh": /exec pulumi .*"\$@"/, // npm run preview -- prod --diff: --diff is pulumi's
  "engine/test.sh": /^go test "\$@"/m, // bash engine/test.sh -run X ./random: go test's
};

/** The fjord script a command runs, and the arguments it gets. */
function invoked(c: Command): { script: string; args: string[] } | undefined {
  const a = c.argv;
  if (a[0] === "npm" && (a[1] === "run" || a[1] === "run-script") && a[2] && a[2] in PKG_SCRIPTS) {
    // Only single-program scripts (`tsx x.ts`, `bash x.sh op`) pass `-- args` straight on.
    const m = /^(?:tsx|bash) (\S+\.(?:ts|sh))(?: \w+)*$/.exec(PKG_SCRIPTS[a[2]]!);
    const dd = a.indexOf("--");
    return m ? { script: m[1]!, args: dd >= 0 ? a.slice(dd + 1) : [] } : undefined;
  }
  const asPath = repoPath(a[0]!, TOP, IGNORED);
  // A path run directly (images/build.sh, .ci/run): a script or an extensionless executable.
  const base = asPath?.includes("/") ? asPath.split("/").pop()! : "";
  const isDir =
    asPath !== undefined &&
    existsSync(path.join(ROOT, asPath)) &&
    statSync(path.join(ROOT, asPath)).isDirectory();
  const direct = base !== "" && !isDir && (base.endsWith(".sh") || !base.includes("."));
  const runner = ["bash", "sh", "source", ".", "tsx", "node"].includes(a[0]!);
  const i = a[0] === "npx" ? (a[1] === "tsx" ? 2 : undefined) : runner ? 1 : direct ? 0 : undefined;
  const script = i === undefined ? undefined : a[i];
  if (!script || isPlaceholder(script) || /^[/~$]/.test(script) || !/[./]/.test(script))
    return undefined;
  if (a[0] === "node" && script.startsWith("-")) return undefined;
  return { script: script.replace(/^\.\//, ""), args: a.slice(i! + 1) };
}

/** Whether a script's own code (comments aside) handles a flag: `"--write"`, `--host)` in a case. */
function handlesFlag(scriptText: string, flag: string): boolean {
  const code = scriptText
    .split("\n")
    .filter((l) => !/^\s*(#|\/\/|\/\*|\*)/.test(l))
    .join("\n");
  const f = flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[\\s"'\`|(])${f}(?=[\\s"'\`|)=]|$)`, "m").test(code);
}

interface Result {
  checked: Ref[];
  bad: string[];
}

const allCommands = (docs: Doc[]): Command[] => docs.flatMap((d) => commands(snippets(d)));

const CHECKS: Record<string, (docs: Doc[]) => Result> = {
  npmScripts(docs) {
    const runs = npmRuns(allCommands(docs));
    const bad = runs.flatMap((r) =>
      r.scripts
        .filter((s) => !(s in PKG_SCRIPTS))
        .map((s) => `${where(r)} (no script "${s}" in package.json)`),
    );
    return { checked: runs, bad };
  },
  benchSections(docs) {
    const known = benchSections();
    const runs = npmRuns(allCommands(docs)).filter(
      (r) => r.scripts.includes("bench") && r.args.length,
    );
    const bad = runs.flatMap((r) =>
      r.args
        .flatMap((a) => a.split("|"))
        .filter((s) => !isPlaceholder(s) && !known.has(s))
        .map(
          (s) =>
            `${where(r)} (bench/index.ts has no section "${s}"; it has ${[...known].join(", ")})`,
        ),
    );
    return { checked: runs, bad };
  },
  stacks(docs) {
    const ops = stackScripts();
    const runs = npmRuns(allCommands(docs)).filter((r) => r.scripts.some((s) => ops.has(s)));
    const bad: string[] = [];
    for (const r of runs) {
      const stack = r.args[0];
      // Inline `npm run report` in prose names the script; typed in a shell block it must run.
      if (stack === undefined || stack.startsWith("-")) {
        if (r.kind === "shell" || stack !== undefined)
          bad.push(`${where(r)} (names no stack; the script refuses to run without one)`);
      } else if (!isPlaceholder(stack) && !stackExists(stack))
        bad.push(`${where(r)} (no Pulumi.${stack}.yaml)`);
    }
    return { checked: runs, bad };
  },
  invokedFiles(docs) {
    const calls = allCommands(docs).flatMap((c) => {
      const inv = invoked(c);
      return inv && !(c.argv[0] === "npm") ? [{ ...c, script: inv.script }] : [];
    });
    const bad = calls
      .filter((c) => !pathExists(c.script, c.file))
      .map((c) => `${where(c)} (no file ${c.script})`);
    return { checked: calls, bad };
  },
  repoPaths(docs) {
    const refs = docs.flatMap((d) =>
      snippets(d).flatMap((s) =>
        s.text
          .split(/\s+/)
          .map((t) => repoPath(t, TOP, IGNORED))
          .filter((p): p is string => p !== undefined)
          .map((p) => ({ file: s.file, line: s.line, text: p })),
      ),
    );
    const bad = refs
      .filter((r) => !pathExists(r.text, r.file) && !UPSTREAM.includes(`${r.file}: ${r.text}`))
      .map((r) => `${where(r)} (not in the repository)`);
    const seen = new Set(refs.map((r) => `${r.file}: ${r.text}`));
    for (const u of UPSTREAM)
      if (docs.some((d) => u.startsWith(`${d.file}:`)) && !seen.has(u))
        bad.push(`${u} is listed in UPSTREAM but no longer in the doc: drop it from the list`);
    return { checked: refs, bad };
  },
  linkTargets(docs) {
    const all = docs.flatMap(links);
    const bad = all
      .filter((l) => l.target !== "" && !pathExists(linkPath(l), "README.md"))
      .map((l) => `${where(l)} (no file ${linkPath(l)})`);
    return { checked: all, bad };
  },
  linkAnchors(docs) {
    const byFile = new Map(docs.map((d) => [d.file, d]));
    const all = docs
      .flatMap(links)
      .filter((l) => l.anchor !== undefined && linkPath(l).endsWith(".md"))
      .filter((l) => byFile.has(linkPath(l)) || pathExists(linkPath(l), "README.md"));
    const bad = all.flatMap((l) => {
      const target = byFile.get(linkPath(l)) ?? readDoc(linkPath(l));
      return anchors(target).has(l.anchor!)
        ? []
        : [`${where(l)} (${linkPath(l)} has no heading #${l.anchor})`];
    });
    return { checked: all, bad };
  },
  scriptFlags(docs) {
    const uses = allCommands(docs).flatMap((c) => {
      const inv = invoked(c);
      if (!inv || !pathExists(inv.script, "README.md") || inv.script in FORWARDS) return [];
      const flags = inv.args.filter((a) => /^--?[A-Za-z]/.test(a)).map((a) => a.split("=")[0]!);
      return flags.map((flag) => ({ ...c, script: inv.script, flag }));
    });
    const bad = uses
      .filter((u) => !handlesFlag(read(u.script), u.flag))
      .map((u) => `${where(u)} (${u.script} does not handle ${u.flag})`);
    // The exemption holds only while the script really hands its arguments on.
    for (const [script, forwarding] of Object.entries(FORWARDS))
      if (!forwarding.test(read(script)))
        bad.push(`${script} no longer forwards "$@" (${forwarding})`);
    return { checked: uses, bad };
  },
};

const DOCS = docFiles().map(readDoc);

describe("GIVEN README.md, docs/*.md and the engine, lib and testkit READMEs", () => {
  const cases: Array<[string, string]> = [
    ["npmScripts", "every `npm run <script>` names a script in package.json"],
    [
      "benchSections",
      "every `npm run bench -- <section>` names a section bench/index.ts registers",
    ],
    [
      "stacks",
      "every `npm run preview|up|destroy|report -- <stack>` names a stack with a Pulumi.<stack>.yaml",
    ],
    ["invokedFiles", "every file run with bash, npx tsx, source or by its path exists"],
    ["repoPaths", "every repository path in inline code or a shell block exists"],
    ["linkTargets", "every relative Markdown link resolves to a file"],
    ["linkAnchors", "every #anchor into a Markdown file names one of its headings"],
    ["scriptFlags", "every flag given to one of fjord's own scripts is handled by that script"],
  ];
  it.each(cases)("WHEN %s is checked THEN %s", (check) => {
    const { checked, bad } = CHECKS[check]!(DOCS);
    expect(
      checked.length,
      `${check} found nothing to check: the extraction is broken`,
    ).toBeGreaterThan(0);
    expect(bad, `${bad.length} bad reference(s):\n${bad.join("\n")}`).toEqual([]);
  });
});

describe("GIVEN a doc with one known-bad reference of each kind", () => {
  const probe: Doc = {
    file: "docs/probe.md",
    text: [
      "# Probe heading",
      "```sh",
      "npm run lint && npm run no-such-script", // 3
      "npm run bench -- db nosuchsection", // 4
      "npm run preview -- nosuchstack --diff", // 5
      "bash scripts/no-such.sh && npx tsx scripts/config-reference.ts --no-such-flag", // 6
      "```",
      "See `components/config/no-such-file.ts` and [gateway](gateway.md#no-such-heading).", // 8
      "And [missing](no-such-page.md), [here](#probe-heading), [ok](../README.md#fjord).", // 9
    ].join("\n"),
  };
  const expected: Record<string, string> = {
    npmScripts:
      'docs/probe.md:3: npm run no-such-script (no script "no-such-script" in package.json)',
    benchSections:
      "docs/probe.md:4: npm run bench -- db nosuchsection (bench/index.ts has no section",
    stacks: "docs/probe.md:5: npm run preview -- nosuchstack --diff (no Pulumi.nosuchstack.yaml)",
    invokedFiles: "docs/probe.md:6: bash scripts/no-such.sh (no file scripts/no-such.sh)",
    repoPaths: "docs/probe.md:6: scripts/no-such.sh (not in the repository)",
    linkTargets: "docs/probe.md:9: no-such-page.md (no file docs/no-such-page.md)",
    linkAnchors:
      "docs/probe.md:8: gateway.md#no-such-heading (docs/gateway.md has no heading #no-such-heading)",
    scriptFlags:
      "docs/probe.md:6: npx tsx scripts/config-reference.ts --no-such-flag (scripts/config-reference.ts does not handle --no-such-flag)",
  };
  it.each(Object.keys(expected))(
    "WHEN %s checks it THEN it reports exactly that reference, with file:line",
    (check) => {
      const { bad } = CHECKS[check]!([probe]);
      const extra =
        check === "repoPaths" ? ["docs/probe.md:8: components/config/no-such-file.ts"] : [];
      expect(bad).toHaveLength(1 + extra.length);
      expect(bad[0]).toContain(expected[check]);
      extra.forEach((e, i) => expect(bad[i + 1]).toContain(e));
    },
  );
});
