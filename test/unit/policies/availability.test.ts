import { describe, expect, it } from "vitest";
import { type Fixture, edit, runResource, runStack, unknown } from "./harness";
import { T, dbStatefulSet, deployment, pdb, prodStack } from "./fixtures";
import {
  antiAffinitySchedulable,
  podDisruptionBudget,
  readinessProbes,
  replicasAntiAffinity,
} from "../../../policies/availability";

const dep = deployment();
const k8s = (props: Record<string, unknown>) => ({ type: T.deployment, props });

describe("replicas-anti-affinity", () => {
  it("GIVEN three replicas with required anti-affinity on hostname WHEN judged THEN it passes", async () => {
    expect((await runResource(replicasAntiAffinity, k8s(dep))).violations).toEqual([]);
  });
  it("GIVEN a Deployment with replicas unset, so one WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => delete x.spec.replicas);
    expect((await runResource(replicasAntiAffinity, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders runs 1 replica; run at least 2 so one node failure does not take it down.",
    ]);
  });
  it("GIVEN replicas without anti-affinity or a spread WHEN judged THEN it is refused, and WHEN judged as advisory (dev) THEN it only advises", async () => {
    const d = edit(dep, (x) => delete x.spec.template.spec.affinity);
    const msg =
      "Deployment fjord-orders/orders has neither required pod anti-affinity nor a DoNotSchedule topology spread constraint (maxSkew 1) on kubernetes.io/hostname selecting its own pods, so its replicas may share a node; add affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution or topologySpreadConstraints with topologyKey kubernetes.io/hostname and a labelSelector matching the pod labels.";
    expect((await runResource(replicasAntiAffinity, k8s(d))).mandatory).toEqual([msg]);
    const dev = await runResource(replicasAntiAffinity, k8s(d), { level: "advisory" });
    expect(dev.mandatory).toEqual([]);
    expect(dev.advisory).toEqual([msg]);
  });
  it("GIVEN anti-affinity that selects another app's pods WHEN judged THEN it does not count and is refused", async () => {
    const d = edit(
      dep,
      (x) =>
        (x.spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values =
          ["payment"]),
    );
    expect((await runResource(replicasAntiAffinity, k8s(d))).mandatory).toHaveLength(1);
  });
  describe("with a topology spread constraint instead", () => {
    const spreadDep = edit(dep, (x) => {
      delete x.spec.template.spec.affinity;
      x.spec.template.spec.topologySpreadConstraints = [
        {
          maxSkew: 1,
          topologyKey: "kubernetes.io/hostname",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: { app: "orders" } },
        },
      ];
    });
    const tsc = (x: typeof dep) => x.spec.template.spec.topologySpreadConstraints[0];
    it("GIVEN a DoNotSchedule hostname spread with maxSkew 1 selecting its own pods WHEN judged THEN it passes", async () => {
      expect((await runResource(replicasAntiAffinity, k8s(spreadDep))).violations).toEqual([]);
    });
    it.each([
      [
        "a selector for other pods",
        (x: typeof dep) => (tsc(x).labelSelector.matchLabels.app = "payment"),
      ],
      ["no selector", (x: typeof dep) => delete tsc(x).labelSelector],
      ["ScheduleAnyway", (x: typeof dep) => (tsc(x).whenUnsatisfiable = "ScheduleAnyway")],
      ["maxSkew 2", (x: typeof dep) => (tsc(x).maxSkew = 2)],
      ["a zone key", (x: typeof dep) => (tsc(x).topologyKey = "topology.kubernetes.io/zone")],
    ])(
      "GIVEN a spread with %s WHEN judged THEN it does not count and is refused",
      async (_, change) => {
        const r = await runResource(replicasAntiAffinity, k8s(edit(spreadDep, change)));
        expect(r.mandatory).toHaveLength(1);
        expect(r.mandatory[0]).toMatch(/^Deployment fjord-orders\/orders has neither required/);
      },
    );
    it.each([
      ["maxSkew", (x: typeof dep) => (tsc(x).maxSkew = unknown("number"))],
      ["selector", (x: typeof dep) => (tsc(x).labelSelector = unknown("object"))],
    ])(
      "GIVEN a spread with a computed %s WHEN judged THEN it is advised as unverifiable",
      async (_, change) => {
        const r = await runResource(replicasAntiAffinity, k8s(edit(spreadDep, change)));
        expect(r.mandatory).toEqual([]);
        expect(r.advisory).toEqual([
          "Cannot verify the spread of Deployment fjord-orders/orders at preview: its affinity, topology spread constraints or labels are computed.",
        ]);
      },
    );
  });
  it("GIVEN computed replicas WHEN judged THEN it is advised as unverifiable", async () => {
    const d = edit(dep, (x) => (x.spec.replicas = unknown("number")));
    expect((await runResource(replicasAntiAffinity, k8s(d))).advisory).toEqual([
      "Cannot verify the replica count of Deployment fjord-orders/orders at preview: spec.replicas is computed.",
    ]);
  });
  it("GIVEN a StatefulSet or an observability-tier Deployment WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(replicasAntiAffinity, { type: T.statefulSet, props: dbStatefulSet() }))
        .notApplicable,
    ).toEqual(["Only Deployment workloads are checked."]);
    const grafana = edit(
      dep,
      (x) => (x.spec.template.metadata.labels["app.kubernetes.io/component"] = "observability"),
    );
    expect((await runResource(replicasAntiAffinity, k8s(grafana))).notApplicable).toEqual([
      "The observability tier is single-instance by design.",
    ]);
  });
});

describe("readiness-probes", () => {
  it("GIVEN a main container with a readiness probe WHEN judged THEN it passes", async () => {
    expect((await runResource(readinessProbes, k8s(dep))).violations).toEqual([]);
  });
  it("GIVEN a main container without a readiness probe WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => delete x.spec.template.spec.containers[0].readinessProbe);
    expect((await runResource(readinessProbes, k8s(d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' has no readinessProbe; add one that fails while the container cannot serve requests.",
    ]);
  });
  it("GIVEN a bare Pod without a readiness probe WHEN judged THEN it is refused", async () => {
    const bare = {
      metadata: { name: "worker", namespace: "fjord-orders" },
      spec: edit(dep, (x) => delete x.spec.template.spec.containers[0].readinessProbe).spec.template
        .spec,
    };
    expect((await runResource(readinessProbes, { type: T.pod, props: bare })).mandatory).toEqual([
      "Pod fjord-orders/worker container 'orders' has no readinessProbe; add one that fails while the container cannot serve requests.",
    ]);
  });
  it("GIVEN a bare Pod whose readiness probe is computed WHEN judged THEN it is advised as unverifiable", async () => {
    const computed = {
      metadata: { name: "worker", namespace: "fjord-orders" },
      spec: edit(
        dep,
        (x) => (x.spec.template.spec.containers[0].readinessProbe = unknown("object")),
      ).spec.template.spec,
    };
    const r = await runResource(readinessProbes, { type: T.pod, props: computed });
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify the readiness probe of Pod fjord-orders/worker container 'orders' at preview: it is computed.",
    ]);
  });
  it("GIVEN a sidecar without a readiness probe WHEN judged THEN it passes, and WHEN allContainers is set THEN it is refused", async () => {
    const d = edit(dep, (x) =>
      x.spec.template.spec.containers.push({ name: "exporter", image: "e:1" }),
    );
    expect((await runResource(readinessProbes, k8s(d))).violations).toEqual([]);
    expect(
      (await runResource(readinessProbes, k8s(d), { config: { allContainers: true } })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders container 'exporter' has no readinessProbe; add one that fails while the container cannot serve requests.",
    ]);
  });
  it("GIVEN a Service WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(readinessProbes, { type: T.service, props: {} })).notApplicable,
    ).toEqual(["Only workloads run pods."]);
  });
});

describe("pod-disruption-budget", () => {
  const stack = prodStack();
  it("GIVEN the prod fixture stack with a matching budget WHEN judged THEN it passes", async () => {
    expect((await runStack(podDisruptionBudget, stack)).violations).toEqual([]);
  });
  it("GIVEN a budget selecting another app WHEN judged THEN the unselected Deployment is refused by name", async () => {
    const s = stack.map((r): Fixture =>
      r.name === "orders-pdb" ? { ...r, props: pdb("payment", "fjord-orders") } : r,
    );
    expect((await runStack(podDisruptionBudget, s)).mandatory).toEqual([
      "Deployment fjord-orders/orders is not selected by any PodDisruptionBudget in its namespace; add one (e.g. maxUnavailable: 1) whose selector matches its pod labels.",
    ]);
  });
  it("GIVEN the Deployment's budget in another namespace WHEN judged THEN it does not count and the Deployment is refused", async () => {
    const s = stack.map((r): Fixture =>
      r.name === "orders-pdb" ? { ...r, props: pdb("orders", "default") } : r,
    );
    expect((await runStack(podDisruptionBudget, s)).mandatory).toHaveLength(1);
  });
  it("GIVEN a budget with a computed selector WHEN judged THEN the Deployment is advised as unverifiable", async () => {
    const s = stack.map((r): Fixture =>
      r.name === "orders-pdb"
        ? {
            ...r,
            props: {
              metadata: { namespace: "fjord-orders" },
              spec: { selector: unknown("object") },
            },
          }
        : r,
    );
    expect((await runStack(podDisruptionBudget, s)).advisory).toEqual([
      "Cannot verify that a PodDisruptionBudget selects Deployment fjord-orders/orders at preview: some budgets have computed namespaces or selectors.",
    ]);
  });
  it("GIVEN a stack without Deployments WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runStack(podDisruptionBudget, [{ type: T.namespace, name: "n", props: {} }]))
        .notApplicable,
    ).toEqual(["The stack has no Deployments."]);
  });
});

describe("anti-affinity-schedulable", () => {
  const stack = prodStack();
  it("GIVEN three replicas and three fjord nodes WHEN judged THEN it passes", async () => {
    expect((await runStack(antiAffinitySchedulable, stack)).violations).toEqual([]);
  });
  it("GIVEN three replicas and only two fjord nodes WHEN judged THEN the workload is refused, naming the shortfall", async () => {
    const s = stack.filter((r) => r.name !== "osl-3-facts");
    expect((await runStack(antiAffinitySchedulable, s)).mandatory).toEqual([
      "Deployment fjord-orders/orders asks for 3 replicas with required anti-affinity on kubernetes.io/hostname, but the environment has 2 nodes (fjord VpsNodes in the stack), so 1 replica would stay Pending; lower replicas to 2 or add nodes.",
    ]);
  });
  it("GIVEN three fjord nodes and a policy config nodeCount of 1 WHEN judged THEN the config's count is used and the workload is refused", async () => {
    expect(
      (await runStack(antiAffinitySchedulable, stack, { config: { nodeCount: 1 } })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders asks for 3 replicas with required anti-affinity on kubernetes.io/hostname, but the environment has 1 node (policy config nodeCount), so 2 replicas would stay Pending; lower replicas to 1 or add nodes.",
    ]);
  });
  it("GIVEN no fjord nodes and no configured nodeCount WHEN judged THEN it is advised as unverifiable", async () => {
    const s = stack.filter((r) => r.type !== T.command);
    expect((await runStack(antiAffinitySchedulable, s)).advisory).toEqual([
      "Cannot verify that the 3 replicas of Deployment fjord-orders/orders fit one per node: the stack has no fjord VpsNodes; set the policy config nodeCount.",
    ]);
  });
  it("GIVEN a stack without replicated workloads WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runStack(antiAffinitySchedulable, [{ type: T.namespace, name: "n", props: {} }]))
        .notApplicable,
    ).toEqual(["The stack has no replicated workloads."]);
  });
});
