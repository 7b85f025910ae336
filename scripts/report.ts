/**
 * Usage: npm run report -- <stack> [--png-copy <path>]
 *
 * Prints each route's worst-case synchronous latency against its budget and writes the topology
 * to out/report/<stack>/topology.{svg,png}. `--png-copy` also writes the PNG elsewhere (the docs
 * use docs/topology-prod.png). Exits 1 on a bad stack or config; an over-budget route is
 * reported, not an error (the latency policy is what blocks a deploy).
 */
import { copyFileSync } from "fs";
import * as path from "path";
import { runReport } from "./report/report";

const ROOT = path.resolve(__dirname, "..");

async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  let pngCopy: string | undefined;
  const i = args.indexOf("--png-copy");
  if (i >= 0) {
    pngCopy = args[i + 1];
    args.splice(i, 2);
  }
  const stack = args[0];
  if (!stack || args.length > 1 || (i >= 0 && !pngCopy)) {
    console.error(
      "usage: npm run report -- <stack> [--png-copy <path>]   (e.g. npm run report -- prod)",
    );
    return 1;
  }
  const result = await runReport({ root: ROOT, stack });
  // result.warnings are about secrets `pulumi up` needs; a report never connects anywhere.
  console.log(result.text);
  console.log("");
  console.log(
    `Topology: ${path.relative(process.cwd(), result.svgPath)}, ${path.relative(process.cwd(), result.pngPath)}`,
  );
  if (pngCopy) {
    copyFileSync(result.pngPath, pngCopy);
    console.log(`Copied the PNG to ${pngCopy}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    // Spec, stack and font errors are written for people: print the message, not a stack trace.
    const named = e instanceof Error && /^(SpecError|ReportError|LatencyModelError)$/.test(e.name);
    console.error(
      named || (e instanceof Error && e.message.startsWith("fjord")) ? (e as Error).message : e,
    );
    process.exit(1);
  },
);
