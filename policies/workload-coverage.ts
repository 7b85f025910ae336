/**
 * Workload hygiene that needs more than the workload itself: whether its pods get an API token
 * (the pod or its ServiceAccount decides), whether its disruption budget lets a node drain, and
 * whether any NetworkPolicy selects its pods. Stack policies for that reason.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { type StackResource, describe, stackPolicy } from "./lib/policy";
import { isWorkload, kindOf, namespaceIn, podOf, selects } from "./lib/k8s";
import { type Obj, type Unknown, UNKNOWN, at, bool, isObj, obj, str } from "./lib/values";
import { replicasOf } from "./availability";

/** Resources by their known namespace (those with a computed one are left out). */
function byNamespace(
  rs: StackResource[],
  byUrn: ReadonlyMap<string, StackResource>,
): Map<string, StackResource[]> {
  const out = new Map<string, StackResource[]>();
  for (const r of rs) {
    const ns = namespaceIn(r, byUrn);
    if (ns === UNKNOWN) continue;
    const list = out.get(ns);
    if (list) list.push(r);
    else out.set(ns, [r]);
  }
  return out;
}

const hasWorkloads = (rs: StackResource[]): string | undefined =>
  rs.some((r) => isWorkload(r.type)) ? undefined : "The stack has no workloads.";

/** ServiceAccounts by "namespace/name", built once per stack (a lookup per workload). */
function accountIndex(
  resources: StackResource[],
  byUrn: ReadonlyMap<string, StackResource>,
): { byName: Map<string, StackResource>; all: StackResource[] } {
  const all = resources.filter((x) => kindOf(x.type) === "ServiceAccount");
  const byName = new Map<string, StackResource>();
  for (const a of all) {
    const n = str(a.props, "metadata.name");
    const ns = namespaceIn(a, byUrn);
    if (typeof n === "string" && ns !== UNKNOWN) byName.set(`${ns}/${n}`, a);
  }
  return { byName, all };
}

/** The ServiceAccount a pod runs as, found by name in its namespace or through its dependencies. */
function serviceAccountOf(
  r: StackResource,
  spec: Obj,
  ns: string | Unknown,
  accounts: ReturnType<typeof accountIndex>,
): { name: string; sa: StackResource | undefined } | Unknown {
  const name = str(spec, "serviceAccountName") ?? str(spec, "serviceAccount") ?? "default";
  if (name === UNKNOWN || ns === UNKNOWN) {
    const deps = new Set(r.dependencies);
    const dep = accounts.all.filter((a) => deps.has(a.urn));
    const n = dep.length === 1 ? str(dep[0]!.props, "metadata.name") : undefined;
    return dep.length === 1 && typeof n === "string" ? { name: n, sa: dep[0] } : UNKNOWN;
  }
  return { name, sa: accounts.byName.get(`${ns}/${name}`) };
}

export const automountServiceAccountToken: StackValidationPolicy = stackPolicy<
  Record<string, never>
>({
  name: "automount-service-account-token",
  description:
    "Pods get no Kubernetes API token unless they need one: automountServiceAccountToken is false on the pod or its ServiceAccount (a pod that calls the API is exempted with its reason).",
  severity: "medium",
  config: {},
  scope: hasWorkloads,
  validate: (resources, ctx, byUrn) => {
    const accounts = accountIndex(resources, byUrn);
    for (const r of resources) {
      if (!isWorkload(r.type)) continue;
      const label = describe(r.type, r.name, r.props);
      const pod = podOf(r.type, r.props)!;
      if (!pod.spec) continue;
      const own = pod.spec === UNKNOWN ? UNKNOWN : bool(pod.spec, "automountServiceAccountToken");
      if (own === false) continue;
      const fix = `set automountServiceAccountToken: false on the pod spec, or exempt it (fjord.io/policy-exempt) with the reason it calls the API.`;
      if (own === true) {
        ctx.violation(
          `${label} mounts a Kubernetes API token into its pods (automountServiceAccountToken: true), so anyone inside a pod can call the API as it; ${fix}`,
          r.urn,
        );
        continue;
      }
      const acct =
        own === UNKNOWN
          ? UNKNOWN
          : serviceAccountOf(r, pod.spec as Obj, namespaceIn(r, byUrn), accounts);
      const saValue =
        acct === UNKNOWN
          ? UNKNOWN
          : acct.sa
            ? bool(acct.sa.props, "automountServiceAccountToken")
            : undefined;
      if (acct === UNKNOWN || saValue === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify whether ${label} mounts an API token at preview: its automountServiceAccountToken or ServiceAccount is computed.`,
          r.urn,
        );
      } else if (saValue !== false) {
        ctx.violation(
          `${label} mounts a Kubernetes API token into its pods (set neither on the pod nor on its ServiceAccount '${acct.name}'), so anyone inside a pod can call the API as it; ${fix}`,
          r.urn,
        );
      }
    }
  },
});

/** "0" / 0 / "0%" */
const isZero = (v: unknown): boolean => v === 0 || v === "0" || v === "0%";

export const pdbAllowsDisruption: StackValidationPolicy = stackPolicy<Record<string, never>>({
  name: "pdb-allows-disruption",
  description:
    "No PodDisruptionBudget allows zero disruptions (maxUnavailable 0, minAvailable 100% or all replicas), which blocks node drains and upgrades forever.",
  severity: "high",
  config: {},
  scope: (rs) =>
    rs.some((r) => kindOf(r.type) === "PodDisruptionBudget")
      ? undefined
      : "The stack has no PodDisruptionBudgets.",
  validate: (resources, ctx, byUrn) => {
    const workloadsIn = byNamespace(
      resources.filter((r) => isWorkload(r.type)),
      byUrn,
    );
    const fix = "allow at least one (e.g. maxUnavailable: 1).";
    for (const p of resources) {
      if (kindOf(p.type) !== "PodDisruptionBudget") continue;
      const label = describe(p.type, p.name, p.props);
      const maxU = at(p.props, "spec.maxUnavailable");
      const minA = at(p.props, "spec.minAvailable");
      if (maxU === UNKNOWN || minA === UNKNOWN) {
        ctx.cannotVerify(`Cannot verify the budget of ${label} at preview: it is computed.`, p.urn);
        continue;
      }
      if (isZero(maxU)) {
        ctx.violation(
          `${label} allows zero disruptions (maxUnavailable: ${String(maxU)}), so node drains block forever; ${fix}`,
          p.urn,
        );
        continue;
      }
      if (minA === "100%") {
        ctx.violation(
          `${label} allows zero disruptions (minAvailable: 100%), so node drains block forever; ${fix}`,
          p.urn,
        );
        continue;
      }
      if (typeof minA !== "number") continue;
      const ns = namespaceIn(p, byUrn);
      const sel = obj(p.props, "spec.selector");
      if (ns === UNKNOWN || sel === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify the budget of ${label} at preview: its namespace or selector is computed.`,
          p.urn,
        );
        continue;
      }
      let replicas = 0;
      let unknown = false;
      for (const w of workloadsIn.get(ns) ?? []) {
        const labels = podOf(w.type, w.props)!.labels;
        const hit = labels === UNKNOWN ? UNKNOWN : selects(isObj(sel) ? sel : undefined, labels);
        if (hit === false) continue;
        const n = replicasOf(w.props);
        if (hit === UNKNOWN || n === UNKNOWN) unknown = true;
        else replicas += n;
      }
      if (unknown)
        ctx.cannotVerify(
          `Cannot verify the budget of ${label} at preview: the replicas or labels of the pods it selects are computed.`,
          p.urn,
        );
      else if (replicas > 0 && minA >= replicas)
        ctx.violation(
          `${label} requires minAvailable: ${minA} of the ${replicas} pod${replicas === 1 ? "" : "s"} it selects, so it allows zero disruptions and node drains block forever; lower minAvailable below ${replicas} or use maxUnavailable: 1.`,
          p.urn,
        );
    }
  },
});

export const networkPolicySelectsPods: StackValidationPolicy = stackPolicy<Record<string, never>>({
  name: "network-policy-selects-pods",
  description:
    "Every workload's pods are selected by at least one NetworkPolicy in their namespace, so their traffic is not wide open.",
  severity: "high",
  config: {},
  scope: hasWorkloads,
  validate: (resources, ctx, byUrn) => {
    const nps = resources.filter((r) => kindOf(r.type) === "NetworkPolicy");
    // Policies whose namespace is computed could be in any namespace; the rest are looked up.
    const floating = nps.filter((p) => namespaceIn(p, byUrn) === UNKNOWN);
    const selectorsIn = new Map<string, (Obj | Unknown | undefined)[]>();
    for (const [ns, ps] of byNamespace(nps, byUrn))
      selectorsIn.set(
        ns,
        ps.map((p) => obj(p.props, "spec.podSelector")),
      );
    for (const w of resources) {
      if (!isWorkload(w.type)) continue;
      const label = describe(w.type, w.name, w.props);
      const ns = namespaceIn(w, byUrn);
      const labels = podOf(w.type, w.props)!.labels;
      if (ns === UNKNOWN || labels === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify which NetworkPolicy selects ${label} at preview: its namespace or labels are computed.`,
          w.urn,
        );
        continue;
      }
      let unknown = floating.length > 0;
      const covered = (selectorsIn.get(ns) ?? []).some((sel) => {
        if (sel === UNKNOWN) {
          unknown = true;
          return false;
        }
        // An omitted podSelector is the empty one: every pod in the namespace.
        const hit = selects(sel ?? {}, labels);
        if (hit === UNKNOWN) unknown = true;
        return hit === true;
      });
      if (covered) continue;
      if (unknown)
        ctx.cannotVerify(
          `Cannot verify which NetworkPolicy selects ${label} at preview: some NetworkPolicies have computed namespaces or selectors.`,
          w.urn,
        );
      else
        ctx.violation(
          `${label}'s pods are selected by no NetworkPolicy in namespace ${ns}, so they accept and send any traffic; add a default-deny NetworkPolicy (podSelector: {}) there and allow what they need.`,
          w.urn,
        );
    }
  },
});
