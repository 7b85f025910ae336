/**
 * Residency: every node in an allowed jurisdiction, and no observability data leaving them.
 * A user in Norway shows compliance with this pack's verdicts plus the evidence file
 * (residency-evidence.ts); anything the pack cannot tie to a jurisdiction is a violation.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
  type Ctx,
  type Settings,
  type StackResource,
  describe,
  resourcePolicy,
  stackPolicy,
} from "./lib/policy";
import { Jurisdictions, type ResidencyConfig, residencySettings } from "./lib/regions";
import { type Obj, UNKNOWN, isUnknown, list, obj, str, strMap } from "./lib/values";
import { groupOf, isWorkload, kindOf, podOf } from "./lib/k8s";
import { classify, filesOf } from "./lib/files";
import { envEndpoints, logDriverTargets } from "./lib/sinks";
import {
  type Endpoint,
  alertmanagerCrdEndpoints,
  endpointsOf,
  judgeEndpoint,
} from "./lib/endpoints";

const REGION_LABEL = "fjord.io/region";
const JURISDICTION_LABEL = "fjord.io/jurisdiction";
const NODE_REGION_KEYS = [
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/region",
];
const REMOTE = ["command:remote:Command", "command:remote:CopyToRemote", "command:remote:CopyFile"];

export interface Node {
  urn: string;
  label: string;
  host: string | typeof UNKNOWN | undefined;
  /** FJORD_REGION as declared by the resource itself. */
  region: string | typeof UNKNOWN | undefined;
}

/** Hosts fjord (or anyone) reaches over SSH, and remote Docker daemons. */
export function nodesOf(resources: StackResource[]): Node[] {
  const out: Node[] = [];
  for (const r of resources) {
    if (REMOTE.includes(r.type)) {
      out.push({
        urn: r.urn,
        label: describe(r.type, r.name, r.props),
        host: str(r.props, "connection.host"),
        region: str(r.props, "environment.FJORD_REGION"),
      });
    } else if (r.type === "pulumi:providers:docker") {
      const h = str(r.props, "host");
      if (h === undefined || (typeof h === "string" && /^(unix|npipe):\/\//.test(h))) continue;
      const host =
        typeof h === "string"
          ? h
              .replace(/^\w+:\/\//, "")
              .replace(/^[^@]*@/, "")
              .split(/[:/]/)[0]
          : h;
      out.push({ urn: r.urn, label: `Docker provider '${r.name}'`, host, region: undefined });
    }
  }
  return out;
}

export type Placement =
  | { kind: "ok"; region: string; jurisdiction: string; basis: string }
  | { kind: "violation"; message: string }
  | { kind: "unknown"; message: string };

/** Where one node runs, from its own FJORD_REGION, another resource on the same host, or config. */
export function placeNode(n: Node, nodes: Node[], j: Jurisdictions): Placement {
  if (n.region === UNKNOWN) {
    return {
      kind: "unknown",
      message: `Cannot verify the region of ${n.label} at preview: environment.FJORD_REGION is computed.`,
    };
  }
  let region = n.region;
  let basis = "environment.FJORD_REGION";
  if (region === undefined && typeof n.host === "string") {
    const peer = nodes.find((p) => p.host === n.host && typeof p.region === "string");
    region = (peer?.region as string | undefined) ?? j.regionOfHost(n.host);
    basis = peer
      ? `FJORD_REGION of another resource on host ${n.host}`
      : `hostRegions['${n.host}']`;
  }
  if (region === undefined) {
    if (n.host === UNKNOWN) {
      return {
        kind: "unknown",
        message: `Cannot verify the region of ${n.label} at preview: its host is computed and it declares no environment.FJORD_REGION.`,
      };
    }
    return {
      kind: "violation",
      message: `${n.label} connects to host '${n.host ?? "(none)"}' but declares no region, so it cannot be proven resident; set environment.FJORD_REGION on the command or list the host in the policy config hostRegions.`,
    };
  }
  const juris = j.of(region);
  if (!juris) {
    return {
      kind: "violation",
      message: `${n.label} runs in region '${region}', which is not in the region catalog; add it to the policy config regions with its jurisdiction.`,
    };
  }
  if (!j.isAllowed(juris)) {
    return {
      kind: "violation",
      message: `${n.label} runs in region '${region}' (${juris}), outside the allowed jurisdictions (${j.allowedText()}); move the node to an allowed region.`,
    };
  }
  return { kind: "ok", region, jurisdiction: juris, basis };
}

export const residencyNodes: StackValidationPolicy = stackPolicy<ResidencyConfig>({
  name: "residency-nodes",
  description: "Every node or host the stack deploys to is in an allowed region or jurisdiction.",
  severity: "critical",
  config: residencySettings,
  scope: (rs) =>
    nodesOf(rs).length === 0
      ? "The stack has no remote commands or remote Docker hosts."
      : undefined,
  validate: (resources, ctx) => {
    const j = new Jurisdictions(ctx.config);
    const nodes = nodesOf(resources);
    for (const n of nodes) {
      const p = placeNode(n, nodes, j);
      if (p.kind === "violation") ctx.violation(p.message, n.urn);
      else if (p.kind === "unknown") ctx.cannotVerify(p.message, n.urn);
    }
  },
});

function checkRegion(
  region: string,
  what: string,
  label: string,
  j: Jurisdictions,
  ctx: Ctx<ResidencyConfig>,
): void {
  const juris = j.of(region);
  if (!juris) {
    ctx.violation(
      `${label} has ${what} '${region}', which is not in the region catalog; add it to the policy config regions with its jurisdiction.`,
    );
  } else if (!j.isAllowed(juris)) {
    ctx.violation(
      `${label} has ${what} '${region}' (${juris}), outside the allowed jurisdictions (${j.allowedText()}); use a region in ${j.allowedText()}.`,
    );
  }
}

/** Region values a pod is pinned to by nodeSelector or required node affinity. */
function pinnedRegions(spec: Obj): { values: string[]; unknown: boolean } {
  const values: string[] = [];
  let unknown = false;
  const sel = strMap(spec, "nodeSelector");
  if (sel === UNKNOWN) unknown = true;
  else
    for (const k of NODE_REGION_KEYS)
      if (sel[k] === UNKNOWN) unknown = true;
      else if (sel[k]) values.push(sel[k] as string);
  const terms = list(
    spec,
    "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
  );
  if (terms === UNKNOWN) return { values, unknown: true };
  for (const t of terms) {
    const exprs = list(t, "matchExpressions");
    if (exprs === UNKNOWN) {
      unknown = true;
      continue;
    }
    for (const e of exprs) {
      const key = str(e, "key");
      if (typeof key !== "string" || !NODE_REGION_KEYS.includes(key) || str(e, "operator") !== "In")
        continue;
      const vs = list(e, "values");
      if (vs === UNKNOWN) unknown = true;
      else
        for (const v of vs)
          if (typeof v === "string") values.push(v);
          else unknown = true;
    }
  }
  return { values, unknown };
}

export const residencyWorkloads: ResourceValidationPolicy = resourcePolicy<ResidencyConfig>({
  name: "residency-workloads",
  description:
    "Kubernetes namespaces and workloads are labelled, or pinned, only to regions in allowed jurisdictions.",
  severity: "critical",
  config: residencySettings,
  scope: (type) =>
    type.startsWith("kubernetes:") ? undefined : "Only Kubernetes objects carry region labels.",
  validate: (r, ctx) => {
    const j = new Jurisdictions(ctx.config);
    const labelSets: ReturnType<typeof strMap>[] = [strMap(r.props, "metadata.labels")];
    const pod = podOf(r.type, r.props);
    if (pod) labelSets.push(pod.labels);
    for (const labels of labelSets) {
      if (labels === UNKNOWN || typeof labels !== "object") continue;
      const region = labels[REGION_LABEL];
      if (region === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the region of ${r.label} at preview: its ${REGION_LABEL} label is computed.`,
        );
      else if (region) checkRegion(region, `label ${REGION_LABEL}`, r.label, j, ctx);
      const juris = labels[JURISDICTION_LABEL];
      if (typeof juris === "string" && !j.isAllowed(juris)) {
        ctx.violation(
          `${r.label} has label ${JURISDICTION_LABEL}=${juris}, outside the allowed jurisdictions (${j.allowedText()}); place it in an allowed jurisdiction.`,
        );
      }
    }
    if (pod && pod.spec !== undefined) {
      if (pod.spec === UNKNOWN) return;
      const pinned = pinnedRegions(pod.spec);
      if (pinned.unknown)
        ctx.cannotVerify(
          `Cannot verify the node region selectors of ${r.label} at preview: they are computed.`,
        );
      for (const v of new Set(pinned.values))
        checkRegion(v, "a node selector on region", r.label, j, ctx);
    }
  },
});

interface EndpointConfig extends ResidencyConfig {
  allowedEndpoints: Record<string, string>;
}

const endpointSettings: Settings<EndpointConfig> = {
  ...residencySettings,
  allowedEndpoints: {
    schema: {
      type: "object",
      additionalProperties: { type: "string" },
      description:
        'Host suffix → jurisdiction of export endpoints outside the platform (e.g. {"logs.example.no": "NO"}).',
    },
    default: {},
  },
};

export const residencyEndpoints: ResourceValidationPolicy = resourcePolicy<EndpointConfig>({
  name: "residency-endpoints",
  description:
    "Metrics, logs, traces and alerts are only sent in-platform or to endpoints in allowed jurisdictions.",
  severity: "critical",
  config: endpointSettings,
  scope: (type) =>
    ["ConfigMap", "Secret"].includes(kindOf(type) ?? "") ||
    type === "docker:index/container:Container" ||
    isWorkload(type) ||
    groupOf(type) === "monitoring.coreos.com"
      ? undefined
      : "Only config files, Docker containers, workloads and monitoring CRDs export observability data.",
  validate: (r, ctx) => {
    const j = new Jurisdictions(ctx.config);
    const judge = (e: Endpoint, where: string) => {
      const v = judgeEndpoint(e.url, j, ctx.config.allowedEndpoints);
      if (v.kind === "violation") {
        ctx.violation(
          `${r.label} sends data to ${e.url} (${where} ${e.at}): ${v.why}; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.`,
        );
      } else if (v.kind === "unknown") {
        ctx.cannotVerify(
          `Cannot verify the destination of ${r.label} (${where} ${e.at}): ${v.why}.`,
        );
      }
    };
    for (const f of filesOf(r.type, r.props)) {
      const kind = classify(f);
      if (
        kind === "other" ||
        kind === "nginx" ||
        kind === "mysql" ||
        kind === "postgres" ||
        kind.startsWith("traefik")
      )
        continue;
      if (f.content === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify the ${kind} config in ${r.label} (${f.where}) at preview: its content is computed.`,
        );
        continue;
      }
      const eps = endpointsOf(kind, f.content);
      if (!eps)
        ctx.note(
          `The ${kind} config in ${r.label} (${f.where}) could not be parsed, so its export destinations are unverified.`,
        );
      for (const e of eps ?? []) judge(e, f.where);
    }
    if (r.type === "docker:index/container:Container") {
      const driver = str(r.props, "logDriver");
      if (driver === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify where ${r.label} ships logs at preview: logDriver is computed.`,
        );
      else if (driver) {
        const opts = strMap(r.props, "logOpts");
        const targets = opts === UNKNOWN ? UNKNOWN : logDriverTargets(driver, opts);
        if (targets === UNKNOWN)
          ctx.cannotVerify(
            `Cannot verify where ${r.label} ships logs at preview: logOpts are computed.`,
          );
        else for (const t of targets) judge(t, `log driver ${driver}`);
      }
    }
    if (groupOf(r.type) === "monitoring.coreos.com") {
      const spec = obj(r.props, "spec");
      if (spec === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the endpoints of ${r.label} at preview: its spec is computed.`,
        );
      else if (spec) {
        const rw = list(spec, "remoteWrite");
        for (const [i, w] of (rw === UNKNOWN ? [] : rw).entries()) {
          const url = str(w, "url");
          if (typeof url === "string") judge({ url, at: `spec.remoteWrite[${i}].url` }, "CRD");
          else if (isUnknown(url))
            ctx.cannotVerify(
              `Cannot verify ${r.label} spec.remoteWrite[${i}].url at preview: it is computed.`,
            );
        }
        if (kindOf(r.type) === "AlertmanagerConfig")
          for (const e of alertmanagerCrdEndpoints(spec)) judge(e, "CRD spec");
      }
    }
    for (const e of envEndpoints(r.type, r.props)) judge(e, "environment");
  },
});
