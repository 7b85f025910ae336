/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are untyped JSON */
import { describe, expect, it } from "vitest";
import { type Fixture, edit, runStack, unknown } from "./harness";
import { T, deployment, namespace } from "./fixtures";
import { podSecurityStandards } from "../../../policies/pod-security";
import { CONTROLS } from "../../../policies/lib/pss";

const dep = deployment();
type Dep = typeof dep;
const pod = (d: Dep) => d.spec.template.spec;
const main = (d: Dep) => pod(d).containers[0];
const one = (props: Record<string, unknown>, type: string = T.deployment): Fixture[] => [
  { type, name: "subject", props },
];
const run = (props: Record<string, unknown>, config: Record<string, unknown> = {}) =>
  runStack(podSecurityStandards, one(props), { config });
const L = "Deployment fjord-orders/orders";

/** One field changed per case: the control it breaks, and what the message must name. */
const CASES: {
  control: string;
  change: (d: Dep) => void;
  names: string;
  unknownAt: (d: Dep) => void;
  /** Restricted controls that the same change breaks too (as the admission controller says). */
  also?: string;
}[] = [
  {
    control: "HostProcess",
    change: (d) => (pod(d).securityContext.windowsOptions = { hostProcess: true }),
    names: "the pod windowsOptions.hostProcess: true",
    unknownAt: (d) =>
      (main(d).securityContext.windowsOptions = { hostProcess: unknown("boolean") }),
  },
  {
    control: "Host Namespaces",
    change: (d) => (pod(d).hostPID = true),
    names: "hostPID: true",
    unknownAt: (d) => (pod(d).hostIPC = unknown("boolean")),
  },
  {
    control: "Privileged Containers",
    change: (d) => (main(d).securityContext.privileged = true),
    names: "container 'orders' privileged: true",
    unknownAt: (d) => (main(d).securityContext.privileged = unknown("boolean")),
  },
  {
    control: "Capabilities",
    change: (d) => (main(d).securityContext.capabilities.add = ["SYS_ADMIN"]),
    names: "container 'orders' adds SYS_ADMIN",
    also: "Capabilities (restricted)",
    unknownAt: (d) => (main(d).securityContext.capabilities.add = unknown("array")),
  },
  {
    control: "HostPath Volumes",
    change: (d) => (pod(d).volumes = [{ name: "logs", hostPath: { path: "/var/log" } }]),
    names: "volume 'logs' (hostPath)",
    also: "Volume Types",
    unknownAt: (d) => (pod(d).volumes = unknown("array")),
  },
  {
    control: "Host Ports",
    change: (d) => (main(d).ports[0].hostPort = 80),
    names: "container 'orders' hostPort: 80",
    unknownAt: (d) => (main(d).ports[0].hostPort = unknown("number")),
  },
  {
    control: "Host Probes / Lifecycle Hooks",
    change: (d) => (main(d).readinessProbe.httpGet.host = "10.0.0.1"),
    names: "container 'orders' readinessProbe.httpGet.host: 10.0.0.1",
    unknownAt: (d) => (main(d).readinessProbe.httpGet.host = unknown()),
  },
  {
    control: "AppArmor",
    change: (d) => (main(d).securityContext.appArmorProfile = { type: "Unconfined" }),
    names: "container 'orders' appArmorProfile.type: Unconfined",
    unknownAt: (d) => (main(d).securityContext.appArmorProfile = { type: unknown() }),
  },
  {
    control: "SELinux",
    change: (d) => (pod(d).securityContext.seLinuxOptions = { user: "system_u" }),
    names: "the pod seLinuxOptions.user: system_u",
    unknownAt: (d) => (pod(d).securityContext.seLinuxOptions = { type: unknown() }),
  },
  {
    control: "/proc Mount Type",
    change: (d) => (main(d).securityContext.procMount = "Unmasked"),
    names: "container 'orders' procMount: Unmasked",
    unknownAt: (d) => (main(d).securityContext.procMount = unknown()),
  },
  {
    control: "Seccomp",
    change: (d) => (main(d).securityContext.seccompProfile.type = "Unconfined"),
    names: "container 'orders' seccompProfile.type: Unconfined",
    also: "Seccomp (restricted)",
    unknownAt: (d) => (pod(d).securityContext.seccompProfile.type = unknown()),
  },
  {
    control: "Sysctls",
    change: (d) => (pod(d).securityContext.sysctls = [{ name: "kernel.msgmax", value: "65536" }]),
    names: "sysctl kernel.msgmax",
    unknownAt: (d) => (pod(d).securityContext.sysctls = unknown("array")),
  },
  {
    control: "Volume Types",
    change: (d) => (pod(d).volumes = [{ name: "data", nfs: { server: "nas", path: "/x" } }]),
    names: "volume 'data' (nfs)",
    unknownAt: (d) => (pod(d).volumes = [{ name: "data", nfs: unknown("object") }]),
  },
  {
    control: "Privilege Escalation",
    change: (d) => delete main(d).securityContext.allowPrivilegeEscalation,
    names: "container 'orders' allowPrivilegeEscalation: unset",
    unknownAt: (d) => (main(d).securityContext.allowPrivilegeEscalation = unknown("boolean")),
  },
  {
    control: "Running as Non-root",
    change: (d) => (main(d).securityContext.runAsNonRoot = false),
    names: "container 'orders' runAsNonRoot: false",
    unknownAt: (d) => (main(d).securityContext.runAsNonRoot = unknown("boolean")),
  },
  {
    control: "Running as Non-root user",
    change: (d) => (main(d).securityContext.runAsUser = 0),
    names: "container 'orders' runAsUser: 0",
    unknownAt: (d) => (main(d).securityContext.runAsUser = unknown("number")),
  },
  {
    control: "Seccomp (restricted)",
    change: (d) => {
      delete main(d).securityContext.seccompProfile;
      delete pod(d).securityContext.seccompProfile;
    },
    names: "container 'orders' seccompProfile.type: unset",
    unknownAt: (d) => (main(d).securityContext.seccompProfile = unknown("object")),
  },
  {
    control: "Capabilities (restricted)",
    change: (d) => (main(d).securityContext.capabilities.drop = ["NET_RAW"]),
    names: "container 'orders' does not drop ALL",
    unknownAt: (d) => (main(d).securityContext.capabilities.drop = unknown("array")),
  },
];

describe("pod-security-standards", () => {
  it("GIVEN fjord's restricted Deployment WHEN judged THEN it passes", async () => {
    expect((await run(dep)).violations).toEqual([]);
  });
  it("has a case for every control of the standard", () => {
    expect(CASES.map((c) => c.control).sort()).toEqual(CONTROLS.map((c) => c.title).sort());
  });
  describe.each(CASES)("control $control", ({ control, change, names, unknownAt, also }) => {
    const level = CONTROLS.find((c) => c.title === control)!.level;
    it("GIVEN one field that breaks the control WHEN judged THEN it fails, naming the field and the fix", async () => {
      const r = await run(edit(dep, change));
      expect(r.mandatory).toHaveLength(also ? 2 : 1);
      if (also) expect(r.mandatory[1]).toContain(`control "${also}"`);
      expect(r.mandatory[0]).toContain(
        `${L} fails Pod Security 'restricted' (latest, v1.34) control "${control}": ${names}`,
      );
      expect(r.mandatory[0]).toContain(CONTROLS.find((c) => c.title === control)!.fix);
    });
    it("GIVEN the control's field computed WHEN judged THEN it is advised as unverifiable, naming the control", async () => {
      const r = await run(edit(dep, unknownAt));
      expect(r.mandatory).toEqual([]);
      expect(r.advisory.join("\n")).toContain(`control "${control}" for ${L} at preview`);
    });
    it(`GIVEN one field that breaks the control WHEN judged at level baseline THEN it is ${level === "baseline" ? "also" : "not"} enforced`, async () => {
      const r = await run(edit(dep, change), { level: "baseline" });
      expect(r.mandatory).toHaveLength(level === "baseline" ? 1 : 0);
    });
  });

  const spec = edit(dep, (d) => (main(d).securityContext.allowPrivilegeEscalation = true));
  const tpl = spec.spec.template;
  const meta = { name: "orders", namespace: "fjord-orders" };
  it.each([
    [T.pod, { metadata: meta, spec: tpl.spec }, "Pod"],
    [T.deployment, spec, "Deployment"],
    [T.statefulSet, { metadata: meta, spec: { template: tpl } }, "StatefulSet"],
    [T.daemonSet, { metadata: meta, spec: { template: tpl } }, "DaemonSet"],
    ["kubernetes:apps/v1:ReplicaSet", { metadata: meta, spec: { template: tpl } }, "ReplicaSet"],
    ["kubernetes:batch/v1:Job", { metadata: meta, spec: { template: tpl } }, "Job"],
    [T.cronJob, { metadata: meta, spec: { jobTemplate: { spec: { template: tpl } } } }, "CronJob"],
    [
      "kubernetes:core/v1:ReplicationController",
      { metadata: meta, spec: { template: tpl } },
      "ReplicationController",
    ],
  ])(
    "GIVEN a %s whose container allows privilege escalation WHEN judged THEN its pods fail Privilege Escalation",
    async (type, props, kind) => {
      expect((await runStack(podSecurityStandards, one(props, type))).mandatory).toEqual([
        `${kind} fjord-orders/orders fails Pod Security 'restricted' (latest, v1.34) control "Privilege Escalation": container 'orders' allowPrivilegeEscalation: true; set securityContext.allowPrivilegeEscalation: false on every container.`,
      ]);
    },
  );

  it("GIVEN a restricted init container and an ephemeral container without a securityContext WHEN judged THEN the ephemeral one fails and the init one passes", async () => {
    const d = edit(dep, (x) => {
      pod(x).initContainers = [
        { name: "migrate", image: "m:1", securityContext: main(x).securityContext },
      ];
      pod(x).ephemeralContainers = [{ name: "debug", image: "busybox:1.36" }];
    });
    const r = await run(d);
    expect(r.mandatory.join("\n")).toContain("container 'debug' allowPrivilegeEscalation: unset");
    expect(r.mandatory.join("\n")).not.toContain("migrate");
  });

  describe("levels per namespace", () => {
    const hostPath = edit(dep, (d) => {
      pod(d).volumes = [{ name: "logs", hostPath: { path: "/var/log" } }];
      main(d).securityContext.allowPrivilegeEscalation = true;
    });
    it("GIVEN a baseline namespace and a pod breaking one baseline and one restricted control WHEN judged THEN only the baseline control fails", async () => {
      const r = await run(hostPath, { namespaceLevels: { "fjord-orders": "baseline" } });
      expect(r.mandatory).toHaveLength(1);
      expect(r.mandatory[0]).toContain(
        `Pod Security 'baseline' (latest, v1.34) control "HostPath Volumes"`,
      );
    });
    it("GIVEN a privileged namespace WHEN its offending pod is judged THEN nothing is reported", async () => {
      const r = await run(hostPath, { namespaceLevels: { "fjord-orders": "privileged" } });
      expect(r.violations).toEqual([]);
    });
    it("GIVEN a computed namespace depending on a privileged Namespace WHEN judged THEN that level applies and nothing is reported", async () => {
      const d = edit(hostPath, (x) => (x.metadata.namespace = unknown()));
      const stack: Fixture[] = [
        { type: T.namespace, name: "ns", props: namespace("fjord-orders") },
        { type: T.deployment, name: "subject", props: d, dependencies: ["ns"] },
      ];
      const cfg = { namespaceLevels: { "fjord-orders": "privileged" } };
      expect((await runStack(podSecurityStandards, stack, { config: cfg })).violations).toEqual([]);
    });
    it("GIVEN a computed namespace with no dependency and a weaker level configured for another namespace WHEN judged THEN the findings are advisory", async () => {
      const d = edit(hostPath, (x) => (x.metadata.namespace = unknown()));
      const r = await run(d, { namespaceLevels: { "fjord-logs": "privileged" } });
      expect(r.mandatory).toEqual([]);
      expect(r.advisory.join("\n")).toContain("Its namespace is computed at preview");
    });
    it("GIVEN a Namespace enforcing restricted WHEN the pack checks it at baseline THEN it is refused, and WHEN at the default THEN it passes", async () => {
      const ns = edit(namespace("fjord-orders"), (n: any) => {
        n.metadata.labels["pod-security.kubernetes.io/enforce"] = "restricted";
      });
      const stack: Fixture[] = [{ type: T.namespace, name: "ns", props: ns }];
      const cfg = { namespaceLevels: { "fjord-orders": "baseline" } };
      expect((await runStack(podSecurityStandards, stack, { config: cfg })).mandatory).toEqual([
        `Namespace fjord-orders enforces Pod Security 'restricted' but the pack checks its pods at 'baseline', so pods that pass here would be rejected at admission; set namespaceLevels["fjord-orders"] to "restricted".`,
      ]);
      expect((await runStack(podSecurityStandards, stack)).violations).toEqual([]);
    });
  });

  describe("versions", () => {
    it("GIVEN a probe with a host WHEN judged at v1.33 THEN it passes, and WHEN at v1.34 THEN it fails", async () => {
      const d = edit(dep, (x) => (main(x).readinessProbe.httpGet.host = "10.0.0.1"));
      expect((await run(d, { version: "v1.33" })).violations).toEqual([]);
      expect((await run(d, { version: "v1.34" })).mandatory).toHaveLength(1);
    });
    it("GIVEN a container dropping no capabilities WHEN judged at v1.21 THEN it passes, and WHEN at v1.22 THEN it fails, naming the version", async () => {
      const d = edit(dep, (x) => (main(x).securityContext.capabilities.drop = []));
      expect((await run(d, { version: "v1.21" })).violations).toEqual([]);
      expect((await run(d, { version: "v1.22" })).mandatory[0]).toContain("(v1.22)");
    });
    it("GIVEN the keepalive sysctl WHEN judged at v1.28 THEN it fails, and WHEN at v1.29 THEN it passes", async () => {
      const d = edit(
        dep,
        (x) =>
          (pod(x).securityContext.sysctls = [{ name: "net.ipv4.tcp_keepalive_time", value: "60" }]),
      );
      expect((await run(d, { version: "v1.28" })).mandatory).toHaveLength(1);
      expect((await run(d, { version: "v1.29" })).violations).toEqual([]);
    });
  });

  it("GIVEN a Windows pod without seccomp, capabilities drop or escalation settings WHEN judged THEN the Linux-only controls do not apply and it passes", async () => {
    const d = edit(dep, (x) => {
      pod(x).os = { name: "windows" };
      main(x).securityContext = { runAsNonRoot: true };
      delete pod(x).securityContext.seccompProfile;
    });
    expect((await run(d)).violations).toEqual([]);
  });
  it("GIVEN a computed pod spec WHEN judged THEN it is advised as unverifiable", async () => {
    const d = edit(dep, (x) => (x.spec.template.spec = unknown("object")));
    expect((await run(d)).advisory).toEqual([
      `Cannot verify Pod Security 'restricted' for ${L} at preview: its pod spec is computed.`,
    ]);
  });
});
