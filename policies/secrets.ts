/**
 * Secrets never in plain configuration: env values (Kubernetes and Docker) and ConfigMap data.
 * Two independent tests: a name that says "secret" (PASSWORD, TOKEN, API_KEY...) with a literal
 * value, and a value that is a secret whatever its name (lib/secrets-detect.ts). A stack policy,
 * because telling a Docker literal from a generated password needs the resources the env
 * depends on.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { describe, setting, stackPolicy } from "./lib/policy";
import { DOCKER, dockerEnv, knownContainers } from "./lib/containers";
import { isWorkload, kindOf } from "./lib/k8s";
import { explain, findSecrets } from "./lib/secrets-detect";
import { UNKNOWN, isObj, isUnknown, list, str, strMap, unwrap } from "./lib/values";

interface SecretConfig {
  namePattern: string;
  ignorePattern: string;
  detectValues: boolean;
}

/** Every string anywhere in a resource's properties (used to recognise values derived from it). */
function stringsOf(v: unknown, out: string[] = []): string[] {
  const u = unwrap(v);
  if (typeof u === "string" && !isUnknown(u)) out.push(u);
  else if (Array.isArray(u)) u.forEach((x) => stringsOf(x, out));
  else if (u !== null && typeof u === "object") Object.values(u).forEach((x) => stringsOf(x, out));
  return out;
}

const trivial = (v: string): boolean => v === "" || /^(true|false|yes|no|on|off|\d+)$/i.test(v);

/** "holds an AWS access key id: 'AKIA…' (20 characters); a PEM private key ..." */
const found = (v: string): string | undefined => {
  const ms = findSecrets(v);
  return ms.length ? ms.map(explain).join("; ") : undefined;
};

export const noSecretLiterals: StackValidationPolicy = stackPolicy<SecretConfig>({
  name: "no-secret-literals",
  description:
    "Secrets never appear in env values or ConfigMap data: neither under a secret's name (PASSWORD, SECRET, TOKEN, API_KEY, CREDENTIAL) nor by their value (private keys, cloud access keys, high-entropy tokens).",
  severity: "critical",
  config: {
    namePattern: {
      schema: {
        type: "string",
        description: "Case-insensitive regex for names that hold secrets.",
      },
      // A bare *_KEY names cache keys, sort keys and object keys as often as secrets; the
      // value test catches the secret ones.
      default:
        "(^|_)(PASSWORD|PASSWD|PASS|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|SIGNING_?KEY|ENCRYPTION_?KEY|MASTER_?KEY|CREDENTIALS?)(_|$)",
    },
    ignorePattern: {
      schema: {
        type: "string",
        description: "Case-insensitive regex for names that match but hold no secret.",
      },
      default: "(_FILE|_PATH|_DIR|_NAME|_ID|_URL|_ENABLED|_DISABLED)$|PUBLIC",
    },
    detectValues: setting.flag(
      "Also look for private keys, cloud access keys and high-entropy tokens in every value.",
      true,
    ),
  },
  scope: (rs) =>
    rs.some((r) => isWorkload(r.type) || r.type === DOCKER || kindOf(r.type) === "ConfigMap")
      ? undefined
      : "The stack has no containers or ConfigMaps.",
  validate: (resources, ctx, byUrn) => {
    const name = new RegExp(ctx.config.namePattern, "i");
    const ignore = new RegExp(ctx.config.ignorePattern, "i");
    const secretName = (n: string) => name.test(n) && !ignore.test(n);
    const byValue = (v: unknown): string | undefined =>
      ctx.config.detectValues && typeof v === "string" ? found(v) : undefined;
    for (const r of resources) {
      const label = describe(r.type, r.name, r.props);
      if (kindOf(r.type) === "ConfigMap") {
        const data = strMap(r.props, "data");
        for (const [k, v] of Object.entries(data === UNKNOWN ? {} : data)) {
          const what = byValue(v);
          if (secretName(k) && (v === UNKNOWN || !trivial(v)))
            ctx.violation(
              `${label} stores '${k}' in plain ConfigMap data; move it to a Secret and reference it from there.`,
              r.urn,
            );
          else if (what)
            ctx.violation(
              `${label} data '${k}' holds ${what}; move it to a Secret and reference it from there.`,
              r.urn,
            );
        }
        continue;
      }
      if (r.type === DOCKER) {
        // Docker has no secret references: a value derived from another resource (a generated
        // password) is fine, one written in the program is not. Computed elements are never
        // literals; known ones count as derived when a resource the env depends on holds them.
        const envs = dockerEnv(r.props);
        const deps = r.propertyDependencies.envs ?? r.dependencies;
        const derived = deps
          .flatMap((u) => stringsOf(byUrn.get(u)?.props))
          .filter((s) => s.length >= 8);
        for (const [k, v] of envs === UNKNOWN ? [] : envs) {
          if (trivial(v) || derived.some((d) => v.includes(d))) continue;
          const what = secretName(k) ? undefined : byValue(v);
          if (secretName(k) || what)
            ctx.violation(
              `${label} sets ${k} to ${what ? `a literal that holds ${what}` : "a literal value"} in its environment; generate it (e.g. a RandomPassword) or read it from a secret store instead of writing it in the program.`,
              r.urn,
            );
        }
        continue;
      }
      for (const c of knownContainers(r.type, r.props)) {
        const env = c.c === UNKNOWN ? [] : list(c.c, "env");
        for (const e of env === UNKNOWN ? [] : env) {
          const k = str(e, "name");
          if (typeof k !== "string" || !isObj(e) || !("value" in e)) continue;
          const v = str(e, "value");
          if (typeof v === "string" && trivial(v)) continue;
          if (secretName(k)) {
            // The pod spec is readable by anyone who can read the workload: any value here,
            // literal or computed, is a secret in plain text. Only valueFrom keeps it in a Secret.
            const how = v === UNKNOWN ? "a computed value" : "a literal value";
            ctx.violation(
              `${label} container '${c.name}' sets ${k} to ${how} in plain text in the pod spec; use valueFrom.secretKeyRef to read it from a Secret.`,
              r.urn,
            );
            continue;
          }
          const what = byValue(v);
          if (what)
            ctx.violation(
              `${label} container '${c.name}' env ${k} holds ${what} in plain text in the pod spec; move it to a Secret and read it with valueFrom.secretKeyRef.`,
              r.urn,
            );
        }
      }
    }
  },
});
