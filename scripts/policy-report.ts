/**
 * Turns the engine's streaming JSON preview output (PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true
 * `pulumi preview --json`) into SARIF 2.1.0 for code scanning, JUnit XML for CI test reports, and
 * a plain-text summary. Policy violations come from `policyEvent`s; passes from the per-resource
 * and per-stack policy summary events, so JUnit counts what was checked, not only what failed.
 *
 *   tsx scripts/policy-report.ts --out out/policy [--expect noncompliant=expected.json] \
 *     dev=out/policy/dev.jsonl[:Pulumi.dev.yaml] prod=out/policy/prod.jsonl[:Pulumi.prod.yaml] ...
 *
 * With --expect, exits 1 unless that run's mandatory violations are exactly the listed
 * {policy, resource} pairs; otherwise exits 1 when any run has a mandatory violation or failed.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export interface Violation {
  policy: string;
  pack: string;
  version: string;
  level: string;
  severity: string;
  message: string;
  urn: string;
}

export interface Run {
  label: string;
  /** File the findings are attributed to in SARIF (the stack config or the program). */
  artifact: string;
  violations: Violation[];
  /** policy → resource URNs (or "stack") it passed on. */
  passed: Map<string, Set<string>>;
  errors: string[];
  result: string;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** Parses one streaming-JSON output; lines that are not JSON objects are ignored. */
export function parseRun(label: string, text: string, artifact = "Pulumi.yaml"): Run {
  const run: Run = {
    label,
    artifact,
    violations: [],
    passed: new Map(),
    errors: [],
    result: "unknown",
  };
  for (const line of text.split(/\r?\n/)) {
    let ev: Json;
    try {
      ev = JSON.parse(line) as Json;
    } catch {
      continue;
    }
    if (typeof ev !== "object" || ev === null) continue;
    const pe = ev.policyEvent as Json | undefined;
    if (pe) {
      run.violations.push({
        policy: str(pe.policyName),
        pack: str(pe.policyPackName),
        version: str(pe.policyPackVersion),
        level: str(pe.enforcementLevel) || "advisory",
        severity: str(pe.severity),
        message: str(pe.message).trim(),
        urn: str(pe.resourceUrn),
      });
    }
    for (const key of ["policyAnalyzeSummaryEvent", "policyAnalyzeStackSummaryEvent"]) {
      const se = ev[key] as Json | undefined;
      if (!se || !Array.isArray(se.passed)) continue;
      for (const p of se.passed as string[]) {
        if (!run.passed.has(p)) run.passed.set(p, new Set());
        run.passed.get(p)!.add(str(se.resourceUrn) || "stack");
      }
    }
    const de = ev.diagnosticEvent as Json | undefined;
    if (de && str(de.severity) === "error") run.errors.push(str(de.message).trim());
    const sum = ev.summaryEvent as Json | undefined;
    if (sum) run.result = str(sum.result) || run.result;
    const cancel = ev.cancelEvent;
    if (cancel && run.result === "unknown") run.result = "cancelled";
  }
  return run;
}

/** "kubernetes:apps/v1:Deployment::traefik" from a URN (the stack for stack-level findings). */
export function resourceOf(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4) return { type: "stack", name: urn || "stack" };
  const type = parts[2]!.split("$").pop()!;
  return { type, name: parts.slice(3).join("::") };
}

const sarifLevel = (v: Violation): "error" | "warning" | "note" =>
  v.level === "mandatory" ? "error" : v.policy === "residency-evidence" ? "note" : "warning";

export function toSarif(runs: Run[]): Json {
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: runs.map((run) => {
      const policies = [
        ...new Set([...run.violations.map((v) => v.policy), ...run.passed.keys()]),
      ].sort();
      const first = run.violations[0];
      return {
        tool: {
          driver: {
            name: "fjord-policy-pack",
            ...(first?.version ? { version: first.version } : {}),
            informationUri: "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
            rules: policies.map((id) => {
              const v = run.violations.find((x) => x.policy === id);
              return {
                id,
                name: id,
                shortDescription: { text: id },
                defaultConfiguration: { level: v ? sarifLevel(v) : "error" },
                ...(v?.severity ? { properties: { severity: v.severity } } : {}),
              };
            }),
          },
        },
        automationDetails: { id: `fjord-policy-check/${run.label}/` },
        results: run.violations.map((v) => {
          const r = resourceOf(v.urn);
          return {
            ruleId: v.policy,
            ruleIndex: policies.indexOf(v.policy),
            level: sarifLevel(v),
            message: { text: v.message },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: run.artifact },
                  region: { startLine: 1 },
                },
                logicalLocations: [
                  { name: r.name, fullyQualifiedName: v.urn || "stack", kind: "resource" },
                ],
              },
            ],
            partialFingerprints: {
              "fjordPolicy/v1": createHash("sha256")
                .update(`${run.label}|${v.policy}|${v.urn}|${v.message}`)
                .digest("hex"),
            },
            properties: {
              enforcementLevel: v.level,
              severity: v.severity,
              stack: run.label,
              resourceType: r.type,
            },
          };
        }),
      };
    }),
  };
}

/** XML 1.0 text: control characters dropped (they are not allowed even escaped), markup escaped. */
const xml = (s: string): string =>
  [...s]
    .filter((c) => c.charCodeAt(0) >= 0x20 || c === "\n" || c === "\t" || c === "\r")
    .join("")
    .replace(
      /[<>&"']/g,
      (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c]};`,
    );

const testcase = (cls: string, name: string, body = ""): string =>
  `    <testcase classname="${xml(cls)}" name="${xml(name)}"${body ? `>${body}</testcase>` : "/>"}`;

/** Cases of a run judged as a stack: each checked (policy, resource) passes or fails. */
function stackCases(run: Run): string[] {
  const cases: string[] = [];
  const failed = new Map<string, Violation[]>();
  for (const v of run.violations) {
    const key = `${v.policy}\u0000${v.urn}`;
    failed.set(key, [...(failed.get(key) ?? []), v]);
  }
  for (const [key, vs] of failed) {
    const [policy, urn] = key.split("\u0000") as [string, string];
    const r = resourceOf(urn);
    const mandatory = vs.find((v) => v.level === "mandatory");
    const text = xml(vs.map((v) => `[${v.level}] ${v.message}`).join("\n"));
    const body = mandatory
      ? `<failure type="mandatory" message="${xml(mandatory.message)}">${text}</failure>`
      : `<system-out>${text}</system-out>`;
    cases.push(testcase(`${run.label}.${policy}`, `${r.type}::${r.name}`, body));
  }
  for (const [policy, urns] of run.passed) {
    for (const urn of urns) {
      if (failed.has(`${policy}\u0000${urn}`)) continue;
      const r = resourceOf(urn === "stack" ? "" : urn);
      cases.push(testcase(`${run.label}.${policy}`, `${r.type}::${r.name}`));
    }
  }
  return cases;
}

/** Cases of a run that must fail: one per expected violation, and one per surprise. */
function expectationCases(run: Run, expected: Expected[]): string[] {
  const diff = checkExpected(run, expected);
  const cases = expected.map((e) => {
    const missing = diff.includes(`missing: ${e.policy} on ${e.resource}`);
    const why = `the pack did not stop ${e.resource} with ${e.policy}`;
    return testcase(
      `${run.label}.${e.policy}`,
      `stops ${e.resource}`,
      missing ? `<failure type="missing" message="${xml(why)}"/>` : "",
    );
  });
  for (const d of diff.filter((x) => x.startsWith("unexpected: "))) {
    cases.push(
      testcase(
        `${run.label}.unexpected`,
        d.slice("unexpected: ".length),
        `<failure type="unexpected" message="${xml(d)}"/>`,
      ),
    );
  }
  return cases;
}

/** JUnit XML; runs listed in `expectations` are judged against them instead of as clean stacks. */
export function toJUnit(
  runs: Run[],
  expectations: ReadonlyMap<string, Expected[]> = new Map(),
): string {
  const suites = runs.map((run) => {
    const expected = expectations.get(run.label);
    const cases = expected ? expectationCases(run, expected) : stackCases(run);
    const policyFailed = run.violations.some((v) => v.level === "mandatory");
    // "preview failed" only restates mandatory violations; any other error is the preview's own.
    const own = run.errors.filter((e) => e !== "preview failed" || !policyFailed);
    if (own.length > 0) {
      cases.push(
        testcase(
          run.label,
          "preview",
          `<error message="${xml(own[0]!)}">${xml(own.join("\n"))}</error>`,
        ),
      );
    }
    const f = cases.filter((c) => c.includes("<failure")).length;
    const e = cases.filter((c) => c.includes("<error")).length;
    const head = `  <testsuite name="${xml(`policy-check.${run.label}`)}" tests="${cases.length}" failures="${f}" errors="${e}">`;
    return { xml: `${head}\n${cases.join("\n")}\n  </testsuite>`, tests: cases.length, f, e };
  });
  const sum = (k: "tests" | "f" | "e") => suites.reduce((n, x) => n + x[k], 0);
  const head = `<testsuites name="fjord policy-check" tests="${sum("tests")}" failures="${sum("f")}" errors="${sum("e")}">`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${head}\n${suites.map((x) => x.xml).join("\n")}\n</testsuites>\n`;
}

export function toText(runs: Run[]): string {
  const out: string[] = [];
  for (const run of runs) {
    const mandatory = run.violations.filter((v) => v.level === "mandatory");
    const advisory = run.violations.filter((v) => v.level !== "mandatory");
    out.push(
      `== ${run.label}: preview ${run.result}; ${mandatory.length} mandatory, ${advisory.length} advisory finding(s); ${[...run.passed.values()].reduce((n, s) => n + s.size, 0)} check(s) passed`,
    );
    for (const v of [...mandatory, ...advisory]) {
      const r = resourceOf(v.urn);
      out.push(`  [${v.level}] ${v.policy} (${r.type}: ${r.name})`, `      ${v.message}`);
    }
    const other = run.errors.filter((e) => e !== "preview failed" || mandatory.length === 0);
    for (const e of other) out.push(`  [error] ${e}`);
  }
  return `${out.join("\n")}\n`;
}

export interface Expected {
  policy: string;
  resource: string;
}

/** Differences between a run's mandatory violations and the expected {policy, resource} pairs. */
export function checkExpected(run: Run, expected: Expected[]): string[] {
  const key = (p: string, r: string) => `${p} on ${r}`;
  const got = new Set(
    run.violations
      .filter((v) => v.level === "mandatory")
      .map((v) => key(v.policy, resourceOf(v.urn).name)),
  );
  const want = new Set(expected.map((e) => key(e.policy, e.resource)));
  return [
    ...[...want].filter((k) => !got.has(k)).map((k) => `missing: ${k}`),
    ...[...got].filter((k) => !want.has(k)).map((k) => `unexpected: ${k}`),
  ];
}

function main(argv: string[]): number {
  let outDir = "out/policy";
  const expect = new Map<string, string>();
  const inputs: Array<{ label: string; file: string; artifact: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--out") outDir = argv[++i]!;
    else if (a === "--expect") {
      const [label, file] = argv[++i]!.split("=") as [string, string];
      expect.set(label, file);
    } else {
      const m = /^([^=]+)=([^:]+)(?::(.+))?$/.exec(a);
      if (!m) throw new Error(`policy-report: expected LABEL=FILE[:ARTIFACT], got ${a}`);
      inputs.push({ label: m[1]!, file: m[2]!, artifact: m[3] ?? "Pulumi.yaml" });
    }
  }
  const runs = inputs.map((i) =>
    parseRun(i.label, fs.existsSync(i.file) ? fs.readFileSync(i.file, "utf8") : "", i.artifact),
  );
  const expectations = new Map(
    [...expect].map(([label, file]) => [
      label,
      JSON.parse(fs.readFileSync(file, "utf8")) as Expected[],
    ]),
  );
  fs.mkdirSync(outDir, { recursive: true });
  // Code scanning gets the real stacks; the deliberately failing fixture gets a file of its own.
  const sarif = (rs: Run[], name: string) =>
    fs.writeFileSync(path.join(outDir, name), `${JSON.stringify(toSarif(rs), null, 2)}\n`);
  sarif(
    runs.filter((r) => !expectations.has(r.label)),
    "policy.sarif",
  );
  if (expectations.size > 0)
    sarif(
      runs.filter((r) => expectations.has(r.label)),
      "policy-fixtures.sarif",
    );
  fs.writeFileSync(path.join(outDir, "junit.xml"), toJUnit(runs, expectations));
  const text = toText(runs);
  fs.writeFileSync(path.join(outDir, "summary.txt"), text);
  process.stdout.write(text);
  let ok = true;
  for (const run of runs) {
    const expected = expectations.get(run.label);
    if (expected) {
      const diff = checkExpected(run, expected);
      if (run.result !== "failed") diff.push(`the preview did not fail (result: ${run.result})`);
      for (const d of diff) process.stdout.write(`!! ${run.label}: ${d}\n`);
      ok &&= diff.length === 0;
    } else if (run.result !== "succeeded" || run.violations.some((v) => v.level === "mandatory")) {
      process.stdout.write(`!! ${run.label}: expected a clean preview, got ${run.result}\n`);
      ok = false;
    }
  }
  process.stdout.write(
    `SARIF: ${path.join(outDir, "policy.sarif")}  JUnit: ${path.join(outDir, "junit.xml")}\n`,
  );
  return ok ? 0 : 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
