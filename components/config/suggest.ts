/** "Did you mean …?" for a mistyped config key: the schema's keys at that place, nearest first. */
import type { z } from "zod";

/**
 * Edit distance counting an adjacent swap as one edit (optimal string alignment), because
 * "sevrices" is one slip of the fingers, not two.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The known key nearest to `given`, if it is near enough to be a typo: at most one edit in
 * three characters (and always one), case ignored. Ties go to the earlier key.
 */
export function closest(given: string, known: readonly string[]): string | undefined {
  const g = given.toLowerCase();
  let best: { key: string; d: number } | undefined;
  for (const key of known) {
    const d = editDistance(g, key.toLowerCase());
    if (d <= Math.max(1, Math.floor(key.length / 3)) && (!best || d < best.d)) best = { key, d };
  }
  return best?.key;
}

/** The parts of zod's internal definition this walk reads. */
interface Def {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
}

const WRAPPERS = new Set(["optional", "default", "prefault", "nullable", "readonly", "catch"]);

/** The keys an object in `schema` at `path` accepts; undefined when there is no object there. */
export function keysAt(
  schema: z.core.$ZodType,
  path: readonly PropertyKey[],
): string[] | undefined {
  const def = schema._zod.def as unknown as Def;
  if (WRAPPERS.has(def.type) && def.innerType) return keysAt(def.innerType, path);
  if (def.type === "pipe" && def.in) return keysAt(def.in, path);
  if (def.type === "union") {
    for (const option of def.options ?? []) {
      const keys = keysAt(option, path);
      if (keys) return keys;
    }
    return undefined;
  }
  if (path.length === 0)
    return def.type === "object" && def.shape ? Object.keys(def.shape) : undefined;
  const [head, ...rest] = path;
  if (def.type === "object" && def.shape) {
    const child = typeof head === "string" ? def.shape[head] : undefined;
    return child ? keysAt(child, rest) : undefined;
  }
  if (def.type === "array" && def.element) return keysAt(def.element, rest);
  if (def.type === "record" && def.valueType) return keysAt(def.valueType, rest);
  return undefined;
}
