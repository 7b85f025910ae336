import type { z } from "zod";

/** One problem in the stack config: the `fjord:` key path, and what to do about it. */
export interface SpecProblem {
  key: string;
  message: string;
}

/** Every problem in a stack's config, reported at once before any resource is created. */
export class SpecError extends Error {
  constructor(
    public readonly problems: SpecProblem[],
    stack = "",
  ) {
    super(
      [
        `fjord: the ${stack ? `'${stack}' ` : ""}stack config has ${problems.length} problem${problems.length === 1 ? "" : "s"}; nothing was created:`,
        ...problems.map((p) => `  - ${p.key}: ${p.message}`),
        "Fix them in Pulumi.<stack>.yaml (or with `pulumi config set --path`), then run again.",
      ].join("\n"),
    );
    this.name = "SpecError";
  }
}

/** `fjord:services[2].database.memory` from ["services", 2, "database", "memory"]. */
export function keyPath(path: readonly PropertyKey[]): string {
  let out = "fjord";
  path.forEach((seg, i) => {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += i === 0 ? `:${String(seg)}` : `.${String(seg)}`;
  });
  return out;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return JSON.stringify(v);
}

/** Turns zod's issues into problems whose messages say what was given and what is allowed. */
export function fromZod(issues: readonly z.core.$ZodIssue[], input: unknown): SpecProblem[] {
  const out: SpecProblem[] = [];
  for (const issue of issues) {
    if (issue.code === "invalid_union") {
      // A union failed on every branch: report the branch that got furthest.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      out.push(
        ...fromZod(
          best.map((e) => ({ ...e, path: [...issue.path, ...e.path] })),
          input,
        ),
      );
      continue;
    }
    const given = valueAt(input, issue.path);
    let message: string;
    switch (issue.code) {
      case "unrecognized_keys":
        for (const k of issue.keys) {
          out.push({
            key: keyPath([...issue.path, k]),
            message:
              "is not a known key; remove it or check its spelling (see the README's config reference)",
          });
        }
        continue;
      case "invalid_type":
        message =
          given === undefined
            ? `is required (expected ${issue.expected})`
            : `got ${describe(given)}, expected ${issue.expected}`;
        break;
      case "invalid_value":
        message = `got ${describe(given)}; allowed: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
        break;
      default:
        message = given === undefined ? issue.message : `got ${describe(given)}; ${issue.message}`;
    }
    out.push({ key: keyPath(issue.path), message });
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
