/**
 * The latency policies through the pack's harness (the SDK's own analyzer handlers), reduced to
 * what these tests assert on: each finding's message, resource and level.
 */
import type { EnforcementLevel, StackValidationPolicy } from "@pulumi/policy";
import { runStack, type Fixture } from "../policies/harness";

export interface Finding {
  message: string;
  urn: string;
  enforcementLevel: EnforcementLevel;
}

export type FakeResource = Fixture;

/** The findings, or "not applicable: <reason>". */
export async function runStackPolicy(
  policy: StackValidationPolicy,
  resources: FakeResource[],
  config: Record<string, unknown> = {},
  level: EnforcementLevel = "mandatory",
): Promise<Finding[] | string> {
  const result = await runStack(policy, resources, { config, level });
  if (result.notApplicable.length > 0) return `not applicable: ${result.notApplicable.join("; ")}`;
  return result.violations.map((v) => ({
    message: v.message,
    urn: v.urn,
    enforcementLevel: v.level,
  }));
}
