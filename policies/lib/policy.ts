/**
 * How every fjord policy is built: typed config with defaults, findings at the configured level
 * or explicitly advisory ("cannot verify at preview"), and exemptions that are reported rather
 * than silently skipped.
 */
import type {
  EnforcementLevel,
  PolicyConfigSchema,
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  Severity,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { type Obj, type Unknown, UNKNOWN, list, str, strMap, unwrap } from "./values";

export const EXEMPT_KEY = "fjord.io/policy-exempt";
export const EXEMPT_REASON_KEY = "fjord.io/policy-exempt-reason";

/** One config key: its JSON schema (what the engine validates) and the default the code uses. */
export interface Setting<T> {
  schema: PolicyConfigJSONSchema;
  default: T;
}
export type Settings<C> = { [K in keyof C]: Setting<C[K]> };

/** The setting kinds most policies take, so each reads as its description and default. */
export const setting = {
  strings: (description: string, dflt: string[]): Setting<string[]> => ({
    schema: { type: "array", items: { type: "string" }, description },
    default: dflt,
  }),
  integers: (description: string, dflt: number[]): Setting<number[]> => ({
    schema: { type: "array", items: { type: "integer" }, description },
    default: dflt,
  }),
  /** Off unless given `true`: most switches relax or extend a check. */
  flag: (description: string, dflt = false): Setting<boolean> => ({
    schema: { type: "boolean", description },
    default: dflt,
  }),
};

export function configSchemaOf<C>(settings: Settings<C>): PolicyConfigSchema {
  const properties: Record<string, PolicyConfigJSONSchema> = {};
  for (const [k, s] of Object.entries(settings) as [string, Setting<unknown>][]) {
    properties[k] = { ...s.schema, default: s.default as PolicyConfigJSONSchema["default"] };
  }
  return { properties };
}

/** Config as given, falling back per key to the default (the engine does not fill them in). */
export function readConfig<C>(settings: Settings<C>, given: Obj): C {
  const out: Obj = {};
  for (const [k, s] of Object.entries(settings) as [string, Setting<unknown>][]) {
    out[k] = given[k] !== undefined && given[k] !== null ? given[k] : s.default;
  }
  return out as C;
}

export interface Ctx<C> {
  config: C;
  /** A violation at the policy's configured enforcement level. */
  violation(message: string, urn?: string): void;
  /**
   * Always advisory: the policy could not decide because a value is computed at preview. The
   * same check runs again with real values during `pulumi up`, where a violation blocks.
   */
  cannotVerify(message: string, urn?: string): void;
  /** Always advisory: information that must be visible but never blocks. */
  note(message: string, urn?: string): void;
  /** Marks the policy not applicable to this resource or stack (throws, like the SDK's). */
  notApplicable(reason: string): never;
}

interface Finding {
  message: string;
  urn?: string;
  advisory: boolean;
}

export interface ResourceView {
  type: string;
  name: string;
  urn: string;
  /** Unwrapped inputs: read them with values.ts, which reports computed values as UNKNOWN. */
  props: Obj;
}

/** A resource as a resource policy judges it, with the label its findings name it by. */
export interface JudgedResource extends ResourceView {
  label: string;
}

export interface StackResource extends ResourceView {
  /** True when neither outputs nor declared inputs are known (see declaredInputs). */
  opaque?: boolean;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
}

export interface PolicyMeta<C> {
  name: string;
  description: string;
  severity?: Severity;
  remediationSteps?: string;
  /** Default level when neither the pack config nor `all` names one. */
  enforcementLevel?: EnforcementLevel;
  config: Settings<C>;
}

// @pulumi/policy 1.21 accepts an object in reportViolation (pulumi-policy#424, not yet in its
// typings); it is the only way to report one finding at a level other than the policy's own.
type ObjectReport = (v: {
  message: string;
  urn?: string;
  enforcementLevel?: EnforcementLevel;
}) => void;

function emit(report: ReportViolation, f: Finding): void {
  const send = report as unknown as ObjectReport;
  send({
    message: f.message,
    ...(f.urn ? { urn: f.urn } : {}),
    ...(f.advisory ? { enforcementLevel: "advisory" } : {}),
  });
}

/** Exemption of a resource from `policy`, read from annotations/labels (k8s) or labels (docker). */
export function exemptionOf(
  type: string,
  props: Obj,
  policy: string,
): { exempt: false } | { exempt: true; reason: string | undefined } {
  const marks: Record<string, string | Unknown> = {};
  if (type.startsWith("kubernetes:")) {
    for (const p of ["metadata.labels", "metadata.annotations"]) {
      const m = strMap(props, p);
      if (m !== UNKNOWN) Object.assign(marks, m);
    }
  } else if (type === "docker:index/container:Container") {
    const labels = list(props, "labels");
    if (labels !== UNKNOWN) {
      for (const l of labels) {
        const k = str(l, "label");
        const v = str(l, "value");
        if (typeof k === "string" && v !== undefined) marks[k] = v;
      }
    }
  }
  const names = marks[EXEMPT_KEY];
  if (typeof names !== "string") return { exempt: false };
  const listed = names.split(/[,\s]+/).filter(Boolean);
  if (!listed.includes(policy) && !listed.includes("all")) return { exempt: false };
  const reason = marks[EXEMPT_REASON_KEY];
  return {
    exempt: true,
    reason: typeof reason === "string" && reason.trim() ? reason.trim() : undefined,
  };
}

/** Routes findings through the resource's exemption: exempt findings become advisory notes. */
function deliver(
  policy: string,
  findings: Finding[],
  report: ReportViolation,
  lookup: (urn: string | undefined) => { type: string; props: Obj; label: string } | undefined,
): void {
  for (const f of findings) {
    const target = lookup(f.urn);
    const ex = target ? exemptionOf(target.type, target.props, policy) : { exempt: false as const };
    if (!ex.exempt || f.advisory) {
      emit(report, f);
    } else if (ex.reason) {
      emit(report, {
        ...f,
        advisory: true,
        message: `${target!.label} is exempt from ${policy} (${EXEMPT_REASON_KEY}: "${ex.reason}"); the exempted finding: ${f.message}`,
      });
    } else {
      emit(report, {
        ...f,
        message: `${f.message} The exemption on ${target!.label} is ignored because it has no ${EXEMPT_REASON_KEY} annotation or label.`,
      });
    }
  }
}

function collector<C>(
  config: C,
  notApplicable: (reason: string) => never,
): { ctx: Ctx<C>; findings: Finding[] } {
  const findings: Finding[] = [];
  const add = (advisory: boolean) => (message: string, urn?: string) => {
    findings.push({ message, urn, advisory });
  };
  return {
    findings,
    ctx: { config, violation: add(false), cannotVerify: add(true), note: add(true), notApplicable },
  };
}

/**
 * The SDK's notApplicable throws an Error, and capturing its stack trace is most of the pack's
 * run time: every policy throws once for each resource outside its scope (30 policies over 1,000
 * resources is ~25,000 throws). The error is control flow whose stack nobody reads, so it is
 * thrown without one.
 */
function quietly(notApplicable: (reason: string) => never): (reason: string) => never {
  return (reason) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return notApplicable(reason);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}

/** "kubernetes:apps/v1:Deployment fjord-system/gateway" style label used in every message. */
export function describe(type: string, name: string, props: Obj): string {
  if (type.startsWith("kubernetes:")) {
    const kind = type.split(":").pop();
    const n = str(props, "metadata.name");
    const ns = str(props, "metadata.namespace");
    const shown = typeof n === "string" ? n : name;
    return typeof ns === "string" ? `${kind} ${ns}/${shown}` : `${kind} ${shown}`;
  }
  const short = {
    "docker:index/container:Container": "Docker container",
    "command:remote:Command": "remote command",
  }[type];
  if (type === "docker:index/container:Container") {
    const n = str(props, "name");
    return `${short} '${typeof n === "string" ? n : name}'`;
  }
  return `${short ?? type} '${name}'`;
}

/** What CrossGuard reads of a policy besides its validate function. */
function policyFields<C>(meta: PolicyMeta<C>) {
  return {
    name: meta.name,
    description: meta.description,
    ...(meta.severity ? { severity: meta.severity } : {}),
    ...(meta.remediationSteps ? { remediationSteps: meta.remediationSteps } : {}),
    ...(meta.enforcementLevel ? { enforcementLevel: meta.enforcementLevel } : {}),
    configSchema: configSchemaOf(meta.config),
  };
}

export function resourcePolicy<C>(
  meta: PolicyMeta<C> & {
    /** Undefined when the type is in scope, else the not-applicable reason. */
    scope: (type: string, props: Obj) => string | undefined;
    validate: (r: JudgedResource, ctx: Ctx<C>) => void;
  },
): ResourceValidationPolicy {
  return {
    ...policyFields(meta),
    validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
      const props = unwrap(args.props) as Obj;
      declaredInputs.set(args.urn, props);
      const notApplicable = quietly(args.notApplicable);
      const reason = meta.scope(args.type, props);
      if (reason !== undefined) notApplicable(reason);
      const config = readConfig(meta.config, (args.getConfig<Obj>() ?? {}) as Obj);
      const { ctx, findings } = collector(config, notApplicable);
      const label = describe(args.type, args.name, props);
      meta.validate({ type: args.type, name: args.name, urn: args.urn, props, label }, ctx);
      deliver(meta.name, findings, report, () => ({ type: args.type, props, label }));
    },
  };
}

/**
 * Inputs seen by resource policies in this process, by URN. Stack policies receive outputs, and
 * at preview a provider may report none (an unconfigured provider, e.g. a cluster whose
 * kubeconfig is itself computed); the analyzer runs per-resource checks before the stack check in
 * the same process, so those resources are judged on the inputs they declared instead.
 */
const declaredInputs = new Map<string, Obj>();

/** Custom resources whose outputs are empty and whose inputs this process never saw. */
export const opaqueResources = (rs: StackResource[]): StackResource[] => rs.filter((r) => r.opaque);

function toStackResource(r: PolicyResource): StackResource {
  const deps: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(r.propertyDependencies ?? {})) deps[k] = v.map((d) => d.urn);
  const outputs = unwrap(r.props) as Obj;
  // Only custom resources have a provider; components legitimately have no outputs.
  const empty = r.provider !== undefined && Object.keys(outputs).length === 0;
  const inputs = empty ? declaredInputs.get(r.urn) : undefined;
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: inputs ?? outputs,
    ...(empty && !inputs ? { opaque: true } : {}),
    ...(r.parent ? { parent: r.parent.urn } : {}),
    dependencies: (r.dependencies ?? []).map((d) => d.urn),
    propertyDependencies: deps,
  };
}

export function stackPolicy<C>(
  meta: PolicyMeta<C> & {
    /** Undefined when the stack has something to check, else the not-applicable reason. */
    scope?: (resources: StackResource[]) => string | undefined;
    /** `byUrn` indexes `resources`, which most stack checks follow from one to another. */
    validate: (
      resources: StackResource[],
      ctx: Ctx<C>,
      byUrn: ReadonlyMap<string, StackResource>,
    ) => void;
  },
): StackValidationPolicy {
  return {
    ...policyFields(meta),
    validateStack: (args: StackValidationArgs, report: ReportViolation) => {
      const resources = args.resources.map(toStackResource);
      const notApplicable = quietly(args.notApplicable);
      const reason = meta.scope?.(resources);
      if (reason !== undefined) notApplicable(reason);
      const config = readConfig(meta.config, (args.getConfig<Obj>() ?? {}) as Obj);
      const { ctx, findings } = collector(config, notApplicable);
      // Resources without any known values would read as "absent" and cause false findings.
      const known = resources.filter((r) => !r.opaque);
      meta.validate(known, ctx, new Map(known.map((r) => [r.urn, r])));
      const opaque = opaqueResources(resources);
      if (opaque.length > 0) {
        ctx.cannotVerify(
          `Cannot verify ${opaque.length} resource(s) at preview (${opaque
            .slice(0, 3)
            .map((r) => r.name)
            .join(
              ", ",
            )}${opaque.length > 3 ? ", ..." : ""}): their provider reported no values; enable at least one resource policy so the pack sees their inputs.`,
        );
      }
      const byUrn = new Map(resources.map((r) => [r.urn, r]));
      deliver(meta.name, findings, report, (urn) => {
        const r = urn ? byUrn.get(urn) : undefined;
        return r
          ? { type: r.type, props: r.props, label: describe(r.type, r.name, r.props) }
          : undefined;
      });
    },
  };
}
