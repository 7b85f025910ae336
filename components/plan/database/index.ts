/** Everything target-independent about one service database: tuning, config file, paths, ports. */
import { createHash } from "crypto";
import type { Database } from "../../config";
import { parseCpu, parseMemory } from "../../config/units";
import { type DbTuningInput, tuneMysql, tunePostgres } from "./tuning";
import { renderPostgresqlConf } from "./render/postgresql-conf";
import { renderMyCnf } from "./render/my-cnf";
import { assertNever } from "../../../lib/never";
import { type BackupPlan, planBackup } from "./backup";

/** Generated credentials of a database; each target stores them as secrets under these keys. */
export type CredentialKey = "password" | "root-password";

/** One environment variable: a plain value, or a reference to one of the database's credentials. */
export type EnvVar = { name: string; value: string } | { name: string; secret: CredentialKey };

export interface DatabasePlan {
  engine: Database["engine"];
  /** SQL database the owner connects to. */
  name: string;
  /** SQL user the owner connects as (the database's own name). */
  user: string;
  port: number;
  exporterPort: number;
  /** File name of the rendered config inside `configDir`. */
  configFile: "postgresql.conf" | "fjord.cnf";
  configText: string;
  /** Short hash of the config, used to restart the server when it changes. */
  configHash: string;
  configDir: string;
  dataDir: string;
  /** Writable paths the server needs besides its data (the root filesystem is read-only). */
  scratchDirs: string[];
  /** Server arguments (the official images' entrypoints pass them through). */
  args: string[];
  /** UID of the server process in the official images. */
  uid: number;
  /** Exits 0 once the server accepts connections. */
  readyCommand: string[];
  /** Credentials to generate; the server env below refers to them. */
  credentials: CredentialKey[];
  /** The official image's environment, in the order the pod spec lists it. */
  serverEnv: EnvVar[];
  /** Where the server's socket lives; the backup runner connects through it. */
  socketDir: string;
  /** Backups and the restore step, unless backups are off (then backupOff says why). */
  backup?: BackupPlan;
  backupOff?: string;
}

type Who = Pick<DatabasePlan, "name" | "user">;

/** What each engine's official image expects; only the config and the names depend on the spec. */
const ENGINES: {
  [E in Database["engine"]]: Omit<
    DatabasePlan,
    "engine" | "name" | "user" | "configText" | "configHash" | "serverEnv" | "backup" | "backupOff"
  > & {
    render: (input: DbTuningInput) => string;
    serverEnv: (who: Who) => EnvVar[];
  };
} = {
  postgres: {
    render: (input) => renderPostgresqlConf(tunePostgres(input)),
    port: 5432,
    exporterPort: 9187,
    configFile: "postgresql.conf",
    configDir: "/etc/fjord",
    dataDir: "/var/lib/postgresql/data",
    scratchDirs: ["/var/run/postgresql", "/tmp"],
    socketDir: "/var/run/postgresql",
    args: ["-c", "config_file=/etc/fjord/postgresql.conf"],
    uid: 999,
    readyCommand: ["sh", "-c", 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'],
    credentials: ["password"],
    serverEnv: (who) => [
      { name: "POSTGRES_USER", value: who.user },
      { name: "POSTGRES_DB", value: who.name },
      { name: "POSTGRES_PASSWORD", secret: "password" },
      // A subdirectory, because a fresh volume's root may hold lost+found.
      { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
    ],
  },
  mysql: {
    render: (input) => renderMyCnf(tuneMysql(input)),
    port: 3306,
    exporterPort: 9104,
    // The official image reads every *.cnf in conf.d after its own defaults.
    configFile: "fjord.cnf",
    configDir: "/etc/mysql/conf.d",
    dataDir: "/var/lib/mysql",
    scratchDirs: ["/run/mysqld", "/tmp"],
    socketDir: "/run/mysqld",
    args: [],
    uid: 999,
    // `ping` succeeds as soon as the server answers, even to an unknown user.
    readyCommand: ["mariadb-admin", "ping", "-h", "127.0.0.1", "--silent"],
    credentials: ["password", "root-password"],
    serverEnv: (who) => [
      { name: "MARIADB_USER", value: who.user },
      { name: "MARIADB_DATABASE", value: who.name },
      { name: "MARIADB_PASSWORD", secret: "password" },
      { name: "MARIADB_ROOT_PASSWORD", secret: "root-password" },
    ],
  },
};

export function planDatabase(db: Database): DatabasePlan {
  const { render, serverEnv, ...image } = ENGINES[db.engine];
  const who: Who = { name: db.name, user: db.name };
  const env = serverEnv(who);
  const backup =
    db.backup &&
    planBackup({
      engine: db.engine,
      database: db.name,
      user: who.user,
      // The server's own PGDATA, so the runner and the restore step see what the server sees.
      dataDir:
        env.find((v) => v.name === "PGDATA" && "value" in v)?.["value" as never] ?? image.dataDir,
      socketDir: image.socketDir,
      port: image.port,
      backup: db.backup,
      ...(db.restore ? { restore: db.restore } : {}),
    });
  const configText =
    render({
      memoryLimitBytes: parseMemory(db.memory),
      cpuMillis: parseCpu(db.cpu),
      disk: db.disk,
      version: db.version,
    }) + (backup?.serverSettings ?? "");
  return {
    engine: db.engine,
    ...who,
    ...image,
    configText,
    configHash: hash(configText),
    serverEnv: env,
    ...(backup ? { backup } : { backupOff: db.backupOff ?? "backups are off" }),
  };
}

/** How the metrics exporter reaches the server at `host` (its container or 127.0.0.1 in a pod). */
export function databaseExporter(
  plan: DatabasePlan,
  host: string,
): { env: EnvVar[]; args: string[] } {
  const address = `${host}:${plan.port}`;
  switch (plan.engine) {
    case "postgres":
      return {
        env: [
          { name: "DATA_SOURCE_URI", value: `${address}/${plan.name}?sslmode=disable` },
          { name: "DATA_SOURCE_USER", value: plan.user },
          { name: "DATA_SOURCE_PASS", secret: "password" },
        ],
        args: [],
      };
    case "mysql":
      return {
        env: [{ name: "MYSQLD_EXPORTER_PASSWORD", secret: "password" }],
        args: [`--mysqld.address=${address}`, `--mysqld.username=${plan.user}`],
      };
    default:
      return assertNever(plan.engine, "database engine");
  }
}

/**
 * The DB_* variables a service reads, the same names on every target so one image runs on both;
 * only the host differs (a Service DNS name on Kubernetes, a container name on Docker).
 */
export function databaseEnv(
  plan: DatabasePlan,
  host: string,
): { env: Record<string, string>; secretEnv: Record<string, CredentialKey> } {
  return {
    env: {
      DB_ENGINE: plan.engine,
      DB_HOST: host,
      DB_PORT: String(plan.port),
      DB_NAME: plan.name,
      DB_USER: plan.user,
    },
    secretEnv: { DB_PASSWORD: "password" },
  };
}

const hash = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 16);

export * from "./tuning";
export * from "./render/postgresql-conf";
export * from "./render/my-cnf";
export * from "./backup";
