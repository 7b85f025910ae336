/**
 * Workload hygiene, container by container: liveness probes that cannot kill a slow start or
 * restart pods for a dependency's outage, read-only root filesystems, no naked Pods, and image
 * pull policies that fit how the image is referenced.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, resourcePolicy, setting } from "./lib/policy";
import { appContainers, workloadContainers } from "./lib/containers";
import { containerLabel, isWorkload, kindOf } from "./lib/k8s";
import { UNKNOWN, bool, containsUnknown, num, obj, str } from "./lib/values";

const scope = (type: string): string | undefined =>
  isWorkload(type) ? undefined : "Only Kubernetes workloads run containers.";

const HANDLERS = ["httpGet", "tcpSocket", "exec", "grpc"];

interface LivenessConfig {
  kinds: string[];
  allContainers: boolean;
}

export const livenessProbes: ResourceValidationPolicy = resourcePolicy<LivenessConfig>({
  name: "liveness-probes",
  description:
    "Long-running workloads declare a liveness probe that differs from their readiness probe and gives a slow start time (a startupProbe or initialDelaySeconds).",
  severity: "medium",
  config: {
    kinds: setting.strings(
      "Workload kinds checked (run-to-completion Jobs need no liveness probe).",
      ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"],
    ),
    allContainers: setting.flag("Check every container, not only the main one."),
  },
  scope,
  validate: (r, ctx) => {
    if (!ctx.config.kinds.includes(kindOf(r.type)!))
      return ctx.notApplicable(`Only ${ctx.config.kinds.join(", ")} workloads are checked.`);
    const pod = appContainers(r, "the liveness probes", ctx);
    for (const c of pod?.cs ?? []) {
      if (!ctx.config.allContainers && c.name !== pod!.main) continue;
      const who = `${r.label} ${containerLabel(c)}`;
      const live = c.c === UNKNOWN ? UNKNOWN : obj(c.c, "livenessProbe");
      if (live === UNKNOWN) {
        ctx.cannotVerify(`Cannot verify the liveness probe of ${who} at preview: it is computed.`);
        continue;
      }
      if (!live) {
        ctx.violation(
          `${who} has no livenessProbe, so a hung process keeps its pod; add one that checks only the process itself.`,
        );
        continue;
      }
      const ready = obj(c.c, "readinessProbe");
      const comparable =
        ready && ready !== UNKNOWN && !containsUnknown(ready) && !containsUnknown(live);
      if (comparable && JSON.stringify(ready) === JSON.stringify(live))
        ctx.violation(
          `${who} has identical liveness and readiness probes, so a failing dependency restarts every pod instead of only taking it out of the Service; make the liveness probe check the process alone, or fail later (higher failureThreshold).`,
        );
      const startup = obj(c.c, "startupProbe");
      const delay = num(live, "initialDelaySeconds");
      if (startup === UNKNOWN) {
        ctx.cannotVerify(`Cannot verify the startup probe of ${who} at preview: it is computed.`);
      } else if (!startup && !(typeof delay === "number" && delay > 0)) {
        ctx.violation(
          `${who} has a livenessProbe from its first second and no startupProbe, so a slow start is killed and restarted in a loop; add a startupProbe (or initialDelaySeconds on the liveness probe).`,
        );
      }
      if (!HANDLERS.some((h) => obj(live, h)))
        ctx.violation(`${who} has a livenessProbe without a handler; set ${HANDLERS.join(", ")}.`);
    }
  },
});

export const readOnlyRootFilesystem: ResourceValidationPolicy = resourcePolicy<
  Record<string, never>
>({
  name: "read-only-root-filesystem",
  description:
    "Every container runs with a read-only root filesystem; writable paths are explicit volumes.",
  severity: "medium",
  config: {},
  scope,
  validate: (r, ctx) => {
    for (const c of workloadContainers(r, "the root filesystems", ctx) ?? []) {
      const v = c.c === UNKNOWN ? UNKNOWN : bool(c.c, "securityContext.readOnlyRootFilesystem");
      if (v === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the root filesystem of ${r.label} ${containerLabel(c)} at preview: readOnlyRootFilesystem is computed.`,
        );
      else if (v !== true)
        ctx.violation(
          `${r.label} ${containerLabel(c)} can write its root filesystem, so a compromise can alter its binaries; set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where it writes.`,
        );
    }
  },
});

export const noNakedPods: ResourceValidationPolicy = resourcePolicy<Record<string, never>>({
  name: "no-naked-pods",
  description:
    "Pods are created by a controller (Deployment, StatefulSet, DaemonSet, Job), never bare, so they are rescheduled when their node fails.",
  severity: "medium",
  config: {},
  scope: (type) => (kindOf(type) === "Pod" ? undefined : "Only Pods can be naked."),
  validate: (r, ctx) => {
    const refs = obj(r.props, "metadata");
    const owners = refs && refs !== UNKNOWN ? refs["ownerReferences"] : undefined;
    if (Array.isArray(owners) && owners.length > 0) return;
    ctx.violation(
      `${describe(r.type, r.name, r.props)} has no controller, so nothing recreates it when its node fails or drains; run it from a Deployment (or a Job if it runs to completion).`,
    );
  },
});

/** How an image is referenced: by digest, by tag, or with neither (meaning :latest). */
export function imageRef(image: string): "digest" | "tag" | "none" {
  if (/@sha256:[0-9a-f]{64}$/i.test(image)) return "digest";
  const last = image.split("/").pop() ?? image;
  return last.includes(":") ? "tag" : "none";
}

export const imagePullPolicy: ResourceValidationPolicy = resourcePolicy<{
  tagPolicies: string[];
  releaseTag: string;
}>({
  name: "image-pull-policy",
  description:
    "Pull policies fit the image reference: a digest never needs Always, a floating tag (latest, stable, 3) is pulled Always or pinned by digest, a release tag (1.4.2, v3.1.0, 15.20-x) may be pulled IfNotPresent, and Never is not used.",
  severity: "low",
  enforcementLevel: "advisory",
  config: {
    tagPolicies: {
      schema: {
        type: "array",
        items: { type: "string", enum: ["Always", "IfNotPresent", "Never"] },
        description:
          "Pull policies accepted for images referenced by tag (add IfNotPresent for clusters whose images are imported onto nodes and whose tags never move).",
      },
      default: ["Always"],
    },
    releaseTag: {
      schema: {
        type: "string",
        description:
          "Tags matching this regular expression are release tags, which a registry does not move: pulled IfNotPresent like a digest (fjord's own rule for `fjord:*.image`). Empty: every tag may move.",
      },
      default: "^v?\\d+\\.\\d+",
    },
  },
  scope,
  validate: (r, ctx) => {
    for (const c of workloadContainers(r, "the pull policies", ctx) ?? []) {
      const who = `${r.label} ${containerLabel(c)}`;
      const image = c.c === UNKNOWN ? UNKNOWN : str(c.c, "image");
      const policy = c.c === UNKNOWN ? UNKNOWN : str(c.c, "imagePullPolicy");
      if (image === UNKNOWN || policy === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify the pull policy of ${who} at preview: its image or imagePullPolicy is computed.`,
        );
        continue;
      }
      if (typeof image !== "string") continue;
      const ref = imageRef(image);
      // Kubernetes' default: Always for :latest or no tag, else IfNotPresent.
      const effective =
        policy ?? (ref === "none" || /:latest$/.test(image) ? "Always" : "IfNotPresent");
      if (effective === "Never")
        ctx.violation(
          `${who} never pulls '${image}', so it only starts on nodes that already have it; use IfNotPresent with a digest.`,
        );
      else if (ref === "digest" && effective === "Always")
        ctx.violation(
          `${who} pulls '${image}' Always although a digest cannot change, so every start depends on the registry; use IfNotPresent.`,
        );
      else if (
        ref !== "digest" &&
        !ctx.config.tagPolicies.includes(effective) &&
        !isReleaseTag(image, ctx.config.releaseTag)
      )
        ctx.violation(
          `${who} pulls '${image}' ${effective} by a floating tag, so nodes can run different images under one tag; pin a release tag or a digest (image@sha256:...), or set imagePullPolicy: Always.`,
        );
    }
  },
});

/** True when the image's tag matches `pattern` (an empty pattern: no tag is a release tag). */
function isReleaseTag(image: string, pattern: string): boolean {
  const tag = /:([\w][\w.-]{0,127})$/.exec(image.slice(image.lastIndexOf("/") + 1))?.[1];
  return pattern !== "" && tag !== undefined && new RegExp(pattern).test(tag);
}
