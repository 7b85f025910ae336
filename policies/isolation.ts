/**
 * Isolation: databases never exposed and default-deny networking in every namespace. Stack
 * policies, because each needs more than one resource (selectors, namespaces) to decide.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { describe, setting, stackPolicy } from "./lib/policy";
import { DOCKER } from "./lib/containers";
import { COMPONENT, kindOf, podOf, selects, namespaceIn } from "./lib/k8s";
import {
  type Obj,
  type Unknown,
  UNKNOWN,
  bool,
  isObj,
  list,
  obj,
  str,
  strMap,
  unwrap,
} from "./lib/values";

interface DbConfig {
  databasePorts: number[];
}

const DB_IMAGE = /(^|\/)(postgres|postgresql|mysql|mariadb|mongo|mongodb|redis|valkey)(:|@|$)/;

function dockerIsDatabase(props: Obj, ports: number[]): boolean {
  const labels = list(props, "labels");
  const marks = Object.fromEntries(
    (labels === UNKNOWN ? [] : labels).map((l) => [str(l, "label"), str(l, "value")]),
  );
  if (marks["fjord.role"] === "database" || marks[COMPONENT] === "database") return true;
  const image = str(props, "image");
  if (typeof image === "string" && DB_IMAGE.test(image)) return true;
  const ps = list(props, "ports");
  return (ps === UNKNOWN ? [] : ps).some((p) =>
    ports.includes(Number(unwrap(obj(p) as Obj | undefined)?.internal)),
  );
}

export const databaseServiceInternal: StackValidationPolicy = stackPolicy<DbConfig>({
  name: "database-service-internal",
  description:
    "Databases are only reachable inside the platform: ClusterIP Services, no ports published on all interfaces.",
  severity: "critical",
  config: {
    databasePorts: setting.integers("Ports that identify a database.", [5432, 3306, 27017, 6379]),
  },
  scope: (rs) =>
    rs.some((r) => kindOf(r.type) === "Service" || r.type === DOCKER)
      ? undefined
      : "The stack has no Services or Docker containers.",
  validate: (resources, ctx, byUrn) => {
    const dbPorts = ctx.config.databasePorts;
    const dbPods = resources.filter((r) => {
      const pod = podOf(r.type, r.props);
      return pod && pod.labels !== UNKNOWN && pod.labels[COMPONENT] === "database";
    });
    for (const r of resources) {
      const label = describe(r.type, r.name, r.props);
      if (r.type === DOCKER) {
        if (!dockerIsDatabase(r.props, dbPorts)) continue;
        if (bool(r.props, "publishAllPorts") === true) {
          ctx.violation(
            `${label} is a database and publishes all its ports; remove publishAllPorts and reach it over a Docker network.`,
            r.urn,
          );
        }
        const ps = list(r.props, "ports");
        if (ps === UNKNOWN)
          ctx.cannotVerify(
            `Cannot verify the published ports of ${label} at preview: ports are computed.`,
            r.urn,
          );
        for (const p of ps === UNKNOWN ? [] : ps) {
          const ip = str(p, "ip");
          if (ip === UNKNOWN)
            ctx.cannotVerify(
              `Cannot verify where ${label} publishes its ports at preview: ip is computed.`,
              r.urn,
            );
          else if (ip === undefined || ["0.0.0.0", "::", "[::]", ""].includes(ip)) {
            ctx.violation(
              `${label} is a database and publishes port ${String(unwrap(obj(p) as Obj).internal)} on all host interfaces; remove the port mapping or bind it to 127.0.0.1.`,
              r.urn,
            );
          }
        }
        continue;
      }
      if (kindOf(r.type) !== "Service") continue;
      const type = str(r.props, "spec.type");
      const external = list(r.props, "spec.externalIPs");
      const exposedBy =
        type === "NodePort" || type === "LoadBalancer"
          ? `type ${type}`
          : external !== UNKNOWN && external.length > 0
            ? "externalIPs"
            : undefined;
      const ports = list(r.props, "spec.ports");
      const portHit = (ports === UNKNOWN ? [] : ports)
        .map((p) => [
          unwrap(obj(p) as Obj | undefined)?.port,
          unwrap(obj(p) as Obj | undefined)?.targetPort,
        ])
        .flat()
        .find((n) => dbPorts.includes(Number(n)));
      const own = strMap(r.props, "metadata.labels");
      const ownDb = own !== UNKNOWN && own[COMPONENT] === "database";
      const ns = namespaceIn(r, byUrn);
      const selector = obj(r.props, "spec.selector");
      const selected = dbPods.find(
        (w) =>
          ns !== UNKNOWN &&
          namespaceIn(w, byUrn) === ns &&
          isObj(selector) &&
          selects(
            selector,
            podOf(w.type, w.props)!.labels as Record<string, string | Unknown>,
            true,
          ) === true,
      );
      if (!ownDb && portHit === undefined && !selected) continue;
      const why = selected
        ? `selects the database pods of ${describe(selected.type, selected.name, selected.props)}`
        : portHit !== undefined
          ? `exposes database port ${String(portHit)}`
          : `is labelled ${COMPONENT}=database`;
      if (type === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the type of ${label} at preview: spec.type is computed, and it ${why}.`,
          r.urn,
        );
      else if (exposedBy)
        ctx.violation(
          `${label} ${why} and is reachable from outside the cluster (${exposedBy}); make it type ClusterIP without externalIPs.`,
          r.urn,
        );
    }
  },
});

/** Whether a NetworkPolicy spec denies all ingress to every pod in its namespace. */
export function isDefaultDeny(spec: Obj | Unknown | undefined): boolean | Unknown {
  if (spec === UNKNOWN) return UNKNOWN;
  if (!spec) return false;
  const sel = obj(spec, "podSelector");
  if (sel === UNKNOWN) return UNKNOWN;
  const ml = obj(sel ?? {}, "matchLabels");
  const me = list(sel ?? {}, "matchExpressions");
  if (ml === UNKNOWN || me === UNKNOWN) return UNKNOWN;
  if (Object.keys(ml ?? {}).length > 0 || me.length > 0) return false;
  const types = list(spec, "policyTypes");
  const ingress = list(spec, "ingress");
  if (types === UNKNOWN || ingress === UNKNOWN) return UNKNOWN;
  // Without policyTypes, Kubernetes treats every NetworkPolicy as an Ingress policy.
  const coversIngress = types.length === 0 || types.includes("Ingress");
  return coversIngress && ingress.length === 0;
}

export const defaultDenyNetworkPolicy: StackValidationPolicy = stackPolicy<{
  namespaces: string[];
}>({
  name: "default-deny-network-policy",
  description:
    "Every namespace the stack creates has a default-deny NetworkPolicy (podSelector {}, Ingress, no ingress rules).",
  severity: "high",
  config: {
    namespaces: setting.strings(
      "Namespaces the stack uses but does not create that must also have one.",
      [],
    ),
  },
  scope: (rs) =>
    rs.some((r) => kindOf(r.type) === "Namespace")
      ? undefined
      : "The stack creates no Kubernetes namespaces.",
  validate: (resources, ctx) => {
    const nps = resources.filter((r) => kindOf(r.type) === "NetworkPolicy");
    type Target = { name: string | Unknown; urn?: string; label: string };
    const targets: Target[] = [
      ...resources
        .filter((r) => kindOf(r.type) === "Namespace")
        .map((r): Target => ({
          name: str(r.props, "metadata.name") ?? UNKNOWN,
          urn: r.urn,
          label: describe(r.type, r.name, r.props),
        })),
      ...ctx.config.namespaces.map((n): Target => ({ name: n, label: `Namespace ${n}` })),
    ];
    for (const t of targets) {
      let unknown = t.name === UNKNOWN;
      const found = nps.some((np) => {
        const ns = str(np.props, "metadata.namespace");
        const inNs =
          ns === UNKNOWN || ns === undefined
            ? t.urn !== undefined &&
              [...(np.propertyDependencies.metadata ?? []), ...np.dependencies].includes(t.urn)
            : ns === t.name;
        if (!inNs) return false;
        const deny = isDefaultDeny(obj(np.props, "spec"));
        if (deny === UNKNOWN) unknown = true;
        return deny === true;
      });
      if (found) continue;
      if (unknown)
        ctx.cannotVerify(
          `Cannot verify that ${t.label} has a default-deny NetworkPolicy at preview: names or specs are computed.`,
          t.urn,
        );
      else
        ctx.violation(
          `${t.label} has no default-deny NetworkPolicy; add one with podSelector: {} and policyTypes: [Ingress, Egress] and no rules, then allow each flow explicitly.`,
          t.urn,
        );
    }
  },
});
