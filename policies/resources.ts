/**
 * Resources: every container has CPU and memory requests and limits, and no limit exceeds the
 * largest node. Database tuning against those limits is in database-tuning.ts.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { resourcePolicy, setting } from "./lib/policy";
import { DOCKER, containerScope as scope, workloadContainers } from "./lib/containers";
import { type Container, MiB, containerLabel, cpuMillis, fmtMi, memoryBytes } from "./lib/k8s";
import { type Unknown, UNKNOWN, at, num, obj, str } from "./lib/values";

interface ResourcesConfig {
  dockerRequireReservation: boolean;
}

export const containerResources: ResourceValidationPolicy = resourcePolicy<ResourcesConfig>({
  name: "container-resources",
  description:
    "Every container (init containers included) sets CPU and memory requests and limits.",
  severity: "high",
  config: {
    dockerRequireReservation: setting.flag(
      "Docker: also require memoryReservation (Docker has no scheduler, so off by default).",
    ),
  },
  scope,
  validate: (r, ctx) => {
    if (r.type === DOCKER) {
      const missing: string[] = [];
      const unknown: string[] = [];
      const has = (key: string) => {
        const v = num(r.props, key);
        if (v === UNKNOWN) unknown.push(key);
        return v === UNKNOWN || (typeof v === "number" && v > 0);
      };
      if (!has("memory")) missing.push("memory limit (memory)");
      const cpus = str(r.props, "cpus");
      if (cpus === UNKNOWN) unknown.push("cpus");
      if (cpus === undefined && !has("cpuQuota") && !has("cpuShares"))
        missing.push("CPU limit (cpus, or cpuQuota/cpuPeriod, or cpuShares)");
      if (ctx.config.dockerRequireReservation && !has("memoryReservation"))
        missing.push("memory reservation (memoryReservation)");
      if (missing.length)
        ctx.violation(
          `${r.label} has no ${missing.join(" and no ")}. Set memory (MB) and cpus on the container.`,
        );
      else if (unknown.length)
        ctx.cannotVerify(
          `Cannot verify the limits of ${r.label} at preview: ${unknown.join(", ")} computed.`,
        );
      return;
    }
    for (const c of workloadContainers(r, "the container resources", ctx) ?? []) {
      if (c.c === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify the resources of ${r.label} ${containerLabel(c)} at preview: it is computed.`,
        );
        continue;
      }
      const res = obj(c.c, "resources");
      if (res === UNKNOWN) {
        ctx.cannotVerify(
          `Cannot verify the resources of ${r.label} ${containerLabel(c)} at preview: resources are computed.`,
        );
        continue;
      }
      const missing = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"].filter(
        (p) => at(res, p) === undefined,
      );
      if (missing.length) {
        ctx.violation(
          `${r.label} ${containerLabel(c)} has no resources.${missing.join(", resources.")}. Set CPU and memory requests and limits on every container.`,
        );
      }
    }
  },
});

interface NodeClassConfig {
  nodeClass: { vcpu: number; memoryMi: number } | null;
}

function podTotals(cs: Container[]): { cpu: number; mem: number; unknown: boolean } {
  let unknown = false;
  const sum = { cpu: 0, mem: 0 };
  const init = { cpu: 0, mem: 0 };
  for (const c of cs) {
    if (c.c === UNKNOWN) {
      unknown = true;
      continue;
    }
    const cpu = cpuMillis(at(c.c, "resources.limits.cpu"));
    const mem = memoryBytes(at(c.c, "resources.limits.memory"));
    if (cpu === UNKNOWN || mem === UNKNOWN) unknown = true;
    const target = c.init ? init : sum;
    const add = (k: "cpu" | "mem", v: number | Unknown | undefined) => {
      if (typeof v !== "number") return;
      target[k] = c.init ? Math.max(target[k], v) : target[k] + v;
    };
    add("cpu", cpu);
    add("mem", mem);
  }
  // Init containers run one at a time before the app containers: the pod needs the larger of the two.
  return { cpu: Math.max(sum.cpu, init.cpu), mem: Math.max(sum.mem, init.mem), unknown };
}

export const limitsFitNode: ResourceValidationPolicy = resourcePolicy<NodeClassConfig>({
  name: "limits-fit-node",
  description: "No container's, nor pod's, CPU or memory limit exceeds the largest node.",
  severity: "medium",
  config: {
    nodeClass: {
      schema: {
        type: ["object", "null"],
        properties: {
          vcpu: { type: "number", minimum: 0 },
          memoryMi: { type: "number", minimum: 0 },
        },
        description: "The largest node: vCPUs and memory in MiB. null disables the check.",
      },
      default: null,
    },
  },
  scope,
  validate: (r, ctx) => {
    const node = ctx.config.nodeClass;
    if (!node) return ctx.notApplicable("No nodeClass is configured for this environment.");
    const nodeText = `the largest node (${node.vcpu} vCPU, ${node.memoryMi}Mi)`;
    const judge = (what: string, cpu: number | undefined, mem: number | undefined) => {
      const over: string[] = [];
      if (cpu !== undefined && cpu > node.vcpu * 1000) over.push(`CPU limit ${cpu / 1000}`);
      if (mem !== undefined && mem > node.memoryMi * MiB) over.push(`memory limit ${fmtMi(mem)}`);
      if (over.length)
        ctx.violation(
          `${what ? `${r.label} ${what}` : r.label} has a ${over.join(" and a ")} larger than ${nodeText}, so it can never be scheduled at its limit. Lower the limit or use a larger node class.`,
        );
    };
    if (r.type === DOCKER) {
      const mem = num(r.props, "memory");
      const cpus = str(r.props, "cpus");
      if (mem === UNKNOWN || cpus === UNKNOWN)
        return ctx.cannotVerify(
          `Cannot verify the limits of ${r.label} at preview: they are computed.`,
        );
      judge(
        "",
        typeof cpus === "string" ? Number(cpus) * 1000 : undefined,
        typeof mem === "number" ? mem * MiB : undefined,
      );
      return;
    }
    const cs = workloadContainers(r, "the limits", ctx);
    if (!cs) return;
    for (const c of cs) {
      if (c.c === UNKNOWN) continue;
      const cpu = cpuMillis(at(c.c, "resources.limits.cpu"));
      const mem = memoryBytes(at(c.c, "resources.limits.memory"));
      judge(
        containerLabel(c),
        typeof cpu === "number" ? cpu : undefined,
        typeof mem === "number" ? mem : undefined,
      );
    }
    const t = podTotals(cs);
    if (cs.filter((c) => !c.init).length > 1)
      judge("pod (all containers together)", t.cpu || undefined, t.mem || undefined);
    if (t.unknown)
      ctx.cannotVerify(`Cannot verify every limit of ${r.label} at preview: some are computed.`);
  },
});
