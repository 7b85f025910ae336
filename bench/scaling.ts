/**
 * Program scaling: time and memory to build fjord's kubernetes Platform under Pulumi mocks for
 * 10, 100 and 500 services, each size in a fresh child process (scaling-child.ts). Linear growth
 * shows as a per-service cost that stays flat as the service count grows.
 */
import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";
import { fmt, median, table, type Ratio, type SectionResult } from "./report";

const exec = promisify(execFile);
const ROOT = path.resolve(__dirname, "..");
const SIZES = (process.env.FJORD_BENCH_SIZES ?? "10,100,500").split(",").map(Number);
const REPEATS = Number(process.env.FJORD_BENCH_SCALING_REPEATS ?? 1);

interface ChildResult {
  services: number;
  resources: number;
  importMs: number;
  specMs: number;
  buildMs: number;
  buildCpuMs: number;
  heapUsedMiB: number;
  heapGrowthMiB: number;
  rssMiB: number;
}

async function child(n: number): Promise<ChildResult> {
  const { stdout } = await exec(
    process.execPath,
    ["--expose-gc", "--import", "tsx", path.join(__dirname, "scaling-child.ts"), String(n)],
    {
      cwd: ROOT,
      timeout: 600_000,
      maxBuffer: 16 * 2 ** 20,
    },
  );
  const line = stdout.trim().split("\n").pop()!;
  return JSON.parse(line) as ChildResult;
}

export async function benchScaling(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  const results = new Map<number, ChildResult[]>(SIZES.map((n) => [n, []]));
  // Sizes interleaved across repeats, so a burst of other load does not land on one size only.
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const n of SIZES) {
      const r = await child(n);
      results.get(n)!.push(r);
      console.log(
        `[bench scaling] ${n} services: ${r.resources} resources, build ${fmt(r.buildCpuMs, 0)} ms CPU / ${fmt(r.buildMs, 0)} ms wall, heap +${fmt(r.heapGrowthMiB, 1)} MiB`,
      );
    }
  }
  const med = (n: number, k: keyof ChildResult) => median(results.get(n)!.map((r) => r[k]));
  const perSvc = (n: number) => med(n, "buildCpuMs") / n;
  const heapPerSvc = (n: number) => med(n, "heapGrowthMiB") / n;
  const [small, mid, large] = [SIZES[0]!, SIZES[1]!, SIZES[SIZES.length - 1]!];
  const ratios: Ratio[] = [
    {
      name: `build CPU time per service, ${large} / ${mid} services`,
      value: perSvc(large) / perSvc(mid),
      goalMax: 1.5,
      note: "flat (≈1) means linear growth; above 1 means superlinear",
    },
    {
      name: `build CPU time per service, ${large} / ${small} services`,
      value: perSvc(large) / perSvc(small),
      goalMax: 1.5,
      note: `the ${small}-service build carries the fixed cost (system namespace, gateway, observability) over few services`,
    },
    {
      name: `heap growth per service, ${large} / ${mid} services`,
      value: heapPerSvc(large) / heapPerSvc(mid),
      goalMax: 1.5,
    },
    {
      name: `resources per service, ${large} / ${mid} services`,
      value: med(large, "resources") / large / (med(mid, "resources") / mid),
    },
  ];
  const body = [
    "### Method",
    "",
    `- Each size is a fresh \`node --expose-gc --import tsx bench/scaling-child.ts N\`: \`setupMocks({ stack: "prod" })\` (testkit/mocks.ts), the prod stack file with its services replaced by N generated ones (each with a route, a database alternating PostgreSQL/MariaDB, and a call to the next service in chains of 10), \`parseSpec\`, then \`new Platform(...)\` from components/kubernetes until the mocks see no new resource.`,
    `- Build time runs from \`new Platform\` to settled (it includes ~50 ms of settle polling, the same for every size); import time (Pulumi SDK and fjord modules) is reported apart. The ratios use the build's CPU time (user + system of the child): on a shared 2-core machine wall time mostly measures the other load, CPU time measures the program. Heap growth is heapUsed after minus before the build, each after a forced GC (\`--expose-gc\`), so it is memory the program keeps. ${REPEATS} repeat(s), sizes interleaved, median reported.`,
    "",
    table(
      [
        "services",
        "resources",
        "import ms",
        "spec ms",
        "build wall ms",
        "build CPU ms",
        "CPU ms / service",
        "heap growth MiB",
        "heap MiB / service",
        "RSS MiB",
      ],
      SIZES.map((n) => [
        n,
        med(n, "resources"),
        med(n, "importMs"),
        med(n, "specMs"),
        med(n, "buildMs"),
        med(n, "buildCpuMs"),
        perSvc(n),
        med(n, "heapGrowthMiB"),
        heapPerSvc(n),
        med(n, "rssMiB"),
      ]),
    ),
    "",
    "```",
    ...SIZES.map((n) => `node --expose-gc --import tsx bench/scaling-child.ts ${n}`),
    "```",
  ].join("\n");
  return { section: "scaling", title: "Program scaling under mocks", ratios, body };
}
