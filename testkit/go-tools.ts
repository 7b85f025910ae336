/**
 * The Go-built test tools (testkit/tools/<tool>.sh): their binary when it is there, else built
 * once into the cache. Fails (never skips) with the command to run when the build does not produce it.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import { findBinary } from "./apt";

const ROOT = path.resolve(__dirname, "..");

/** `bin` as found, or after running testkit/tools/<script> (a cold build takes minutes). */
export function ensureGoTool(script: string, bin: string, timeoutMinutes: number): string {
  if (findBinary(bin)) return bin;
  const cmd = `bash testkit/tools/${script}`;
  try {
    // The script prints its progress and caches the result, keyed by version.
    execFileSync("bash", [path.join(ROOT, "testkit/tools", script)], {
      stdio: "inherit",
      timeout: timeoutMinutes * 60_000,
    });
  } catch (err) {
    throw new Error(`${bin} is missing and \`${cmd}\` failed: ${String(err)}`);
  }
  if (!findBinary(bin)) throw new Error(`\`${cmd}\` ran but ${bin} is missing`);
  return bin;
}
