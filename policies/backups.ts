/**
 * Backups (#15): every database workload is backed up on a schedule, encrypted, kept long enough,
 * to a bucket in an allowed jurisdiction; or says why it is not, which prod refuses. The pack
 * reads the FJORD_BACKUP_* facts the backup runner carries: on Kubernetes the container named
 * `backup` in the database's pod, on Docker the `database-backup` container of the same service.
 * A database without a runner says why in `fjord.io/backup-off` (annotation or Docker label).
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { parseCron } from "../lib/cron";
import { type Ctx, type Settings, type StackResource, describe, stackPolicy } from "./lib/policy";
import { Jurisdictions, type ResidencyConfig, residencySettings } from "./lib/regions";
import { DOCKER } from "./lib/containers";
import { COMPONENT, containersOf, kindOf, podOf } from "./lib/k8s";
import { type Unknown, UNKNOWN, isUnknown, list, str, strMap } from "./lib/values";

export const BACKUP_OFF = "fjord.io/backup-off";
/** The runner container in a Kubernetes database pod. */
export const BACKUP_CONTAINER = "backup";
/** Docker labels (components/docker/topology.ts LABEL) and the roles they carry. */
const D = { role: "fjord.role", service: "fjord.service", stack: "fjord.stack" } as const;
const DB_ROLE = "database";
const RUNNER_ROLE = "database-backup";

type Val = string | Unknown | undefined;
type Labels = Record<string, string | Unknown> | Unknown;

export type DbBackup =
  /** `get` reads one FJORD_BACKUP_* variable: UNKNOWN when computed, undefined when absent. */
  | { kind: "on"; runner: string; get: (name: string) => Val }
  | { kind: "off"; reason: string }
  | { kind: "none" }
  | { kind: "unknown"; why: string };

export interface DatabaseBackup {
  r: StackResource;
  label: string;
  backup: DbBackup;
}

/** Env pairs into a reader; `partial` when some entry is computed (then absent means unknown). */
function reader(pairs: [string, string | Unknown][], partial: boolean): (name: string) => Val {
  const m = new Map(pairs);
  return (name) => (m.has(name) ? m.get(name) : partial ? UNKNOWN : undefined);
}

function k8sEnv(c: unknown): (name: string) => Val {
  const env = list(c, "env");
  if (env === UNKNOWN) return () => UNKNOWN;
  let partial = false;
  const pairs: [string, string | Unknown][] = [];
  for (const e of env) {
    const k = str(e, "name");
    if (typeof k !== "string") {
      partial ||= isUnknown(e) || k === UNKNOWN;
      continue;
    }
    const v = str(e, "value");
    // valueFrom is no plain value: the pack cannot read it, so it counts as absent.
    if (v !== undefined) pairs.push([k, v]);
  }
  return reader(pairs, partial);
}

function dockerEnvOf(props: unknown): (name: string) => Val {
  const envs = list(props, "envs");
  if (envs === UNKNOWN) return () => UNKNOWN;
  const pairs: [string, string][] = [];
  let partial = false;
  for (const e of envs) {
    if (typeof e !== "string") partial ||= isUnknown(e);
    else if (e.includes("=")) pairs.push([e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]);
  }
  return reader(pairs, partial);
}

function dockerLabels(props: unknown): Labels {
  const ls = list(props, "labels");
  if (ls === UNKNOWN) return UNKNOWN;
  const out: Record<string, string | Unknown> = {};
  for (const l of ls) {
    const k = str(l, "label");
    const v = str(l, "value");
    if (typeof k === "string" && v !== undefined) out[k] = v;
  }
  return out;
}

const offOrNone = (mark: Val, where: string): DbBackup =>
  mark === UNKNOWN
    ? { kind: "unknown", why: `its ${BACKUP_OFF} ${where} is computed` }
    : typeof mark === "string"
      ? { kind: "off", reason: mark.trim() || "(no reason given)" }
      : { kind: "none" };

function k8sBackup(r: StackResource): DbBackup {
  const pod = podOf(r.type, r.props)!;
  const cs = pod.spec === UNKNOWN ? UNKNOWN : pod.spec ? containersOf(pod.spec) : [];
  if (cs === UNKNOWN) return { kind: "unknown", why: "its containers are computed" };
  const runner = cs.find((c) => !c.init && c.name === BACKUP_CONTAINER);
  if (runner) {
    if (runner.c === UNKNOWN) return { kind: "unknown", why: "its backup container is computed" };
    return { kind: "on", runner: `container '${BACKUP_CONTAINER}'`, get: k8sEnv(runner.c) };
  }
  if (cs.some((c) => c.c === UNKNOWN || str(c.c, "name") === UNKNOWN))
    return { kind: "unknown", why: "the names of its containers are computed" };
  const own = strMap(r.props, "metadata.annotations");
  const mark = own !== UNKNOWN && own[BACKUP_OFF] !== undefined ? own[BACKUP_OFF] : undefined;
  const tpl = pod.annotations === UNKNOWN ? undefined : pod.annotations[BACKUP_OFF];
  if (mark === undefined && tpl === undefined && (own === UNKNOWN || pod.annotations === UNKNOWN))
    return { kind: "unknown", why: "its annotations are computed" };
  return offOrNone(mark ?? tpl, "annotation");
}

const isDbStatefulSet = (r: StackResource): boolean | Unknown => {
  if (kindOf(r.type) !== "StatefulSet") return false;
  const sets: Labels[] = [strMap(r.props, "metadata.labels"), podOf(r.type, r.props)!.labels];
  if (sets.some((l) => l !== UNKNOWN && l[COMPONENT] === DB_ROLE)) return true;
  return sets.every((l) => l === UNKNOWN) ? UNKNOWN : false;
};

/**
 * Every database workload in the stack with what its backups are, and the StatefulSets whose
 * labels are computed, so whether they are databases cannot be told at preview.
 */
export function databaseBackups(resources: StackResource[]): {
  databases: DatabaseBackup[];
  unsure: StackResource[];
} {
  const databases: DatabaseBackup[] = [];
  const unsure: StackResource[] = [];
  const label = (r: StackResource) => describe(r.type, r.name, r.props);
  const docker = resources
    .filter((r) => r.type === DOCKER)
    .map((r): { r: StackResource; labels: Labels } => ({ r, labels: dockerLabels(r.props) }));
  const runners = docker.filter((d) => d.labels !== UNKNOWN && d.labels[D.role] === RUNNER_ROLE);
  for (const r of resources) {
    const db = isDbStatefulSet(r);
    if (db === UNKNOWN) unsure.push(r);
    else if (db) databases.push({ r, label: label(r), backup: k8sBackup(r) });
  }
  for (const { r, labels } of docker) {
    if (labels === UNKNOWN || labels[D.role] !== DB_ROLE) continue;
    const service = labels[D.service];
    const mine = runners.filter((x) => {
      const l = x.labels as Record<string, string | Unknown>;
      return l[D.service] === service && l[D.stack] === labels[D.stack];
    });
    const backup: DbBackup =
      typeof service !== "string"
        ? service === UNKNOWN
          ? { kind: "unknown", why: `its ${D.service} label is computed` }
          : offOrNone(labels[BACKUP_OFF], "label")
        : mine.length > 0
          ? { kind: "on", runner: label(mine[0]!.r), get: dockerEnvOf(mine[0]!.r.props) }
          : offOrNone(labels[BACKUP_OFF], "label");
    databases.push({ r, label: label(r), backup });
  }
  return { databases, unsure };
}

const noDatabases = (rs: StackResource[]): string | undefined => {
  const { databases, unsure } = databaseBackups(rs);
  return databases.length + unsure.length === 0
    ? "The stack has no database workloads."
    : undefined;
};

/** One FJORD_BACKUP_* variable a policy reads, with the violation when it is absent. */
interface Fact {
  what: string;
  name: string;
  absent: (db: DatabaseBackup, runner: string) => string;
  judge: (db: DatabaseBackup, value: string, runner: string) => void;
}

/**
 * Judges `facts` of every backed-up database; a database whose backups are computed is reported
 * once as unverified (`what`), a computed variable once per variable.
 */
function judgeFacts<C>(resources: StackResource[], ctx: Ctx<C>, what: string, facts: Fact[]) {
  for (const db of databaseBackups(resources).databases) {
    const b = db.backup;
    if (b.kind === "unknown")
      ctx.cannotVerify(`Cannot verify the ${what} of ${db.label} at preview: ${b.why}.`, db.r.urn);
    if (b.kind !== "on") continue;
    for (const f of facts) {
      const v = b.get(f.name);
      if (v === UNKNOWN)
        ctx.cannotVerify(
          `Cannot verify the ${f.what} of ${db.label} at preview: ${f.name} of its backup ${b.runner} is computed.`,
          db.r.urn,
        );
      else if (v === undefined || v.trim() === "") ctx.violation(f.absent(db, b.runner), db.r.urn);
      else f.judge(db, v.trim(), b.runner);
    }
  }
}

export const backupResidency: StackValidationPolicy = stackPolicy<ResidencyConfig>({
  name: "backup-residency",
  description: "Every database's backups are stored in a region of an allowed jurisdiction.",
  severity: "critical",
  config: residencySettings,
  scope: noDatabases,
  validate: (resources, ctx) => {
    const j = new Jurisdictions(ctx.config);
    const fix = `set fjord:backups.target.region to a bucket in ${j.allowedText()}`;
    judgeFacts(resources, ctx, "backup region", [
      {
        what: "backup region",
        name: "FJORD_BACKUP_REGION",
        absent: (db, runner) =>
          `${db.label} backs up through its ${runner}, which declares no FJORD_BACKUP_REGION, so where the backups are stored cannot be proven; ${fix}.`,
        judge: (db, region, runner) => {
          const juris = j.of(region);
          if (!juris)
            ctx.violation(
              `${db.label} backs up to region '${region}' (FJORD_BACKUP_REGION of its ${runner}), which is not in the region catalog; ${fix}, or add the region to the policy config regions with its jurisdiction.`,
              db.r.urn,
            );
          else if (!j.isAllowed(juris))
            ctx.violation(
              `${db.label} backs up to region '${region}' (${juris}), outside the allowed jurisdictions (${j.allowedText()}); ${fix}.`,
              db.r.urn,
            );
        },
      },
    ]);
  },
});

export const backupRequired: StackValidationPolicy = stackPolicy<Record<string, never>>({
  name: "backup-required",
  description:
    "Every database workload is backed up on a schedule, encrypted, or says why it is not.",
  severity: "high",
  config: {},
  scope: noDatabases,
  validate: (resources, ctx) => {
    const { databases, unsure } = databaseBackups(resources);
    for (const r of unsure)
      ctx.cannotVerify(
        `Cannot verify whether ${describe(r.type, r.name, r.props)} is a database that needs backups at preview: its labels are computed.`,
        r.urn,
      );
    for (const db of databases) {
      const b = db.backup;
      if (b.kind === "none")
        ctx.violation(
          `${db.label} is a database with no backups (no backup runner and no ${BACKUP_OFF} reason); set fjord:backups.enabled to true with a fjord:backups.target so fjord runs its backups.`,
          db.r.urn,
        );
      else if (b.kind === "off")
        ctx.violation(
          `${db.label} has backups turned off (${BACKUP_OFF}: "${b.reason}"); set fjord:backups.enabled (and the service's database.backup.enabled) to true with a fjord:backups.target in an allowed region.`,
          db.r.urn,
        );
    }
    judgeFacts(resources, ctx, "backup schedule and encryption", [
      {
        what: "backup schedule",
        name: "FJORD_BACKUP_SCHEDULE",
        absent: (db, runner) =>
          `${db.label} has no backup schedule (its ${runner} declares no FJORD_BACKUP_SCHEDULE); set fjord:backups.schedule to a cron such as "15 2 * * *".`,
        judge: (db, cron, runner) => {
          const parsed = parseCron(cron);
          if (typeof parsed === "string")
            ctx.violation(
              `${db.label} has an invalid backup schedule '${cron}' (FJORD_BACKUP_SCHEDULE of its ${runner}: ${parsed}); set fjord:backups.schedule to a cron such as "15 2 * * *".`,
              db.r.urn,
            );
        },
      },
      {
        what: "backup encryption",
        name: "FJORD_BACKUP_ENCRYPT",
        absent: (db, runner) =>
          `${db.label} does not say whether its backups are encrypted (its ${runner} declares no FJORD_BACKUP_ENCRYPT); set fjord:backups.encrypt to true.`,
        judge: (db, v, runner) => {
          if (v.toLowerCase() !== "true")
            ctx.violation(
              `${db.label} writes its backups unencrypted (FJORD_BACKUP_ENCRYPT=${v} on its ${runner}); set fjord:backups.encrypt to true.`,
              db.r.urn,
            );
        },
      },
    ]);
  },
});

const DURATION = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 };

/** Milliseconds of a duration as fjord's config writes them ("14d", "36h"); undefined if malformed. */
export function durationMs(d: string): number | undefined {
  const m = DURATION.exec(d.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

interface RetentionConfig {
  minRetentionCount: number;
  minRetentionAge: string;
}

const retentionSettings: Settings<RetentionConfig> = {
  minRetentionCount: {
    schema: { type: "integer", minimum: 1, description: "Fewest full backups kept." },
    default: 7,
  },
  minRetentionAge: {
    schema: {
      type: "string",
      pattern: DURATION.source,
      description: 'Shortest time full backups are kept, a duration such as "7d" or "36h".',
    },
    default: "7d",
  },
};

export const backupRetention: StackValidationPolicy = stackPolicy<RetentionConfig>({
  name: "backup-retention",
  description: "Every database keeps at least the configured number and age of backups.",
  severity: "medium",
  config: retentionSettings,
  scope: noDatabases,
  validate: (resources, ctx) => {
    const { minRetentionCount: minCount } = ctx.config;
    let minAge = ctx.config.minRetentionAge;
    if (durationMs(minAge) === undefined) {
      ctx.note(
        `The policy config minRetentionAge '${minAge}' is not a duration such as "7d"; using "7d".`,
      );
      minAge = "7d";
    }
    const countFix = `set fjord:backups.retention.count to at least ${minCount}`;
    const ageFix = `set fjord:backups.retention.age to at least ${minAge}`;
    judgeFacts(resources, ctx, "backup retention", [
      {
        what: "backup retention count",
        name: "FJORD_BACKUP_RETENTION_COUNT",
        absent: (db, runner) =>
          `${db.label} does not say how many backups it keeps (its ${runner} declares no FJORD_BACKUP_RETENTION_COUNT); ${countFix}.`,
        judge: (db, v, runner) => {
          if (!/^\d+$/.test(v))
            ctx.violation(
              `${db.label} keeps '${v}' backups (FJORD_BACKUP_RETENTION_COUNT of its ${runner}), which is not a whole number; ${countFix}.`,
              db.r.urn,
            );
          else if (Number(v) < minCount)
            ctx.violation(
              `${db.label} keeps ${v} backups, fewer than the required ${minCount}; ${countFix}.`,
              db.r.urn,
            );
        },
      },
      {
        what: "backup retention age",
        name: "FJORD_BACKUP_RETENTION_AGE",
        absent: (db, runner) =>
          `${db.label} does not say how long it keeps backups (its ${runner} declares no FJORD_BACKUP_RETENTION_AGE); ${ageFix}.`,
        judge: (db, v, runner) => {
          const ms = durationMs(v);
          if (ms === undefined)
            ctx.violation(
              `${db.label} keeps backups for '${v}' (FJORD_BACKUP_RETENTION_AGE of its ${runner}), which is not a duration; ${ageFix}.`,
              db.r.urn,
            );
          else if (ms < durationMs(minAge)!)
            ctx.violation(
              `${db.label} keeps backups for ${v}, less than the required ${minAge}; ${ageFix}.`,
              db.r.urn,
            );
        },
      },
    ]);
  },
});
