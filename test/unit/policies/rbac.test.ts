/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are untyped JSON */
import { describe, expect, it } from "vitest";
import { edit, runResource, unknown } from "./harness";
import {
  rbacNoClusterAdminBinding,
  rbacNoEscalation,
  rbacNoPodExec,
  rbacNoWildcards,
} from "../../../policies/rbac";

const CR = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const RB = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";

/** fjord's Prometheus discovery role: read pods, nothing else. */
const discovery: Record<string, any> = {
  metadata: { name: "fjord-prometheus-discovery" },
  rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
};
const rule = (x: any) => x.rules[0];
const binding: Record<string, any> = {
  metadata: { name: "fjord-prometheus-discovery" },
  roleRef: {
    apiGroup: "rbac.authorization.k8s.io",
    kind: "ClusterRole",
    name: "fjord-prometheus-discovery",
  },
  subjects: [{ kind: "ServiceAccount", name: "prometheus", namespace: "fjord-system" }],
};
const L = "ClusterRole fjord-prometheus-discovery";

describe("rbac-no-wildcards", () => {
  it("GIVEN a ClusterRole that names its verbs and resources WHEN judged THEN it passes", async () => {
    expect((await runResource(rbacNoWildcards, { type: CR, props: discovery })).violations).toEqual(
      [],
    );
  });
  it.each([
    ["verbs", (x: any) => (rule(x).verbs = ["*"])],
    ["resources", (x: any) => (rule(x).resources = ["*"])],
    ["apiGroups", (x: any) => (rule(x).apiGroups = ["*"])],
  ])(
    "GIVEN '*' in a rule's %s WHEN judged THEN it is refused, naming the field",
    async (what, change) => {
      expect(
        (await runResource(rbacNoWildcards, { type: CR, props: edit(discovery, change) }))
          .mandatory,
      ).toEqual([`${L} rule 1 grants '*' in ${what}; list the ${what} the workload needs.`]);
    },
  );
  it("GIVEN a rule's verbs computed at preview WHEN judged THEN it is advised as unverifiable, not failed", async () => {
    const r = await runResource(rbacNoWildcards, {
      type: CR,
      props: edit(discovery, (x) => (rule(x).verbs = unknown("array"))),
    });
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      `Cannot verify the wildcards of ${L} at preview: rule 1 is computed.`,
    ]);
  });
  it("GIVEN wildcard ClusterRoles WHEN named system:* or labelled as RBAC defaults THEN they are exempt, and WHEN named systemd-helper THEN it is refused", async () => {
    const wild = edit(discovery, (x) => (rule(x).verbs = ["*"]));
    const sys = edit(wild, (x) => (x.metadata.name = "system:controller:foo"));
    expect((await runResource(rbacNoWildcards, { type: CR, props: sys })).notApplicable).toEqual([
      "'system:controller:foo' is a system ClusterRole (name prefix), exempt by rule.",
    ]);
    const boot = edit(
      wild,
      (x) => (x.metadata.labels = { "kubernetes.io/bootstrapping": "rbac-defaults" }),
    );
    expect((await runResource(rbacNoWildcards, { type: CR, props: boot })).violations).toEqual([]);
    const notSys = edit(wild, (x) => (x.metadata.name = "systemd-helper"));
    expect(
      (await runResource(rbacNoWildcards, { type: CR, props: notSys })).mandatory,
    ).toHaveLength(1);
  });
});

describe("rbac-no-pod-exec", () => {
  it("GIVEN read access to pods WHEN judged THEN it passes", async () => {
    expect((await runResource(rbacNoPodExec, { type: CR, props: discovery })).violations).toEqual(
      [],
    );
  });
  it.each([
    ["pods/exec", ["create"], "pods/exec"],
    ["pods/attach", ["get"], "pods/attach"],
    ["pods/portforward", ["create"], "pods/portforward"],
    ["pods/*", ["create"], "pods/exec, pods/attach, pods/portforward"],
    ["*", ["*"], "pods/exec, pods/attach, pods/portforward"],
  ])(
    "GIVEN a Role granting %s with verbs %j WHEN judged THEN it is refused, naming the exec resources",
    async (resource, verbs, named) => {
      const role = {
        metadata: { name: "debugger", namespace: "fjord-orders" },
        rules: [{ apiGroups: [""], resources: ["pods", resource], verbs }],
      };
      expect((await runResource(rbacNoPodExec, { type: ROLE, props: role })).mandatory).toEqual([
        `Role fjord-orders/debugger rule 1 grants ${named}; remove them and debug with a time-limited, separately bound role instead.`,
      ]);
    },
  );
  it("GIVEN read access to pods/log WHEN judged THEN it passes", async () => {
    const role = edit(discovery, (x) => (rule(x).resources = ["pods/log"]));
    expect((await runResource(rbacNoPodExec, { type: CR, props: role })).violations).toEqual([]);
  });
  it("GIVEN a ClusterRole's rules computed at preview WHEN judged THEN it is advised as unverifiable", async () => {
    const role = edit(discovery, (x) => (x.rules = unknown("array")));
    expect((await runResource(rbacNoPodExec, { type: CR, props: role })).advisory).toEqual([
      `Cannot verify pod exec access of ${L} at preview: its rules are computed.`,
    ]);
  });
});

describe("rbac-no-escalation", () => {
  it("GIVEN fjord's discovery role WHEN judged THEN it passes", async () => {
    expect(
      (await runResource(rbacNoEscalation, { type: CR, props: discovery })).violations,
    ).toEqual([]);
  });
  it.each([
    [["rbac.authorization.k8s.io"], ["clusterroles"], ["escalate"], "escalate on clusterroles"],
    [["rbac.authorization.k8s.io"], ["roles"], ["bind"], "bind on roles"],
    [[""], ["users"], ["impersonate"], "impersonate on users"],
    [[""], ["groups"], ["impersonate"], "impersonate on groups"],
    [[""], ["serviceaccounts"], ["impersonate"], "impersonate on serviceaccounts"],
  ])(
    "GIVEN a rule with apiGroups %j, resources %j and verbs %j WHEN judged THEN it is refused, naming the escalation",
    async (apiGroups, resources, verbs, named) => {
      const role = { metadata: { name: "x" }, rules: [{ apiGroups, resources, verbs }] };
      const r = await runResource(rbacNoEscalation, { type: CR, props: role });
      expect(r.mandatory).toHaveLength(1);
      expect(r.mandatory[0]).toMatch(
        new RegExp(`^ClusterRole x rule 1 grants ${named}, which lets`),
      );
    },
  );
});

describe("rbac-no-escalation on computed rules", () => {
  it("GIVEN a computed rule followed by an impersonate rule WHEN judged THEN the first is advised as unverifiable and the second is refused", async () => {
    const role = {
      metadata: { name: "x" },
      rules: [unknown("object"), { apiGroups: [""], resources: ["users"], verbs: ["impersonate"] }],
    };
    const r = await runResource(rbacNoEscalation, { type: CR, props: role });
    expect(r.advisory).toEqual([
      "Cannot verify escalation verbs of ClusterRole x at preview: rule 1 is computed.",
    ]);
    expect(r.mandatory).toHaveLength(1);
    expect(r.mandatory[0]).toMatch(/^ClusterRole x rule 2 grants impersonate on users/);
  });
});

describe("rbac-no-cluster-admin-binding", () => {
  it("GIVEN a binding to a narrow role WHEN judged THEN it passes", async () => {
    expect(
      (await runResource(rbacNoClusterAdminBinding, { type: CRB, props: binding })).violations,
    ).toEqual([]);
  });
  it("GIVEN a ClusterRoleBinding or a namespaced RoleBinding to cluster-admin WHEN judged THEN each is refused", async () => {
    const admin = edit(binding, (x) => (x.roleRef.name = "cluster-admin"));
    const msg = (l: string) =>
      `${l} binds the cluster-admin ClusterRole, which can do anything in the cluster; bind a role with only the verbs and resources its subjects need.`;
    expect(
      (await runResource(rbacNoClusterAdminBinding, { type: CRB, props: admin })).mandatory,
    ).toEqual([msg("ClusterRoleBinding fjord-prometheus-discovery")]);
    const ns = edit(admin, (x) => (x.metadata.namespace = "fjord-orders"));
    expect(
      (await runResource(rbacNoClusterAdminBinding, { type: RB, props: ns })).mandatory,
    ).toEqual([msg("RoleBinding fjord-orders/fjord-prometheus-discovery")]);
  });
  it("GIVEN a binding whose roleRef name is computed WHEN judged THEN it is advised as unverifiable", async () => {
    const b = edit(binding, (x) => (x.roleRef.name = unknown()));
    expect(
      (await runResource(rbacNoClusterAdminBinding, { type: CRB, props: b })).advisory,
    ).toEqual([
      "Cannot verify which role ClusterRoleBinding fjord-prometheus-discovery binds at preview: its roleRef is computed.",
    ]);
  });
  it("GIVEN a system: binding to cluster-admin, as the API server's own WHEN judged THEN it is exempt and passes", async () => {
    const b = edit(binding, (x) => {
      x.metadata.name = "system:masters-admin";
      x.roleRef.name = "cluster-admin";
    });
    expect(
      (await runResource(rbacNoClusterAdminBinding, { type: CRB, props: b })).violations,
    ).toEqual([]);
  });
});
