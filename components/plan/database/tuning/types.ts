/** Shared vocabulary of the database tuners. Pure data: no Pulumi, no I/O. */

export type DiskClass = "nvme" | "ssd" | "hdd";

export interface DbTuningInput {
  /** The container's memory limit: everything the server allocates must fit under it. */
  memoryLimitBytes: number;
  cpuMillis: number;
  disk: DiskClass;
  /** Server version as written in the spec ("15", "16.6", "10.11", "11.4.4", "8.0.36"). */
  version: string;
}

/**
 * Upper bounds for the share of the memory limit a cache may take. Policies reuse these to reject
 * hand-written configs with the same reasoning the tuners apply.
 */
export const SAFE_FRACTIONS = {
  /** Above this InnoDB starves connections and mysqld itself of memory. */
  innodbBufferPoolMax: 0.75,
  /** Above this Postgres double-buffers with the page cache and checkpoints get spikier. */
  sharedBuffersMax: 0.4,
} as const;

/**
 * The worst-case memory account a tuner promises to stay inside. `totalBytes()` of it must not
 * exceed `limitBytes - headroomBytes`; the tuners assert this before returning.
 */
export interface MemoryBudget {
  limitBytes: number;
  /** Kept free for the kernel's per-cgroup accounting, page tables and allocator slack. */
  headroomBytes: number;
  /** Allocated once per server, labelled so reports can show where the memory goes. */
  fixed: Record<string, number>;
  /** Worst case of one connection with every per-session buffer in use. */
  perConnectionBytes: number;
  /** Connection-like slots: client connections plus background workers that use the same buffers. */
  slots: number;
}
