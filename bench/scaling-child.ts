/**
 * One program build under Pulumi mocks, in a process of its own so each size starts from the same
 * cold heap: `scaling-child.ts <services> [resources.json]`. Prints one JSON line with the timing
 * and memory; with a second argument it also writes every registered resource there (the policy
 * bench evaluates those).
 */
import { writeFileSync } from "fs";
import { setupMocks, stackConfig } from "../testkit/mocks";
import { parseSpec } from "../components/config";

const SAFE_JSON = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

/** The prod stack file with its services replaced by `n` generated ones (a call chain, one DB each). */
export function specValues(n: number): Record<string, unknown> {
  const values = Object.fromEntries(
    Object.entries(stackConfig("prod")).map(([k, v]) => [k.slice("fjord:".length), SAFE_JSON(v)]),
  );
  const services = Array.from({ length: n }, (_, i) => ({
    name: `svc${i}`,
    image: `registry.example.no/svc${i}:1.0.${i}`,
    replicas: 2,
    resources: {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "100m", memory: "128Mi" },
    },
    route: { path: `/svc${i}/`, budgetMs: 500 },
    processingBudgetMs: 5,
    // Each service calls the next one, so the latency model and network policies have edges to do.
    calls: i + 1 < n && i % 10 !== 9 ? [`svc${i + 1}`] : [],
    database: {
      engine: i % 2 ? "mysql" : "postgres",
      memory: "512Mi",
      cpu: "250m",
      storage: "1Gi",
    },
  }));
  return { ...values, services };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2]);
  const dump = process.argv[3];
  if (!Number.isInteger(n) || n < 1)
    throw new Error("usage: scaling-child.ts <services> [resources.json]");
  const t0 = performance.now();
  const rec = await setupMocks({ stack: "prod" });
  const { Platform } = await import("../components/kubernetes/index.js");
  const tImport = performance.now();
  // With --expose-gc (scaling.ts passes it) heap figures are live memory, not garbage not yet collected.
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const spec = parseSpec({ stack: "prod", values: specValues(n), secrets: {}, dryRun: true }).spec;
  const tSpec = performance.now();
  const cpu0 = process.cpuUsage();
  new Platform("fjord", { spec });
  await rec.settle();
  const tDone = performance.now();
  const cpu = process.cpuUsage(cpu0);
  gc();
  const mem = process.memoryUsage();
  if (dump) writeFileSync(dump, JSON.stringify(rec.resources));
  console.log(
    JSON.stringify({
      services: n,
      resources: rec.resources.length,
      importMs: tImport - t0,
      specMs: tSpec - tImport,
      // settle() waits ~50 ms of quiet at the end; it is the same constant for every size.
      buildMs: tDone - tSpec,
      // CPU time is what the build costs; wall time also holds whatever else the machine ran.
      buildCpuMs: (cpu.user + cpu.system) / 1000,
      heapUsedMiB: mem.heapUsed / 2 ** 20,
      heapGrowthMiB: (mem.heapUsed - heap0) / 2 ** 20,
      rssMiB: mem.rss / 2 ** 20,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
