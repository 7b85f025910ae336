/**
 * Pod Security Standards for every pod-bearing kind. A stack policy, because the level that
 * applies depends on the pod's namespace, which at preview is often only known through the
 * Namespace resource the workload depends on, and because a Namespace's own PodSecurity label
 * must agree with the level the pack judges its pods at.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { describe, stackPolicy } from "./lib/policy";
import { isWorkload, kindOf, namespaceIn, podOf } from "./lib/k8s";
import { type PssLevel, PSS_LEVELS, judgePod, pssVersion, stricter } from "./lib/pss";
import { UNKNOWN, str } from "./lib/values";

const ENFORCE = "pod-security.kubernetes.io/enforce";

interface PssConfig {
  level: PssLevel;
  namespaceLevels: Record<string, PssLevel>;
  version: string;
}

export const podSecurityStandards: StackValidationPolicy = stackPolicy<PssConfig>({
  name: "pod-security-standards",
  description:
    "Pods of every workload kind meet the Kubernetes Pod Security Standard of their namespace (restricted unless configured), and no Namespace enforces a stricter level than the pack checks.",
  severity: "high",
  remediationSteps:
    "Set the securityContext fields the message names, or, for a namespace that really needs host access, set its level in namespaceLevels and label the Namespace to match.",
  config: {
    level: {
      schema: {
        type: "string",
        enum: [...PSS_LEVELS],
        description: "Level for namespaces not listed in namespaceLevels.",
      },
      default: "restricted",
    },
    namespaceLevels: {
      schema: {
        type: "object",
        additionalProperties: { type: "string", enum: [...PSS_LEVELS] },
        description: `Level per namespace; keep it equal to the Namespace's ${ENFORCE} label.`,
      },
      default: {},
    },
    version: {
      schema: {
        type: "string",
        pattern: "^(latest|v1\\.[0-9]+)$",
        description:
          "Pod Security Standards version (as in pod-security.kubernetes.io/enforce-version).",
      },
      default: "latest",
    },
  },
  scope: (rs) =>
    rs.some((r) => isWorkload(r.type) || kindOf(r.type) === "Namespace")
      ? undefined
      : "The stack has no workloads or Namespaces.",
  validate: (resources, ctx, byUrn) => {
    const cfg = ctx.config;
    const version = pssVersion(cfg.version) ?? pssVersion("latest")!;
    const shownVersion = cfg.version === "latest" ? `latest, v1.${version}` : cfg.version;
    const levelOf = (ns: string): PssLevel => cfg.namespaceLevels[ns] ?? cfg.level;
    const weakest = [cfg.level, ...Object.values(cfg.namespaceLevels)].reduce((a, b) =>
      stricter(a, b) ? b : a,
    );
    for (const r of resources) {
      const label = describe(r.type, r.name, r.props);
      if (kindOf(r.type) === "Namespace") {
        const name = str(r.props, "metadata.name");
        const enforce = str(r.props, ["metadata", "labels", ENFORCE]);
        if (typeof name !== "string" || typeof enforce !== "string") continue;
        const mine = levelOf(name);
        if (PSS_LEVELS.includes(enforce as PssLevel) && stricter(enforce as PssLevel, mine))
          ctx.violation(
            `${label} enforces Pod Security '${enforce}' but the pack checks its pods at '${mine}', so pods that pass here would be rejected at admission; set namespaceLevels["${name}"] to "${enforce}".`,
            r.urn,
          );
        continue;
      }
      if (!isWorkload(r.type)) continue;
      const ns = namespaceIn(r, byUrn);
      const level = ns === UNKNOWN ? cfg.level : levelOf(ns);
      if (level === "privileged") continue;
      const pod = podOf(r.type, r.props)!;
      if (pod.spec === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify Pod Security '${level}' for ${label} at preview: its pod spec is computed.`,
          r.urn,
        );
        continue;
      }
      if (!pod.spec) continue;
      const verdict = judgePod(pod.spec, pod.annotations, level, version);
      if ("unknown" in verdict) {
        ctx.cannotVerify(
          `Cannot verify Pod Security '${level}' for ${label} at preview: ${verdict.unknown}.`,
          r.urn,
        );
        continue;
      }
      // With the namespace computed the default level may be stricter than the real one.
      const unsure = ns === UNKNOWN && weakest !== level;
      for (const { control, outcome } of verdict.results) {
        const where = `Pod Security '${level}' (${shownVersion}) control "${control.title}"`;
        if (outcome.bad.length > 0) {
          const msg = `${label} fails ${where}: ${outcome.bad.join("; ")}; ${control.fix}.`;
          if (unsure)
            ctx.cannotVerify(
              `${msg} (Its namespace is computed at preview, so its level may differ.)`,
              r.urn,
            );
          else ctx.violation(msg, r.urn);
        } else if (outcome.unknown.length > 0) {
          ctx.cannotVerify(
            `Cannot verify ${where} for ${label} at preview: ${outcome.unknown.join("; ")} computed.`,
            r.urn,
          );
        }
      }
    }
  },
});
