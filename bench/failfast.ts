/**
 * How fast a gateway answers once every upstream is dead and its breaker is open: nginx after
 * max_fails ("no live upstreams"), Traefik after its circuit breaker trips.
 */
import * as https from "https";
import { findBinary } from "../testkit/apt";
import { nginxConfForPlan, startNginx, tlsFiles } from "../testkit/nginx";
import type { TestCert } from "../testkit/tls";
import { startTraefik, traefikPath } from "../testkit/traefik";
import { getHttps, startUpstream } from "../testkit/upstreams";
import type { GatewayPlan } from "../components/plan/gateway";
import { percentile } from "./report";

const log = (s: string) => console.log(`[bench gateway] ${s}`);

export interface FailFast {
  gateway: string;
  firstMs: number;
  openAfterMs: number;
  openAfterRequests: number;
  openStatus: number;
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** Sequential requests against a gateway whose upstreams are all dead; splits before/after open. */
async function measureFailFast(
  gateway: string,
  port: number,
  cert: TestCert,
  opened: (status: number, i: number) => boolean,
): Promise<FailFast> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const t0 = Date.now();
  const samples: Array<{ at: number; status: number; ms: number }> = [];
  try {
    // Bounded: 15 s or 4000 requests, whichever comes first.
    while (Date.now() - t0 < 15_000 && samples.length < 4000) {
      const r = await getHttps(port, cert.caPem, "/", {}, agent).catch(() => ({
        status: -1,
        ms: NaN,
      }));
      samples.push({ at: Date.now() - t0, status: r.status, ms: r.ms });
      const open = samples.filter((s, i) => opened(s.status, i));
      if (open.length >= 1000) break;
    }
  } finally {
    agent.destroy();
  }
  const firstOpen = samples.findIndex((s, i) => opened(s.status, i));
  const open = samples.slice(firstOpen < 0 ? samples.length : firstOpen).map((s) => s.ms);
  return {
    gateway,
    firstMs: samples[0]?.ms ?? NaN,
    openAfterMs: firstOpen < 0 ? NaN : samples[firstOpen]!.at,
    openAfterRequests: firstOpen,
    openStatus: firstOpen < 0 ? 0 : samples[firstOpen]!.status,
    p50: percentile(open, 50),
    p99: percentile(open, 99),
    max: Math.max(...open),
    samples: open.length,
  };
}

export async function failFastRuns(
  cert: TestCert,
  benchPlan: (ports: number[]) => GatewayPlan,
): Promise<FailFast[]> {
  // Two servers that were alive and were killed: their ports refuse connections.
  const dead = await Promise.all([startUpstream(), startUpstream()]);
  await Promise.all(dead.map((d) => d.kill()));
  // The plan must serve the test domain: getHttps sends it as SNI and Host.
  const plan = benchPlan(dead.map((d) => d.port));
  const out: FailFast[] = [];
  const gw = await startNginx({ confText: nginxConfForPlan(plan), files: tlsFiles(cert) });
  try {
    // Each request tries both servers; after max_fails each, nginx answers "no live upstreams" at once.
    const opensAt = plan.upstream.maxFails;
    out.push(
      await measureFailFast("nginx", gw.httpsPort, cert, (s, i) => s === 502 && i >= opensAt),
    );
  } finally {
    await gw.stop();
  }
  if (traefikAvailable()) {
    const t = await startTraefik({ plan: { ...plan, kind: "traefik" }, cert, readyPath: "/" });
    try {
      // Traefik answers 502 (after its retries) until the breaker trips, then 503 without calling.
      out.push(await measureFailFast("traefik", t.httpsPort, cert, (s) => s === 503));
    } finally {
      await t.stop();
    }
  }
  return out;
}

/** The bench never builds Traefik (minutes); it uses the binary testkit/tools/traefik.sh left, if any. */
export function traefikAvailable(): boolean {
  const ok = findBinary(traefikPath()) !== undefined;
  if (!ok) log("Traefik is not built (bash testkit/tools/traefik.sh); its figures are skipped");
  return ok;
}
