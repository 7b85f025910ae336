/**
 * Container security: no privileged containers, no host namespaces, never root, pinned images.
 * Kubernetes workloads (init containers included) and Docker containers alike.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { type Ctx, describe, resourcePolicy } from "./lib/policy";
import { type Container, containerLabel, containersOf, isWorkload, podOf } from "./lib/k8s";
import { type Obj, UNKNOWN, bool, isUnknown, list, num, str } from "./lib/values";

const DOCKER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const BUILT_IMAGE = "docker:index/image:Image";
const scope = (type: string): string | undefined =>
  isWorkload(type) || type === DOCKER
    ? undefined
    : "Only Kubernetes workloads and Docker containers run containers.";

/** The pod spec and its containers, or undefined after reporting why they cannot be read. */
function podContainers<C>(
  type: string,
  props: Obj,
  label: string,
  ctx: Ctx<C>,
): { spec: Obj; cs: Container[] } | undefined {
  const pod = podOf(type, props)!;
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
    forbiddenCapabilities: {
      schema: {
        type: "array",
        items: { type: "string" },
        description: "Added capabilities treated like privileged mode.",
      },
      default: ["ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE"],
    },
  },
  scope,
  validate: (r, ctx) => {
    const label = describe(r.type, r.name, r.props);
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
      return judge(label, bool(r.props, "privileged"), list(r.props, "capabilities.adds"));
    const pod = podContainers(r.type, r.props, label, ctx);
    for (const c of pod?.cs ?? []) {
      if (c.c === UNKNOWN)
        ctx.cannotVerify(`Cannot verify ${label} ${containerLabel(c)} at preview: it is computed.`);
      else
        judge(
          `${label} ${containerLabel(c)}`,
          bool(c.c, "securityContext.privileged"),
          list(c.c, "securityContext.capabilities.add"),
        );
    }
  },
});

export const noHostNamespaces: ResourceValidationPolicy = resourcePolicy<{
  allowHostNetwork: boolean;
}>({
  name: "no-host-namespaces",
  description: "No pod or container shares the host's network, PID or IPC namespace.",
  severity: "critical",
  config: {
    allowHostNetwork: {
      schema: {
        type: "boolean",
        description: "Allow hostNetwork / networkMode host (e.g. for a node-level ingress).",
      },
      default: false,
    },
  },
  scope,
  validate: (r, ctx) => {
    const label = describe(r.type, r.name, r.props);
    if (r.type === DOCKER) {
      for (const [key, what] of [
        ["networkMode", "network"],
        ["pidMode", "PID"],
        ["ipcMode", "IPC"],
      ] as const) {
        if (key === "networkMode" && ctx.config.allowHostNetwork) continue;
        const v = str(r.props, key);
        if (v === UNKNOWN)
          ctx.cannotVerify(
            `Cannot verify the ${what} namespace of ${label} at preview: ${key} is computed.`,
          );
        else if (v === "host")
          ctx.violation(
            `${label} shares the host's ${what} namespace (${key}: host); use a container network / private namespace instead.`,
          );
      }
      return;
    }
    const pod = podOf(r.type, r.props)!;
    if (pod.spec === UNKNOWN)
      return ctx.cannotVerify(
        `Cannot verify the host namespaces of ${label} at preview: its pod spec is computed.`,
      );
    for (const [key, what] of [
      ["hostNetwork", "network"],
      ["hostPID", "PID"],
      ["hostIPC", "IPC"],
    ] as const) {
      if (key === "hostNetwork" && ctx.config.allowHostNetwork) continue;
      const v = bool(pod.spec, key);
      if (v === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the host namespaces of ${label} at preview: ${key} is computed.`,
        );
      else if (v === true)
        ctx.violation(`${label} shares the host's ${what} namespace (${key}: true); remove it.`);
    }
  },
});

/** uid part of a Docker `user` ("1000", "app:app", "0:0"); "root" counts as 0. */
const dockerUid = (user: string): string => user.split(":")[0]!.trim();

export const runAsNonRoot: ResourceValidationPolicy = resourcePolicy<{
  requireRunAsNonRoot: boolean;
}>({
  name: "run-as-non-root",
  description:
    "Containers run as a non-root user (runAsNonRoot or a non-zero runAsUser; Docker: user set and not root).",
  severity: "high",
  config: {
    requireRunAsNonRoot: {
      schema: {
        type: "boolean",
        description:
          "Require runAsNonRoot: true (kubelet-enforced) even when a non-zero runAsUser is set.",
      },
      default: false,
    },
  },
  scope,
  validate: (r, ctx) => {
    const label = describe(r.type, r.name, r.props);
    if (r.type === DOCKER) {
      const user = str(r.props, "user");
      if (user === UNKNOWN)
        ctx.cannotVerify(`Cannot verify the user of ${label} at preview: user is computed.`);
      else if (user === undefined || user.trim() === "")
        ctx.violation(
          `${label} sets no user, so it runs as the image's default user (root for most images); set user to a non-zero uid, e.g. "10001:10001".`,
        );
      else if (["0", "root"].includes(dockerUid(user)))
        ctx.violation(`${label} runs as root (user: "${user}"); set user to a non-zero uid.`);
      return;
    }
    const pod = podContainers(r.type, r.props, label, ctx);
    if (!pod) return;
    const podNonRoot = bool(pod.spec, "securityContext.runAsNonRoot");
    const podUid = num(pod.spec, "securityContext.runAsUser");
    for (const c of pod.cs) {
      const who = `${label} ${containerLabel(c)}`;
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
  },
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
    forbiddenTags: {
      schema: {
        type: "array",
        items: { type: "string" },
        description: "Tags that move and so do not pin an image.",
      },
      default: ["latest"],
    },
  },
  scope: (type) =>
    scope(type) === undefined || type === REMOTE_IMAGE || type === BUILT_IMAGE
      ? undefined
      : "Only workloads, Docker containers and images reference images.",
  validate: (r, ctx) => {
    const label = describe(r.type, r.name, r.props);
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
      return image === UNKNOWN ? undefined : judge(label, image, "image");
    }
    if (r.type === BUILT_IMAGE) return judge(label, str(r.props, "imageName"), "imageName");
    if (r.type === REMOTE_IMAGE) return judge(label, str(r.props, "name"), "name");
    const pod = podContainers(r.type, r.props, label, ctx);
    for (const c of pod?.cs ?? []) {
      if (c.c === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the image of ${label} ${containerLabel(c)} at preview: it is computed.`,
        );
      else judge(`${label} ${containerLabel(c)}`, str(c.c, "image"), "image");
    }
  },
});
