/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are untyped JSON */
import { describe, expect, it } from "vitest";
import { type Fixture, edit, runResource, runStack, unknown } from "./harness";
import { T, deployment, pdb, prodStack } from "./fixtures";
import {
  imagePullPolicy,
  imageRef,
  livenessProbes,
  noNakedPods,
  readOnlyRootFilesystem,
} from "../../../policies/workloads";
import {
  automountServiceAccountToken,
  networkPolicySelectsPods,
  pdbAllowsDisruption,
} from "../../../policies/workload-coverage";

const dep = deployment();
type Dep = typeof dep;
const main = (d: Dep) => d.spec.template.spec.containers[0];
const k8s = (props: Record<string, unknown>) => ({ type: T.deployment, props });
const L = "Deployment fjord-orders/orders container 'orders'";
const stack = prodStack();
const replace = (name: string, props: Record<string, unknown>, extra: Partial<Fixture> = {}) =>
  stack.map((r) => (r.name === name ? { ...r, props, ...extra } : r));

describe("liveness-probes", () => {
  it("passes a liveness probe with a start delay that differs from readiness", async () => {
    expect((await runResource(livenessProbes, k8s(dep))).violations).toEqual([]);
  });
  it("refuses a missing liveness probe", async () => {
    const d = edit(dep, (x) => delete main(x).livenessProbe);
    expect((await runResource(livenessProbes, k8s(d))).mandatory).toEqual([
      `${L} has no livenessProbe, so a hung process keeps its pod; add one that checks only the process itself.`,
    ]);
  });
  it("refuses a liveness probe identical to the readiness probe", async () => {
    const d = edit(dep, (x) => (main(x).livenessProbe = structuredClone(main(x).readinessProbe)));
    const r = await runResource(livenessProbes, k8s(d));
    expect(r.mandatory[0]).toMatch(/has identical liveness and readiness probes/);
  });
  it("refuses a liveness probe from the first second, unless a startup probe guards it", async () => {
    const d = edit(dep, (x) => delete main(x).livenessProbe.initialDelaySeconds);
    expect((await runResource(livenessProbes, k8s(d))).mandatory).toEqual([
      `${L} has a livenessProbe from its first second and no startupProbe, so a slow start is killed and restarted in a loop; add a startupProbe (or initialDelaySeconds on the liveness probe).`,
    ]);
    const guarded = edit(
      d,
      (x) =>
        (main(x).startupProbe = {
          httpGet: { path: "/health", port: "http" },
          failureThreshold: 30,
        }),
    );
    expect((await runResource(livenessProbes, k8s(guarded))).violations).toEqual([]);
  });
  it("cannot verify computed probes", async () => {
    const live = edit(dep, (x) => (main(x).livenessProbe = unknown("object")));
    expect((await runResource(livenessProbes, k8s(live))).advisory).toEqual([
      `Cannot verify the liveness probe of ${L} at preview: it is computed.`,
    ]);
    const start = edit(dep, (x) => (main(x).startupProbe = unknown("object")));
    expect((await runResource(livenessProbes, k8s(start))).advisory).toEqual([
      `Cannot verify the startup probe of ${L} at preview: it is computed.`,
    ]);
  });
  it("leaves Jobs alone, which run to completion", async () => {
    expect(
      (await runResource(livenessProbes, { type: "kubernetes:batch/v1:Job", props: { spec: {} } }))
        .notApplicable,
    ).toEqual(["Only Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod workloads are checked."]);
  });
});

describe("read-only-root-filesystem", () => {
  it("passes fjord's containers", async () => {
    expect((await runResource(readOnlyRootFilesystem, k8s(dep))).violations).toEqual([]);
  });
  it("refuses a writable root filesystem, init containers included", async () => {
    const d = edit(dep, (x) => {
      x.spec.template.spec.initContainers = [{ name: "migrate", image: "m:1" }];
    });
    expect((await runResource(readOnlyRootFilesystem, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders init container 'migrate' can write its root filesystem, so a compromise can alter its binaries; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes.",
    ]);
  });
  it("cannot verify a computed setting", async () => {
    const d = edit(
      dep,
      (x) => (main(x).securityContext.readOnlyRootFilesystem = unknown("boolean")),
    );
    const r = await runResource(readOnlyRootFilesystem, k8s(d));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toHaveLength(1);
  });
});

describe("no-naked-pods", () => {
  const pod = { metadata: { name: "debug", namespace: "fjord-orders" }, spec: { containers: [] } };
  it("refuses a Pod without a controller", async () => {
    expect((await runResource(noNakedPods, { type: T.pod, props: pod })).mandatory).toEqual([
      "Pod fjord-orders/debug has no controller, so nothing recreates it when its node fails or drains; run it from a Deployment (or a Job if it runs to completion).",
    ]);
  });
  it("passes a Pod with an owner, and does not apply to controllers", async () => {
    const owned = edit(pod, (p: any) => (p.metadata.ownerReferences = [{ kind: "ReplicaSet" }]));
    expect((await runResource(noNakedPods, { type: T.pod, props: owned })).violations).toEqual([]);
    expect((await runResource(noNakedPods, k8s(dep))).notApplicable).toEqual([
      "Only Pods can be naked.",
    ]);
  });
});

describe("image-pull-policy", () => {
  const digest = `registry.example.no/orders@sha256:${"a1".repeat(32)}`;
  it("tells digests from tags", () => {
    expect([imageRef(digest), imageRef("nginx:1.27"), imageRef("nginx")]).toEqual([
      "digest",
      "tag",
      "none",
    ]);
  });
  it("passes a digest pulled IfNotPresent and a tag pulled Always", async () => {
    const a = edit(dep, (x) => {
      main(x).image = digest;
      main(x).imagePullPolicy = "IfNotPresent";
    });
    const b = edit(dep, (x) => (main(x).imagePullPolicy = "Always"));
    for (const d of [a, b])
      expect((await runResource(imagePullPolicy, k8s(d))).violations).toEqual([]);
  });
  it.each([
    [
      "a floating tag with the default (IfNotPresent)",
      (x: Dep) => {
        main(x).image = "registry.example.no/orders:stable";
        delete main(x).imagePullPolicy;
      },
      "pulls 'registry.example.no/orders:stable' IfNotPresent by a floating tag",
    ],
    [
      "a major-only tag pulled IfNotPresent",
      (x: Dep) => Object.assign(main(x), { image: "nginx:1", imagePullPolicy: "IfNotPresent" }),
      "pulls 'nginx:1' IfNotPresent by a floating tag",
    ],
    [
      "a digest pulled Always",
      (x: Dep) => Object.assign(main(x), { image: digest, imagePullPolicy: "Always" }),
      "Always although a digest cannot change",
    ],
    ["Never", (x: Dep) => (main(x).imagePullPolicy = "Never"), "never pulls"],
  ])("reports %s, advisory by default", async (_, change, says) => {
    const r = await runResource(imagePullPolicy, k8s(edit(dep, change)), { level: "advisory" });
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toHaveLength(1);
    expect(r.advisory[0]).toContain(says);
  });
  it.each([
    "registry.example.no/orders:1.4.2",
    "prom/prometheus:v3.1.0",
    "fjord-local/postgres:15.20-f81b79855fee",
  ])(
    "accepts a release tag pulled IfNotPresent (%s), as fjord's image rule pins them",
    async (image) => {
      const d = edit(dep, (x) =>
        Object.assign(main(x), { image, imagePullPolicy: "IfNotPresent" }),
      );
      expect((await runResource(imagePullPolicy, k8s(d))).violations).toEqual([]);
    },
  );
  it("treats every tag as floating when releaseTag is empty", async () => {
    const d = edit(dep, (x) => delete main(x).imagePullPolicy);
    const r = await runResource(imagePullPolicy, k8s(d), { config: { releaseTag: "" } });
    expect(r.mandatory).toHaveLength(1);
    expect(r.mandatory[0]).toContain(
      "pulls 'registry.example.no/orders:1.4.2' IfNotPresent by a floating tag",
    );
  });
  it("accepts IfNotPresent for floating tags when configured (images imported onto nodes)", async () => {
    const d = edit(dep, (x) => (main(x).image = "registry.example.no/orders:stable"));
    const r = await runResource(imagePullPolicy, k8s(d), {
      config: { tagPolicies: ["Always", "IfNotPresent"] },
    });
    expect(r.violations).toEqual([]);
  });
  it("cannot verify a computed pull policy", async () => {
    const d = edit(dep, (x) => (main(x).imagePullPolicy = unknown()));
    expect((await runResource(imagePullPolicy, k8s(d))).advisory).toEqual([
      `Cannot verify the pull policy of ${L} at preview: its image or imagePullPolicy is computed.`,
    ]);
  });
});

describe("automount-service-account-token", () => {
  const SA = "kubernetes:core/v1:ServiceAccount";
  const noPodSetting = edit(dep, (x) => delete x.spec.template.spec.automountServiceAccountToken);
  it("passes fjord's stack (set false on every pod)", async () => {
    expect((await runStack(automountServiceAccountToken, stack)).violations).toEqual([]);
  });
  it("refuses a pod that leaves it to a ServiceAccount that mounts it", async () => {
    expect(
      (await runStack(automountServiceAccountToken, replace("orders-deployment", noPodSetting)))
        .mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders mounts a Kubernetes API token into its pods (set neither on the pod nor on its ServiceAccount 'default'), so anyone inside a pod can call the API as it; set automountServiceAccountToken: false on the pod spec, or exempt it (fjord.io/policy-exempt) with the reason it calls the API.",
    ]);
  });
  it("accepts a ServiceAccount that turns it off", async () => {
    const sa: Fixture = {
      type: SA,
      name: "orders-sa",
      props: {
        metadata: { name: "default", namespace: "fjord-orders" },
        automountServiceAccountToken: false,
      },
    };
    expect(
      (
        await runStack(automountServiceAccountToken, [
          ...replace("orders-deployment", noPodSetting),
          sa,
        ])
      ).violations,
    ).toEqual([]);
  });
  it("refuses true on the pod, and cannot verify a computed one", async () => {
    const on = edit(dep, (x) => (x.spec.template.spec.automountServiceAccountToken = true));
    expect(
      (await runStack(automountServiceAccountToken, replace("orders-deployment", on))).mandatory,
    ).toHaveLength(1);
    const computed = edit(
      dep,
      (x) => (x.spec.template.spec.automountServiceAccountToken = unknown("boolean")),
    );
    const r = await runStack(automountServiceAccountToken, replace("orders-deployment", computed));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify whether Deployment fjord-orders/orders mounts an API token at preview: its automountServiceAccountToken or ServiceAccount is computed.",
    ]);
  });
  it("turns into a reported advisory on a pod exempted with its reason", async () => {
    const exempt = edit(noPodSetting, (x) => {
      x.metadata.annotations = {
        "fjord.io/policy-exempt": "automount-service-account-token",
        "fjord.io/policy-exempt-reason": "discovers scrape targets through the API",
      };
    });
    const r = await runStack(automountServiceAccountToken, replace("orders-deployment", exempt));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory[0]).toMatch(/is exempt from automount-service-account-token/);
  });
});

describe("pdb-allows-disruption", () => {
  it("passes maxUnavailable: 1", async () => {
    expect((await runStack(pdbAllowsDisruption, stack)).violations).toEqual([]);
  });
  it.each([
    ["maxUnavailable: 0", { maxUnavailable: 0 }, "allows zero disruptions (maxUnavailable: 0)"],
    [
      "maxUnavailable: 0%",
      { maxUnavailable: "0%" },
      "allows zero disruptions (maxUnavailable: 0%)",
    ],
    [
      "minAvailable: 100%",
      { minAvailable: "100%" },
      "allows zero disruptions (minAvailable: 100%)",
    ],
    [
      "minAvailable equal to the replicas",
      { minAvailable: 3 },
      "requires minAvailable: 3 of the 3 pods it selects",
    ],
  ])("refuses %s", async (_, budget, says) => {
    const p = edit(pdb("orders"), (x: any) => {
      delete x.spec.maxUnavailable;
      Object.assign(x.spec, budget);
    });
    const r = await runStack(pdbAllowsDisruption, replace("orders-pdb", p));
    expect(r.mandatory).toHaveLength(1);
    expect(r.mandatory[0]).toContain(`PodDisruptionBudget fjord-orders/orders ${says}`);
  });
  it("passes minAvailable below the replicas", async () => {
    const p = edit(pdb("orders"), (x: any) => {
      delete x.spec.maxUnavailable;
      x.spec.minAvailable = 2;
    });
    expect((await runStack(pdbAllowsDisruption, replace("orders-pdb", p))).violations).toEqual([]);
  });
  it("cannot verify computed budgets or replicas", async () => {
    const p = edit(pdb("orders"), (x: any) => (x.spec.maxUnavailable = unknown("number")));
    expect((await runStack(pdbAllowsDisruption, replace("orders-pdb", p))).advisory).toEqual([
      "Cannot verify the budget of PodDisruptionBudget fjord-orders/orders at preview: it is computed.",
    ]);
    const min = edit(pdb("orders"), (x: any) => {
      delete x.spec.maxUnavailable;
      x.spec.minAvailable = 2;
    });
    const d = edit(dep, (x) => (x.spec.replicas = unknown("number")));
    const r = await runStack(pdbAllowsDisruption, [
      ...replace("orders-pdb", min).filter((f) => f.name !== "orders-deployment"),
      { type: T.deployment, name: "orders-deployment", props: d },
    ]);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toHaveLength(1);
  });
});

describe("network-policy-selects-pods", () => {
  it("passes pods under a namespace's default deny", async () => {
    expect((await runStack(networkPolicySelectsPods, stack)).violations).toEqual([]);
  });
  it("refuses pods no NetworkPolicy selects", async () => {
    const r = await runStack(
      networkPolicySelectsPods,
      stack.filter((f) => f.name !== "orders-default-deny"),
    );
    expect(r.mandatory).toContain(
      "Deployment fjord-orders/orders's pods are selected by no NetworkPolicy in namespace fjord-orders, so they accept and send any traffic; add a default-deny NetworkPolicy (podSelector: {}) there and allow what they need.",
    );
  });
  it("counts a policy only when its selector matches the pods", async () => {
    const other = {
      metadata: { name: "payment-only", namespace: "fjord-orders" },
      spec: { podSelector: { matchLabels: { app: "payment" } } },
    };
    const r = await runStack(networkPolicySelectsPods, replace("orders-default-deny", other));
    expect(r.mandatory.some((m) => m.startsWith("Deployment fjord-orders/orders's pods"))).toBe(
      true,
    );
  });
  it("cannot verify when a policy's selector is computed", async () => {
    const computed = {
      metadata: { name: "default-deny", namespace: "fjord-orders" },
      spec: { podSelector: unknown("object") },
    };
    const r = await runStack(networkPolicySelectsPods, replace("orders-default-deny", computed));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory.length).toBeGreaterThan(0);
  });
});
