/**
 * RBAC: no wildcard grants, no shell into pods, no way to grant oneself more, no cluster-admin
 * bindings. Roles and bindings are judged one by one, as written, so any program's RBAC is
 * judged alike.
 *
 * System roles are exempt by one documented rule: an object whose name starts with one of
 * `exemptNamePrefixes` (by default "system:", the prefix Kubernetes reserves for its own
 * components' roles, which a program only writes when it runs such a component) or that carries
 * the `kubernetes.io/bootstrapping: rbac-defaults` label the API server puts on its defaults.
 * Anything else needs a fjord.io/policy-exempt annotation with a reason.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  type Ctx,
  type JudgedResource,
  type PolicyMeta,
  type ResourceView,
  type Settings,
  resourcePolicy,
  setting,
} from "./lib/policy";
import { kindOf } from "./lib/k8s";
import { UNKNOWN, isUnknown, list, str } from "./lib/values";

interface RbacConfig {
  exemptNamePrefixes: string[];
}

const settings: Settings<RbacConfig> = {
  exemptNamePrefixes: setting.strings(
    "Name prefixes of system roles and bindings, which are not checked.",
    ["system:"],
  ),
};

const ROLES = ["Role", "ClusterRole"];
const BINDINGS = ["RoleBinding", "ClusterRoleBinding"];

/** Not-applicable reason for a system object, else undefined. */
function systemObject(r: ResourceView, cfg: RbacConfig): string | undefined {
  const name = str(r.props, "metadata.name");
  if (typeof name === "string" && cfg.exemptNamePrefixes.some((p) => name.startsWith(p)))
    return `'${name}' is a system ${kindOf(r.type)} (name prefix), exempt by rule.`;
  if (str(r.props, ["metadata", "labels", "kubernetes.io/bootstrapping"]) === "rbac-defaults")
    return `'${String(name)}' is one of the API server's default ${kindOf(r.type)}s, exempt by rule.`;
  return undefined;
}

interface Rule {
  index: number;
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The role's rules with known values; reports computed ones as unverifiable and drops them. */
function rulesOf(r: JudgedResource, ctx: Ctx<RbacConfig>, what: string): Rule[] {
  const { label } = r;
  const rules = list(r.props, "rules");
  if (rules === UNKNOWN) {
    ctx.cannotVerify(`Cannot verify ${what} of ${label} at preview: its rules are computed.`);
    return [];
  }
  const out: Rule[] = [];
  rules.forEach((rule, index) => {
    const parts = ["apiGroups", "resources", "verbs"].map((k) => list(rule, k));
    if (isUnknown(rule) || parts.some((p) => p === UNKNOWN || p.some(isUnknown))) {
      ctx.cannotVerify(
        `Cannot verify ${what} of ${label} at preview: rule ${index + 1} is computed.`,
      );
      return;
    }
    const [apiGroups, resources, verbs] = parts as string[][];
    out.push({ index, apiGroups: apiGroups!, resources: resources!, verbs: verbs! });
  });
  return out;
}

const grants = (rule: Rule, resource: string, verbs: string[]): boolean => {
  const [base, sub] = resource.split("/");
  const resOk = rule.resources.some(
    (x) => x === "*" || x === resource || (sub !== undefined && x === `${base}/*`),
  );
  const groupOk = rule.apiGroups.some((g) => g === "*" || g === "");
  return resOk && groupOk && rule.verbs.some((v) => v === "*" || verbs.includes(v));
};

/**
 * A policy judging each known rule of a non-system role; `what` names the check in its "cannot
 * verify" findings.
 */
function rulePolicy(
  meta: Omit<PolicyMeta<RbacConfig>, "config"> & {
    what: string;
    judge: (rule: Rule, label: string, ctx: Ctx<RbacConfig>) => void;
  },
): ResourceValidationPolicy {
  const { what, judge, ...rest } = meta;
  return resourcePolicy<RbacConfig>({
    ...rest,
    config: settings,
    scope: (type) =>
      ROLES.includes(kindOf(type) ?? "") ? undefined : "Only Roles and ClusterRoles grant verbs.",
    validate: (r, ctx) => {
      const sys = systemObject(r, ctx.config);
      if (sys) return ctx.notApplicable(sys);
      for (const rule of rulesOf(r, ctx, what)) judge(rule, r.label, ctx);
    },
  });
}

export const rbacNoWildcards: ResourceValidationPolicy = rulePolicy({
  name: "rbac-no-wildcards",
  description:
    "Roles name their verbs and resources: no '*', which also grants whatever the API adds later.",
  severity: "high",
  what: "the wildcards",
  judge: (rule, label, ctx) => {
    const wild = (["verbs", "resources", "apiGroups"] as const).filter((k) =>
      rule[k].includes("*"),
    );
    if (wild.length)
      ctx.violation(
        `${label} rule ${rule.index + 1} grants '*' in ${wild.join(" and ")}; list the ${wild.join(" and ")} the workload needs.`,
      );
  },
});

const SHELL = ["pods/exec", "pods/attach", "pods/portforward"];

export const rbacNoPodExec: ResourceValidationPolicy = rulePolicy({
  name: "rbac-no-pod-exec",
  description:
    "No role lets its holder exec into, attach to or port-forward to pods, which reaches every secret the pod holds.",
  severity: "high",
  what: "pod exec access",
  judge: (rule, label, ctx) => {
    // exec and attach are `create` (and `get` for the older websocket path).
    const hit = SHELL.filter((s) => grants(rule, s, ["create", "get"]));
    if (hit.length)
      ctx.violation(
        `${label} rule ${rule.index + 1} grants ${hit.join(", ")}; remove them and debug with a time-limited, separately bound role instead.`,
      );
  },
});

const ESCALATION: { resource: string; verbs: string[]; why: string }[] = [
  { resource: "roles", verbs: ["escalate", "bind"], why: "grant permissions it does not hold" },
  {
    resource: "clusterroles",
    verbs: ["escalate", "bind"],
    why: "grant permissions it does not hold",
  },
  { resource: "users", verbs: ["impersonate"], why: "act as any user" },
  { resource: "groups", verbs: ["impersonate"], why: "act as any group, system:masters included" },
  { resource: "serviceaccounts", verbs: ["impersonate"], why: "act as any service account" },
];

export const rbacNoEscalation: ResourceValidationPolicy = rulePolicy({
  name: "rbac-no-escalation",
  description:
    "No role holds the escalate, bind or impersonate verbs, which let a holder give itself any permission.",
  severity: "critical",
  what: "escalation verbs",
  judge: (rule, label, ctx) => {
    const anyGroup = rule.apiGroups.some(
      (g) => g === "*" || g === "rbac.authorization.k8s.io" || g === "",
    );
    for (const e of ESCALATION) {
      const res = rule.resources.some((x) => x === "*" || x === e.resource);
      const verbs = e.verbs.filter((v) => rule.verbs.includes(v) || rule.verbs.includes("*"));
      if (anyGroup && res && verbs.length)
        ctx.violation(
          `${label} rule ${rule.index + 1} grants ${verbs.join(" and ")} on ${e.resource}, which lets its holder ${e.why}; remove ${verbs.length === 1 ? "it" : "them"}.`,
        );
    }
  },
});

export const rbacNoClusterAdminBinding: ResourceValidationPolicy = resourcePolicy<
  RbacConfig & { forbiddenRoles: string[] }
>({
  name: "rbac-no-cluster-admin-binding",
  description: "No binding grants cluster-admin (or another configured all-powerful role).",
  severity: "critical",
  config: {
    ...settings,
    forbiddenRoles: setting.strings("ClusterRoles no program may bind.", ["cluster-admin"]),
  },
  scope: (type) =>
    BINDINGS.includes(kindOf(type) ?? "")
      ? undefined
      : "Only RoleBindings and ClusterRoleBindings bind roles.",
  validate: (r, ctx) => {
    const sys = systemObject(r, ctx.config);
    if (sys) return ctx.notApplicable(sys);
    const role = str(r.props, "roleRef.name");
    const kind = str(r.props, "roleRef.kind");
    if (role === UNKNOWN || kind === UNKNOWN)
      return ctx.cannotVerify(
        `Cannot verify which role ${r.label} binds at preview: its roleRef is computed.`,
      );
    if (
      kind === "ClusterRole" &&
      typeof role === "string" &&
      ctx.config.forbiddenRoles.includes(role)
    )
      ctx.violation(
        `${r.label} binds the ${role} ClusterRole, which can do anything in the cluster; bind a role with only the verbs and resources its subjects need.`,
      );
  },
});
