/**
 * Time to evaluate fjord's whole policy pack over 1,000 resources, through @pulumi/policy's own
 * analyzer handlers (what `pulumi preview --policy-pack` calls): one `analyze` per resource with
 * every resource policy, then one `analyzeStack` with all of them. The resources are what fjord's
 * own Platform registers under mocks for a generated spec, so they are fjord-shaped, not random.
 */
import { execFile } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { promisify } from "util";
import type { Policies, Policy } from "@pulumi/policy";
import { fmt, median, table, type Ratio, type SectionResult } from "./report";

// The SDK's analyzer handlers and protobuf classes are untyped JavaScript.
type Loose = any; // eslint-disable-line @typescript-eslint/no-explicit-any
/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
const server = require("@pulumi/policy/server") as {
  makeAnalyzeRpcFun: (
    pack: string,
    version: string,
    level: string,
    policies: Policy[],
  ) => (call: any, cb: any) => Promise<void>;
  makeAnalyzeStackRpcFun: (
    pack: string,
    version: string,
    level: string,
    policies: Policy[],
  ) => (call: any, cb: any) => Promise<void>;
};
const proto = require("@pulumi/pulumi/proto/analyzer_pb") as any;
const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as any;
/* eslint-enable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */

const exec = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");
const TARGET = 1000;
const REPEATS = 5;

interface Rec {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** The wire has no undefined; the SDK's serializer drops it the same way. */
function wire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : wire(x)));
  if (v !== null && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, wire(x)]),
    );
  return v;
}

const urnOf = (r: Rec) => `urn:pulumi:prod::fjord::${r.type}::${r.name}`;

/** Resources of a generated spec with enough services to pass TARGET; the first TARGET are kept. */
async function fjordResources(): Promise<{ resources: Rec[]; services: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), "fjord-bench-policy-"));
  try {
    const file = path.join(dir, "resources.json");
    // About 19 resources per service plus a fixed set, with the prod stack's settings.
    const services = 55;
    await exec(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "scaling-child.ts"), String(services), file],
      {
        cwd: ROOT,
        timeout: 600_000,
        maxBuffer: 64 * 2 ** 20,
      },
    );
    const all = JSON.parse(readFileSync(file, "utf8")) as Rec[];
    if (all.length < TARGET)
      throw new Error(`only ${all.length} resources from ${services} services`);
    return { resources: all.slice(0, TARGET), services };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function call(
  fn: (c: unknown, cb: (e: unknown, r: unknown) => void) => Promise<void>,
  request: unknown,
): Promise<Loose> {
  return new Promise((resolve, reject) => {
    void fn({ request }, (err, resp) =>
      err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(resp),
    );
  });
}

/** Each policy with the prod pack config the engine would hand it. */
function configured(policies: Policies): Policy[] {
  const cfg = JSON.parse(
    readFileSync(path.join(ROOT, "policies/config/prod.json"), "utf8"),
  ) as Record<string, unknown>;
  return policies.map((p) => {
    const own = (cfg[p.name] ?? {}) as Record<string, unknown>;
    const config = Object.fromEntries(
      Object.entries(own).filter(([k]) => k !== "enforcementLevel"),
    );
    const wrap = (fn: (a: Loose, r: Loose) => unknown) => (a: Loose, r: Loose) =>
      fn({ ...a, getConfig: () => config }, r);
    const q: Loose = { ...p, enforcementLevel: "mandatory" };
    if (q.validateResource) q.validateResource = wrap(q.validateResource);
    if (q.validateStack) q.validateStack = wrap(q.validateStack);
    return q as Policy;
  });
}

function options(): unknown {
  const o = new proto.AnalyzerResourceOptions();
  o.setProtect(false);
  return o;
}

export async function benchPolicy(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  // The pack module starts the policy gRPC server on import unless told not to.
  process.env.FJORD_POLICY_PACK_NO_SERVE = "1";
  const { policies } = (await import("../../policies/index.js")) as { policies: Policies };
  const list = configured(policies);
  const { resources, services } = await fjordResources();
  const analyze = server.makeAnalyzeRpcFun("fjord", "0.1.0", "mandatory", list);
  const analyzeStack = server.makeAnalyzeStackRpcFun("fjord", "0.1.0", "mandatory", list);

  const perResource: number[] = [];
  const stack: number[] = [];
  let violations = 0;
  for (let rep = 0; rep < REPEATS; rep++) {
    const t0 = performance.now();
    let v = 0;
    for (const r of resources) {
      const req = new proto.AnalyzeRequest();
      req.setType(r.type);
      req.setName(r.name);
      req.setUrn(urnOf(r));
      req.setProperties(Struct.fromJavaScript(wire(r.inputs)));
      req.setOptions(options());
      v += (await call(analyze, req)).getDiagnosticsList().length;
    }
    const t1 = performance.now();
    const sreq = new proto.AnalyzeStackRequest();
    sreq.setResourcesList(
      resources.map((r) => {
        const a = new proto.AnalyzerResource();
        a.setType(r.type);
        a.setName(r.name);
        a.setUrn(urnOf(r));
        a.setProperties(Struct.fromJavaScript(wire(r.inputs)));
        a.setOptions(options());
        return a;
      }),
    );
    v += (await call(analyzeStack, sreq)).getDiagnosticsList().length;
    const t2 = performance.now();
    perResource.push(t1 - t0);
    stack.push(t2 - t1);
    violations = v;
    console.log(
      `[bench policy] repeat ${rep + 1}: analyze ${fmt(t1 - t0, 0)} ms, analyzeStack ${fmt(t2 - t1, 0)} ms`,
    );
  }
  const total = median(perResource.map((a, i) => a + stack[i]!));
  const types = new Map<string, number>();
  for (const r of resources) types.set(r.type, (types.get(r.type) ?? 0) + 1);
  const ratios: Ratio[] = [
    {
      name: `whole pack over ${TARGET} resources (analyze each + analyzeStack)`,
      value: total,
      unit: "ms",
    },
    { name: "per resource (total / resources)", value: (total / TARGET) * 1000, unit: "µs" },
    { name: "analyzeStack share of the total", value: median(stack) / total },
  ];
  const body = [
    "### Method",
    "",
    `- ${list.length} policies from policies/index.ts with policies/config/prod.json, run through \`@pulumi/policy/server\`'s analyze handlers (protobuf in, diagnostics out), as the engine drives a pack: one \`analyze\` per resource, one \`analyzeStack\` with all.`,
    `- Resources: the first ${TARGET} that fjord's kubernetes \`Platform\` registers under mocks for the prod stack file with ${services} generated services. ${violations} diagnostics were reported in the last repeat (fjord-made resources are expected to pass; diagnostics would come from the truncation at ${TARGET}, which cuts some services' resources off).`,
    `- ${REPEATS} repeats in one process (the first includes JIT warm-up); median reported.`,
    "",
    table(
      ["repeat", "analyze ×1000 ms", "analyzeStack ms"],
      perResource.map((a, i) => [i + 1, a, stack[i]!]),
    ),
    "",
    "Resource types evaluated:",
    "",
    table(
      ["type", "count"],
      [...types].sort((a, b) => b[1] - a[1]).map(([t, n]) => [`\`${t}\``, n]),
    ),
  ].join("\n");
  return { section: "policy", title: "Policy pack evaluation time", ratios, body };
}
