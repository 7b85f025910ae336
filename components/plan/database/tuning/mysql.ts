/**
 * MariaDB (and MySQL) settings derived from a container's memory limit and disk class.
 *
 * InnoDB's buffer pool is the one cache that matters, so it gets most of the memory (≈70%), but
 * only after mysqld's own overhead and the worst case of `max_connections` sessions are accounted
 * for: at small limits the pool shrinks rather than letting the container get OOM-killed.
 */
import { GiB, MiB } from "../../../config/units";
import {
  assertBudgetFits,
  clamp,
  floorTo,
  headroomFor,
  KiB,
  parseVersion,
  validateInput,
} from "./common";
import type { DbTuningInput, DiskClass, MemoryBudget } from "./types";

export type MysqlFlavor = "mariadb" | "mysql";

/** Server variables: sizes in bytes. Durability switches are typed so they cannot be relaxed. */
export interface MysqlParams {
  max_connections: number;
  innodb_buffer_pool_size: number;
  /** MySQL only: MariaDB 10.11 ignores chunks and sizes the pool in whole MiB. */
  innodb_buffer_pool_chunk_size?: number;
  innodb_buffer_pool_instances?: number;
  /** MariaDB (single redo file since 10.5) and MySQL before 8.0.30 (per file, two files). */
  innodb_log_file_size?: number;
  /** MySQL 8.0.30+, which rejects sizing the redo log through innodb_log_file_size alone. */
  innodb_redo_log_capacity?: number;
  innodb_log_buffer_size: number;
  /** Omitted on MariaDB 11+, which deprecates it; its default there already bypasses the page cache. */
  innodb_flush_method?: "O_DIRECT";
  innodb_flush_neighbors: 0 | 1;
  innodb_io_capacity: number;
  innodb_io_capacity_max: number;
  innodb_flush_log_at_trx_commit: 1;
  innodb_doublewrite: "ON";
  /** Harmless while the binlog is off, and keeps it durable the day someone turns it on. */
  sync_binlog: 1;
  key_buffer_size: number;
  /** MariaDB only: caches Aria, which backs the system tables and on-disk internal temp tables. */
  aria_pagecache_buffer_size?: number;
  tmp_table_size: number;
  max_heap_table_size: number;
  sort_buffer_size: number;
  join_buffer_size: number;
  read_buffer_size: number;
  read_rnd_buffer_size: number;
}

export interface MysqlSettings {
  input: DbTuningInput;
  flavor: MysqlFlavor;
  params: MysqlParams;
  memory: MemoryBudget;
}

export const MYSQL_POOL_FRACTIONS = {
  /** The usual ≈70% once the limit is large enough that the remaining 30% covers everything else. */
  large: 0.7,
  /** 512Mi–1Gi: mysqld's fixed overhead is a bigger share. */
  medium: 0.6,
  /** Below 512Mi. */
  small: 0.5,
} as const;
export const MYSQL_POOL_FLOOR = 32 * MiB;
/** Anonymous memory of an idle mariadbd beyond its configured buffers (measured ~47MiB), rounded up. */
export const MYSQLD_BASE_OVERHEAD = 48 * MiB;
/** Buffer pool bookkeeping (block descriptors, hash tables) as a share of the pool. */
export const INNODB_POOL_OVERHEAD = 0.03;
/** A session's THD, parser arena and network buffers before any query buffer is allocated. */
const CONN_BASE = 512 * KiB;
const THREAD_STACK: Record<MysqlFlavor, number> = { mariadb: 299008, mysql: MiB };
const BINLOG_CACHE = 32 * KiB;
const NET_BUFFERS = 2 * 16 * KiB;
export const MYSQL_MIN_CONNECTIONS = 20;
export const MYSQL_MAX_CONNECTIONS = 500;

const DISK: Record<DiskClass, { neighbors: 0 | 1; io: number; ioMax: number }> = {
  // Flushing neighbouring pages only helps when a seek is the expensive part.
  nvme: { neighbors: 0, io: 2000, ioMax: 4000 },
  ssd: { neighbors: 0, io: 1000, ioMax: 2000 },
  hdd: { neighbors: 1, io: 200, ioMax: 400 },
};

/** MariaDB numbers its releases 10.x and up; MySQL's are 5.x and 8.x+. */
export function mysqlFlavor(version: string): MysqlFlavor {
  if (/^mysql-/i.test(version)) return "mysql";
  if (/^mariadb-/i.test(version)) return "mariadb";
  return parseVersion(version).major >= 10 ? "mariadb" : "mysql";
}

type SessionBuffers = Pick<
  MysqlParams,
  | "sort_buffer_size"
  | "join_buffer_size"
  | "read_buffer_size"
  | "read_rnd_buffer_size"
  | "tmp_table_size"
>;

/** Worst case of one session: every buffer allocated plus one in-memory temporary table. */
export function mysqlPerConnectionBytes(flavor: MysqlFlavor, p: SessionBuffers): number {
  return (
    CONN_BASE +
    THREAD_STACK[flavor] +
    BINLOG_CACHE +
    NET_BUFFERS +
    p.sort_buffer_size +
    p.join_buffer_size +
    p.read_buffer_size +
    p.read_rnd_buffer_size +
    p.tmp_table_size
  );
}

/** Granularity the server rounds the pool to; MySQL rounds *up* to chunk × instances. */
function poolLayout(flavor: MysqlFlavor, pool: number): { granule: number; instances?: number } {
  if (flavor === "mariadb") return { granule: MiB };
  const instances = pool >= GiB ? Math.min(8, Math.floor(pool / GiB)) : 1;
  return { granule: (pool >= GiB ? 128 * MiB : 8 * MiB) * instances, instances };
}

export function tuneMysql(input: DbTuningInput): MysqlSettings {
  const L = input.memoryLimitBytes;
  validateInput("mysql", L, input.cpuMillis);
  const flavor = mysqlFlavor(input.version);
  const v = parseVersion(input.version);
  const disk = DISK[input.disk];

  const tmp = clamp(floorTo(L / 1024, MiB), MiB, 16 * MiB);
  const session: SessionBuffers = {
    sort_buffer_size: clamp(floorTo(L / 2048, 256 * KiB), 256 * KiB, 2 * MiB),
    join_buffer_size: 256 * KiB,
    read_buffer_size: 128 * KiB,
    read_rnd_buffer_size: 256 * KiB,
    tmp_table_size: tmp,
  };
  const perConnection = mysqlPerConnectionBytes(flavor, session);
  const innodb_log_buffer_size = clamp(floorTo(L / 64, MiB), 8 * MiB, 64 * MiB);
  // MyISAM is unused: the default 128MB key buffer would be memory taken from the pool for nothing.
  const key_buffer_size = 8 * MiB;
  const aria = flavor === "mariadb" ? clamp(floorTo(L / 32, MiB), 8 * MiB, 128 * MiB) : 0;

  const headroomBytes = headroomFor(L);
  const overhead = MYSQLD_BASE_OVERHEAD + innodb_log_buffer_size + key_buffer_size + aria;
  // What the pool (with its bookkeeping) may take so that `conns` sessions still fit.
  const poolRoomFor = (conns: number) =>
    (L - headroomBytes - overhead - (conns + 1) * perConnection) / (1 + INNODB_POOL_OVERHEAD);
  const fraction =
    L >= GiB
      ? MYSQL_POOL_FRACTIONS.large
      : L >= 512 * MiB
        ? MYSQL_POOL_FRACTIONS.medium
        : MYSQL_POOL_FRACTIONS.small;
  const wanted = Math.min(L * fraction, poolRoomFor(MYSQL_MIN_CONNECTIONS));
  const pool = floorTo(wanted, poolLayout(flavor, wanted).granule);
  if (pool < MYSQL_POOL_FLOOR)
    throw new RangeError(
      `mysql: a ${Math.round(L / MiB)}MiB limit leaves no room for a ${MYSQL_POOL_FLOOR / MiB}MiB buffer pool next to ${MYSQL_MIN_CONNECTIONS} connections`,
    );
  const poolWithOverhead = Math.ceil(pool * (1 + INNODB_POOL_OVERHEAD));
  // +1: MariaDB and MySQL admit one extra session with SUPER/CONNECTION ADMIN beyond the limit.
  const affordable =
    Math.floor((L - headroomBytes - overhead - poolWithOverhead) / perConnection) - 1;
  const max_connections = Math.min(MYSQL_MAX_CONNECTIONS, affordable);

  // A larger redo log lets InnoDB defer flushing; a quarter of the pool, never below the 96MiB default.
  const redo = clamp(floorTo(pool / 4, MiB), 96 * MiB, 4 * GiB);
  const redoParams: Pick<MysqlParams, "innodb_log_file_size" | "innodb_redo_log_capacity"> =
    flavor === "mariadb"
      ? { innodb_log_file_size: redo }
      : v.major > 8 || (v.major === 8 && (v.minor > 0 || v.patch >= 30))
        ? { innodb_redo_log_capacity: redo }
        : { innodb_log_file_size: floorTo(redo / 2, MiB) };
  const layout = poolLayout(flavor, pool);

  const params: MysqlParams = {
    max_connections,
    innodb_buffer_pool_size: pool,
    ...(flavor === "mysql"
      ? {
          innodb_buffer_pool_chunk_size: layout.granule / (layout.instances ?? 1),
          innodb_buffer_pool_instances: layout.instances ?? 1,
        }
      : {}),
    ...redoParams,
    innodb_log_buffer_size,
    ...(flavor === "mariadb" && v.major >= 11 ? {} : { innodb_flush_method: "O_DIRECT" as const }),
    innodb_flush_neighbors: disk.neighbors,
    innodb_io_capacity: disk.io,
    innodb_io_capacity_max: disk.ioMax,
    innodb_flush_log_at_trx_commit: 1,
    innodb_doublewrite: "ON",
    sync_binlog: 1,
    key_buffer_size,
    ...(flavor === "mariadb" ? { aria_pagecache_buffer_size: aria } : {}),
    ...session,
    max_heap_table_size: tmp,
  };
  const fixed: Record<string, number> = {
    innodb_buffer_pool: poolWithOverhead,
    innodb_log_buffer: innodb_log_buffer_size,
    key_buffer: key_buffer_size,
    mysqld: MYSQLD_BASE_OVERHEAD,
  };
  if (aria) fixed.aria_pagecache = aria;
  const memory: MemoryBudget = {
    limitBytes: L,
    headroomBytes,
    fixed,
    perConnectionBytes: perConnection,
    slots: max_connections + 1,
  };
  assertBudgetFits("mysql", memory);
  return { input, flavor, params, memory };
}
