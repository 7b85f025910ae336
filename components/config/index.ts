/**
 * The platform spec: one schema for the whole stack config, validated before any resource
 * exists, with every problem reported at once under its `fjord:` key.
 */
import { platformSchema, CONFIG_KEYS, type PlatformSpec } from "./schema";
import { CHECKS } from "./checks";
export { DOCKER_RESERVED_NAMES } from "./checks";
import { SpecError, fjordWording, fromZod, keyPath, type SpecProblem } from "./errors";
import { resolve, type Spec } from "./resolve";

export * from "./schema";
export * from "./errors";
export * from "../../lib/regions";
export type { Spec, Service, Node, Database, DatabaseBackup, Call } from "./resolve";

/** Config keys that hold secrets; they must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = [
  "sshPrivateKey",
  "kubeconfig",
  "backupAccessKeyId",
  "backupSecretAccessKey",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

export interface SpecInput {
  stack: string;
  /** Every `fjord:*` config value, keyed without the namespace, already JSON-decoded. */
  values: Record<string, unknown>;
  /** Whether each secret key is set, and whether it is stored as a secret. */
  secrets: Partial<Record<SecretKey, { secret: boolean }>>;
  /**
   * In a preview, a missing required secret is only a warning: nothing connects anywhere,
   * and `up` still refuses to start without it.
   */
  dryRun?: boolean;
}

export interface ParsedSpec {
  spec: Spec;
  warnings: string[];
}

function secretProblems(
  input: SpecInput,
  spec: PlatformSpec | undefined,
): { problems: SpecProblem[]; missing: SpecProblem[] } {
  const out: SpecProblem[] = [];
  const missing: SpecProblem[] = [];
  for (const k of SECRET_KEYS) {
    const s = input.secrets[k];
    if (s && !s.secret) {
      out.push({
        key: keyPath([k]),
        message: `is stored in plain text; remove it and set it again with \`pulumi config set --secret ${k} ...\``,
      });
    }
  }
  // Only when something will be backed up: keys for a bucket nobody writes to are noise.
  const backedUp =
    spec?.backups.enabled &&
    spec.services.some((s) => s.database && s.database.backup?.enabled !== false);
  if (spec?.backups.target && backedUp) {
    for (const k of ["backupAccessKeyId", "backupSecretAccessKey"] as const) {
      if (input.secrets[k]) continue;
      missing.push({
        key: keyPath([k]),
        message: `is required to write backups to fjord:backups.target; set it with \`pulumi config set --secret ${k} ...\` (the object store's ${k === "backupAccessKeyId" ? "access key ID" : "secret access key"})`,
      });
    }
  }
  if (!spec || spec.target !== "kubernetes") return { problems: out, missing };
  if (spec.cluster.mode === "k3s" && !input.secrets.sshPrivateKey) {
    missing.push({
      key: keyPath(["sshPrivateKey"]),
      message:
        "is required to reach the nodes over SSH; set it with `pulumi config set --secret sshPrivateKey < ~/.ssh/id_ed25519`",
    });
  }
  if (spec.cluster.mode === "kubeconfig" && !input.secrets.kubeconfig) {
    missing.push({
      key: keyPath(["kubeconfig"]),
      message:
        'is required when cluster.mode is "kubeconfig"; set it with `pulumi config set --secret kubeconfig < ~/.kube/config`',
    });
  }
  return { problems: out, missing };
}

/** Validates and resolves a stack's config; throws one SpecError listing every problem. */
export function parseSpec(input: SpecInput): ParsedSpec {
  const values = Object.fromEntries(
    Object.entries(input.values).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)),
  );
  const parsed = platformSchema.safeParse(values, { error: fjordWording });
  if (!parsed.success) {
    // Secret-key problems are independent of the schema, so report them in the same pass.
    throw new SpecError(
      [
        ...fromZod(parsed.error.issues, values, platformSchema),
        ...secretProblems(input, undefined).problems,
      ],
      input.stack,
    );
  }
  const secrets = secretProblems(input, parsed.data);
  const found = CHECKS.flatMap((check) => check(parsed.data));
  const problems = [...found.filter((p) => !p.advisory), ...secrets.problems];
  if (!input.dryRun) problems.push(...secrets.missing);
  if (problems.length > 0) throw new SpecError(problems, input.stack);
  const warnings = [
    ...found.filter((p) => p.advisory).map((p) => `${p.key}: ${p.message}`),
    ...(input.dryRun
      ? secrets.missing.map(
          (m) => `${m.key} ${m.message} (preview continues; \`pulumi up\` will stop here)`,
        )
      : []),
  ];
  return { spec: resolve(parsed.data, input.stack), warnings };
}

export { CONFIG_KEYS };
export * from "./units";
export { configReferenceMarkdown, configRows } from "./reference";
