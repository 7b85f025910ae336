/**
 * The one memory setting per database engine that must fit inside the container: InnoDB's
 * buffer pool (my.cnf) and PostgreSQL's shared_buffers, from files or server flags.
 */

export type Engine = "mysql" | "postgres";

export interface DbSetting {
  engine: Engine;
  key: "innodb_buffer_pool_size" | "shared_buffers";
  /** As written. */
  raw: string;
  /** Bytes, undefined when the value cannot be read (e.g. a percentage or an include). */
  bytes: number | undefined;
}

const K = 1024;

/** MySQL/MariaDB sizes: plain bytes or K/M/G/T suffix (powers of 1024). */
export function mysqlBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGTP])?B?$/i.exec(v.trim().replace(/^["']|["']$/g, ""));
  if (!m) return undefined;
  const exp = m[2] ? "KMGTP".indexOf(m[2].toUpperCase()) + 1 : 0;
  return Math.floor(Number(m[1]) * K ** exp);
}

/** PostgreSQL memory: B/kB/MB/GB/TB (powers of 1024); a bare number counts 8kB blocks. */
export function postgresBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)?$/.exec(v.trim().replace(/^'|'$/g, ""));
  if (!m) return undefined;
  const unit: Record<string, number> = { B: 1, kB: K, MB: K ** 2, GB: K ** 3, TB: K ** 4 };
  return Math.floor(Number(m[1]) * (m[2] ? unit[m[2]]! : 8 * K));
}

/** Each engine's one setting and how its sizes are written. */
const SETTINGS = {
  mysql: { key: "innodb_buffer_pool_size", bytes: mysqlBytes },
  postgres: { key: "shared_buffers", bytes: postgresBytes },
} as const;

const settingOf = (engine: Engine, raw: string): DbSetting => ({
  engine,
  key: SETTINGS[engine].key,
  raw,
  bytes: SETTINGS[engine].bytes(raw),
});

const MYSQL_SERVER_SECTIONS =
  /^(mysqld|mariadb|mariadbd|server|mysqld-[\d.]+|mariadb-[\d.]+|mysqld_safe)$/i;

/** innodb_buffer_pool_size from a my.cnf, honouring [section]s and loose-/dash spellings. */
export function mysqlPool(text: string): DbSetting | undefined {
  let section = "";
  let found: DbSetting | undefined;
  for (const line of text.split(/\r?\n/)) {
    const t = line.replace(/[#;].*$/, "").trim();
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    if (section && !MYSQL_SERVER_SECTIONS.test(section)) continue;
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(t);
    if (!kv) continue;
    const key = kv[1]!
      .toLowerCase()
      .replace(/^loose[-_]/, "")
      .replace(/-/g, "_");
    if (key === SETTINGS.mysql.key) found = settingOf("mysql", kv[2]!.trim());
  }
  return found;
}

/** shared_buffers from a postgresql.conf (last assignment wins, as in PostgreSQL). */
export function postgresSharedBuffers(text: string): DbSetting | undefined {
  let found: DbSetting | undefined;
  for (const line of text.split(/\r?\n/)) {
    const t = line.replace(/#.*$/, "").trim();
    const kv = /^shared_buffers\s*=?\s*(.+)$/i.exec(t);
    if (kv) found = settingOf("postgres", kv[1]!.trim());
  }
  return found;
}

/** The setting given as server flags (`-c shared_buffers=1GB`, `--innodb-buffer-pool-size=2G`). */
export function settingFromArgs(args: string[]): DbSetting | undefined {
  let found: DbSetting | undefined;
  args.forEach((a, i) => {
    const pg =
      /^(?:-c\s*|--)?shared_buffers=(.+)$/.exec(a) ??
      (args[i - 1] === "-c" ? /^shared_buffers=(.+)$/.exec(a) : null);
    if (pg) found = settingOf("postgres", pg[1]!);
    const my = /^--(?:loose[-_])?innodb[-_]buffer[-_]pool[-_]size=(.+)$/.exec(a);
    if (my) found = settingOf("mysql", my[1]!);
  });
  return found;
}
