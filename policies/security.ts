/**
 * Container security: no privileged containers, no host namespaces, never root, pinned images.
 * Kubernetes workloads (init containers included) and Docker containers alike.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Ctx, type JudgedResource, resourcePolicy, setting } from "./lib/policy";
import { DOCKER, containerScope as scope } from "./lib/containers";
import { type Container, containerLabel, containersOf, podOf } from "./lib/k8s";
import { type Obj, UNKNOWN, bool, isUnknown, list, num, str } from "./lib/values";

const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const BUILT_IMAGE = "docker:index/image:Image";

/** The pod spec and its containers, or undefined after reporting why they cannot be read. */
function podContainers<C>(
  r: JudgedResource,
  ctx: Ctx<C>,
): { spec: Obj; cs: Container[] } | undefined {
  const { label } = r;
  const pod = podOf(r.type, r.props)!;
  if (pod.spec === UNKNOWN) {
    ctx.cannotVerify(`Cannot verify ${label} at preview: its pod spec is computed.`);
    return undefined;
  }
  if (!pod.spec) return undefined;
  const cs = containersOf(pod.spec);
  if (cs === UNKNOWN) {
    ctx.cannotVerify(`Cannot verify ${label} at preview: its containers are computed.`);
    return undefined;
  }
  return { spec: pod.spec, cs };
}

interface PrivilegedConfig {
  forbiddenCapabilities: string[];
}

export const noPrivilegedContainers: ResourceValidationPolicy = resourcePolicy<PrivilegedConfig>({
  name: "no-privileged-containers",
  description: "No container runs privileged or adds capabilities equivalent to it.",
  severity: "critical",
  config: {
    forbiddenCapabilities: setting.strings("Added capabilities treated like privileged mode.", [
      "ALL",
      "SYS_ADMIN",
      "NET_ADMIN",
      "SYS_PTRACE",
      "SYS_MODULE",
    ]),
  },
  scope,
  validate: (r, ctx) => {
    const forbidden = ctx.config.forbiddenCapabilities.map((c) =>
      c.toUpperCase().replace(/^CAP_/, ""),
    );
    const judge = (who: string, privileged: unknown, adds: unknown[] | typeof UNKNOWN) => {
      if (isUnknown(privileged) || adds === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify whether ${who} is privileged at preview: its security settings are computed.`,
        );
      if (privileged === true)
        ctx.violation(
          `${who} runs privileged, which gives it full control of the host; remove privileged: true and add only the capabilities it needs.`,
        );
      const bad = (adds === UNKNOWN ? [] : adds).filter(
        (a): a is string =>
          typeof a === "string" && forbidden.includes(a.toUpperCase().replace(/^CAP_/, "")),
      );
      if (bad.length)
        ctx.violation(
          `${who} adds the ${bad.join(", ")} capabilit${bad.length === 1 ? "y" : "ies"}, as good as privileged; drop ${bad.length === 1 ? "it" : "them"}.`,
        );
    };
    if (r.type === DOCKER)
      return judge(r.label, bool(r.props, "privileged"), list(r.props, "capabilities.adds"));
    const pod = podContainers(r, ctx);
    for (const c of pod?.cs ?? []) {
      if (c.c === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify ${r.label} ${containerLabel(c)} at preview: it is computed.`,
        );
      else
        judge(
          `${r.label} ${containerLabel(c)}`,
          bool(c.c, "securityContext.privileged"),
          list(c.c, "securityContext.capabilities.add"),
        );
    }
  },
});

interface HostSwitches {
  /** The key that shares each namespace with the host. */
  keys: Record<"network" | "PID" | "IPC", string>;
  shares: (from: unknown, key: string) => boolean | typeof UNKNOWN;
  computed: (label: string, what: string, key: string) => string;
  shared: (label: string, what: string, key: string) => string;
}

/** Docker and Kubernetes switch the same three namespaces with their own keys and values. */
const DOCKER_SWITCHES: HostSwitches = {
  keys: { network: "networkMode", PID: "pidMode", IPC: "ipcMode" },
  shares: (from, key) => {
    const v = str(from, key);
    return v === UNKNOWN ? UNKNOWN : v === "host";
  },
  computed: (label, what, key) =>
    `Cannot verify the ${what} namespace of ${label} at preview: ${key} is computed.`,
  shared: (label, what, key) =>
    `${label} shares the host's ${what} namespace (${key}: host); use a container network / private namespace instead.`,
};
const POD_SWITCHES: HostSwitches = {
  keys: { network: "hostNetwork", PID: "hostPID", IPC: "hostIPC" },
  shares: (from, key) => {
    const v = bool(from, key);
    return v === UNKNOWN ? UNKNOWN : v === true;
  },
  computed: (label, _what, key) =>
    `Cannot verify the host namespaces of ${label} at preview: ${key} is computed.`,
  shared: (label, what, key) =>
    `${label} shares the host's ${what} namespace (${key}: true); remove it.`,
};

export const noHostNamespaces: ResourceValidationPolicy = resourcePolicy<{
  allowHostNetwork: boolean;
}>({
  name: "no-host-namespaces",
  description: "No pod or container shares the host's network, PID or IPC namespace.",
  severity: "critical",
  config: {
    allowHostNetwork: setting.flag(
      "Allow hostNetwork / networkMode host (e.g. for a node-level ingress).",
    ),
  },
  scope,
  validate: (r, ctx) => {
    const docker = r.type === DOCKER;
    const from = docker ? r.props : podOf(r.type, r.props)!.spec;
    if (from === UNKNOWN)
      return ctx.cannotVerify(
        `Cannot verify the host namespaces of ${r.label} at preview: its pod spec is computed.`,
      );
    const side = docker ? DOCKER_SWITCHES : POD_SWITCHES;
    for (const [what, key] of Object.entries(side.keys)) {
      if (what === "network" && ctx.config.allowHostNetwork) continue;
      const shares = side.shares(from, key);
      if (shares === UNKNOWN) ctx.cannotVerify(side.computed(r.label, what, key));
      else if (shares) ctx.violation(side.shared(r.label, what, key));
    }
  },
});

/** uid part of a Docker `user` ("1000", "app:app", "0:0"); "root" counts as 0. */
const dockerUid = (user: string): string => user.split(":")[0]!.trim();

interface NonRootConfig {
  requireRunAsNonRoot: boolean;
}

/** A Docker container's `user`: set, and not root. */
function dockerNonRoot(r: JudgedResource, ctx: Ctx<NonRootConfig>): void {
  const user = str(r.props, "user");
  if (user === UNKNOWN)
    ctx.cannotVerify(`Cannot verify the user of ${r.label} at preview: user is computed.`);
  else if (user === undefined || user.trim() === "")
    ctx.violation(
      `${r.label} sets no user, so it runs as the image's default user (root for most images); set user to a non-zero uid, e.g. "10001:10001".`,
    );
  else if (["0", "root"].includes(dockerUid(user)))
    ctx.violation(`${r.label} runs as root (user: "${user}"); set user to a non-zero uid.`);
}

/** Each container of a pod: runAsNonRoot or a non-zero runAsUser, its own or the pod's. */
function workloadNonRoot(r: JudgedResource, ctx: Ctx<NonRootConfig>): void {
  const pod = podContainers(r, ctx);
  if (!pod) return;
  const podNonRoot = bool(pod.spec, "securityContext.runAsNonRoot");
  const podUid = num(pod.spec, "securityContext.runAsUser");
  for (const c of pod.cs) {
    const who = `${r.label} ${containerLabel(c)}`;
    if (c.c === UNKNOWN) {
      ctx.cannotVerify(`Cannot verify whether ${who} runs as root at preview: it is computed.`);
      continue;
    }
    const own = bool(c.c, "securityContext.runAsNonRoot");
    const ownUid = num(c.c, "securityContext.runAsUser");
    const nonRoot = own ?? podNonRoot;
    const uid = ownUid ?? podUid;
    if (nonRoot === UNKNOWN || uid === UNKNOWN) {
      ctx.cannotVerify(
        `Cannot verify whether ${who} runs as root at preview: its securityContext is computed.`,
      );
    } else if (uid === 0) {
      ctx.violation(
        `${who} runs as root (runAsUser: 0); set runAsUser to a non-zero uid and runAsNonRoot: true.`,
      );
    } else if (
      nonRoot !== true &&
      (ctx.config.requireRunAsNonRoot || !(typeof uid === "number" && uid > 0))
    ) {
      ctx.violation(
        `${who} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set on the container or the pod; set securityContext.runAsNonRoot: true.`,
      );
    }
  }
}

export const runAsNonRoot: ResourceValidationPolicy = resourcePolicy<NonRootConfig>({
  name: "run-as-non-root",
  description:
    "Containers run as a non-root user (runAsNonRoot or a non-zero runAsUser; Docker: user set and not root).",
  severity: "high",
  config: {
    requireRunAsNonRoot: setting.flag(
      "Require runAsNonRoot: true (kubelet-enforced) even when a non-zero runAsUser is set.",
    ),
  },
  scope,
  validate: (r, ctx) => (r.type === DOCKER ? dockerNonRoot(r, ctx) : workloadNonRoot(r, ctx)),
});

/** Why an image reference is not pinned, or undefined when it is (tag other than the forbidden ones, or digest). */
export function unpinned(image: string, forbiddenTags: string[]): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/i.test(image) || /^sha256:[0-9a-f]{64}$/i.test(image))
    return undefined;
  const last = image.split("/").pop() ?? image;
  const colon = last.lastIndexOf(":");
  if (colon < 0) return "has no tag, so it means :latest";
  const tag = last.slice(colon + 1);
  if (forbiddenTags.map((t) => t.toLowerCase()).includes(tag.toLowerCase()))
    return `uses the moving tag :${tag}`;
  return undefined;
}

export const pinnedImages: ResourceValidationPolicy = resourcePolicy<{ forbiddenTags: string[] }>({
  name: "pinned-images",
  description: "Every image is pinned to a version tag or digest (no :latest, no missing tag).",
  severity: "medium",
  config: {
    forbiddenTags: setting.strings("Tags that move and so do not pin an image.", ["latest"]),
  },
  scope: (type) =>
    scope(type) === undefined || type === REMOTE_IMAGE || type === BUILT_IMAGE
      ? undefined
      : "Only workloads, Docker containers and images reference images.",
  validate: (r, ctx) => {
    const judge = (who: string, image: unknown, field: string) => {
      if (isUnknown(image))
        return ctx.cannotVerify(
          `Cannot verify the image of ${who} at preview: ${field} is computed.`,
        );
      if (typeof image !== "string")
        return ctx.violation(`${who} names no image; set ${field} to a pinned image.`);
      const why = unpinned(image, ctx.config.forbiddenTags);
      if (why)
        ctx.violation(
          `${who} image '${image}' ${why}; pin it to a version tag or digest (e.g. '${image.replace(/:[^:/]*$/, "")}:1.2.3').`,
        );
    };
    if (r.type === DOCKER) {
      // A computed Docker image is another resource's output (a RemoteImage's id or digest, an
      // Image's name), and those resources are checked themselves.
      const image = str(r.props, "image");
      return image === UNKNOWN ? undefined : judge(r.label, image, "image");
    }
    if (r.type === BUILT_IMAGE) return judge(r.label, str(r.props, "imageName"), "imageName");
    if (r.type === REMOTE_IMAGE) return judge(r.label, str(r.props, "name"), "name");
    const pod = podContainers(r, ctx);
    for (const c of pod?.cs ?? []) {
      if (c.c === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the image of ${r.label} ${containerLabel(c)} at preview: it is computed.`,
        );
      else judge(`${r.label} ${containerLabel(c)}`, str(c.c, "image"), "image");
    }
  },
});
