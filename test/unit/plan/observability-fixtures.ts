/** The prod stack's spec and observability model, shared by the observability tests. */
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseSpec, type Spec } from "../../../components/config";
import {
  observabilityModel,
  type ObservabilityModel,
} from "../../../components/plan/observability";

const ROOT = path.resolve(__dirname, "../../..");

/**
 * The backup target of a prod stack file that sets none (prod refuses databases without
 * backups); the backup alerts, dashboard and scrape jobs need backed-up databases to show.
 */
export const FIXTURE_BACKUPS = {
  target: { endpoint: "s3.osl1.example.no", bucket: "fjord-backups", region: "no-osl1" },
};

/** `Pulumi.<stack>.yaml` through the same parser the program uses, with `fjord:` overrides. */
export function stackSpec(stack = "prod", overrides: Record<string, unknown> = {}): Spec {
  const doc = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const values = Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k.slice("fjord:".length), v]),
  );
  const backups = values.backups ?? (values.environment === "prod" ? FIXTURE_BACKUPS : undefined);
  return parseSpec({
    stack,
    values: { ...values, ...(backups ? { backups } : {}), ...overrides },
    secrets: {},
    dryRun: true,
  }).spec;
}

export function stackModel(
  stack = "prod",
  overrides: Record<string, unknown> = {},
): ObservabilityModel {
  return observabilityModel(stackSpec(stack, overrides));
}
