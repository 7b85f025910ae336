/** Reads every `fjord:*` key once, so the spec sees the whole config and can report all problems. */
import * as pulumi from "@pulumi/pulumi";
import {
  SECRET_KEYS,
  SpecError,
  parseSpec,
  type ParsedSpec,
  type SecretKey,
} from "../components/config";

// Not in the SDK's typings, but it is how the SDK itself knows which keys are secret.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
  isConfigSecret?: (k: string) => boolean;
};
const isSecret = (key: string): boolean => runtimeConfig.isConfigSecret?.(key) ?? false;

function decode(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** The validated spec, or a clean one-message failure naming every bad key. */
export function loadSpec(): ParsedSpec & {
  secret: (key: SecretKey) => pulumi.Output<string> | undefined;
} {
  const values: Record<string, unknown> = {};
  const secrets: Partial<Record<SecretKey, { secret: boolean }>> = {};
  for (const [key, raw] of Object.entries(pulumi.runtime.allConfig())) {
    const [ns, name] = key.split(":", 2);
    if (ns !== "fjord" || name === undefined) continue;
    if ((SECRET_KEYS as readonly string[]).includes(name))
      secrets[name as SecretKey] = { secret: isSecret(key) };
    else values[name] = decode(raw);
  }
  let parsed: ParsedSpec;
  try {
    parsed = parseSpec({
      stack: pulumi.getStack(),
      values,
      secrets,
      dryRun: pulumi.runtime.isDryRun(),
    });
  } catch (e) {
    // RunError prints just the message: no stack trace for a config mistake.
    if (e instanceof SpecError) throw new pulumi.RunError(e.message);
    throw e;
  }
  const config = new pulumi.Config("fjord");
  return { ...parsed, secret: (key) => (secrets[key] ? config.requireSecret(key) : undefined) };
}

/**
 * The object store's keys for fjord:backups.target. A preview goes on without them (nothing
 * connects; the spec warns), so they stand in as empty secrets there; `up` refuses to start.
 */
export function backupKeys(
  spec: ParsedSpec["spec"],
  secret: (key: SecretKey) => pulumi.Output<string> | undefined,
): { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> } | undefined {
  if (!spec.backups.target) return undefined;
  const orEmpty = (k: SecretKey) => secret(k) ?? pulumi.secret(pulumi.output(""));
  return {
    accessKeyId: orEmpty("backupAccessKeyId"),
    secretAccessKey: orEmpty("backupSecretAccessKey"),
  };
}
