/**
 * Properties of the pure core, over generated inputs (fast-check), rather than chosen examples:
 * the tuners stay inside the container and grow with it, the rendered files read back as the plan
 * (with the policy pack's own parsers where it has them), and the latency worst case is the
 * costliest path of the call graph.
 */
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MiB } from "../../../components/config";
import {
  budgetTotal,
  renderMyCnf,
  renderPostgresqlConf,
  tuneMysql,
  tunePostgres,
  type DbTuningInput,
} from "../../../components/plan/database";
import {
  analyzeRoutes,
  rttBetween,
  rttTable,
  type LatencyModel,
  type LatencyService,
} from "../../../components/plan/latency";
import {
  mysqlBytes,
  mysqlPool,
  postgresBytes,
  postgresSharedBuffers,
} from "../../../lib/parse/dbconf";

const RUNS = { numRuns: 300 };
const disk = fc.constantFrom("nvme" as const, "ssd" as const, "hdd" as const);
const cpu = fc.integer({ min: 100, max: 16_000 });
// From the smallest limit each tuner accepts at any CPU up to 16 cores (PostgreSQL needs more as
// parallel workers take connection slots) to a large VPS; whole MiB, as Kubernetes quantities are.
const memoryMiB = (min: number) => fc.integer({ min, max: 64 * 1024 });
const PG_VERSIONS = ["13", "14", "15.8", "16", "16.6", "17"];
const MY_VERSIONS = ["10.6", "10.11", "11.4.4", "8.0.36", "8.4"];

const tuners = [
  {
    engine: "postgres",
    versions: PG_VERSIONS,
    minMiB: 288,
    tune: (i: DbTuningInput) => tunePostgres(i),
    caches: (i: DbTuningInput) => {
      const p = tunePostgres(i).params;
      return [p.shared_buffers, p.effective_cache_size, p.maintenance_work_mem];
    },
  },
  {
    engine: "mysql",
    versions: MY_VERSIONS,
    minMiB: 192,
    tune: (i: DbTuningInput) => tuneMysql(i),
    caches: (i: DbTuningInput) => [tuneMysql(i).params.innodb_buffer_pool_size],
  },
] as const;

describe("database tuning, over every limit, CPU, disk class and version", () => {
  for (const t of tuners) {
    it(`GIVEN any ${t.engine} memory limit, CPU, disk class and version WHEN tuned THEN the worst-case memory account plus headroom never exceeds the container limit`, () => {
      fc.assert(
        fc.property(
          memoryMiB(t.minMiB),
          cpu,
          disk,
          fc.constantFrom(...t.versions),
          (m, c, d, v) => {
            const s = t.tune({ memoryLimitBytes: m * MiB, cpuMillis: c, disk: d, version: v });
            expect(budgetTotal(s.memory) + s.memory.headroomBytes).toBeLessThanOrEqual(m * MiB);
          },
        ),
        RUNS,
      );
    });

    it(`GIVEN any ${t.engine} memory limit and a larger one WHEN both are tuned THEN no cache is smaller at the larger limit`, () => {
      fc.assert(
        fc.property(
          memoryMiB(t.minMiB),
          fc.integer({ min: 1, max: 8 * 1024 }),
          cpu,
          disk,
          fc.constantFrom(...t.versions),
          (m, extra, c, d, v) => {
            const at = (mib: number) =>
              t.caches({ memoryLimitBytes: mib * MiB, cpuMillis: c, disk: d, version: v });
            const [small, large] = [at(m), at(m + extra)];
            small.forEach((bytes, i) => expect(large[i]).toBeGreaterThanOrEqual(bytes));
          },
        ),
        RUNS,
      );
    });
  }
});

/** `name = value` lines of a rendered file (comments and section headers skipped). */
function assignments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_][a-z0-9_-]*)\s*=\s*(.*)$/.exec(line.trim());
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

const PG_SECONDS: Record<string, number> = { s: 1, min: 60, h: 3600, d: 86_400 };
function postgresValue(raw: string): number | string {
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const time = /^(\d+)(s|min|h|d)$/.exec(raw);
  if (time) return Number(time[1]) * PG_SECONDS[time[2]];
  return postgresBytes(raw) ?? raw;
}
const mysqlValue = (raw: string): number | string =>
  /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : (mysqlBytes(raw) ?? raw);

describe("rendered database configs read back as the plan", () => {
  const input = fc.record({
    memoryLimitBytes: memoryMiB(288).map((m) => m * MiB),
    cpuMillis: cpu,
    disk,
  });

  it("GIVEN any PostgreSQL tuning WHEN postgresql.conf is rendered and read back THEN every parameter has its planned value, and the policy pack reads the planned shared_buffers", () => {
    fc.assert(
      fc.property(input, fc.constantFrom(...PG_VERSIONS), (i, version) => {
        const s = tunePostgres({ ...i, version });
        const text = renderPostgresqlConf(s);
        const read = assignments(text);
        for (const [name, value] of Object.entries(s.params)) {
          expect(read.has(name), name).toBe(true);
          expect(postgresValue(read.get(name)!), name).toEqual(value);
        }
        expect(postgresSharedBuffers(text)?.bytes).toBe(s.params.shared_buffers);
      }),
      RUNS,
    );
  });

  it("GIVEN any MariaDB or MySQL tuning WHEN my.cnf is rendered and read back THEN every parameter has its planned value, and the policy pack reads the planned buffer pool", () => {
    fc.assert(
      fc.property(input, fc.constantFrom(...MY_VERSIONS), (i, version) => {
        const s = tuneMysql({ ...i, version });
        const text = renderMyCnf(s);
        const read = assignments(text);
        for (const [name, value] of Object.entries(s.params)) {
          expect(read.has(name), name).toBe(true);
          expect(mysqlValue(read.get(name)!), name).toEqual(value);
        }
        expect(mysqlPool(text)?.bytes).toBe(s.params.innodb_buffer_pool_size);
      }),
      RUNS,
    );
  });
});

const REGIONS = ["no-osl1", "no-osl2", "se-sto1", "de-fra1"];

/** A call graph without cycles: service i only calls services after it. */
const latencyModel: fc.Arbitrary<LatencyModel> = fc
  .integer({ min: 1, max: 7 })
  .chain((n) =>
    fc.record({
      gatewayRegion: fc.constantFrom(...REGIONS),
      services: fc.tuple(
        ...Array.from({ length: n }, (_, i) =>
          fc.record({
            region: fc.constantFrom(...REGIONS),
            processingBudgetMs: fc.integer({ min: 0, max: 80 }),
            calls: fc.uniqueArray(
              fc.record({
                to: fc.integer({ min: i + 1, max: n }),
                fanOut: fc.integer({ min: 1, max: 4 }),
                mode: fc.constantFrom("sequential" as const, "parallel" as const),
              }),
              { maxLength: n - i - 1, selector: (c) => c.to },
            ),
          }),
        ),
      ),
      entries: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: n }),
    }),
  )
  .map(({ gatewayRegion, services, entries }) => {
    const name = (i: number) => `s${i}`;
    const svc: LatencyService[] = services.map((s, i) => ({
      name: name(i),
      region: s.region,
      processingBudgetMs: s.processingBudgetMs,
      calls: s.calls
        .filter((c) => c.to < services.length)
        .map((c) => ({ service: name(c.to), fanOut: c.fanOut, mode: c.mode })),
    }));
    return {
      gateway: { region: gatewayRegion },
      services: svc,
      routes: entries.map((e) => ({ path: `/${name(e)}/`, service: name(e), budgetMs: 100 })),
      rtt: rttTable({}),
    };
  });

/** The cost of every path from `from`, enumerated independently of the analysis. */
function pathCosts(model: LatencyModel, from: string, fromRegion: string): number[] {
  const byName = new Map(model.services.map((s) => [s.name, s]));
  // Every prefix is a path too: a caller's cost counts even where its callees add nothing.
  const walk = (s: LatencyService, multiplier: number, here: number): number[] => {
    const out: number[] = [here];
    for (const c of s.calls) {
      const callee = byName.get(c.service)!;
      const times = multiplier * (c.mode === "sequential" ? c.fanOut : 1);
      const hop =
        times * (rttBetween(model.rtt, s.region, callee.region).ms + callee.processingBudgetMs);
      out.push(...walk(callee, times, here + hop));
    }
    return out;
  };
  const entry = byName.get(from)!;
  const first = rttBetween(model.rtt, fromRegion, entry.region).ms + entry.processingBudgetMs;
  return walk(entry, 1, first);
}

describe("latency analysis over generated call graphs", () => {
  it("GIVEN any acyclic call graph WHEN its routes are analyzed THEN each worst case is at least every path's cost, equals the costliest, and its chain's hops sum to it", () => {
    fc.assert(
      fc.property(latencyModel, (model) => {
        for (const r of analyzeRoutes(model)) {
          const costs = pathCosts(model, r.service, model.gateway.region);
          for (const c of costs) expect(r.worstCaseMs).toBeGreaterThanOrEqual(c - 1e-9);
          expect(r.worstCaseMs).toBeCloseTo(Math.max(...costs), 9);
          // The reported chain is one of those paths, and its hops sum to the worst case.
          expect(r.hops.reduce((a, h) => a + h.costMs, 0)).toBeCloseTo(r.worstCaseMs, 9);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("GIVEN any acyclic call graph WHEN a call is added THEN no route's worst case goes down", () => {
    fc.assert(
      fc.property(latencyModel, fc.nat(), fc.nat(), (model, a, b) => {
        const n = model.services.length;
        if (n < 2) return;
        const [i, j] = [a % (n - 1), 0];
        const to = i + 1 + ((b + j) % (n - i - 1));
        const before = analyzeRoutes(model).map((r) => r.worstCaseMs);
        const more = structuredClone(model);
        const caller = more.services[i];
        if (caller.calls.some((c) => c.service === `s${to}`)) return;
        caller.calls.push({ service: `s${to}`, fanOut: 1, mode: "sequential" });
        analyzeRoutes(more).forEach((r, k) =>
          expect(r.worstCaseMs).toBeGreaterThanOrEqual(before[k] - 1e-9),
        );
      }),
      { numRuns: 300 },
    );
  });
});
