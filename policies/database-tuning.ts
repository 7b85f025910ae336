/**
 * Database memory tuning: InnoDB's buffer pool and PostgreSQL's shared_buffers stay within a safe
 * fraction of the database container's memory limit. The config is joined to its container by
 * following the pod's configMap volume (or, when that name is computed at preview, the
 * workload's dependencies and shared owner labels).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { type StackResource, describe, stackPolicy } from "./lib/policy";
import { DOCKER } from "./lib/containers";
import {
  MiB,
  containersOf,
  fmtMi,
  isWorkload,
  kindOf,
  memoryBytes,
  podOf,
  namespaceIn,
} from "./lib/k8s";
import { type ConfigFile, classify, filesOf } from "./lib/files";
import {
  type DbSetting,
  mysqlPool,
  postgresSharedBuffers,
  settingFromArgs,
} from "../lib/parse/dbconf";
import {
  type Obj,
  type Unknown,
  UNKNOWN,
  at,
  isUnknown,
  knownStrings,
  list,
  num,
  str,
  strMap,
} from "./lib/values";

interface TuningConfig {
  maxInnodbBufferPoolFraction: number;
  maxSharedBuffersFraction: number;
}

interface DbConfigFile {
  resource: StackResource;
  file: ConfigFile;
  setting: DbSetting | undefined;
}

function dbFilesOf(r: StackResource): DbConfigFile[] {
  return filesOf(r.type, r.props).flatMap((file): DbConfigFile[] => {
    const kind = classify(file);
    if (kind !== "mysql" && kind !== "postgres") return [];
    if (file.content === UNKNOWN) return [{ resource: r, file, setting: undefined }];
    const setting =
      kind === "mysql" ? mysqlPool(file.content) : postgresSharedBuffers(file.content);
    return setting ? [{ resource: r, file, setting }] : [];
  });
}

/** ConfigMap names a pod spec mounts, by volume name; UNKNOWN entries are computed names. */
function configVolumes(spec: Obj): Map<string, string | Unknown> {
  const out = new Map<string, string | Unknown>();
  const vols = list(spec, "volumes");
  for (const v of vols === UNKNOWN ? [] : vols) {
    const name = str(v, "name");
    if (typeof name !== "string") continue;
    const cm = str(v, "configMap.name");
    if (cm !== undefined) out.set(name, cm);
    const sources = list(v, "projected.sources");
    for (const s of sources === UNKNOWN ? [] : sources) {
      const n = str(s, "configMap.name");
      if (n !== undefined) out.set(name, n);
    }
  }
  return out;
}

function mounts(c: Obj): string[] {
  const m = list(c, "volumeMounts");
  return m === UNKNOWN ? [] : knownStrings(m.map((x) => str(x, "name")));
}

export const databaseMemoryTuning: StackValidationPolicy = stackPolicy<TuningConfig>({
  name: "database-memory-tuning",
  description:
    "InnoDB buffer pool and PostgreSQL shared_buffers stay within a safe fraction of the database container's memory limit.",
  severity: "high",
  config: {
    maxInnodbBufferPoolFraction: {
      schema: {
        type: "number",
        exclusiveMinimum: 0,
        maximum: 1,
        description: "Largest innodb_buffer_pool_size / memory limit.",
      },
      default: 0.75,
    },
    maxSharedBuffersFraction: {
      schema: {
        type: "number",
        exclusiveMinimum: 0,
        maximum: 1,
        description: "Largest shared_buffers / memory limit.",
      },
      default: 0.4,
    },
  },
  scope: (rs) =>
    rs.some((r) => isWorkload(r.type) || r.type === DOCKER)
      ? undefined
      : "The stack runs no containers.",
  validate: (resources, ctx, byUrn) => {
    const configMaps = resources.filter((r) => kindOf(r.type) === "ConfigMap");
    const check = (
      owner: StackResource,
      cname: string,
      setting: DbSetting,
      source: string,
      limit: unknown,
    ) => {
      const label =
        owner.type === DOCKER
          ? describe(owner.type, owner.name, owner.props)
          : `${describe(owner.type, owner.name, owner.props)} container '${cname}'`;
      const bytes =
        owner.type === DOCKER
          ? typeof limit === "number"
            ? limit * MiB
            : isUnknown(limit)
              ? UNKNOWN
              : undefined
          : memoryBytes(limit);
      if (bytes === UNKNOWN)
        return ctx.cannotVerify(
          `Cannot verify the ${setting.key} of ${label} at preview: its memory limit is computed.`,
          owner.urn,
        );
      if (bytes === undefined) return; // no limit: container-resources reports it
      if (setting.bytes === undefined)
        return ctx.note(
          `${label} sets ${setting.key} = ${setting.raw} (${source}), which the pack cannot size; check it against the ${fmtMi(bytes)} limit by hand.`,
          owner.urn,
        );
      const max =
        setting.engine === "mysql"
          ? ctx.config.maxInnodbBufferPoolFraction
          : ctx.config.maxSharedBuffersFraction;
      const share = setting.bytes / bytes;
      if (share > max) {
        ctx.violation(
          `${label} sets ${setting.key} = ${setting.raw} (${source}), ${Math.round(share * 100)}% of its ${fmtMi(bytes)} memory limit; keep it at most ${Math.round(max * 100)}% (${fmtMi(bytes * max)}) or raise the limit.`,
          owner.urn,
        );
      }
    };
    for (const r of resources) {
      if (r.type === DOCKER) {
        const files = dbFilesOf(r);
        const args = list(r.props, "command");
        const setting =
          files.find((f) => f.setting)?.setting ??
          settingFromArgs(args === UNKNOWN ? [] : knownStrings(args));
        if (files.some((f) => !f.setting))
          ctx.cannotVerify(
            `Cannot verify the database tuning of ${describe(r.type, r.name, r.props)} at preview: its config upload is computed.`,
            r.urn,
          );
        if (setting)
          check(
            r,
            typeof str(r.props, "name") === "string" ? (str(r.props, "name") as string) : r.name,
            setting,
            files.length ? files[0]!.file.where : "command",
            num(r.props, "memory"),
          );
        continue;
      }
      if (!isWorkload(r.type)) continue;
      const pod = podOf(r.type, r.props);
      if (!pod || !pod.spec || pod.spec === UNKNOWN) continue;
      const cs = containersOf(pod.spec);
      if (cs === UNKNOWN) continue;
      const ns = namespaceIn(r, byUrn);
      const vols = configVolumes(pod.spec);
      const deps = new Set([...r.dependencies, ...Object.values(r.propertyDependencies).flat()]);
      for (const c of cs) {
        if (c.c === UNKNOWN) continue;
        const args = ["command", "args"].flatMap((k) => {
          const l = list(c.c, k);
          return l === UNKNOWN ? [] : knownStrings(l);
        });
        const limit = at(c.c, "resources.limits.memory");
        const fromArgs = settingFromArgs(args);
        if (fromArgs) check(r, c.name, fromArgs, "server flags", limit);
        for (const vol of mounts(c.c)) {
          if (!vols.has(vol)) continue;
          const cmName = vols.get(vol)!;
          let candidates = configMaps.filter(
            (cm) => str(cm.props, "metadata.name") === cmName && namespaceIn(cm, byUrn) === ns,
          );
          if (cmName === UNKNOWN || candidates.length === 0) {
            // Computed name at preview: follow the workload's dependencies, then shared labels.
            candidates = configMaps.filter((cm) => deps.has(cm.urn) && dbFilesOf(cm).length > 0);
            if (candidates.length !== 1)
              candidates = configMaps.filter(
                (cm) => sameOwner(cm, pod.labels) && dbFilesOf(cm).length > 0,
              );
          }
          if (candidates.length !== 1) {
            if (cmName === UNKNOWN && candidates.length > 1)
              ctx.cannotVerify(
                `Cannot tell which ConfigMap ${describe(r.type, r.name, r.props)} mounts as '${vol}' at preview: its name is computed.`,
                r.urn,
              );
            continue;
          }
          for (const f of dbFilesOf(candidates[0]!)) {
            if (!f.setting)
              ctx.cannotVerify(
                `Cannot verify the database tuning in ${describe(f.resource.type, f.resource.name, f.resource.props)} (${f.file.where}) at preview: it is computed.`,
                f.resource.urn,
              );
            else
              check(
                r,
                c.name,
                f.setting,
                `${describe(f.resource.type, f.resource.name, f.resource.props)} ${f.file.where}`,
                limit,
              );
          }
        }
      }
    }
  },
});

function sameOwner(cm: StackResource, podLabels: ReturnType<typeof strMap>): boolean {
  const labels = strMap(cm.props, "metadata.labels");
  if (labels === UNKNOWN || podLabels === UNKNOWN) return false;
  return ["fjord.io/owner-service", "app"].some(
    (k) => typeof labels[k] === "string" && labels[k] === podLabels[k],
  );
}
