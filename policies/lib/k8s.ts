/**
 * Kubernetes shapes, matched by type token and property path only, so the pack judges any
 * program (fjord's components, yaml.ConfigFile, Helm-rendered objects) the same way.
 */
import { type Obj, type Unknown, UNKNOWN, isUnknown, list, obj, str, strMap } from "./values";

const POD_TEMPLATE_KINDS = [
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
];
export const WORKLOAD_KINDS = [...POD_TEMPLATE_KINDS, "CronJob", "Pod"];

/** The recommended label naming a workload's tier ("database", "observability", ...). */
export const COMPONENT = "app.kubernetes.io/component";

/** The Kind of a `kubernetes:<group>/<version>:<Kind>` token (undefined for other providers). */
export function kindOf(type: string): string | undefined {
  const m = /^kubernetes:[^:]+:([A-Za-z0-9]+)$/.exec(type);
  return m ? m[1] : undefined;
}

/** API group of a kubernetes type token ("apps", "core", "traefik.io"). */
export function groupOf(type: string): string | undefined {
  const m = /^kubernetes:([^:/]+)\/[^:]+:/.exec(type);
  return m ? m[1] : undefined;
}

export function isWorkload(type: string): boolean {
  const k = kindOf(type);
  return k !== undefined && WORKLOAD_KINDS.includes(k);
}

/** Path from the object root to its pod template (metadata + spec), or "" for a bare Pod. */
export function podTemplatePath(kind: string): string | undefined {
  if (kind === "Pod") return "";
  if (kind === "CronJob") return "spec.jobTemplate.spec.template";
  return POD_TEMPLATE_KINDS.includes(kind) ? "spec.template" : undefined;
}

export interface Pod {
  /** Pod spec, UNKNOWN when computed, undefined when absent. */
  spec: Obj | Unknown | undefined;
  labels: Record<string, string | Unknown> | Unknown;
  annotations: Record<string, string | Unknown> | Unknown;
}

export function podOf(type: string, props: Obj): Pod | undefined {
  const kind = kindOf(type);
  const path = kind ? podTemplatePath(kind) : undefined;
  if (path === undefined) return undefined;
  const p = (s: string) => (path ? `${path}.${s}` : s);
  return {
    spec: obj(props, p("spec")),
    labels: strMap(props, p("metadata.labels")),
    annotations: strMap(props, p("metadata.annotations")),
  };
}

export interface Container {
  /** Name, or `#<index>` when the name is missing or computed. */
  name: string;
  init: boolean;
  /** The container object, UNKNOWN when the whole element is computed. */
  c: Obj | Unknown;
}

/**
 * Every container and init container of a pod spec (and ephemeral ones when asked, which Pod
 * Security judges too); UNKNOWN when a whole list is computed.
 */
export function containersOf(spec: Obj, ephemeral = false): Container[] | Unknown {
  const out: Container[] = [];
  const keys: [string, boolean][] = [
    ["initContainers", true],
    ["containers", false],
  ];
  if (ephemeral) keys.push(["ephemeralContainers", false]);
  for (const [key, init] of keys) {
    const cs = list(spec, key);
    if (cs === UNKNOWN) return UNKNOWN;
    cs.forEach((c, i) => {
      const n = str(c, "name");
      out.push({
        name: typeof n === "string" ? n : `#${i}`,
        init,
        c: isUnknown(c) ? UNKNOWN : (c as Obj),
      });
    });
  }
  return out;
}

/** "container 'x'" / "init container 'x'" for messages. */
export const containerLabel = (c: Container): string =>
  `${c.init ? "init container" : "container"} '${c.name}'`;

export function labelsOf(props: Obj): Record<string, string | Unknown> | Unknown {
  return strMap(props, "metadata.labels");
}

/** Whether `selector` (matchLabels + matchExpressions, or a plain map for Services) selects `labels`. */
export function selects(
  selector: Obj | undefined,
  labels: Record<string, string | Unknown>,
  plainMap = false,
): boolean | Unknown {
  if (!selector) return false;
  const match = plainMap ? strMap(selector) : strMap(selector, "matchLabels");
  if (match === UNKNOWN) return UNKNOWN;
  let unknown = false;
  for (const [k, v] of Object.entries(match)) {
    const have = labels[k];
    if (v === UNKNOWN || have === UNKNOWN) unknown = true;
    else if (have !== v) return false;
  }
  if (!plainMap) {
    const exprs = list(selector, "matchExpressions");
    if (exprs === UNKNOWN) return UNKNOWN;
    for (const e of exprs) {
      const key = str(e, "key");
      const op = str(e, "operator");
      const values = list(e, "values");
      if (key === UNKNOWN || op === UNKNOWN || values === UNKNOWN || key === undefined) {
        unknown = true;
        continue;
      }
      const have = labels[key];
      if (have === UNKNOWN) {
        unknown = true;
        continue;
      }
      const vs = values.filter((v): v is string => typeof v === "string");
      const ok =
        op === "In"
          ? have !== undefined && vs.includes(have)
          : op === "NotIn"
            ? have === undefined || !vs.includes(have)
            : op === "Exists"
              ? have !== undefined
              : op === "DoesNotExist"
                ? have === undefined
                : false;
      if (!ok) return false;
    }
  }
  // A Service without a selector selects nothing by label.
  if (plainMap && Object.keys(match).length === 0) return false;
  return unknown ? UNKNOWN : true;
}

/** Bytes from a Kubernetes memory quantity ("256Mi", "1G", "1e9", "128974848"); undefined if malformed. */
export function memoryBytes(q: unknown): number | Unknown | undefined {
  if (isUnknown(q)) return UNKNOWN;
  if (typeof q === "number") return q > 0 ? q : undefined;
  if (typeof q !== "string") return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(?:e([0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|K|M|G|T|P|E))?$/.exec(
    q.trim(),
  );
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] !== undefined) return n * 10 ** Number(m[2]);
  const unit: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    K: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
  };
  return n * (m[3] ? unit[m[3]]! : 1);
}

/** Millicores from a CPU quantity ("500m", "1", "0.5", 2); undefined if malformed. */
export function cpuMillis(q: unknown): number | Unknown | undefined {
  if (isUnknown(q)) return UNKNOWN;
  if (typeof q === "number") return q > 0 ? q * 1000 : undefined;
  if (typeof q !== "string") return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)(m)?$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

export const MiB = 2 ** 20;
export const fmtMi = (bytes: number): string => `${Math.round((bytes / MiB) * 10) / 10}Mi`;

/**
 * Namespace of a Kubernetes object in a stack policy. At preview it is often computed (the
 * Namespace resource's name output); then the Namespace the object depends on names it.
 */
export function namespaceIn(
  r: { props: Obj; dependencies: string[]; propertyDependencies: Record<string, string[]> },
  byUrn: ReadonlyMap<string, { type: string; props: Obj }>,
): string | Unknown {
  const ns = str(r.props, "metadata.namespace");
  if (typeof ns === "string") return ns;
  if (ns === undefined) return "default";
  const deps = new Set([...(r.propertyDependencies.metadata ?? []), ...r.dependencies]);
  const names = [...deps]
    .map((u) => byUrn.get(u))
    .filter((d) => d !== undefined && kindOf(d.type) === "Namespace")
    .map((d) => str(d!.props, "metadata.name"))
    .filter((n): n is string => typeof n === "string");
  return new Set(names).size === 1 ? names[0]! : UNKNOWN;
}
