/** Everything target-independent about one service database: tuning, config file, paths, ports. */
import { createHash } from "crypto";
import type { Database } from "../../config";
import { parseCpu, parseMemory } from "../../config/units";
import { type DbTuningInput, tuneMysql, tunePostgres } from "./tuning";
import { renderPostgresqlConf } from "./render/postgresql-conf";
import { renderMyCnf } from "./render/my-cnf";

export interface DatabasePlan {
  engine: Database["engine"];
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
}

/** What each engine's official image expects; only the rendered config depends on the spec. */
const ENGINES: {
  [E in Database["engine"]]: Omit<DatabasePlan, "engine" | "configText" | "configHash"> & {
    render: (input: DbTuningInput) => string;
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
    args: ["-c", "config_file=/etc/fjord/postgresql.conf"],
    uid: 999,
    readyCommand: ["sh", "-c", 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'],
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
    args: [],
    uid: 999,
    // `ping` succeeds as soon as the server answers, even to an unknown user.
    readyCommand: ["mariadb-admin", "ping", "-h", "127.0.0.1", "--silent"],
  },
};

export function planDatabase(db: Database): DatabasePlan {
  const { render, ...image } = ENGINES[db.engine];
  const configText = render({
    memoryLimitBytes: parseMemory(db.memory),
    cpuMillis: parseCpu(db.cpu),
    disk: db.disk,
    version: db.version,
  });
  return { engine: db.engine, ...image, configText, configHash: hash(configText) };
}

const hash = (s: string): string => createHash("sha256").update(s).digest("hex").slice(0, 16);

export * from "./tuning";
export * from "./render/postgresql-conf";
export * from "./render/my-cnf";
