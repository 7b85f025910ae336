/**
 * The building blocks of the Pod Security controls (lib/pss.ts): each reads one kind of field
 * across the pod and its containers and says where it is wrong or unreadable.
 */
import { type Container, containerLabel } from "./k8s";
import { type Obj, type Unknown, UNKNOWN, at, isObj, isUnknown, list, str } from "./values";

/** What one control found: offending places (with their values), and places it could not read. */
export interface Outcome {
  bad: string[];
  unknown: string[];
}

export interface PodView {
  spec: Obj;
  annotations: Record<string, string | Unknown> | Unknown;
  containers: Container[];
  version: number;
  windows: boolean;
}

/**
 * Collects offences at `place` (shown with the offending value unless `bare`); a computed `v`
 * records the place as unreadable instead.
 */
export function outcome(): Outcome & {
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

export const show = (v: unknown): string =>
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

export const field = (sc: unknown, path: string): unknown =>
  isUnknown(sc) ? UNKNOWN : at(sc, path);

/** A check over one field of every container's securityContext. */
export const perContainer =
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

export const BASELINE_CAPS = [
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
export const capName = (c: unknown) =>
  typeof c === "string" ? c.toUpperCase().replace(/^CAP_/, "") : c;

export function addedCaps(p: PodView, allowed: string[]): Outcome {
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

export function hostNamespaces(p: PodView): Outcome {
  const o = outcome();
  for (const k of ["hostNetwork", "hostPID", "hostIPC"]) {
    const v = at(p.spec, k);
    o.see(k, v, v === true);
  }
  return o;
}

export function hostPorts(p: PodView): Outcome {
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
}

/** Probe and lifecycle handlers whose `host` would point the kubelet at another address. */
export function hostProbes(p: PodView): Outcome {
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

export function appArmor(p: PodView): Outcome {
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

export function seLinux(p: PodView): Outcome {
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

export function sysctls(p: PodView): Outcome {
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

export const VOLUME_SOURCES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
];

export function volumes(p: PodView, ok: (source: string) => boolean): Outcome {
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
export function effective(p: PodView, path: string, bad: (v: unknown) => boolean): Outcome {
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

export const windowsExempt = (p: PodView, check: (p: PodView) => Outcome) =>
  p.windows && p.version >= 25 ? { bad: [], unknown: [] } : check(p);
