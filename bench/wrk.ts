/** Runs Debian's `wrk` and reads its summary (rps, latency percentiles, errors). */
import { execFile } from "child_process";
import { ensurePackages, findBinary } from "../testkit/apt";

export interface WrkOptions {
  threads: number;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
}

export interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Answers that were not 2xx/3xx (a rate limit or an error would show up here). */
  non2xx: number;
  socketErrors: number;
  raw: string;
}

export function wrkArgs(url: string, o: WrkOptions): string[] {
  const h = Object.entries(o.headers ?? {}).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
  return [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, "--latency", ...h, url];
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(raw: string, pct: string): number {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(raw);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

export function parseWrk(raw: string): WrkResult {
  const num = (re: RegExp) => Number(re.exec(raw)?.[1] ?? 0);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(raw);
  return {
    rps: num(/^Requests\/sec:\s+([\d.]+)/m),
    p50Ms: latencyMs(raw, "50"),
    p99Ms: latencyMs(raw, "99"),
    requests: num(/^\s*(\d+) requests in/m),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw,
  };
}

export function ensureWrk(): string {
  ensurePackages({ wrk: "wrk" });
  return findBinary("wrk")!;
}

export function runWrk(url: string, o: WrkOptions): Promise<WrkResult> {
  const bin = ensureWrk();
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      wrkArgs(url, o),
      { timeout: (o.durationS + 30) * 1000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`wrk ${url} failed: ${err.message}\n${stderr}`));
        const r = parseWrk(stdout);
        if (!(r.rps > 0))
          return reject(new Error(`wrk ${url}: no throughput figure in:\n${stdout}`));
        resolve(r);
      },
    );
  });
}
