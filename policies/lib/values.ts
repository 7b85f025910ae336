/**
 * Reading resource properties without tripping over values that are unknown at preview.
 *
 * @pulumi/policy hands policies `props` wrapped in a Proxy that throws `UnknownValueError` the
 * moment a computed value is touched. The server turns that throw into one advisory "can't run
 * during preview" for the whole policy run — for a stack policy that silently skips every other
 * resource too. So policies read the unwrapped object and test each value for the sentinel
 * strings the engine uses for computed values, deciding case by case what an unknown means.
 */

/**
 * The engine's computed-value sentinels, one per static type (@pulumi/policy proxy.js; a unit
 * test pins them to the installed SDK so an upgrade that changes them fails loudly).
 */
export const UNKNOWN_SENTINELS: readonly string[] = [
  "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
  "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
  "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string
  "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
  "030794c1-ac77-496b-92df-f27374a8bd58", // asset
  "e48ece36-62e2-4504-bad9-02848725956a", // archive
  "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
];
const SENTINELS = new Set(UNKNOWN_SENTINELS);

/** Stands for "computed at preview" in everything this library returns. */
export const UNKNOWN: unique symbol = Symbol("unknown");
export type Unknown = typeof UNKNOWN;

export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN || (typeof v === "string" && SENTINELS.has(v));
}

/** The object behind @pulumi/policy's unknown-checking proxy (or `v` itself when not proxied). */
export function unwrap<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  const target = (v as Record<string, unknown>)["__getSpecialProxyTarget"];
  return (target ?? v) as T;
}

export type Obj = Record<string, unknown>;
/** A dotted path, or its segments when a key contains dots. */
type Path = string | readonly string[];

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !isUnknown(v);
}

/**
 * Value at a dotted path: UNKNOWN when the path runs into a computed value, undefined when a
 * segment is missing. Keys containing dots are passed as array elements.
 */
export function at(root: unknown, path: Path): unknown {
  const parts = typeof path === "string" ? (path === "" ? [] : path.split(".")) : path;
  let cur: unknown = unwrap(root);
  for (const p of parts) {
    if (isUnknown(cur)) return UNKNOWN;
    if (cur === null || cur === undefined || typeof cur !== "object") return undefined;
    cur = (cur as Obj)[p];
  }
  return isUnknown(cur) ? UNKNOWN : cur;
}

/** A reader of one kind of value: UNKNOWN when computed, undefined when missing or another kind. */
const reader =
  <T>(accept: (v: unknown) => v is T) =>
  (root: unknown, path: Path = ""): T | Unknown | undefined => {
    const v = at(root, path);
    if (v === UNKNOWN) return UNKNOWN;
    return accept(v) ? v : undefined;
  };

export const str = reader((v): v is string => typeof v === "string");
export const num = reader((v): v is number => typeof v === "number");
export const bool = reader((v): v is boolean => typeof v === "boolean");
/** An object (not an array, not a computed sentinel). */
export const obj = reader(isObj);

/** An array (elements may still be UNKNOWN sentinels), UNKNOWN, or [] when missing. */
export function list(root: unknown, path: Path = ""): unknown[] | Unknown {
  const v = at(root, path);
  if (v === UNKNOWN) return UNKNOWN;
  return Array.isArray(v) ? v.map((e) => (isUnknown(e) ? UNKNOWN : e)) : [];
}

/** A string-valued map (labels, annotations, ConfigMap data); unknown values stay UNKNOWN. */
export function strMap(root: unknown, path: Path = ""): Record<string, string | Unknown> | Unknown {
  const o = obj(root, path);
  if (o === UNKNOWN) return UNKNOWN;
  const out: Record<string, string | Unknown> = {};
  for (const [k, v] of Object.entries(o ?? {})) {
    if (isUnknown(v)) out[k] = UNKNOWN;
    else if (typeof v === "string") out[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v);
  }
  return out;
}

/** True when any value anywhere under `v` is computed. */
export function containsUnknown(v: unknown): boolean {
  const u = unwrap(v);
  if (isUnknown(u)) return true;
  if (Array.isArray(u)) return u.some(containsUnknown);
  if (u !== null && typeof u === "object") return Object.values(u as Obj).some(containsUnknown);
  return false;
}

/** Known string values only (drops UNKNOWN and non-strings). */
export function knownStrings(vs: readonly unknown[]): string[] {
  return vs.filter((v): v is string => typeof v === "string" && !isUnknown(v));
}
