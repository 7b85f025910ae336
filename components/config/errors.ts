import type { z } from "zod";
import { closest, keysAt } from "./suggest";

/** One problem in the stack config: the `fjord:` key path, and what to do about it. */
export interface SpecProblem {
  key: string;
  message: string;
  /** Reported as a warning instead of stopping the run (what the policy pack only advises). */
  advisory?: boolean;
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
  if (Array.isArray(v)) return v.length === 0 ? "an empty list" : "a list";
  if (typeof v === "object") return "an object";
  return JSON.stringify(v);
}

const TYPE_NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a map of keys",
  array: "a list",
  record: "a map of keys",
};

const plural = (n: number | bigint, one: string) => `${n} ${one}${n === 1 ? "" : "s"}`;

/**
 * fjord's wording for zod's stock messages ("Too small: expected number to be >=0" reads
 * "must be at least 0"). Pass it to `safeParse` as the parse-level error map: zod prefers a
 * message written in the schema, so those are never replaced.
 */
export const fjordWording: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case "invalid_type": {
      const noun = TYPE_NOUNS[iss.expected] ?? `a ${iss.expected}`;
      return iss.input === undefined ? `is required (${noun})` : `must be ${noun}`;
    }
    case "too_small":
      if (iss.origin === "array" || iss.origin === "set")
        return `needs at least ${plural(iss.minimum, "item")}`;
      if (iss.origin === "string")
        return iss.minimum === 1
          ? "must not be empty"
          : `must be at least ${plural(iss.minimum, "character")} long`;
      return iss.inclusive === false
        ? `must be more than ${iss.minimum}`
        : `must be at least ${iss.minimum}`;
    case "too_big":
      if (iss.origin === "array" || iss.origin === "set")
        return `may have at most ${plural(iss.maximum, "item")}`;
      if (iss.origin === "string")
        return `must be at most ${plural(iss.maximum, "character")} long`;
      return iss.inclusive === false
        ? `must be less than ${iss.maximum}`
        : `must be at most ${iss.maximum}`;
    case "invalid_value":
      return `allowed: ${iss.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return iss.format === "regex" && iss.pattern
        ? `must match ${iss.pattern}`
        : `must be a valid ${iss.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${iss.divisor}`;
    case "custom":
      return "is not valid";
    default:
      return undefined;
  }
};

function unknownKey(
  path: readonly PropertyKey[],
  key: string,
  schema: z.core.$ZodType | undefined,
): SpecProblem {
  const known = schema ? (keysAt(schema, path) ?? []) : [];
  const near = closest(key, known);
  let message = "is not a known key; ";
  if (near) message += `did you mean ${keyPath([...path, near])}?`;
  else if (known.length) message += `remove it, or use one of ${known.join(", ")}`;
  else message += "remove it or check its spelling (see docs/configuration.md)";
  return { key: keyPath([...path, key]), message };
}

/**
 * Turns zod's issues (parsed with `fjordWording`) into one problem per line, each saying what was
 * given and what is allowed. `schema` is what was parsed; it names the keys an unknown one may
 * have been meant as.
 */
export function fromZod(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  schema?: z.core.$ZodType,
): SpecProblem[] {
  const out: SpecProblem[] = [];
  for (const issue of issues) {
    switch (issue.code) {
      case "invalid_union": {
        // A union failed on every branch: report the branch that got furthest.
        const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
        out.push(
          ...fromZod(
            best.map((e) => ({ ...e, path: [...issue.path, ...e.path] })),
            input,
            schema,
          ),
        );
        continue;
      }
      case "unrecognized_keys":
        for (const k of issue.keys) out.push(unknownKey(issue.path, k, schema));
        continue;
      case "invalid_key": {
        // The key itself is wrong (a record's key pattern); its value is beside the point.
        const why = issue.issues.map((i) => i.message).join("; ") || issue.message;
        out.push({ key: keyPath(issue.path), message: `is not an allowed key: ${why}` });
        continue;
      }
    }
    const given = valueAt(input, issue.path);
    // A schema's own message says what is allowed, not that the key is missing: say both.
    const message =
      given !== undefined
        ? `got ${describe(given)}; ${issue.message}`
        : /^is required/.test(issue.message)
          ? issue.message
          : `is required; ${issue.message}`;
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
