/**
 * Availability: replicated workloads spread across nodes, readiness probes, disruption budgets,
 * and anti-affinity that the environment's node count can actually satisfy. Mandatory in prod,
 * advisory in dev (policies/config/*.json).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  type Settings,
  type StackResource,
  describe,
  resourcePolicy,
  setting,
  stackPolicy,
} from "./lib/policy";
import { appContainers } from "./lib/containers";
import { COMPONENT, containerLabel, kindOf, podOf, selects, namespaceIn } from "./lib/k8s";
import { type Obj, type Unknown, UNKNOWN, isObj, list, num, obj, str } from "./lib/values";

const HOSTNAME = "kubernetes.io/hostname";

interface ScopeConfig {
  kinds: string[];
  skipComponents: string[];
}

const scopeSettings = (kinds: string[]): Settings<ScopeConfig> => ({
  kinds: setting.strings("Workload kinds the policy checks.", kinds),
  skipComponents: setting.strings(
    `Values of the ${COMPONENT} label that mark single-instance tiers, which are not checked.`,
    ["database", "observability"],
  ),
});

/** Why a workload is out of scope, or undefined. */
function outOfScope(type: string, props: Obj, cfg: ScopeConfig): string | undefined {
  const kind = kindOf(type);
  if (!kind || !cfg.kinds.includes(kind))
    return `Only ${cfg.kinds.join(", ")} workloads are checked.`;
  const pod = podOf(type, props);
  const component = pod && pod.labels !== UNKNOWN ? pod.labels[COMPONENT] : undefined;
  if (typeof component === "string" && cfg.skipComponents.includes(component))
    return `The ${component} tier is single-instance by design.`;
  return undefined;
}

/** Replicas as Kubernetes sees them (a missing field means 1). */
export function replicasOf(props: Obj): number | Unknown {
  const r = num(props, "spec.replicas");
  return r === undefined ? 1 : r;
}

/** Whether any of `terms` is on the hostname and selects the pod's own labels. */
function hostnameTermSelectsSelf(
  terms: unknown[] | Unknown,
  labels: Record<string, string | Unknown> | Unknown,
  accept: (t: unknown) => boolean | Unknown,
): boolean | Unknown {
  if (terms === UNKNOWN || labels === UNKNOWN) return UNKNOWN;
  let unknown = false;
  for (const t of terms) {
    const key = str(t, "topologyKey");
    if (key === UNKNOWN) unknown = true;
    if (key !== HOSTNAME) continue;
    const ok = accept(t);
    if (ok === UNKNOWN) unknown = true;
    if (ok !== true) continue;
    const sel = obj(t, "labelSelector");
    if (sel === UNKNOWN) {
      unknown = true;
      continue;
    }
    const hit = selects(isObj(sel) ? sel : undefined, labels);
    if (hit === true) return true;
    if (hit === UNKNOWN) unknown = true;
  }
  return unknown ? UNKNOWN : false;
}

/** Whether the pod spec has a required anti-affinity term on the hostname selecting its own pods. */
export function spreadsByHostname(
  spec: Obj,
  labels: Record<string, string | Unknown> | Unknown,
): boolean | Unknown {
  return hostnameTermSelectsSelf(
    list(spec, "affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
    labels,
    () => true,
  );
}

/**
 * Whether a topology spread constraint keeps the pods one per node as far as nodes allow: on
 * the hostname, maxSkew 1, DoNotSchedule (ScheduleAnyway is only a preference), and a selector
 * matching the pods themselves (a selector for other pods spreads nothing of this workload).
 */
export function topologySpreadByHostname(
  spec: Obj,
  labels: Record<string, string | Unknown> | Unknown,
): boolean | Unknown {
  return hostnameTermSelectsSelf(list(spec, "topologySpreadConstraints"), labels, (t) => {
    const skew = num(t, "maxSkew");
    const when = str(t, "whenUnsatisfiable");
    if (skew === UNKNOWN || when === UNKNOWN) return UNKNOWN;
    return skew === 1 && when === "DoNotSchedule";
  });
}

interface ReplicasConfig extends ScopeConfig {
  minReplicas: number;
}

export const replicasAntiAffinity: ResourceValidationPolicy = resourcePolicy<ReplicasConfig>({
  name: "replicas-anti-affinity",
  description: `Replicated workloads run at least two replicas spread one per node: required pod anti-affinity or a DoNotSchedule topology spread (maxSkew 1) on ${HOSTNAME}.`,
  severity: "high",
  config: {
    ...scopeSettings(["Deployment"]),
    minReplicas: {
      schema: { type: "integer", minimum: 1, description: "Fewest replicas a workload may run." },
      default: 2,
    },
  },
  scope: (type) =>
    kindOf(type) && ["Deployment", "StatefulSet", "ReplicaSet"].includes(kindOf(type)!)
      ? undefined
      : "Only Deployments, StatefulSets and ReplicaSets have replicas.",
  validate: (r, ctx) => {
    const why = outOfScope(r.type, r.props, ctx.config);
    if (why) return ctx.notApplicable(why);
    const replicas = replicasOf(r.props);
    if (replicas === UNKNOWN)
      ctx.cannotVerify(
        `Cannot verify the replica count of ${r.label} at preview: spec.replicas is computed.`,
      );
    else if (replicas < ctx.config.minReplicas) {
      ctx.violation(
        `${r.label} runs ${replicas} replica${replicas === 1 ? "" : "s"}; run at least ${ctx.config.minReplicas} so one node failure does not take it down.`,
      );
    }
    const pod = podOf(r.type, r.props)!;
    if (pod.spec === UNKNOWN)
      return ctx.cannotVerify(
        `Cannot verify the anti-affinity of ${r.label} at preview: its pod spec is computed.`,
      );
    const anti = pod.spec ? spreadsByHostname(pod.spec, pod.labels) : false;
    const topo = pod.spec ? topologySpreadByHostname(pod.spec, pod.labels) : false;
    if (anti === true || topo === true) return;
    if (anti === UNKNOWN || topo === UNKNOWN)
      ctx.cannotVerify(
        `Cannot verify the spread of ${r.label} at preview: its affinity, topology spread constraints or labels are computed.`,
      );
    else
      ctx.violation(
        `${r.label} has neither required pod anti-affinity nor a DoNotSchedule topology spread constraint (maxSkew 1) on ${HOSTNAME} selecting its own pods, so its replicas may share a node; add affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution or topologySpreadConstraints with topologyKey ${HOSTNAME} and a labelSelector matching the pod labels.`,
      );
  },
});

export const readinessProbes: ResourceValidationPolicy = resourcePolicy<
  ScopeConfig & { allContainers: boolean }
>({
  name: "readiness-probes",
  description:
    "Workloads declare readiness probes, so traffic only reaches pods that can serve it.",
  severity: "medium",
  config: {
    // A bare Pod serves traffic through Services just the same.
    ...scopeSettings(["Deployment", "StatefulSet", "Pod"]),
    allContainers: setting.flag("Require a probe on every container, not only the main one."),
  },
  scope: (type) => (podOf(type, {}) ? undefined : "Only workloads run pods."),
  validate: (r, ctx) => {
    const why = outOfScope(r.type, r.props, ctx.config);
    if (why) return ctx.notApplicable(why);
    const pod = appContainers(r, "the readiness probes", ctx);
    for (const c of pod?.cs ?? []) {
      if (!ctx.config.allContainers && c.name !== pod!.main) continue;
      if (c.c === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify the readiness probe of ${r.label} ${containerLabel(c)} at preview: it is computed.`,
        );
        continue;
      }
      const probe = obj(c.c, "readinessProbe");
      if (probe === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the readiness probe of ${r.label} ${containerLabel(c)} at preview: it is computed.`,
        );
      else if (!probe)
        ctx.violation(
          `${r.label} ${containerLabel(c)} has no readinessProbe; add one that fails while the container cannot serve requests.`,
        );
    }
  },
});

interface Workload {
  r: StackResource;
  label: string;
  namespace: string | Unknown;
  labels: Record<string, string | Unknown> | Unknown;
  spec: Obj | Unknown | undefined;
}

function workloads(
  resources: StackResource[],
  byUrn: ReadonlyMap<string, StackResource>,
  cfg: ScopeConfig,
): Workload[] {
  return resources
    .filter((r) => !outOfScope(r.type, r.props, cfg))
    .map((r) => {
      const pod = podOf(r.type, r.props)!;
      return {
        r,
        label: describe(r.type, r.name, r.props),
        namespace: namespaceIn(r, byUrn),
        labels: pod.labels,
        spec: pod.spec,
      };
    });
}

export const podDisruptionBudget: StackValidationPolicy = stackPolicy<ScopeConfig>({
  name: "pod-disruption-budget",
  description:
    "Every Deployment is selected by a PodDisruptionBudget, so node drains keep it serving.",
  severity: "medium",
  config: scopeSettings(["Deployment"]),
  scope: (rs) =>
    rs.some((r) => kindOf(r.type) === "Deployment") ? undefined : "The stack has no Deployments.",
  validate: (resources, ctx, byUrn) => {
    const pdbs = resources.filter((r) => kindOf(r.type) === "PodDisruptionBudget");
    for (const w of workloads(resources, byUrn, ctx.config)) {
      if (w.labels === UNKNOWN || w.namespace === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify which PodDisruptionBudget selects ${w.label} at preview: its labels or namespace are computed.`,
          w.r.urn,
        );
        continue;
      }
      let unknown = false;
      const covered = pdbs.some((p) => {
        const ns = namespaceIn(p, byUrn);
        const sel = obj(p.props, "spec.selector");
        if (ns === UNKNOWN || sel === UNKNOWN) {
          unknown = true;
          return false;
        }
        if (ns !== w.namespace || !sel) return false;
        const hit = selects(sel, w.labels as Record<string, string | Unknown>);
        if (hit === UNKNOWN) unknown = true;
        return hit === true;
      });
      if (covered) continue;
      if (unknown)
        ctx.cannotVerify(
          `Cannot verify that a PodDisruptionBudget selects ${w.label} at preview: some budgets have computed namespaces or selectors.`,
          w.r.urn,
        );
      else
        ctx.violation(
          `${w.label} is not selected by any PodDisruptionBudget in its namespace; add one (e.g. maxUnavailable: 1) whose selector matches its pod labels.`,
          w.r.urn,
        );
    }
  },
});

interface ScheduleConfig {
  nodeCount: number | null;
}

/** Distinct FJORD_NODE values on remote commands (one per fjord VpsNode). */
export function fjordNodeCount(resources: StackResource[]): { count: number; unknown: boolean } {
  const names = new Set<string>();
  let unknown = false;
  for (const r of resources) {
    if (r.type !== "command:remote:Command") continue;
    const n = str(r.props, "environment.FJORD_NODE");
    if (n === UNKNOWN) unknown = true;
    else if (typeof n === "string") names.add(n);
  }
  return { count: names.size, unknown };
}

export const antiAffinitySchedulable: StackValidationPolicy = stackPolicy<ScheduleConfig>({
  name: "anti-affinity-schedulable",
  description:
    "Workloads with required anti-affinity on the hostname never ask for more replicas than the environment has nodes.",
  severity: "high",
  config: {
    nodeCount: {
      schema: {
        type: ["integer", "null"],
        minimum: 1,
        description:
          "Nodes in the environment; null counts fjord VpsNodes (distinct FJORD_NODE values).",
      },
      default: null,
    },
  },
  scope: (rs) =>
    rs.some((r) => ["Deployment", "StatefulSet", "ReplicaSet"].includes(kindOf(r.type) ?? ""))
      ? undefined
      : "The stack has no replicated workloads.",
  validate: (resources, ctx) => {
    const fromNodes = fjordNodeCount(resources);
    const nodes = ctx.config.nodeCount ?? (fromNodes.count > 0 ? fromNodes.count : undefined);
    const source = ctx.config.nodeCount ? "policy config nodeCount" : "fjord VpsNodes in the stack";
    for (const r of resources) {
      if (!["Deployment", "StatefulSet", "ReplicaSet"].includes(kindOf(r.type) ?? "")) continue;
      const pod = podOf(r.type, r.props)!;
      const label = describe(r.type, r.name, r.props);
      if (!pod.spec || pod.spec === UNKNOWN) continue;
      const spread = spreadsByHostname(pod.spec, pod.labels);
      if (spread === false) continue;
      const replicas = replicasOf(r.props);
      if (spread === UNKNOWN || replicas === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify that ${label} can be scheduled at preview: its replicas or affinity are computed.`,
          r.urn,
        );
        continue;
      }
      if (nodes === undefined) {
        if (replicas > 1)
          ctx.cannotVerify(
            `Cannot verify that the ${replicas} replicas of ${label} fit one per node: the stack has no fjord VpsNodes; set the policy config nodeCount.`,
            r.urn,
          );
        continue;
      }
      if (replicas > nodes) {
        ctx.violation(
          `${label} asks for ${replicas} replicas with required anti-affinity on ${HOSTNAME}, but the environment has ${nodes} node${nodes === 1 ? "" : "s"} (${source}), so ${replicas - nodes} replica${replicas - nodes === 1 ? "" : "s"} would stay Pending; lower replicas to ${nodes} or add nodes.`,
          r.urn,
        );
      }
    }
    if (fromNodes.unknown && !ctx.config.nodeCount)
      ctx.note(
        "Some remote commands have a computed FJORD_NODE at preview, so the node count may be low.",
      );
  },
});
