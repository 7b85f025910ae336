/**
 * The one Prometheus launcher for real tests: Debian's `prometheus` on a free loopback port, with
 * its config, rule files and TSDB in a private temp dir, always stopped and removed again. Also
 * runs `promtool`, which comes in the same package.
 */
import { execFile } from "child_process";
import { writeFileSync } from "fs";
import * as path from "path";
import { ensurePackages, findBinary } from "./apt";
import { makeTempDir, removeDir, startProcess, tail, waitUntilReady, withPortRetry } from "./proc";

/** Installs Debian's prometheus (server and promtool) when missing. */
export function ensurePrometheus(): { prometheus: string; promtool: string } {
  ensurePackages({ prometheus: "prometheus", promtool: "prometheus" });
  return { prometheus: findBinary("prometheus")!, promtool: findBinary("promtool")! };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs promtool and returns its exit code and output (a failed check is a result, not a throw). */
export function promtool(
  args: string[],
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const bin = ensurePrometheus().promtool;
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 2 ** 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface StartPrometheusOptions {
  /** prometheus.yml, or a function of the chosen port and directory (rule file paths live there). */
  config: string | ((ctx: { port: number; dir: string }) => string);
  /** Extra files written next to the config (rule files), by name. */
  files?: Record<string, string>;
  /** @default 30000 */
  readyTimeoutMs?: number;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PrometheusInstance {
  port: number;
  url: string;
  dir: string;
  logPath: string;
  /** Instant query through the HTTP API. */
  query(expr: string): Promise<Sample[]>;
  /** Polls `expr` until `done` accepts the result; throws with the server log on timeout. */
  waitFor(expr: string, done: (r: Sample[]) => boolean, timeoutMs?: number): Promise<Sample[]>;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<PrometheusInstance> {
  const bin = ensurePrometheus().prometheus;
  return withPortRetry(async (port) => {
    const dir = makeTempDir("fjord-prometheus-");
    for (const [name, text] of Object.entries(opts.files ?? {}))
      writeFileSync(path.join(dir, name), text);
    const configText = typeof opts.config === "function" ? opts.config({ port, dir }) : opts.config;
    const configFile = path.join(dir, "prometheus.yml");
    writeFileSync(configFile, configText);
    const url = `http://127.0.0.1:${port}`;
    const proc = startProcess(
      bin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { logPath: path.join(dir, "prometheus.log"), cwd: dir },
    );
    const stop = async () => {
      await proc.stop("SIGTERM", 10_000);
      removeDir(dir);
    };
    try {
      await waitUntilReady(
        proc,
        async () => (await fetch(`${url}/-/ready`)).ok,
        "prometheus",
        opts.readyTimeoutMs ?? 30_000,
      );
    } catch (err) {
      // withPortRetry tries another port when the log says this one was taken.
      await stop();
      throw err;
    }
    const query = async (expr: string): Promise<Sample[]> => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as {
        status: string;
        data?: { result: Sample[] };
        error?: string;
      };
      if (body.status !== "success") throw new Error(`query ${expr} failed: ${body.error}`);
      return body.data!.result;
    };
    return {
      port,
      url,
      dir,
      logPath: proc.logPath,
      query,
      async waitFor(expr, done, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        let last: Sample[] = [];
        while (Date.now() < deadline) {
          last = await query(expr);
          if (done(last)) return last;
          await new Promise((r) => setTimeout(r, 250));
        }
        throw new Error(
          `prometheus: ${expr} still ${JSON.stringify(last)} after ${timeoutMs}ms\n${tail(proc.logPath)}`,
        );
      },
      stop,
    };
  });
}
