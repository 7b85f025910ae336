/**
 * Fault drills for the gateway's per-pod upstreams on the test cluster, shared by the e2e test
 * (which asserts) and the bench (which reports): a paced HTTPS load from loopback through the
 * gateway, and the faults a pod can have, made on the host where the pod's process runs.
 */
import { readFileSync, readdirSync } from "fs";
import * as https from "https";
import type { GatewayAddress } from "./gateway-client";

export interface Sample {
  /** Send time (ms since the epoch). */
  t: number;
  ms: number;
  /** 0 when the request failed without an HTTP answer. */
  status: number;
  /** The pod that answered (the sample service's X-Served-By). */
  pod?: string;
  /** The client error when there was no HTTP answer. */
  error?: string;
  /**
   * Sent again, on a new connection, because a kept-alive one was closed under it before any
   * answer (nginx closes idle client connections when a reload retires its old workers). Node's
   * documented pattern (`req.reusedSocket`), and what browsers and Go's client do for idempotent
   * requests.
   */
  resent?: boolean;
}

export interface Load {
  samples: Sample[];
  stop(): Promise<Sample[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `workers` loops, each sending one GET at a time at most `rps` per second over its own
 * keep-alive connection, so the load stays bounded on a 2-core machine whatever the latency.
 */
export function startLoad(at: GatewayAddress, path: string, workers: number, rps: number): Load {
  const samples: Sample[] = [];
  let stopped = false;
  const agent = new https.Agent({ keepAlive: true, maxSockets: workers });
  const attempt = (t: number, resent: boolean) =>
    new Promise<Sample>((resolve) => {
      const done = (status: number, extra: Partial<Sample> = {}) =>
        resolve({ t, ms: Date.now() - t, status, ...(resent ? { resent } : {}), ...extra });
      const req = https.get(
        {
          host: at.host,
          port: at.port,
          path,
          servername: at.domain,
          headers: { Host: at.domain },
          rejectUnauthorized: false,
          // A resend takes a new connection: a reload closes every idle one at once.
          agent: resent ? false : agent,
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on("end", () =>
            done(res.statusCode ?? 0, { pod: res.headers["x-served-by"] as string }),
          );
          res.on("error", (e) =>
            done(0, { error: (e as NodeJS.ErrnoException).code ?? e.message }),
          );
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", (e) => {
        const code = (e as NodeJS.ErrnoException).code ?? e.message;
        // ECONNRESET, or EPIPE when the request was written after the close reached us.
        const closed = code === "ECONNRESET" || code === "EPIPE";
        if (req.reusedSocket && closed && !resent) resolve(attempt(t, true));
        else done(0, { error: code });
      });
    });
  const one = () => attempt(Date.now(), false);
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      const s = await one();
      samples.push(s);
      await sleep(Math.max(0, 1000 / rps - s.ms));
    }
  });
  return {
    samples,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return samples;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** p99 latency of each whole second from `from` to `to`, for samples sent in that second. */
export function p99BySecond(samples: Sample[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s + 1000 <= to; s += 1000)
    out.push(
      percentile(
        samples.filter((x) => x.t >= s && x.t < s + 1000).map((x) => x.ms),
        99,
      ),
    );
  return out;
}

/**
 * The PID, on this host, of a pod's main process: the process whose cgroup names the container
 * (containerd's ID from the pod status) and whose command line contains `cmdPart`.
 */
export function podProcess(containerId: string, cmdPart: string): number {
  const id = containerId.replace(/^[a-z]+:\/\//, "");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cgroup`, "utf8").includes(id)) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(cmdPart)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no process of container ${id} runs ${cmdPart}`);
}

/** Polls until `probe` answers, or fails naming `what`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export interface KillFigures {
  requests: number;
  /** Requests sent again after a kept-alive connection was closed before any answer. */
  resent: number;
  /** Answers that were not 200, and those of them sent after the kill (never in flight at it). */
  failures: number;
  failuresAfterKill: number;
  /** The first failures: status or client error, seconds from the kill. */
  failed: string[];
  baselineP99Ms: number;
  /**
   * Worst one-second p99 from the kill until the pod was back, and the seconds until p99 was back
   * under 2x baseline for good (within that span).
   */
  worstP99Ms: number;
  recoverySeconds: number;
  /** p99 of the requests sent once the breaker window (`windowS`) after the kill had passed. */
  p99AfterWindowMs: number;
  /** Seconds from the kill until the killed pod answered again. */
  backSeconds: number;
  /** p99 of the 3 s from the pod's return (the reload that adds it back). */
  returnP99Ms: number;
}

/** Summarises a kill drill's samples around `killAt` for pod `pod`. */
export function killFigures(
  samples: Sample[],
  killAt: number,
  pod: string,
  windowS: number,
): KillFigures {
  // The last 4 s before the kill: the first second of load pays the clients' TLS handshakes.
  const before = samples.filter((s) => s.t >= killAt - 4000 && s.t < killAt - 250);
  const baselineP99Ms = percentile(
    before.map((s) => s.ms),
    99,
  );
  const bad = samples.filter((s) => s.status !== 200);
  const back = samples.find((s) => s.t > killAt && s.pod === pod);
  // Until the pod is back: its return is another event (a reload, cold connections), shown apart.
  const backAt = back?.t ?? Math.max(...samples.map((s) => s.t));
  const p99s = p99BySecond(samples, killAt, backAt);
  const limit = Math.max(2 * baselineP99Ms, baselineP99Ms + 20);
  let lastBad = -1;
  p99s.forEach((p, i) => {
    if (p > limit) lastBad = i;
  });
  return {
    requests: samples.length,
    resent: samples.filter((s) => s.resent).length,
    failures: bad.length,
    failuresAfterKill: bad.filter((s) => s.t > killAt).length,
    failed: failureList(samples, killAt),
    baselineP99Ms,
    worstP99Ms: Math.max(...p99s.filter((p) => Number.isFinite(p))),
    recoverySeconds: lastBad + 1,
    p99AfterWindowMs: percentile(
      samples.filter((s) => s.t >= killAt + windowS * 1000).map((s) => s.ms),
      99,
    ),
    backSeconds: back ? (back.t - killAt) / 1000 : NaN,
    returnP99Ms: percentile(
      samples.filter((s) => s.t >= backAt && s.t < backAt + 3000).map((s) => s.ms),
      99,
    ),
  };
}

/** What the failed requests got, for a message: status or client error, and when (s from `t0`). */
export const failureList = (samples: Sample[], t0: number): string[] =>
  samples
    .filter((s) => s.status !== 200)
    .slice(0, 10)
    .map((s) => `${s.status || s.error} at ${((s.t - t0) / 1000).toFixed(1)} s`);
