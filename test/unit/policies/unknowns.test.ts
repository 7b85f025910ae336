/**
 * Unknown values at preview: no policy may crash on them, let the SDK's proxy throw (which would
 * skip the whole policy with a generic advisory), fail a known-good stack, or pass silently
 * when the unknown could hide a violation.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures and wire messages are untyped JSON */
import { beforeAll, describe, expect, it } from "vitest";
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { type Fixture, edit, runResource, runStack, unknown } from "./harness";
import {
  NGINX_CONF,
  T,
  TRAEFIK_DYNAMIC,
  TRAEFIK_STATIC,
  dbStatefulSet,
  deployment,
  dockerContainer,
  gatewayConfigMap,
  prodStack,
} from "./fixtures";
import { UNKNOWN_SENTINELS } from "../../../policies/lib/values";
import * as sdkProxy from "@pulumi/policy/proxy";

let policies: Policies = [];
beforeAll(async () => {
  policies = (await import("../../../policies/policies")).policies;
});
const isStack = (p: Policies[number]): p is StackValidationPolicy => "validateStack" in p;
const SDK_SKIP = /can't run policy/;

describe("unknown sentinels", () => {
  it("match the installed @pulumi/policy", () => {
    const sdk = sdkProxy as unknown as Record<string, string>;
    const names = [
      "unknownBooleanValue",
      "unknownNumberValue",
      "unknownStringValue",
      "unknownArrayValue",
      "unknownAssetValue",
      "unknownArchiveValue",
      "unknownObjectValue",
    ];
    expect(names.map((n) => sdk[n])).toEqual(UNKNOWN_SENTINELS);
  });
  it("GIVEN a naive policy reading a computed replicas WHEN run in the harness THEN, as in the engine, it is skipped with an advisory and nothing is mandatory", async () => {
    const naive: ResourceValidationPolicy = {
      name: "naive",
      description: "Reads replicas directly.",
      validateResource: (args, report) => {
        if (args.props.spec.replicas < 2) report("too few");
      },
    };
    const r = await runResource(naive, {
      type: T.deployment,
      props: edit(deployment(), (d) => (d.spec.replicas = unknown("number"))),
    });
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "can't run policy 'naive' from policy pack 'fjord@v0.1.0' during preview: number value at .spec.replicas can't be known during preview",
    ]);
  });
});

/** Each fixture with every top-level property, then every property of `spec`, made unknown in turn. */
function variants(f: Fixture): Fixture[] {
  const out: Fixture[] = [{ ...f, props: { ...f.props } }];
  for (const k of Object.keys(f.props))
    out.push({ ...f, props: { ...f.props, [k]: unknown("object") } });
  const spec = f.props.spec as Record<string, unknown> | undefined;
  for (const k of Object.keys(spec ?? {}))
    out.push({ ...f, props: { ...f.props, spec: { ...spec, [k]: unknown("object") } } });
  return out;
}

const subjects: Fixture[] = [
  ...prodStack(),
  { type: T.configMap, name: "gw-nginx", props: gatewayConfigMap({ "nginx.conf": NGINX_CONF }) },
  {
    type: T.configMap,
    name: "gw-traefik",
    props: gatewayConfigMap({ "traefik.yml": TRAEFIK_STATIC, "dynamic.yml": TRAEFIK_DYNAMIC }),
  },
  { type: T.docker, name: "app", props: dockerContainer() },
];

describe("every policy on computed values", () => {
  it("GIVEN every fixture with each top-level and spec property computed in turn WHEN every policy judges it THEN none throws or trips the SDK proxy", async () => {
    for (const p of policies) {
      for (const f of subjects) {
        for (const v of variants(f)) {
          const r = isStack(p)
            ? await runStack(p, [v])
            : await runResource(p as ResourceValidationPolicy, v);
          expect(
            r.violations.filter((x) => SDK_SKIP.test(x.message)),
            `${p.name} on ${v.name}`,
          ).toEqual([]);
        }
      }
    }
  });
});

/** fjord's production shape as the engine shows it on a first preview: names and secrets computed. */
function firstPreview(): Fixture[] {
  return prodStack().map((r): Fixture => {
    if (r.name === "orders-default-deny") {
      return {
        ...r,
        props: edit(r.props, (p: any) => (p.metadata.namespace = unknown())),
        propertyDependencies: { metadata: ["ns-orders"] },
      };
    }
    if (r.name === "orders-db-statefulset") {
      const s = edit(dbStatefulSet("orders"), (x) => {
        x.spec.template.spec.volumes[0].configMap.name = unknown();
        x.spec.serviceName = unknown();
      });
      return { ...r, props: s, dependencies: ["orders-db-config", "orders-db-service"] };
    }
    if (r.name === "orders-deployment") {
      return {
        ...r,
        props: edit(
          deployment(),
          (d) =>
            (d.spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.name = unknown()),
        ),
      };
    }
    return r;
  });
}

describe("a known-good stack at its first preview", () => {
  it("GIVEN fjord's production shape at a first preview (names and secrets computed) WHEN every policy judges it at its default level THEN no finding is mandatory", async () => {
    const stack = [
      ...firstPreview(),
      { type: T.random, name: "orders-db-password", props: { length: 32, result: unknown() } },
    ];
    const config: Record<string, Record<string, unknown>> = {
      "limits-fit-node": { nodeClass: { vcpu: 4, memoryMi: 8192 } },
    };
    for (const p of policies) {
      // Each policy at its own default level: advisory-by-design policies never block.
      const opts = { config: config[p.name], level: p.enforcementLevel ?? "mandatory" };
      const runs = isStack(p)
        ? [await runStack(p, stack, opts)]
        : await Promise.all(stack.map((f) => runResource(p as ResourceValidationPolicy, f, opts)));
      expect(
        runs.flatMap((r) => r.mandatory),
        p.name,
      ).toEqual([]);
    }
  });
  it("GIVEN that first-preview stack with shared_buffers = 2GB in the database config WHEN database-memory-tuning judges it THEN it still fails once", async () => {
    const stack = firstPreview().map((r): Fixture =>
      r.name === "orders-db-config"
        ? { ...r, props: { ...r.props, data: { "postgresql.conf": "shared_buffers = 2GB\n" } } }
        : r,
    );
    const tuning = policies.find(
      (p) => p.name === "database-memory-tuning",
    ) as StackValidationPolicy;
    expect((await runStack(tuning, stack)).mandatory).toHaveLength(1);
  });
});

describe("a provider that reports no outputs at preview (e.g. its kubeconfig is computed)", () => {
  const pdb = () =>
    policies.find((p) => p.name === "pod-disruption-budget") as StackValidationPolicy;
  const blank = (f: Fixture): Fixture => ({ ...f, props: {}, custom: true });
  it("GIVEN resources without outputs whose inputs a resource policy saw WHEN pod-disruption-budget judges them THEN it judges those inputs and passes", async () => {
    const stack = prodStack();
    const anyResourcePolicy = policies.find(
      (p) => p.name === "pinned-images",
    ) as ResourceValidationPolicy;
    for (const f of stack) await runResource(anyResourcePolicy, f);
    expect((await runStack(pdb(), stack.map(blank))).violations).toEqual([]);
  });
  it("GIVEN resources without outputs whose inputs no policy saw WHEN pod-disruption-budget judges them THEN they are reported as unverifiable advice, neither a pass nor a violation", async () => {
    const stack = prodStack().map((f) => blank({ ...f, name: `${f.name}-unseen` }));
    const r = await runStack(pdb(), stack);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify 10 resource(s) at preview (osl-1-facts-unseen, osl-2-facts-unseen, osl-3-facts-unseen, ...): their provider reported no values; enable at least one resource policy so the pack sees their inputs.",
    ]);
  });
});
