/**
 * Runs policies through @pulumi/policy's own analyzer RPC handlers with protobuf requests built
 * the way the engine builds them, so props are deserialized, secrets unwrapped and unknowns
 * proxied exactly as in `pulumi preview`. Only config injection is ours: the SDK takes config
 * through a gRPC `configure` call that has no exported entry point.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures and wire messages are untyped JSON */
import type {
  EnforcementLevel,
  Policy,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { UNKNOWN_SENTINELS } from "../../../policies/lib/values";

/* eslint-disable @typescript-eslint/no-require-imports */
const server = require("@pulumi/policy/server") as {
  makeAnalyzeRpcFun: (
    pack: string,
    version: string,
    level: EnforcementLevel,
    policies: Policy[],
  ) => (call: any, cb: any) => Promise<void>;
  makeAnalyzeStackRpcFun: (
    pack: string,
    version: string,
    level: EnforcementLevel,
    policies: Policy[],
  ) => (call: any, cb: any) => Promise<void>;
};
const proto = require("@pulumi/pulumi/proto/analyzer_pb") as any;
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as any;
/* eslint-enable @typescript-eslint/no-require-imports */

const KINDS = ["boolean", "number", "string", "array", "asset", "archive", "object"] as const;
export type UnknownKind = (typeof KINDS)[number];

/** A value computed at preview, as the engine sends it (the typed sentinel string). */
export const unknown = (kind: UnknownKind = "string"): string =>
  UNKNOWN_SENTINELS[KINDS.indexOf(kind)]!;

/** A secret value on the wire; the policy SDK unwraps it before policies see it. */
export const secret = (value: unknown) => ({
  "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
  value,
});

export interface Fixture {
  type: string;
  name: string;
  props: Record<string, unknown>;
  parent?: string;
  /** Names (or URNs) of resources this one depends on. */
  dependencies?: string[];
  propertyDependencies?: Record<string, string[]>;
  /** Give it a provider, as the engine does for custom resources (components have none). */
  custom?: boolean;
}

export interface Violation {
  policy: string;
  message: string;
  level: EnforcementLevel;
  urn: string;
}

export interface Result {
  violations: Violation[];
  /** Mandatory violations' messages, the usual assertion target. */
  mandatory: string[];
  advisory: string[];
  notApplicable: string[];
}

export interface RunOptions {
  config?: Record<string, unknown>;
  /** The policy's level (pack config); @default "mandatory" */
  level?: EnforcementLevel;
}

export const urnOf = (type: string, name: string): string =>
  name.startsWith("urn:") ? name : `urn:pulumi:test::fjord::${type}::${name}`;

const LEVELS: Record<number, EnforcementLevel> = {
  0: "advisory",
  1: "mandatory",
  2: "disabled",
  3: "remediate",
};

/** Drops undefined like the SDK's serializer does (the wire has no undefined). */
function wire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : wire(x)));
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, wire(x)]),
    );
  }
  return v;
}

function options(): unknown {
  const o = new proto.AnalyzerResourceOptions();
  o.setProtect(false);
  return o;
}

function configure<P extends Policy>(policy: P, opts: RunOptions): P {
  const config = opts.config ?? {};
  const wrap = (fn: (args: any, report: any) => unknown) => (args: any, report: any) =>
    fn({ ...args, getConfig: () => config }, report);
  const p: any = { ...policy, enforcementLevel: opts.level ?? "mandatory" };
  if (p.validateResource) p.validateResource = wrap(p.validateResource);
  if (p.validateStack) p.validateStack = wrap(p.validateStack);
  return p as P;
}

function collect(resp: any, description: string): Result {
  const violations: Violation[] = resp.getDiagnosticsList().map((d: any) => {
    const msg: string = d.getMessage();
    return {
      policy: d.getPolicyname(),
      // String-form reports prefix the description; fjord's policies use the object form.
      message: msg.startsWith(`${description}\n`) ? msg.slice(description.length + 1) : msg,
      level: LEVELS[d.getEnforcementlevel()]!,
      urn: d.getUrn(),
    };
  });
  return {
    violations,
    mandatory: violations.filter((v) => v.level === "mandatory").map((v) => v.message),
    advisory: violations.filter((v) => v.level === "advisory").map((v) => v.message),
    notApplicable: resp.getNotApplicableList().map((n: any) => n.getReason()),
  };
}

function call<T>(
  fn: (call: unknown, cb: (err: unknown, resp: T) => void) => Promise<void>,
  request: unknown,
): Promise<T> {
  return new Promise((resolve, reject) => {
    void fn({ request }, (err, resp) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(resp),
    );
  });
}

/** One resource through the SDK's `analyze` handler (what the engine calls per resource). */
export async function runResource(
  policy: ResourceValidationPolicy,
  r: Omit<Fixture, "name"> & { name?: string },
  opts: RunOptions = {},
): Promise<Result> {
  const name = r.name ?? "subject";
  const req = new proto.AnalyzeRequest();
  req.setType(r.type);
  req.setName(name);
  req.setUrn(urnOf(r.type, name));
  req.setProperties(Struct.fromJavaScript(wire(r.props)));
  req.setOptions(options());
  const fn = server.makeAnalyzeRpcFun("fjord", "0.1.0", "mandatory", [configure(policy, opts)]);
  return collect(await call(fn, req), policy.description);
}

/** A whole stack through the SDK's `analyzeStack` handler. */
export async function runStack(
  policy: StackValidationPolicy,
  resources: Fixture[],
  opts: RunOptions = {},
): Promise<Result> {
  const urns = new Map(resources.map((r) => [r.name, urnOf(r.type, r.name)]));
  const resolve = (n: string) => urns.get(n) ?? n;
  const req = new proto.AnalyzeStackRequest();
  req.setResourcesList(
    resources.map((r) => {
      const a = new proto.AnalyzerResource();
      a.setType(r.type);
      a.setName(r.name);
      a.setUrn(resolve(r.name));
      a.setProperties(Struct.fromJavaScript(wire(r.props)));
      a.setOptions(options());
      if (r.parent) a.setParent(resolve(r.parent));
      if (r.custom) {
        const p = new proto.AnalyzerProviderResource();
        p.setType("pulumi:providers:test");
        p.setName("default");
        p.setUrn(urnOf("pulumi:providers:test", "default"));
        p.setProperties(Struct.fromJavaScript({}));
        a.setProvider(p);
      }
      a.setDependenciesList((r.dependencies ?? []).map(resolve));
      for (const [k, v] of Object.entries(r.propertyDependencies ?? {})) {
        const deps = new proto.AnalyzerPropertyDependencies();
        deps.setUrnsList(v.map(resolve));
        a.getPropertydependenciesMap().set(k, deps);
      }
      return a;
    }),
  );
  const fn = server.makeAnalyzeStackRpcFun("fjord", "0.1.0", "mandatory", [
    configure(policy, opts),
  ]);
  return collect(await call(fn, req), policy.description);
}

/** A deep copy with one change, so each case starts from the passing fixture. */
export function edit<T>(base: T, change: (copy: T) => void): T {
  const copy = structuredClone(base);
  change(copy);
  return copy;
}

/**
 * Every policy over a whole stack, the way one preview runs them: resource policies per resource,
 * stack policies once. Findings are prefixed with the policy name.
 */
export async function runPack(
  policies: Policy[],
  stack: Fixture[],
  config: Record<string, Record<string, unknown>> = {},
): Promise<{ mandatory: string[]; advisory: string[] }> {
  const out = { mandatory: [] as string[], advisory: [] as string[] };
  for (const p of policies) {
    const opts = {
      config: config[p.name] ?? {},
      level: (config[p.name]?.enforcementLevel as EnforcementLevel | undefined) ?? "mandatory",
    };
    const runs =
      "validateStack" in p
        ? [await runStack(p as StackValidationPolicy, stack, opts)]
        : await Promise.all(stack.map((f) => runResource(p as ResourceValidationPolicy, f, opts)));
    for (const r of runs) {
      out.mandatory.push(...r.mandatory.map((m) => `${p.name}: ${m}`));
      out.advisory.push(...r.advisory.map((m) => `${p.name}: ${m}`));
    }
  }
  return out;
}
