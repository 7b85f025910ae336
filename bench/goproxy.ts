/**
 * The Go standard library's TLS reverse proxy (bench/goproxy), started on a free loopback port:
 * the gateway bench's measure of what any Go proxy, Traefik included, pays per request here.
 */
import { execFileSync } from "child_process";
import * as https from "https";
import * as path from "path";
import { buildGoProgram } from "../testkit/go-build";
import { freePort } from "../testkit/ports";
import { makeTempDir, removeDir, startProcess, waitUntilReady } from "../testkit/proc";
import type { TestCert } from "../testkit/tls";

const SRC = path.resolve(__dirname, "goproxy");

export interface GoProxy {
  httpsPort: number;
  stop(): Promise<void>;
}

/** Builds (standard library only, seconds) and starts the proxy in front of `upstreamPort`. */
export async function startGoProxy(
  upstreamPort: number,
  cert: TestCert,
  wrap?: string[],
): Promise<GoProxy> {
  const dir = makeTempDir("fjord-goproxy-");
  const bin = path.join(dir, "goproxy");
  await buildGoProgram(SRC, bin, ["-trimpath", "-ldflags=-s -w"]);
  const port = await freePort();
  const proc = startProcess(
    bin,
    [
      `-listen=127.0.0.1:${port}`,
      `-upstream=http://127.0.0.1:${upstreamPort}`,
      `-cert=${cert.certFile}`,
      `-key=${cert.keyFile}`,
    ],
    { logPath: path.join(dir, "goproxy.log"), wrap },
  );
  const answers = () =>
    new Promise<boolean>((resolve) => {
      https
        .get(
          { host: "127.0.0.1", port, ca: cert.caPem, servername: "localhost", agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          },
        )
        .on("error", () => resolve(false));
    });
  try {
    await waitUntilReady(proc, answers, "goproxy", 15_000);
  } catch (err) {
    await proc.stop("SIGKILL");
    removeDir(dir);
    throw err;
  }
  return {
    httpsPort: port,
    async stop() {
      await proc.stop("SIGTERM", 2_000);
      removeDir(dir);
    },
  };
}

/** Whether a Go toolchain is on PATH (setup installs one; a bench on a bare machine skips this). */
export function goAvailable(): boolean {
  try {
    execFileSync("go", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    console.log(
      "[bench gateway] no Go toolchain on PATH; the Go reverse-proxy reference is skipped",
    );
    return false;
  }
}
