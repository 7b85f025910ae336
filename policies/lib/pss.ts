/**
 * The Kubernetes Pod Security Standards, every control of the baseline and restricted levels, as
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/ defines them. Each control
 * carries the policy version it appeared in, so a pack pinned to an older cluster's version judges
 * what that cluster's admission would (the `pod-security.kubernetes.io/enforce-version` idea).
 */
import { type Container, containerLabel, containersOf } from "./k8s";
import { type Obj, type Unknown, UNKNOWN, at, isObj, isUnknown, list, str } from "./values";

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

/** What one control found: offending places (with their values), and places it could not read. */
export interface Outcome {
  bad: string[];
  unknown: string[];
}

interface PodView {
  spec: Obj;
  annotations: Record<string, string | Unknown> | Unknown;
  containers: Container[];
  version: number;
  windows: boolean;
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

/**
 * Collects offences at `place` (shown with the offending value unless `bare`); a computed `v`
 * records the place as unreadable instead.
 */
function outcome(): Outcome & {
  see: (place: string, v: unknown, bad: boolean, bare?: boolean) => void;
} {
  const o: Outcome = { bad: [], unknown: [] };
  return {
    ...o,
    see(place, v, bad, bare = false) {
      if (isUnknown(v)) o.unknown.push(place);
      else if (bad) o.bad.push(bare ? place : `${place}: ${show(v)}`);
    },
  };
}

const show = (v: unknown): string =>
  isUnknown(v)
    ? "(computed)"
    : v === undefined
      ? "unset"
      : typeof v === "string"
        ? v
        : JSON.stringify(v);

/** Every security context the pod has: the pod's own, then each container's. */
function contexts(p: PodView): { who: string; sc: unknown; pod: boolean }[] {
  return [
    { who: "the pod", sc: at(p.spec, "securityContext"), pod: true },
    ...p.containers.map((c) => ({
      who: containerLabel(c),
      sc: c.c === UNKNOWN ? UNKNOWN : at(c.c, "securityContext"),
      pod: false,
    })),
  ];
}

const field = (sc: unknown, path: string): unknown => (isUnknown(sc) ? UNKNOWN : at(sc, path));

/** A check over one field of every container's securityContext. */
const perContainer =
  (path: string, bad: (v: unknown) => boolean, withPod = false) =>
  (p: PodView): Outcome => {
    const o = outcome();
    for (const x of contexts(p)) {
      if (x.pod && !withPod) continue;
      const v = field(x.sc, path);
      o.see(`${x.who} ${path}`, v, bad(v));
    }
    return o;
  };

const BASELINE_CAPS = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];
const capName = (c: unknown) => (typeof c === "string" ? c.toUpperCase().replace(/^CAP_/, "") : c);

function addedCaps(p: PodView, allowed: string[]): Outcome {
  const o = outcome();
  for (const x of contexts(p)) {
    if (x.pod) continue;
    const adds = field(x.sc, "capabilities.add");
    if (isUnknown(adds)) {
      o.see(`${x.who} capabilities.add`, UNKNOWN, false);
      continue;
    }
    for (const a of Array.isArray(adds) ? adds : [])
      o.see(`${x.who} adds ${show(a)}`, a, !allowed.includes(capName(a) as string), true);
  }
  return o;
}

/** Probe and lifecycle handlers whose `host` would point the kubelet at another address. */
function hostProbes(p: PodView): Outcome {
  const o = outcome();
  const handlers = [
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle.postStart",
    "lifecycle.preStop",
  ];
  for (const c of p.containers)
    for (const h of handlers)
      for (const kind of ["httpGet", "tcpSocket"]) {
        const v = c.c === UNKNOWN ? UNKNOWN : at(c.c, `${h}.${kind}.host`);
        o.see(`${containerLabel(c)} ${h}.${kind}.host`, v, v !== undefined && v !== "");
      }
  return o;
}

function appArmor(p: PodView): Outcome {
  const o = perContainer(
    "appArmorProfile.type",
    (v) => v !== undefined && v !== "RuntimeDefault" && v !== "Localhost",
    true,
  )(p);
  const ann = p.annotations;
  if (ann === UNKNOWN) o.unknown.push("the pod template's annotations");
  else
    for (const [k, v] of Object.entries(ann)) {
      if (!k.startsWith("container.apparmor.security.beta.kubernetes.io/")) continue;
      const ok = typeof v === "string" && (v === "runtime/default" || v.startsWith("localhost/"));
      if (v === UNKNOWN) o.unknown.push(`annotation ${k}`);
      else if (!ok) o.bad.push(`annotation ${k}: ${v}`);
    }
  return o;
}

function seLinux(p: PodView): Outcome {
  const types = ["", "container_t", "container_init_t", "container_kvm_t"];
  if (p.version >= 31) types.push("container_engine_t");
  const o = outcome();
  for (const x of contexts(p)) {
    const t = field(x.sc, "seLinuxOptions.type");
    o.see(`${x.who} seLinuxOptions.type`, t, t !== undefined && !types.includes(t as string));
    for (const k of ["user", "role"]) {
      const v = field(x.sc, `seLinuxOptions.${k}`);
      o.see(`${x.who} seLinuxOptions.${k}`, v, v !== undefined && v !== "");
    }
  }
  return o;
}

function sysctls(p: PodView): Outcome {
  const safe = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
  ];
  if (p.version >= 27) safe.push("net.ipv4.ip_local_reserved_ports");
  if (p.version >= 29)
    safe.push(
      "net.ipv4.tcp_keepalive_time",
      "net.ipv4.tcp_fin_timeout",
      "net.ipv4.tcp_keepalive_intvl",
      "net.ipv4.tcp_keepalive_probes",
    );
  const o = outcome();
  const all = list(p.spec, "securityContext.sysctls");
  if (all === UNKNOWN) o.unknown.push("the pod's securityContext.sysctls");
  else
    for (const s of all) {
      const n = str(s, "name");
      o.see(`sysctl ${show(n)}`, n, !safe.includes(n as string), true);
    }
  return o;
}

const VOLUME_SOURCES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

function volumes(p: PodView, ok: (source: string) => boolean): Outcome {
  const o = outcome();
  const vs = list(p.spec, "volumes");
  if (vs === UNKNOWN) {
    o.unknown.push("the pod's volumes");
    return o;
  }
  for (const v of vs) {
    const name = str(v, "name");
    if (!isObj(v)) {
      if (isUnknown(v)) o.unknown.push("a volume");
      continue;
    }
    for (const [k, src] of Object.entries(v)) {
      if (k === "name" || src === null || src === undefined) continue;
      o.see(`volume '${show(name)}' (${k})`, isUnknown(src) ? UNKNOWN : k, !ok(k), true);
    }
  }
  return o;
}

/** Effective per-container value: the container's own, else the pod's. */
function effective(p: PodView, path: string, bad: (v: unknown) => boolean): Outcome {
  const o = outcome();
  const podSc = at(p.spec, "securityContext");
  const podV = field(podSc, path);
  for (const c of p.containers) {
    const own = c.c === UNKNOWN ? UNKNOWN : field(at(c.c, "securityContext"), path);
    const v = own === undefined ? podV : own;
    o.see(`${containerLabel(c)} ${path}`, v, bad(v));
  }
  return o;
}

const windowsExempt = (p: PodView, check: (p: PodView) => Outcome) =>
  p.windows && p.version >= 25 ? { bad: [], unknown: [] } : check(p);

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
    check: (p) => {
      const o = outcome();
      for (const k of ["hostNetwork", "hostPID", "hostIPC"]) {
        const v = at(p.spec, k);
        o.see(k, v, v === true);
      }
      return o;
    },
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
    check: (p) => {
      const o = outcome();
      for (const c of p.containers) {
        const ports = c.c === UNKNOWN ? UNKNOWN : list(c.c, "ports");
        if (ports === UNKNOWN) o.unknown.push(`${containerLabel(c)} ports`);
        else
          for (const port of ports) {
            const v = at(port, "hostPort");
            o.see(`${containerLabel(c)} hostPort`, v, v !== undefined && v !== 0);
          }
      }
      return o;
    },
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
