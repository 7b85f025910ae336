/** What every cross-field check is, and the helpers they share. */
import { keyPath, type SpecProblem } from "./errors";
import type { PlatformSpec } from "./schema";

/** A rule one field's schema cannot see. Returns problems, never throws. */
export type Check = (spec: PlatformSpec) => SpecProblem[];

export const problem = (path: PropertyKey[], message: string): SpecProblem => ({
  key: keyPath(path),
  message,
});

export const calleeOf = (c: PlatformSpec["services"][number]["calls"][number]): string =>
  typeof c === "string" ? c : c.service;
