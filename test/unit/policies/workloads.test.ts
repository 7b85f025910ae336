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
  it("GIVEN a delayed liveness probe that differs from readiness WHEN judged THEN it passes", async () => {
    expect((await runResource(livenessProbes, k8s(dep))).violations).toEqual([]);
  });
  it("GIVEN no liveness probe WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => delete main(x).livenessProbe);
    expect((await runResource(livenessProbes, k8s(d))).mandatory).toEqual([
      `${L} has no livenessProbe, so a hung process keeps its pod; add one that checks only the process itself.`,
    ]);
  });
  it("GIVEN a liveness probe identical to the readiness probe WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => (main(x).livenessProbe = structuredClone(main(x).readinessProbe)));
    const r = await runResource(livenessProbes, k8s(d));
    expect(r.mandatory[0]).toMatch(/has identical liveness and readiness probes/);
  });
  it("GIVEN a liveness probe without initialDelaySeconds WHEN judged THEN it is refused, and WHEN a startup probe guards it THEN it passes", async () => {
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
  it("GIVEN a computed liveness or startup probe WHEN judged THEN each is advised as unverifiable", async () => {
    const live = edit(dep, (x) => (main(x).livenessProbe = unknown("object")));
    expect((await runResource(livenessProbes, k8s(live))).advisory).toEqual([
      `Cannot verify the liveness probe of ${L} at preview: it is computed.`,
    ]);
    const start = edit(dep, (x) => (main(x).startupProbe = unknown("object")));
    expect((await runResource(livenessProbes, k8s(start))).advisory).toEqual([
      `Cannot verify the startup probe of ${L} at preview: it is computed.`,
    ]);
  });
  it("GIVEN a Job, which runs to completion WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(livenessProbes, { type: "kubernetes:batch/v1:Job", props: { spec: {} } }))
        .notApplicable,
    ).toEqual(["Only Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod workloads are checked."]);
  });
});

describe("read-only-root-filesystem", () => {
  it("GIVEN fjord's containers WHEN judged THEN they pass", async () => {
    expect((await runResource(readOnlyRootFilesystem, k8s(dep))).violations).toEqual([]);
  });
  it("GIVEN an init container with a writable root filesystem WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => {
      x.spec.template.spec.initContainers = [{ name: "migrate", image: "m:1" }];
    });
    expect((await runResource(readOnlyRootFilesystem, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders init container 'migrate' can write its root filesystem, so a compromise can alter its binaries; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes.",
    ]);
  });
  it("GIVEN a computed readOnlyRootFilesystem WHEN judged THEN it is advised as unverifiable, not failed", async () => {
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
  it("GIVEN a Pod without a controller WHEN judged THEN it is refused", async () => {
    expect((await runResource(noNakedPods, { type: T.pod, props: pod })).mandatory).toEqual([
      "Pod fjord-orders/debug has no controller, so nothing recreates it when its node fails or drains; run it from a Deployment (or a Job if it runs to completion).",
    ]);
  });
  it("GIVEN a Pod with an owner WHEN judged THEN it passes, and GIVEN a Deployment THEN the policy is not applicable", async () => {
    const owned = edit(pod, (p: any) => (p.metadata.ownerReferences = [{ kind: "ReplicaSet" }]));
    expect((await runResource(noNakedPods, { type: T.pod, props: owned })).violations).toEqual([]);
    expect((await runResource(noNakedPods, k8s(dep))).notApplicable).toEqual([
      "Only Pods can be naked.",
    ]);
  });
});

describe("image-pull-policy", () => {
  const digest = `registry.example.no/orders@sha256:${"a1".repeat(32)}`;
  it("GIVEN a digest, a tagged and an untagged image WHEN imageRef reads them THEN it returns digest, tag and none", () => {
    expect([imageRef(digest), imageRef("nginx:1.27"), imageRef("nginx")]).toEqual([
      "digest",
      "tag",
      "none",
    ]);
  });
  it("GIVEN a digest pulled IfNotPresent or a tag pulled Always WHEN judged THEN both pass", async () => {
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
  ])(
    "GIVEN %s WHEN judged at the advisory level THEN it is reported once as advice",
    async (_, change, says) => {
      const r = await runResource(imagePullPolicy, k8s(edit(dep, change)), { level: "advisory" });
      expect(r.mandatory).toEqual([]);
      expect(r.advisory).toHaveLength(1);
      expect(r.advisory[0]).toContain(says);
    },
  );
  it.each([
    "registry.example.no/orders:1.4.2",
    "prom/prometheus:v3.1.0",
    "fjord-local/postgres:15.20-f81b79855fee",
  ])(
    "GIVEN the release tag %s pulled IfNotPresent WHEN judged THEN it passes, as fjord's image rule pins them",
    async (image) => {
      const d = edit(dep, (x) =>
        Object.assign(main(x), { image, imagePullPolicy: "IfNotPresent" }),
      );
      expect((await runResource(imagePullPolicy, k8s(d))).violations).toEqual([]);
    },
  );
  it("GIVEN an empty releaseTag config WHEN a release tag is pulled by the default policy THEN it is refused as floating", async () => {
    const d = edit(dep, (x) => delete main(x).imagePullPolicy);
    const r = await runResource(imagePullPolicy, k8s(d), { config: { releaseTag: "" } });
    expect(r.mandatory).toHaveLength(1);
    expect(r.mandatory[0]).toContain(
      "pulls 'registry.example.no/orders:1.4.2' IfNotPresent by a floating tag",
    );
  });
  it("GIVEN tagPolicies allowing IfNotPresent (images imported onto nodes) WHEN a floating tag is judged THEN it passes", async () => {
    const d = edit(dep, (x) => (main(x).image = "registry.example.no/orders:stable"));
    const r = await runResource(imagePullPolicy, k8s(d), {
      config: { tagPolicies: ["Always", "IfNotPresent"] },
    });
    expect(r.violations).toEqual([]);
  });
  it("GIVEN a computed pull policy WHEN judged THEN it is advised as unverifiable", async () => {
    const d = edit(dep, (x) => (main(x).imagePullPolicy = unknown()));
    expect((await runResource(imagePullPolicy, k8s(d))).advisory).toEqual([
      `Cannot verify the pull policy of ${L} at preview: its image or imagePullPolicy is computed.`,
    ]);
  });
});

describe("automount-service-account-token", () => {
  const SA = "kubernetes:core/v1:ServiceAccount";
  const noPodSetting = edit(dep, (x) => delete x.spec.template.spec.automountServiceAccountToken);
  it("GIVEN fjord's stack, which sets it false on every pod WHEN judged THEN it passes", async () => {
    expect((await runStack(automountServiceAccountToken, stack)).violations).toEqual([]);
  });
  it("GIVEN a pod that leaves it to the default ServiceAccount WHEN judged THEN it is refused", async () => {
    expect(
      (await runStack(automountServiceAccountToken, replace("orders-deployment", noPodSetting)))
        .mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders mounts a Kubernetes API token into its pods (set neither on the pod nor on its ServiceAccount 'default'), so anyone inside a pod can call the API as it; set automountServiceAccountToken: false on the pod spec, or exempt it (fjord.io/policy-exempt) with the reason it calls the API.",
    ]);
  });
  it("GIVEN a pod that leaves it to a ServiceAccount that turns it off WHEN judged THEN it passes", async () => {
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
  it("GIVEN true on the pod WHEN judged THEN it is refused, and GIVEN a computed value THEN it is advised as unverifiable", async () => {
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
  it("GIVEN a pod that mounts the token but is exempted with its reason WHEN judged THEN it is reported as advice, not refused", async () => {
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
  it("GIVEN maxUnavailable: 1 WHEN judged THEN it passes", async () => {
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
  ])("GIVEN a budget with %s WHEN judged THEN it is refused", async (_, budget, says) => {
    const p = edit(pdb("orders"), (x: any) => {
      delete x.spec.maxUnavailable;
      Object.assign(x.spec, budget);
    });
    const r = await runStack(pdbAllowsDisruption, replace("orders-pdb", p));
    expect(r.mandatory).toHaveLength(1);
    expect(r.mandatory[0]).toContain(`PodDisruptionBudget fjord-orders/orders ${says}`);
  });
  it("GIVEN minAvailable 2 of 3 replicas WHEN judged THEN it passes", async () => {
    const p = edit(pdb("orders"), (x: any) => {
      delete x.spec.maxUnavailable;
      x.spec.minAvailable = 2;
    });
    expect((await runStack(pdbAllowsDisruption, replace("orders-pdb", p))).violations).toEqual([]);
  });
  it("GIVEN a computed budget, or computed replicas under minAvailable WHEN judged THEN each is advised as unverifiable", async () => {
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
  it("GIVEN pods under their namespace's default deny WHEN judged THEN they pass", async () => {
    expect((await runStack(networkPolicySelectsPods, stack)).violations).toEqual([]);
  });
  it("GIVEN pods no NetworkPolicy selects WHEN judged THEN they are refused", async () => {
    const r = await runStack(
      networkPolicySelectsPods,
      stack.filter((f) => f.name !== "orders-default-deny"),
    );
    expect(r.mandatory).toContain(
      "Deployment fjord-orders/orders's pods are selected by no NetworkPolicy in namespace fjord-orders, so they accept and send any traffic; add a default-deny NetworkPolicy (podSelector: {}) there and allow what they need.",
    );
  });
  it("GIVEN only a NetworkPolicy selecting another app WHEN judged THEN the orders pods are refused", async () => {
    const other = {
      metadata: { name: "payment-only", namespace: "fjord-orders" },
      spec: { podSelector: { matchLabels: { app: "payment" } } },
    };
    const r = await runStack(networkPolicySelectsPods, replace("orders-default-deny", other));
    expect(r.mandatory.some((m) => m.startsWith("Deployment fjord-orders/orders's pods"))).toBe(
      true,
    );
  });
  it("GIVEN a NetworkPolicy with a computed selector WHEN judged THEN it is advised as unverifiable, not failed", async () => {
    const computed = {
      metadata: { name: "default-deny", namespace: "fjord-orders" },
      spec: { podSelector: unknown("object") },
    };
    const r = await runStack(networkPolicySelectsPods, replace("orders-default-deny", computed));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory.length).toBeGreaterThan(0);
  });
});
