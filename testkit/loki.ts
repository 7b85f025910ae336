/**
 * Grafana Loki for real tests: the binary built from Go modules by testkit/tools/loki.sh, started on free
 * loopback ports with its config and data in a private temp dir, always stopped and removed again.
 * Also a Debian Prometheus with the remote-write receiver on, for the Loki ruler to write to.
 */
import { execFile, execFileSync } from "child_process";
import { mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import { ensureGoTool } from "./go-tools";
import { freePort } from "./ports";
import {
  makeTempDir,
  removeDir,
  startProcess,
  tail,
  waitUntilReady,
  retryOnPortRace,
  withPortRetry,
} from "./proc";
import { ensurePrometheus, type Sample } from "./prometheus";

const ROOT = path.resolve(__dirname, "..");

/** Where the Loki binary is expected (FJORD_LOKI overrides the .tools/bin link). */
export const lokiPath = (): string => process.env.FJORD_LOKI ?? path.join(ROOT, ".tools/bin/loki");

/** Path of the Loki binary, building it with testkit/tools/loki.sh when it is not there yet. */
export const ensureLoki = (): string => ensureGoTool("loki.sh", lokiPath(), 45);

export function lokiVersion(bin = ensureLoki()): string {
  const out = execFileSync(bin, ["-version"], { encoding: "utf8" });
  return /version (\S+)/.exec(out)?.[1] ?? "unknown";
}

export interface ToolResult {
  code: number;
  output: string;
}

/** `loki -config.file=<file> -verify-config`; a rejected config is a result, not a throw. */
export function verifyLokiConfig(file: string): Promise<ToolResult> {
  const bin = ensureLoki();
  return new Promise((resolve) => {
    execFile(
      bin,
      [`-config.file=${file}`, "-verify-config"],
      { timeout: 60_000, maxBuffer: 16 * 2 ** 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, output: stdout + stderr });
      },
    );
  });
}

export interface LokiStream {
  stream: Record<string, string>;
  /** [unix nanoseconds as a string, line] */
  values: Array<[string, string]>;
}

export interface LokiContext {
  dir: string;
  httpPort: number;
  grpcPort: number;
}

export interface LokiInstance extends LokiContext {
  url: string;
  configFile: string;
  logPath: string;
  push(streams: LokiStream[]): Promise<void>;
  /** Instant query (`time` in unix seconds); returns `data` of the response. */
  query(expr: string, time?: number): Promise<LokiQueryData>;
  get(pathAndQuery: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export interface LokiQueryData {
  resultType: "vector" | "streams" | "matrix" | "scalar";
  result: Array<{
    metric?: Record<string, string>;
    value?: [number, string];
    stream?: Record<string, string>;
    values?: Array<[string, string]>;
  }>;
}

async function twoPorts(): Promise<[number, number]> {
  for (;;) {
    const a = await freePort();
    const b = await freePort();
    if (a !== b) return [a, b];
  }
}

/**
 * Starts Loki with `config(ctx)` (ports and a data dir chosen here) and `files` written under the
 * dir first (relative paths, e.g. ruler files). Ready when `/ready` says so.
 */
export function startLoki(opts: {
  config: (ctx: LokiContext) => string;
  files?: (ctx: LokiContext) => Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<LokiInstance> {
  const bin = ensureLoki();
  return retryOnPortRace(async () => {
    const [httpPort, grpcPort] = await twoPorts();
    const dir = makeTempDir("fjord-loki-");
    const ctx = { dir, httpPort, grpcPort };
    for (const [rel, text] of Object.entries(opts.files?.(ctx) ?? {})) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      writeFileSync(path.join(dir, rel), text);
    }
    const configFile = path.join(dir, "loki.yaml");
    writeFileSync(configFile, opts.config(ctx));
    const url = `http://127.0.0.1:${httpPort}`;
    const proc = startProcess(bin, [`-config.file=${configFile}`], {
      logPath: path.join(dir, "loki.log"),
      cwd: dir,
    });
    const stop = async () => {
      await proc.stop("SIGTERM", 15_000);
      removeDir(dir);
    };
    try {
      await waitUntilReady(
        proc,
        async () => (await fetch(`${url}/ready`)).ok,
        "loki",
        opts.readyTimeoutMs ?? 90_000,
      );
    } catch (err) {
      await stop();
      throw err;
    }
    const get = async (p: string) => {
      const res = await fetch(`${url}${p}`);
      return { status: res.status, body: await res.text() };
    };
    return {
      ...ctx,
      url,
      configFile,
      logPath: proc.logPath,
      get,
      async push(streams) {
        const res = await fetch(`${url}/loki/api/v1/push`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ streams }),
        });
        if (res.status !== 204)
          throw new Error(
            `loki push: HTTP ${res.status} ${await res.text()}\n${tail(proc.logPath)}`,
          );
      },
      async query(expr, time) {
        const q = new URLSearchParams({ query: expr });
        if (time !== undefined) q.set("time", String(time));
        const { status, body } = await get(`/loki/api/v1/query?${q}`);
        if (status !== 200) throw new Error(`loki query ${expr}: HTTP ${status} ${body}`);
        const parsed = JSON.parse(body) as { status: string; data: LokiQueryData };
        if (parsed.status !== "success") throw new Error(`loki query ${expr}: ${body}`);
        return parsed.data;
      },
      stop,
    };
  });
}

export interface ReceiverInstance {
  url: string;
  logPath: string;
  query(expr: string): Promise<Sample[]>;
  stop(): Promise<void>;
}

/** Debian Prometheus with no scrape jobs and `--web.enable-remote-write-receiver`. */
export function startRemoteWriteReceiver(): Promise<ReceiverInstance> {
  const bin = ensurePrometheus().prometheus;
  return withPortRetry(async (port) => {
    const dir = makeTempDir("fjord-prom-rw-");
    const configFile = path.join(dir, "prometheus.yml");
    writeFileSync(configFile, "global:\n  evaluation_interval: 15s\n");
    const url = `http://127.0.0.1:${port}`;
    const proc = startProcess(
      bin,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--web.enable-remote-write-receiver",
      ],
      { logPath: path.join(dir, "prometheus.log"), cwd: dir },
    );
    const stop = async () => {
      await proc.stop("SIGTERM", 10_000);
      removeDir(dir);
    };
    try {
      await waitUntilReady(proc, async () => (await fetch(`${url}/-/ready`)).ok, "prometheus");
    } catch (err) {
      await stop();
      throw err;
    }
    return {
      url,
      logPath: proc.logPath,
      async query(expr) {
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await res.json()) as { status: string; data?: { result: Sample[] } };
        if (body.status !== "success") throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
        return body.data!.result;
      },
      stop,
    };
  });
}
