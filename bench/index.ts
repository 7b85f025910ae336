/**
 * npm run bench [-- gateway|db|scaling|policy|cluster|endpoints|backups ...]: measures what fjord's choices buy and writes
 * BENCHMARKS.md. With no argument every section runs, in one process, on one machine. Sections run
 * one after another (never in parallel: they would measure each other).
 */
import * as path from "path";
import { machineHeader, machineLine } from "./machine";
import { writeBenchmarks, type SectionResult } from "./report";

type Section = () => Promise<Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">>;

const SECTIONS: Record<string, () => Promise<Section>> = {
  gateway: async () => (await import("./gateway.js")).benchGateway,
  db: async () => (await import("./db.js")).benchDatabases,
  scaling: async () => (await import("./scaling.js")).benchScaling,
  policy: async () => (await import("./policy.js")).benchPolicy,
  cluster: async () => (await import("./cluster.js")).benchCluster,
  endpoints: async () => (await import("./endpoints.js")).benchEndpoints,
  backups: async () => (await import("./backups.js")).benchBackups,
};

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a) => a !== "--");
  const unknown = asked.filter((a) => !(a in SECTIONS));
  if (unknown.length) {
    console.error(
      `unknown section(s): ${unknown.join(", ")}; choose from: ${Object.keys(SECTIONS).join(", ")}`,
    );
    process.exit(2);
  }
  const names = asked.length ? asked : Object.keys(SECTIONS);
  const file = path.resolve(__dirname, "../BENCHMARKS.md");
  const results: SectionResult[] = [];
  const t0 = Date.now();
  const runId = new Date(t0).toISOString().replace(/\.\d+Z$/, "Z");
  let failed = 0;
  for (const name of names) {
    const started = new Date();
    const machine = machineLine();
    console.log(`[bench] ${name}: starting (${machine})`);
    try {
      const run = await (await SECTIONS[name]!())();
      const r = {
        ...run,
        machine,
        runId,
        startedAt: started.toISOString().replace(/\.\d+Z$/, "Z"),
        durationS: (Date.now() - started.getTime()) / 1000,
      };
      results.push(r);
      // Written after each section, so a later failure keeps what was measured.
      writeBenchmarks(file, results, machineHeader());
      console.log(`[bench] ${name}: done in ${Math.round(r.durationS)} s`);
    } catch (err) {
      failed++;
      console.error(`[bench] ${name} FAILED: ${(err as Error).stack ?? String(err)}`);
    }
  }
  console.log(
    `[bench] ${results.length} section(s) written to ${file} in ${Math.round((Date.now() - t0) / 1000)} s`,
  );
  // Servers started by the launchers are killed by their exit hook.
  process.exit(failed ? 1 : 0);
}

void main();
