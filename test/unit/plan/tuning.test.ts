import { describe, expect, it } from "vitest";
import {
  budgetFits,
  budgetTotal,
  headroomFor,
  INNODB_POOL_OVERHEAD,
  MYSQL_MAX_CONNECTIONS,
  MYSQL_MIN_CONNECTIONS,
  MYSQL_POOL_FLOOR,
  MYSQLD_BASE_OVERHEAD,
  mysqlFlavor,
  mysqlPerConnectionBytes,
  PG_BACKEND_BASE,
  PG_MAX_CONNECTIONS,
  PG_MIN_CONNECTIONS,
  PG_SERVER_OVERHEAD,
  PG_WORK_MEM_PER_QUERY,
  pgSharedMemoryOverhead,
  SAFE_FRACTIONS,
  tuneMysql,
  tunePostgres,
  type DbTuningInput,
  type DiskClass,
} from "../../../components/plan/database";
import { parseMemory } from "../../../components/config";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const SIZES = ["256Mi", "512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi"];
const DISKS: DiskClass[] = ["nvme", "ssd", "hdd"];
const CASES = SIZES.flatMap((size) => DISKS.map((disk) => ({ size, disk })));

const input = (size: string, disk: DiskClass, version: string, cpu = 2000): DbTuningInput => ({
  memoryLimitBytes: parseMemory(size),
  cpuMillis: cpu,
  disk,
  version,
});

describe("tunePostgres", () => {
  it.each(CASES)(
    "GIVEN PostgreSQL 15 with $size on $disk WHEN tuned THEN shared_buffers takes a quarter of the limit and effective_cache_size three quarters",
    ({ size, disk }) => {
      const L = parseMemory(size);
      const { params } = tunePostgres(input(size, disk, "15"));
      expect(params.shared_buffers / L).toBeGreaterThan(0.249);
      expect(params.shared_buffers / L).toBeLessThanOrEqual(0.25);
      expect(params.shared_buffers / L).toBeLessThanOrEqual(SAFE_FRACTIONS.sharedBuffersMax);
      expect(Math.abs(params.effective_cache_size - 0.75 * L)).toBeLessThan(MiB);
      expect(params.effective_cache_size).toBeLessThan(L);
    },
  );

  it.each(CASES)(
    "GIVEN PostgreSQL 15 with $size on $disk WHEN tuned THEN the worst case recomputed from the parameters fits under the limit with headroom, equals the tuner's budget, and uses over 90% of the limit",
    ({ size, disk }) => {
      const L = parseMemory(size);
      const s = tunePostgres(input(size, disk, "15"));
      const p = s.params;
      // Recomputed from the rendered parameters, not from the tuner's own bookkeeping.
      const perBackend = PG_BACKEND_BASE + p.temp_buffers + p.work_mem * PG_WORK_MEM_PER_QUERY;
      const worstCase =
        p.shared_buffers +
        p.wal_buffers +
        pgSharedMemoryOverhead(p.shared_buffers) +
        PG_SERVER_OVERHEAD +
        p.maintenance_work_mem +
        p.autovacuum_max_workers * (PG_BACKEND_BASE + p.autovacuum_work_mem) +
        (p.max_connections + p.max_parallel_workers) * perBackend;
      expect(worstCase + headroomFor(L)).toBeLessThanOrEqual(L);
      expect(PG_WORK_MEM_PER_QUERY).toBeGreaterThanOrEqual(p.hash_mem_multiplier + 1);
      expect(budgetTotal(s.memory)).toBe(worstCase);
      expect(budgetFits(s.memory)).toBe(true);
      // The model must not be so loose that it wastes a large share of the limit.
      expect(worstCase + headroomFor(L)).toBeGreaterThan(0.9 * L);
    },
  );

  it.each(CASES)(
    "GIVEN PostgreSQL 15 with $size on $disk WHEN tuned THEN connections, work_mem, maintenance_work_mem and wal_buffers stay in range",
    ({ size, disk }) => {
      const L = parseMemory(size);
      const { params } = tunePostgres(input(size, disk, "15"));
      expect(params.max_connections).toBeGreaterThanOrEqual(PG_MIN_CONNECTIONS);
      expect(params.max_connections).toBeLessThanOrEqual(PG_MAX_CONNECTIONS);
      expect(params.work_mem).toBeGreaterThanOrEqual(MiB);
      // Large work_mem multiplied by many sessions is what got a previous attempt OOM-prone.
      expect(params.work_mem).toBeLessThanOrEqual(Math.max(MiB, L / 1024));
      expect(params.maintenance_work_mem).toBeLessThanOrEqual(GiB);
      expect(params.wal_buffers).toBeLessThanOrEqual(16 * MiB);
    },
  );

  it("GIVEN PostgreSQL 15 at growing limits WHEN tuned THEN max_connections never falls, grows overall, and is about 100 from 4Gi", () => {
    const conns = SIZES.map((s) => tunePostgres(input(s, "nvme", "15")).params.max_connections);
    for (let i = 1; i < conns.length; i++) expect(conns[i]).toBeGreaterThanOrEqual(conns[i - 1]);
    expect(conns.at(-1)).toBeGreaterThan(conns[0]);
    // Roughly Debian's default of 100 once the limit is a few GiB.
    expect(tunePostgres(input("4Gi", "nvme", "15")).params.max_connections).toBeGreaterThanOrEqual(
      90,
    );
  });

  it.each(CASES)(
    "GIVEN PostgreSQL 15 with $size on $disk WHEN tuned THEN checkpoints are spread out over a large WAL and durability is on",
    ({ size, disk }) => {
      const { params } = tunePostgres(input(size, disk, "15"));
      expect(params.checkpoint_completion_target).toBe(0.9);
      expect(params.checkpoint_timeout).toBeGreaterThanOrEqual(15 * 60);
      // Never below the 1GB default: fewer checkpoints means fewer full-page images.
      expect(params.max_wal_size).toBeGreaterThanOrEqual(2 * GiB);
      expect(params.min_wal_size).toBeLessThan(params.max_wal_size);
      expect(params.wal_compression).toBe("lz4");
      expect(params.fsync).toBe("on");
      expect(params.synchronous_commit).toBe("on");
      expect(params.full_page_writes).toBe("on");
    },
  );

  it.each([
    ["nvme", 1.1, 1.1, 200, 1000],
    ["ssd", 1.1, 1.5, 100, 200],
    ["hdd", 4, 4, 2, 2],
  ] as const)(
    "GIVEN PostgreSQL 15 on %s WHEN tuned THEN random_page_cost and effective_io_concurrency follow the disk",
    (disk, rpcLo, rpcHi, eicLo, eicHi) => {
      const { params } = tunePostgres(input("2Gi", disk, "15"));
      expect(params.random_page_cost).toBeGreaterThanOrEqual(rpcLo);
      expect(params.random_page_cost).toBeLessThanOrEqual(rpcHi);
      expect(params.effective_io_concurrency).toBeGreaterThanOrEqual(eicLo);
      expect(params.effective_io_concurrency).toBeLessThanOrEqual(eicHi);
    },
  );

  it("GIVEN PostgreSQL 15 with 1 CPU, then 8 WHEN tuned THEN parallel workers follow the CPU and take from client connections", () => {
    const one = tunePostgres(input("4Gi", "nvme", "15", 1000)).params;
    expect(one.max_parallel_workers).toBe(0);
    expect(one.max_parallel_workers_per_gather).toBe(0);
    const eight = tunePostgres(input("4Gi", "nvme", "15", 8000)).params;
    expect(eight.max_parallel_workers).toBe(8);
    expect(eight.max_parallel_workers_per_gather).toBe(4);
    expect(eight.max_worker_processes).toBeGreaterThanOrEqual(eight.max_parallel_workers);
    // Parallel workers are backends too: more of them leaves fewer client connections.
    expect(eight.max_connections).toBeLessThan(one.max_connections);
  });

  it("GIVEN PostgreSQL 16.6, 14, 12 and a non-version WHEN tuned THEN lz4 WAL compression is on for 16.6 but not 14, and a version older than 13 or not a version is refused", () => {
    expect(tunePostgres(input("1Gi", "nvme", "16.6")).params.wal_compression).toBe("lz4");
    expect(tunePostgres(input("1Gi", "nvme", "14")).params.wal_compression).toBeUndefined();
    expect(() => tunePostgres(input("1Gi", "nvme", "12"))).toThrow(/older than 13/);
    expect(() => tunePostgres(input("1Gi", "nvme", "latest"))).toThrow(/version/);
  });

  it("GIVEN a limit too small for the connection floor, a zero limit or a NaN CPU WHEN PostgreSQL is tuned THEN each is refused", () => {
    expect(() => tunePostgres(input("128Mi", "nvme", "15"))).toThrow(RangeError);
    expect(() => tunePostgres({ ...input("1Gi", "nvme", "15"), memoryLimitBytes: 0 })).toThrow();
    expect(() => tunePostgres({ ...input("1Gi", "nvme", "15"), cpuMillis: NaN })).toThrow();
  });
});

describe("tuneMysql (MariaDB 10.11)", () => {
  it.each(CASES)(
    "GIVEN MariaDB 10.11 with $size on $disk WHEN tuned THEN the buffer pool is whole MiB above its floor, about 70% from 1Gi and less below",
    ({ size, disk }) => {
      const L = parseMemory(size);
      const { params, flavor } = tuneMysql(input(size, disk, "10.11"));
      expect(flavor).toBe("mariadb");
      const fraction = params.innodb_buffer_pool_size / L;
      expect(fraction).toBeLessThanOrEqual(SAFE_FRACTIONS.innodbBufferPoolMax);
      expect(params.innodb_buffer_pool_size % MiB).toBe(0);
      expect(params.innodb_buffer_pool_size).toBeGreaterThanOrEqual(MYSQL_POOL_FLOOR);
      if (L >= GiB) {
        expect(fraction).toBeGreaterThan(0.68);
        expect(fraction).toBeLessThanOrEqual(0.7);
      } else if (L < 512 * MiB) {
        // Small limits: mysqld's own overhead is too large a share for 70%.
        expect(fraction).toBeLessThan(0.5);
      } else {
        expect(fraction).toBeLessThan(0.7);
      }
    },
  );

  it.each(CASES)(
    "GIVEN MariaDB 10.11 with $size on $disk WHEN tuned THEN the worst case recomputed from the parameters counts every session buffer, fits under the limit with headroom, and equals the tuner's budget",
    ({ size, disk }) => {
      const L = parseMemory(size);
      const s = tuneMysql(input(size, disk, "10.11"));
      const p = s.params;
      const perConn = mysqlPerConnectionBytes("mariadb", p);
      const sessionBuffers =
        p.sort_buffer_size +
        p.join_buffer_size +
        p.read_buffer_size +
        p.read_rnd_buffer_size +
        p.tmp_table_size;
      // The model must count every per-session buffer the server is told it may allocate.
      expect(perConn).toBeGreaterThan(sessionBuffers);
      const worstCase =
        Math.ceil(p.innodb_buffer_pool_size * (1 + INNODB_POOL_OVERHEAD)) +
        p.innodb_log_buffer_size +
        p.key_buffer_size +
        (p.aria_pagecache_buffer_size ?? 0) +
        MYSQLD_BASE_OVERHEAD +
        (p.max_connections + 1) * perConn;
      expect(worstCase + headroomFor(L)).toBeLessThanOrEqual(L);
      expect(budgetTotal(s.memory)).toBe(worstCase);
      expect(budgetFits(s.memory)).toBe(true);
    },
  );

  it.each(CASES)(
    "GIVEN MariaDB 10.11 with $size on $disk WHEN tuned THEN connections stay in range and the single redo file is a quarter of the pool, at least 96 MiB",
    ({ size, disk }) => {
      const { params } = tuneMysql(input(size, disk, "10.11"));
      expect(params.max_connections).toBeGreaterThanOrEqual(MYSQL_MIN_CONNECTIONS);
      expect(params.max_connections).toBeLessThanOrEqual(MYSQL_MAX_CONNECTIONS);
      expect(params.tmp_table_size).toBe(params.max_heap_table_size);
      // MariaDB sizes its single redo file with innodb_log_file_size and rejects redo_log_capacity.
      expect(params.innodb_redo_log_capacity).toBeUndefined();
      expect(params.innodb_buffer_pool_chunk_size).toBeUndefined();
      const log = params.innodb_log_file_size!;
      expect(log).toBeGreaterThanOrEqual(96 * MiB);
      expect(log).toBe(
        Math.max(96 * MiB, Math.floor(params.innodb_buffer_pool_size / 4 / MiB) * MiB),
      );
    },
  );

  it("GIVEN MariaDB 10.11 at growing limits WHEN tuned THEN max_connections never falls and grows overall", () => {
    const conns = SIZES.map((s) => tuneMysql(input(s, "nvme", "10.11")).params.max_connections);
    for (let i = 1; i < conns.length; i++) expect(conns[i]).toBeGreaterThanOrEqual(conns[i - 1]);
    expect(conns.at(-1)).toBeGreaterThan(conns[0]);
  });

  it.each([
    ["nvme", 0, 2000, 4000],
    ["ssd", 0, 1000, 2000],
    ["hdd", 1, 200, 400],
  ] as const)(
    "GIVEN MariaDB 10.11 on %s WHEN tuned THEN neighbour flushing and I/O capacity follow the disk",
    (disk, neighbors, io, ioMax) => {
      const { params } = tuneMysql(input("2Gi", disk, "10.11"));
      expect(params.innodb_flush_neighbors).toBe(neighbors);
      expect(params.innodb_io_capacity).toBe(io);
      expect(params.innodb_io_capacity_max).toBe(ioMax);
    },
  );

  it.each(CASES)(
    "GIVEN MariaDB 10.11 with $size on $disk WHEN tuned THEN flush at commit, doublewrite, sync_binlog and O_DIRECT are all on",
    ({ size, disk }) => {
      const { params } = tuneMysql(input(size, disk, "10.11"));
      expect(params.innodb_flush_log_at_trx_commit).toBe(1);
      expect(params.innodb_doublewrite).toBe("ON");
      expect(params.sync_binlog).toBe(1);
      expect(params.innodb_flush_method).toBe("O_DIRECT");
    },
  );

  it("GIVEN MariaDB 11.4.4, then MySQL 8.0.36 WHEN tuned THEN innodb_flush_method is left to MariaDB 11+, which deprecates it, and set for MySQL", () => {
    expect(tuneMysql(input("1Gi", "nvme", "11.4.4")).params.innodb_flush_method).toBeUndefined();
    expect(tuneMysql(input("1Gi", "nvme", "8.0.36")).params.innodb_flush_method).toBe("O_DIRECT");
  });

  it("GIVEN a limit too small for a pool next to the connection floor WHEN MariaDB is tuned THEN it is refused", () => {
    expect(() => tuneMysql(input("160Mi", "nvme", "10.11"))).toThrow(RangeError);
  });
});

describe("tuneMysql (MySQL)", () => {
  it("GIVEN MariaDB and MySQL version strings, with and without a prefix WHEN the flavor is read THEN each is told apart", () => {
    expect(mysqlFlavor("10.11")).toBe("mariadb");
    expect(mysqlFlavor("11.4.4")).toBe("mariadb");
    expect(mysqlFlavor("mariadb-10.6")).toBe("mariadb");
    expect(mysqlFlavor("8.0.36")).toBe("mysql");
    expect(mysqlFlavor("mysql-8.4")).toBe("mysql");
  });

  it("GIVEN MySQL 8.0.36, then 8.0.20 WHEN tuned THEN redo is sized by innodb_redo_log_capacity from 8.0.30, by two log files of half of it before, and there is no Aria", () => {
    const modern = tuneMysql(input("4Gi", "ssd", "8.0.36")).params;
    expect(modern.innodb_redo_log_capacity).toBeGreaterThanOrEqual(96 * MiB);
    expect(modern.innodb_log_file_size).toBeUndefined();
    expect(modern.aria_pagecache_buffer_size).toBeUndefined();
    const old = tuneMysql(input("4Gi", "ssd", "8.0.20")).params;
    expect(old.innodb_redo_log_capacity).toBeUndefined();
    expect(old.innodb_log_file_size! * 2).toBe(modern.innodb_redo_log_capacity);
  });

  it.each(SIZES)(
    "GIVEN MySQL 8.0.36 with %s WHEN tuned THEN the pool is a whole number of chunks × instances, at most 70% of the limit",
    (size) => {
      const p = tuneMysql(input(size, "nvme", "8.0.36")).params;
      const unit = p.innodb_buffer_pool_chunk_size! * p.innodb_buffer_pool_instances!;
      expect(p.innodb_buffer_pool_size % unit).toBe(0);
      expect(p.innodb_buffer_pool_size / parseMemory(size)).toBeLessThanOrEqual(0.7);
    },
  );
});
