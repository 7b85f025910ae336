/** Renders tuned MariaDB/MySQL settings as an option file with a single [mysqld] section. */
import type { MysqlParams, MysqlSettings } from "../tuning/mysql";
import { type Sections, inLargestUnit, memoryHeader, positiveSize, sectionLines } from "./common";

export interface MyCnfOptions {
  /** @default "0.0.0.0" */
  bindAddress?: string;
  /** @default 3306 */
  port?: number;
  /** Omitted unless given: packaged servers and images bring their own. */
  socket?: string;
  /** Omitted unless given: packaged servers and images bring their own. */
  datadir?: string;
}

type ParamName = keyof MysqlParams;

/** Variables whose value is a size, rendered with the server's K/M/G suffixes. */
const BYTES: { [K in ParamName]-?: boolean } = {
  max_connections: false,
  innodb_buffer_pool_size: true,
  innodb_buffer_pool_chunk_size: true,
  innodb_buffer_pool_instances: false,
  innodb_log_file_size: true,
  innodb_redo_log_capacity: true,
  innodb_log_buffer_size: true,
  innodb_flush_method: false,
  innodb_flush_neighbors: false,
  innodb_io_capacity: false,
  innodb_io_capacity_max: false,
  innodb_flush_log_at_trx_commit: false,
  innodb_doublewrite: false,
  sync_binlog: false,
  key_buffer_size: true,
  aria_pagecache_buffer_size: true,
  tmp_table_size: true,
  max_heap_table_size: true,
  sort_buffer_size: true,
  join_buffer_size: true,
  read_buffer_size: true,
  read_rnd_buffer_size: true,
};

/** File layout; order is fixed so the same input always renders byte-identical text. */
export const MYSQL_SECTIONS: Sections<MysqlParams> = [
  ["Connections", ["max_connections"]],
  [
    "InnoDB memory",
    [
      "innodb_buffer_pool_size",
      "innodb_buffer_pool_chunk_size",
      "innodb_buffer_pool_instances",
      "innodb_log_buffer_size",
    ],
  ],
  ["Redo log", ["innodb_log_file_size", "innodb_redo_log_capacity"]],
  [
    "Disk",
    [
      "innodb_flush_method",
      "innodb_flush_neighbors",
      "innodb_io_capacity",
      "innodb_io_capacity_max",
    ],
  ],
  [
    "Durability (never relaxed for speed)",
    ["innodb_flush_log_at_trx_commit", "innodb_doublewrite", "sync_binlog"],
  ],
  ["Other engines", ["key_buffer_size", "aria_pagecache_buffer_size"]],
  [
    "Per-session buffers (counted per connection in the memory model)",
    [
      "tmp_table_size",
      "max_heap_table_size",
      "sort_buffer_size",
      "join_buffer_size",
      "read_buffer_size",
      "read_rnd_buffer_size",
    ],
  ],
];

const BYTE_UNITS = [
  ["G", 2 ** 30],
  ["M", 2 ** 20],
  ["K", 2 ** 10],
] as const;

/** Largest exact K/M/G suffix (the server reads them as powers of 1024), else plain bytes. */
export function formatMysqlValue(name: ParamName, value: string | number): string {
  if (!BYTES[name]) return String(value);
  const n = positiveSize(name, value);
  return inLargestUnit(n, BYTE_UNITS) ?? String(n);
}

/** Option files end a value at "#" and trim whitespace unless the value is quoted. */
function pathValue(p: string): string {
  if (/["\n]/.test(p)) throw new Error(`unsupported character in option file path: ${p}`);
  return /[\s#']/.test(p) ? `"${p}"` : p;
}

export function renderMyCnf(settings: MysqlSettings, opts: MyCnfOptions = {}): string {
  const lines = [
    ...memoryHeader("Option file", settings.flavor, "sessions", settings),
    "",
    "[mysqld]",
    "# Network and paths",
    `bind-address = ${opts.bindAddress ?? "0.0.0.0"}`,
    `port = ${opts.port ?? 3306}`,
  ];
  if (opts.socket !== undefined) lines.push(`socket = ${pathValue(opts.socket)}`);
  if (opts.datadir !== undefined) lines.push(`datadir = ${pathValue(opts.datadir)}`);
  lines.push(...sectionLines("my.cnf", MYSQL_SECTIONS, settings.params, formatMysqlValue));
  return lines.join("\n") + "\n";
}
