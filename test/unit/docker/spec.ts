/** The dev stack file through the same spec parser the program uses, with optional overrides. */
import { parseSpec, type Spec } from "../../../components/config";
import { stackConfig } from "../../../testkit/mocks";

function decode(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export function devSpec(overrides: Record<string, unknown> = {}, stack = "dev"): Spec {
  const values = Object.fromEntries(
    Object.entries(stackConfig("dev")).map(([k, v]) => [k.slice("fjord:".length), decode(v)]),
  );
  return parseSpec({ stack, values: { ...values, ...overrides }, secrets: {}, dryRun: true }).spec;
}
