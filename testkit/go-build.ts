/**
 * Builds one of fjord's own small Go programs (testkit/tools/h3check, bench/goproxy) from its
 * directory: offline-safe settings (no toolchain download, go.mod as committed, no cgo), so a
 * repeat build is a Go build-cache hit.
 */
import { execFile } from "child_process";
import { promisify } from "util";

const exec = promisify(execFile);

/** `go build [flags] -o out .` in `srcDir`. */
export async function buildGoProgram(
  srcDir: string,
  out: string,
  flags: string[] = [],
): Promise<void> {
  await exec("go", ["build", ...flags, "-o", out, "."], {
    cwd: srcDir,
    env: { ...process.env, GOFLAGS: "-mod=readonly", GOTOOLCHAIN: "local", CGO_ENABLED: "0" },
    timeout: 300_000,
  });
}
