/**
 * PostgreSQL settings derived from a container's memory limit, CPU and disk class.
 *
 * The shape of the result follows one rule: every byte the server can allocate is accounted for in
 * a `MemoryBudget`, and the budget must fit under the limit with headroom. Caches take a fixed share,
 * per-session buffers scale gently with memory, and `max_connections` is whatever the rest affords.
 */
import { GiB, MiB } from "../../../config/units";
import {
  assertBudgetFits,
  clamp,
  coresFor,
  floorTo,
  headroomFor,
  parseVersion,
  validateInput,
} from "./common";
import type { DbTuningInput, DiskClass, MemoryBudget } from "./types";

/** GUC values: sizes in bytes, durations in seconds. Durability switches are typed so they cannot be off. */
export interface PostgresParams {
  max_connections: number;
  shared_buffers: number;
  effective_cache_size: number;
  work_mem: number;
  hash_mem_multiplier: number;
  temp_buffers: number;
  maintenance_work_mem: number;
  autovacuum_work_mem: number;
  autovacuum_max_workers: number;
  max_worker_processes: number;
  max_parallel_workers: number;
  max_parallel_workers_per_gather: number;
  max_parallel_maintenance_workers: number;
  random_page_cost: number;
  effective_io_concurrency: number;
  maintenance_io_concurrency: number;
  wal_buffers: number;
  /** Only where lz4 exists (15+); pglz on older servers costs more CPU than the I/O it saves. */
  wal_compression?: "lz4";
  min_wal_size: number;
  max_wal_size: number;
  checkpoint_timeout: number;
  checkpoint_completion_target: number;
  fsync: "on";
  synchronous_commit: "on";
  full_page_writes: "on";
}

export interface PostgresSettings {
  input: DbTuningInput;
  params: PostgresParams;
  memory: MemoryBudget;
}

export const POSTGRES_FRACTIONS = {
  /** The page cache holds the rest; more than this mostly duplicates it and lengthens checkpoints. */
  sharedBuffers: 0.25,
  /** Planner hint only: shared buffers plus the page cache the kernel can keep for us. */
  effectiveCacheSize: 0.75,
} as const;

/**
 * Shared memory beyond shared_buffers and wal_buffers: buffer descriptors and mapping tables grow
 * with shared_buffers, lock tables and SLRU caches are roughly constant. Measured on 15 at 2.2-2.8%
 * of shared_buffers plus ~3MiB; `SHOW shared_memory_size` is checked against this in the real tests.
 */
export const pgSharedMemoryOverhead = (sharedBuffers: number): number =>
  Math.ceil(sharedBuffers * 0.03) + 8 * MiB;
/** Observed private memory of an idle postmaster plus its auxiliary processes, rounded up. */
export const PG_SERVER_OVERHEAD = 16 * MiB;
/** Private memory of one backend running OLTP queries (catalog caches, plan caches), measured ~1.5MiB. */
export const PG_BACKEND_BASE = 3 * MiB;
export const PG_MIN_CONNECTIONS = 10;
export const PG_MAX_CONNECTIONS = 500;
const HASH_MEM_MULTIPLIER = 2;
/** Worst case budgeted per query: one hash node (work_mem × hash_mem_multiplier) and one sort. */
export const PG_WORK_MEM_PER_QUERY = HASH_MEM_MULTIPLIER + 1;
const AUTOVACUUM_WORKERS = 3;
const MIN_SUPPORTED_MAJOR = 13;

const DISK: Record<DiskClass, { randomPageCost: number; ioConcurrency: number; maintIo: number }> =
  {
    // Random reads cost about as much as sequential ones on flash; deep queues are what NVMe wants.
    nvme: { randomPageCost: 1.1, ioConcurrency: 256, maintIo: 256 },
    ssd: { randomPageCost: 1.2, ioConcurrency: 200, maintIo: 200 },
    // Prefetching deeper than the spindle count only adds seeks.
    hdd: { randomPageCost: 4, ioConcurrency: 2, maintIo: 10 },
  };

/** Per-backend worst case for the chosen session buffers. */
export const pgPerConnectionBytes = (
  p: Pick<PostgresParams, "work_mem" | "temp_buffers">,
): number => PG_BACKEND_BASE + p.temp_buffers + p.work_mem * PG_WORK_MEM_PER_QUERY;

export function tunePostgres(input: DbTuningInput): PostgresSettings {
  const L = input.memoryLimitBytes;
  validateInput("postgres", L, input.cpuMillis);
  const version = parseVersion(input.version);
  if (version.major < MIN_SUPPORTED_MAJOR)
    throw new RangeError(`postgres ${input.version} is older than ${MIN_SUPPORTED_MAJOR}`);
  const cores = coresFor(input.cpuMillis);
  const disk = DISK[input.disk];

  const shared_buffers = Math.max(16 * MiB, floorTo(L * POSTGRES_FRACTIONS.sharedBuffers, MiB));
  // The value -1 would pick: 1/32 of shared_buffers, capped at one WAL segment.
  const wal_buffers = clamp(floorTo(shared_buffers / 32, MiB), MiB, 16 * MiB);
  const maintenance_work_mem = clamp(floorTo(L / 16, MiB), 16 * MiB, GiB);
  // Separate from maintenance_work_mem so three concurrent autovacuums cannot take 3/16 of memory.
  const autovacuum_work_mem = clamp(floorTo(L / 64, MiB), 4 * MiB, 256 * MiB);
  // Temp tables are rare in our services; default 8MB per session is a lot below 4Gi.
  const temp_buffers = clamp(floorTo(L / 512, MiB), MiB, 8 * MiB);
  // 1MB per GiB of limit: ~100 sessions stay affordable at 4Gi while typical OLTP sorts fit in memory.
  let work_mem = clamp(floorTo(L / 1024, MiB), MiB, 64 * MiB);

  const max_parallel_workers = cores > 1 ? Math.min(cores, 8) : 0;
  const perGather = cores > 1 ? Math.min(4, Math.floor(cores / 2)) : 0;

  const fixed: Record<string, number> = {
    shared_buffers,
    wal_buffers,
    shared_memory_other: pgSharedMemoryOverhead(shared_buffers),
    server_processes: PG_SERVER_OVERHEAD,
    maintenance_work_mem,
    autovacuum: AUTOVACUUM_WORKERS * (PG_BACKEND_BASE + autovacuum_work_mem),
  };
  const headroomBytes = headroomFor(L);
  const available = L - headroomBytes - Object.values(fixed).reduce((a, b) => a + b, 0);
  // Parallel workers are backends with their own work_mem, so they take connection slots.
  const slotsFor = (wm: number) =>
    Math.floor(available / pgPerConnectionBytes({ work_mem: wm, temp_buffers }));
  while (work_mem > MiB && slotsFor(work_mem) - max_parallel_workers < PG_MIN_CONNECTIONS)
    work_mem -= MiB;
  const max_connections = Math.min(PG_MAX_CONNECTIONS, slotsFor(work_mem) - max_parallel_workers);
  if (max_connections < PG_MIN_CONNECTIONS)
    throw new RangeError(
      `postgres: a ${Math.round(L / MiB)}MiB limit cannot hold ${PG_MIN_CONNECTIONS} connections next to ${Math.round(shared_buffers / MiB)}MiB of shared buffers`,
    );

  // WAL volume between checkpoints, not memory, bounds these; growing with the instance size keeps
  // full-page writes rare on busy servers, and the floor is above the 1GB default so nothing regresses.
  const max_wal_size = clamp(floorTo(2 * L, 256 * MiB), 2 * GiB, 8 * GiB);
  const min_wal_size = clamp(floorTo(max_wal_size / 8, MiB), 80 * MiB, GiB);

  const params: PostgresParams = {
    max_connections,
    shared_buffers,
    effective_cache_size: floorTo(L * POSTGRES_FRACTIONS.effectiveCacheSize, MiB),
    work_mem,
    hash_mem_multiplier: HASH_MEM_MULTIPLIER,
    temp_buffers,
    maintenance_work_mem,
    autovacuum_work_mem,
    autovacuum_max_workers: AUTOVACUUM_WORKERS,
    max_worker_processes: Math.max(8, cores),
    max_parallel_workers,
    max_parallel_workers_per_gather: perGather,
    max_parallel_maintenance_workers: perGather,
    random_page_cost: disk.randomPageCost,
    effective_io_concurrency: disk.ioConcurrency,
    maintenance_io_concurrency: disk.maintIo,
    wal_buffers,
    ...(version.major >= 15 ? { wal_compression: "lz4" as const } : {}),
    min_wal_size,
    max_wal_size,
    // Longer spacing means fewer full-page images after each checkpoint; 0.9 spreads the writes.
    checkpoint_timeout: 15 * 60,
    checkpoint_completion_target: 0.9,
    fsync: "on",
    synchronous_commit: "on",
    full_page_writes: "on",
  };
  const memory: MemoryBudget = {
    limitBytes: L,
    headroomBytes,
    fixed,
    perConnectionBytes: pgPerConnectionBytes(params),
    slots: max_connections + max_parallel_workers,
  };
  assertBudgetFits("postgres", memory);
  return { input, params, memory };
}
