/**
 * The Kubernetes Pod Security Standards, every control of the baseline and restricted levels, as
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/ defines them. Each control
 * carries the policy version it appeared in, so a pack pinned to an older cluster's version judges
 * what that cluster's admission would (the `pod-security.kubernetes.io/enforce-version` idea).
 */
import { containerLabel, containersOf } from "./k8s";
import { type Obj, type Unknown, UNKNOWN, isUnknown, list, str } from "./values";
import {
  BASELINE_CAPS,
  type Outcome,
  type PodView,
  VOLUME_SOURCES,
  addedCaps,
  appArmor,
  capName,
  effective,
  hostNamespaces,
  hostPorts,
  hostProbes,
  outcome,
  perContainer,
  seLinux,
  sysctls,
  volumes,
  windowsExempt,
} from "./pss-checks";

export type { Outcome } from "./pss-checks";

export type PssLevel = "privileged" | "baseline" | "restricted";
export const PSS_LEVELS: readonly PssLevel[] = ["privileged", "baseline", "restricted"];
/** Newest policy version this file implements (Kubernetes minor of v1.NN). */
export const PSS_LATEST = 34;

export const stricter = (a: PssLevel, b: PssLevel): boolean =>
  PSS_LEVELS.indexOf(a) > PSS_LEVELS.indexOf(b);

/** The minor of "v1.NN" or "latest"; undefined when malformed. */
export function pssVersion(v: string): number | undefined {
  if (v === "latest") return PSS_LATEST;
  const m = /^v1\.(\d+)$/.exec(v);
  return m ? Math.min(Number(m[1]), PSS_LATEST) : undefined;
}

export interface Control {
  /** The control's name in the Kubernetes documentation. */
  title: string;
  level: "baseline" | "restricted";
  /** First policy version (v1.NN) that has the control. */
  since: number;
  fix: string;
  check: (p: PodView) => Outcome;
}

export const CONTROLS: readonly Control[] = [
  {
    title: "HostProcess",
    level: "baseline",
    since: 0,
    fix: "remove windowsOptions.hostProcess",
    check: perContainer("windowsOptions.hostProcess", (v) => v === true, true),
  },
  {
    title: "Host Namespaces",
    level: "baseline",
    since: 0,
    fix: "remove hostNetwork, hostPID and hostIPC",
    check: hostNamespaces,
  },
  {
    title: "Privileged Containers",
    level: "baseline",
    since: 0,
    fix: "remove privileged: true",
    check: perContainer("privileged", (v) => v === true),
  },
  {
    title: "Capabilities",
    level: "baseline",
    since: 0,
    fix: `add only capabilities from ${BASELINE_CAPS.join(", ")}`,
    check: (p) => addedCaps(p, BASELINE_CAPS),
  },
  {
    title: "HostPath Volumes",
    level: "baseline",
    since: 0,
    fix: "use a persistentVolumeClaim, configMap or emptyDir instead of hostPath",
    check: (p) => volumes(p, (k) => k !== "hostPath"),
  },
  {
    title: "Host Ports",
    level: "baseline",
    since: 0,
    fix: "remove hostPort and expose the port through a Service",
    check: hostPorts,
  },
  {
    title: "Host Probes / Lifecycle Hooks",
    level: "baseline",
    since: 34,
    fix: "remove host from httpGet/tcpSocket probes and lifecycle hooks",
    check: hostProbes,
  },
  {
    title: "AppArmor",
    level: "baseline",
    since: 0,
    fix: "use the RuntimeDefault or a Localhost AppArmor profile",
    check: appArmor,
  },
  {
    title: "SELinux",
    level: "baseline",
    since: 0,
    fix: "set no seLinuxOptions user or role, and only a container_* type",
    check: seLinux,
  },
  {
    title: "/proc Mount Type",
    level: "baseline",
    since: 0,
    fix: "remove procMount (or set it to Default)",
    check: perContainer("procMount", (v) => v !== undefined && v !== "Default"),
  },
  {
    title: "Seccomp",
    level: "baseline",
    since: 19,
    fix: "set seccompProfile.type: RuntimeDefault instead of Unconfined",
    check: perContainer("seccompProfile.type", (v) => v === "Unconfined", true),
  },
  {
    title: "Sysctls",
    level: "baseline",
    since: 0,
    fix: "set only the namespaced sysctls the standard lists as safe",
    check: sysctls,
  },
  {
    title: "Volume Types",
    level: "restricted",
    since: 0,
    fix: `use only ${VOLUME_SOURCES.join(", ")} volumes`,
    check: (p) => volumes(p, (k) => VOLUME_SOURCES.includes(k)),
  },
  {
    title: "Privilege Escalation",
    level: "restricted",
    since: 8,
    fix: "set securityContext.allowPrivilegeEscalation: false on every container",
    check: (p) =>
      windowsExempt(
        p,
        perContainer("allowPrivilegeEscalation", (v) => v !== false),
      ),
  },
  {
    title: "Running as Non-root",
    level: "restricted",
    since: 0,
    fix: "set securityContext.runAsNonRoot: true on the pod (and no container sets false)",
    check: (p) => effective(p, "runAsNonRoot", (v) => v !== true),
  },
  {
    title: "Running as Non-root user",
    level: "restricted",
    since: 23,
    fix: "set runAsUser to a non-zero uid",
    check: perContainer("runAsUser", (v) => v === 0, true),
  },
  {
    title: "Seccomp (restricted)",
    level: "restricted",
    since: 19,
    fix: "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
    check: (p) =>
      windowsExempt(p, (q) =>
        effective(q, "seccompProfile.type", (v) => v !== "RuntimeDefault" && v !== "Localhost"),
      ),
  },
  {
    title: "Capabilities (restricted)",
    level: "restricted",
    since: 22,
    fix: "set securityContext.capabilities.drop: [ALL] and add at most NET_BIND_SERVICE",
    check: (p) =>
      windowsExempt(p, (q) => {
        const o = outcome();
        for (const c of q.containers) {
          const drop = c.c === UNKNOWN ? UNKNOWN : list(c.c, "securityContext.capabilities.drop");
          const all =
            drop !== UNKNOWN && drop.some((d) => capName(d) === "ALL")
              ? true
              : drop === UNKNOWN || drop.some(isUnknown)
                ? UNKNOWN
                : false;
          o.see(`${containerLabel(c)} does not drop ALL`, all, all === false, true);
        }
        const adds = addedCaps(q, ["NET_BIND_SERVICE"]);
        return { bad: [...o.bad, ...adds.bad], unknown: [...o.unknown, ...adds.unknown] };
      }),
  },
];

/** The controls a level enforces at a policy version. */
export const controlsFor = (level: PssLevel, version: number): Control[] =>
  level === "privileged"
    ? []
    : CONTROLS.filter(
        (c) => version >= c.since && (c.level === "baseline" || level === "restricted"),
      );

export type PodVerdict =
  { unknown: string } | { results: { control: Control; outcome: Outcome }[] };

/** Judges one pod spec; `unknown` when the spec or a whole container list is computed. */
export function judgePod(
  spec: Obj,
  annotations: Record<string, string | Unknown> | Unknown,
  level: PssLevel,
  version: number,
): PodVerdict {
  const containers = containersOf(spec, true);
  if (containers === UNKNOWN) return { unknown: "its containers are computed" };
  const os = str(spec, "os.name");
  const view: PodView = { spec, annotations, containers, version, windows: os === "windows" };
  return {
    results: controlsFor(level, version).map((control) => ({
      control,
      outcome: control.check(view),
    })),
  };
}
