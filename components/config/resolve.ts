/** Fills every derived default so the plan and the targets never re-derive them. */
import type { DiskClass, PlatformSpec } from "./schema";
import type { BackupsSpec } from "./schema/backups";
import { DEFAULT_REGIONS, type RegionInfo } from "../../lib/regions";

export interface Call {
  service: string;
  fanOut: number;
  mode: "sequential" | "parallel";
}

export interface Database {
  engine: "postgres" | "mysql";
  version: string;
  memory: string;
  cpu: string;
  storage: string;
  disk: DiskClass;
  /** SQL database name and user. */
  name: string;
  image: string;
  /** How this database is backed up; absent when backups are off for it (see backupOff). */
  backup?: DatabaseBackup;
  /** Why a database has no backups, as the config states it. */
  backupOff?: string;
  restore?: { from: string };
}

/** One database's backups: the stack's settings with its own overrides applied. */
export interface DatabaseBackup {
  target: Required<Omit<NonNullable<BackupsSpec["target"]>, "caCert">> & { caCert?: string };
  schedule: string;
  retention: { count: number; age: string };
  encrypt: boolean;
  archiveTimeout: string;
}

type RawService = PlatformSpec["services"][number];
export interface Service extends Omit<RawService, "calls" | "database" | "region" | "route"> {
  region: string;
  calls: Call[];
  database?: Database;
  route?: { path: string; public: boolean; budgetMs: number };
}

type RawNode = PlatformSpec["nodes"][number];
export interface Node extends Omit<RawNode, "port" | "user" | "region"> {
  port: number;
  user: string;
  region: string;
}

/** The validated, fully defaulted platform description every other module works from. */
export interface Spec extends Omit<PlatformSpec, "services" | "nodes" | "regions"> {
  stack: string;
  regions: Record<string, RegionInfo>;
  services: Service[];
  nodes: Node[];
}

const DEFAULT_DB_VERSION = { postgres: "16.6", mysql: "11.4.4" } as const;
const DISK_ORDER: DiskClass[] = ["hdd", "ssd", "nvme"];

function dbImage(engine: Database["engine"], version: string, spec: PlatformSpec): string {
  if (engine === "postgres") return spec.images.postgres ?? `postgres:${version}-bookworm`;
  return spec.images.mysql ?? `mariadb:${version}`;
}

type RawDatabase = NonNullable<PlatformSpec["services"][number]["database"]>;

function backupOf(
  spec: PlatformSpec,
  db: RawDatabase,
  stack: string,
): Pick<Database, "backup" | "backupOff"> {
  const b = spec.backups;
  if (!b.enabled) return { backupOff: b.reason ?? "backups.enabled is false" };
  if (db.backup && !db.backup.enabled) {
    return { backupOff: db.backup.reason ?? "database.backup.enabled is false" };
  }
  // checks-backups.ts refuses a database to back up without a target, so this is dev's "none yet".
  if (!b.target) return { backupOff: "no fjord:backups.target is set" };
  return {
    backup: {
      target: { ...b.target, prefix: b.target.prefix ?? `fjord/${stack}` },
      schedule: db.backup?.schedule ?? b.schedule,
      retention: {
        count: db.backup?.retention?.count ?? b.retention.count,
        age: db.backup?.retention?.age ?? b.retention.age,
      },
      encrypt: b.encrypt,
      archiveTimeout: b.archiveTimeout,
    },
  };
}

export function resolve(spec: PlatformSpec, stack: string): Spec {
  // Databases land on whichever node the scheduler picks, so assume the slowest disk present.
  const slowestDisk =
    spec.nodes.length > 0
      ? DISK_ORDER.find((d) => spec.nodes.some((n) => n.class.disk === d))!
      : "nvme";
  const services: Service[] = spec.services.map((s) => {
    const { calls, database, region, route, ...rest } = s;
    let db: Database | undefined;
    if (database) {
      const version = database.version ?? DEFAULT_DB_VERSION[database.engine];
      db = {
        engine: database.engine,
        version,
        memory: database.memory,
        cpu: database.cpu,
        storage: database.storage,
        disk: database.disk ?? slowestDisk,
        name: database.name ?? s.name.replace(/-/g, "_"),
        image: database.image ?? dbImage(database.engine, version, spec),
        ...backupOf(spec, database, stack),
        ...(database.restore ? { restore: { from: database.restore.from } } : {}),
      };
    }
    return {
      ...rest,
      region: region ?? spec.region,
      calls: calls.map((c) =>
        typeof c === "string" ? { service: c, fanOut: 1, mode: "sequential" } : c,
      ),
      ...(db ? { database: db } : {}),
      ...(route
        ? {
            route: {
              path: route.path,
              public: route.public,
              budgetMs: route.budgetMs ?? spec.latency.defaultRouteBudgetMs,
            },
          }
        : {}),
    };
  });
  const nodes: Node[] = spec.nodes.map((n) => ({
    ...n,
    port: n.port ?? spec.ssh.port,
    user: n.user ?? spec.ssh.user,
    region: n.region ?? spec.region,
  }));
  return { ...spec, stack, regions: { ...DEFAULT_REGIONS, ...spec.regions }, services, nodes };
}
