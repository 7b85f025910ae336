/** Renders tuned PostgreSQL settings as a complete postgresql.conf. */
import type { PostgresParams, PostgresSettings } from "../tuning/postgres";
import { type Sections, inLargestUnit, memoryHeader, positiveSize, sectionLines } from "./common";

export interface PostgresqlConfOptions {
  /** @default "*" (the container's network namespace is the boundary; pg_hba decides who gets in) */
  listenAddresses?: string;
  /** @default 5432 */
  port?: number;
}

type Kind = "bytes" | "seconds" | "number" | "word";
type ParamName = keyof PostgresParams;

/** Every parameter's unit; a `Record` over all keys so a new parameter cannot be rendered unitless. */
const KINDS: { [K in ParamName]-?: Kind } = {
  max_connections: "number",
  shared_buffers: "bytes",
  effective_cache_size: "bytes",
  work_mem: "bytes",
  hash_mem_multiplier: "number",
  temp_buffers: "bytes",
  maintenance_work_mem: "bytes",
  autovacuum_work_mem: "bytes",
  autovacuum_max_workers: "number",
  max_worker_processes: "number",
  max_parallel_workers: "number",
  max_parallel_workers_per_gather: "number",
  max_parallel_maintenance_workers: "number",
  random_page_cost: "number",
  effective_io_concurrency: "number",
  maintenance_io_concurrency: "number",
  wal_buffers: "bytes",
  wal_compression: "word",
  min_wal_size: "bytes",
  max_wal_size: "bytes",
  checkpoint_timeout: "seconds",
  checkpoint_completion_target: "number",
  fsync: "word",
  synchronous_commit: "word",
  full_page_writes: "word",
};

/** File layout; order is fixed so the same input always renders byte-identical text. */
export const POSTGRES_SECTIONS: Sections<PostgresParams> = [
  ["Connections", ["max_connections"]],
  [
    "Memory",
    [
      "shared_buffers",
      "effective_cache_size",
      "work_mem",
      "hash_mem_multiplier",
      "temp_buffers",
      "maintenance_work_mem",
      "autovacuum_work_mem",
    ],
  ],
  [
    "Workers",
    [
      "autovacuum_max_workers",
      "max_worker_processes",
      "max_parallel_workers",
      "max_parallel_workers_per_gather",
      "max_parallel_maintenance_workers",
    ],
  ],
  ["Disk", ["random_page_cost", "effective_io_concurrency", "maintenance_io_concurrency"]],
  [
    "WAL and checkpoints",
    [
      "wal_buffers",
      "wal_compression",
      "min_wal_size",
      "max_wal_size",
      "checkpoint_timeout",
      "checkpoint_completion_target",
    ],
  ],
  ["Durability (never relaxed for speed)", ["fsync", "synchronous_commit", "full_page_writes"]],
];

const BYTE_UNITS = [
  ["TB", 2 ** 40],
  ["GB", 2 ** 30],
  ["MB", 2 ** 20],
  ["kB", 2 ** 10],
] as const;
const TIME_UNITS = [
  ["d", 86400],
  ["h", 3600],
  ["min", 60],
  ["s", 1],
] as const;

/** Postgres's own notation, largest exact unit first, which is also how `SHOW` prints values. */
export function formatPostgresValue(name: ParamName, value: string | number): string {
  const kind = KINDS[name];
  if (kind === "bytes" || kind === "seconds") {
    const n = positiveSize(name, value);
    const shown = inLargestUnit(n, kind === "bytes" ? BYTE_UNITS : TIME_UNITS);
    // Postgres has no byte unit: sizes below 1kB granularity cannot be expressed.
    if (shown === undefined)
      throw new Error(`${name}: ${n} is not a whole number of ${kind === "bytes" ? "kB" : "s"}`);
    return shown;
  }
  return String(value);
}

export function renderPostgresqlConf(
  settings: PostgresSettings,
  opts: PostgresqlConfOptions = {},
): string {
  const listen = opts.listenAddresses ?? "*";
  if (listen.includes("'")) throw new Error(`listen_addresses must not contain quotes: ${listen}`);
  const lines = [
    ...memoryHeader("postgresql.conf", "PostgreSQL", "backend slots", settings),
    "",
    "# Network",
    `listen_addresses = '${listen}'`,
    `port = ${opts.port ?? 5432}`,
  ];
  lines.push(
    ...sectionLines("postgresql.conf", POSTGRES_SECTIONS, settings.params, formatPostgresValue),
  );
  return lines.join("\n") + "\n";
}
