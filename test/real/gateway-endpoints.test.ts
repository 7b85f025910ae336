/**
 * Endpoint-aware upstreams on real proxies: the rendered watcher script resolves a name (through a
 * private /etc/hosts, as a headless Service resolves through cluster DNS) into one upstream server
 * per address, and re-resolves it while the proxy serves. Backends listen on 127.0.0.2-4, one
 * port. nginx is Debian's 1.22; Traefik is built by testkit/tools/traefik.sh.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeGatewayPlan, type GatewayKind } from "../../components/plan/gateway";
import { startNginxWithEndpoints, type EndpointsGateway } from "../../testkit/endpoints";
import { freePort } from "../../testkit/ports";
import { makeTempDir, removeDir } from "../../testkit/proc";
import { createTestTls, type TestCert } from "../../testkit/tls";
import { serverUp } from "../../testkit/traefik";
import {
  GATEWAY_TEST_DOMAIN as DOMAIN,
  getHttps,
  parseEcho,
  sleep,
  startUpstream,
  type TestUpstream,
} from "../../testkit/upstreams";

const NAME = "orders.pods.test";
const PODS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"] as const;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe.each(["nginx", "traefik"] as const)(
  "%s with endpoint-aware upstreams (real proxy, real getent)",
  (kind: GatewayKind) => {
    let pki: string;
    let cert: TestCert;
    let port: number;
    const pods = new Map<string, TestUpstream>();
    let fallback: TestUpstream;
    let gw: EndpointsGateway;

    beforeAll(async () => {
      pki = makeTempDir("fjord-ep-pki-");
      cert = createTestTls(pki, { dnsNames: [DOMAIN] }).cert;
      port = await freePort();
      for (const ip of PODS) pods.set(ip, await startUpstream({ name: ip, host: ip, port }));
      fallback = await startUpstream({ name: "fallback" });
      const plan = makeGatewayPlan({
        kind,
        domains: [DOMAIN],
        tls: { certFile: "/unused", keyFile: "/unused" },
        stripHeaders: ["X-User-Email"],
        routes: [
          { name: "orders", path: "/orders/", public: false, upstream: "orders", budgetMs: 2000 },
        ],
        upstreams: [
          {
            name: "orders",
            servers: [{ host: "127.0.0.1", port: fallback.port }],
            endpoints: { host: NAME, port },
          },
        ],
        rateLimit: { average: 10_000, burst: 10_000 },
        upstream: { maxFails: 1, failTimeoutSeconds: 30 },
      });
      gw = await startNginxWithEndpoints({
        plan,
        cert,
        hosts: { [NAME]: [PODS[0], PODS[1]] },
        intervalSeconds: 1,
        settlePolls: 3,
      });
    }, 60_000);

    afterAll(async () => {
      await gw?.stop();
      for (const p of pods.values()) await p.close();
      await fallback?.close();
      if (pki) removeDir(pki);
    });

    /** `n` GETs; who answered each (the echo's name), or the status when not 200. */
    async function spread(n: number, tag = "x"): Promise<Record<string, number>> {
      const seen: Record<string, number> = {};
      for (let i = 0; i < n; i++) {
        const r = await getHttps(gw.httpsPort, cert.caPem, `/orders/${tag}-${i}`);
        const who = r.status === 200 ? (parseEcho(r.body)?.upstream ?? "?") : String(r.status);
        seen[who] = (seen[who] ?? 0) + 1;
      }
      return seen;
    }

    it("GIVEN the name resolves to two pods WHEN ten requests arrive THEN each pod serves five, and the watcher started with both as servers", async () => {
      // GIVEN the name resolves to two pods WHEN requests arrive THEN both pods serve, in turn
      await until("the route to serve", async () => ((await spread(1))["404"] ? undefined : true));
      expect(await spread(10)).toEqual({ [PODS[0]]: 5, [PODS[1]]: 5 });
      expect(gw.watcherLog()[0]).toBe(
        `fjord-endpoints: started with orders ${PODS[0]}:${port} ${PODS[1]}:${port};`,
      );
    });

    it("GIVEN pod 2 killed while its address stays in the name WHEN ten requests arrive THEN pod 1 serves all ten and the proxy stops trying pod 2 (nginx tried it once; Traefik marks it down)", async () => {
      // GIVEN pod 2 dies without its address leaving DNS yet
      await pods.get(PODS[1])!.kill();
      // WHEN requests keep coming THEN none fails: a refused try moves on to pod 1
      expect(await spread(10, "dead")).toEqual({ [PODS[0]]: 10 });
      if (kind === "nginx") {
        // ... and nginx tried pod 2 once (then pod 1); after max_fails (1) never again. The
        // access log is buffered: wait for its flush.
        const tried = await until("the access log to be flushed", async () => {
          const l = gw.accessLog().filter((e) => e.path?.startsWith("/orders/dead-"));
          return l.length >= 10 ? l.map((e) => e.upstream!) : undefined;
        });
        expect(
          tried.filter((u) => u.includes(PODS[1])),
          tried.join(" | "),
        ).toEqual([`${PODS[1]}:${port}, ${PODS[0]}:${port}`]);
      } else {
        // ... and Traefik's passive health check took pod 2 out after maxFailedAttempts (1)
        expect(serverUp(await gw.metrics(), `http://${PODS[1]}:${port}`)).toBe(0);
      }
      await pods.get(PODS[1])!.revive();
    });

    it("GIVEN the running gateway WHEN the name changes to pods 1 and 3 THEN pod 3 serves within a few polls, the new set is applied once, and only pods 1 and 3 serve", async () => {
      const before = gw.watcherLog().length;
      // WHEN the name gains pod 3 (a scale-up, or a replaced pod becoming ready)
      gw.setHosts({ [NAME]: [PODS[0], PODS[2]] });
      // THEN pod 3 serves within a few polls, and the set was applied once
      await until("pod 3 to serve", async () => ((await spread(4))[PODS[2]] ? true : undefined));
      await sleep(2500);
      expect(gw.watcherLog().slice(before)).toEqual([
        `fjord-endpoints: applied orders ${PODS[0]}:${port} ${PODS[2]}:${port};`,
      ]);
      expect(Object.keys(await spread(10)).sort()).toEqual([PODS[0], PODS[2]]);
    });

    it("GIVEN the running gateway WHEN the name flaps to another set for less than the settle time and back THEN the watcher applies nothing (no reload storm)", async () => {
      const before = gw.watcherLog().length;
      // WHEN the name flaps to another set for less than the settle time (3 polls of 1 s) and back
      gw.setHosts({ [NAME]: [PODS[1]] });
      await sleep(1200);
      gw.setHosts({ [NAME]: [PODS[0], PODS[2]] });
      await sleep(3500);
      // THEN nothing was applied
      expect(gw.watcherLog().slice(before)).toEqual([]);
    });

    it("GIVEN the running gateway WHEN the name resolves to nothing THEN the fixed fallback server gets the traffic and is the set applied", async () => {
      // WHEN every pod is gone from the name (no ready replica)
      gw.setHosts({});
      // THEN the fallback server (a Service's ClusterIP on Kubernetes) gets the traffic
      await until("the fallback to serve", async () =>
        (await spread(2)).fallback === 2 ? true : undefined,
      );
      expect(gw.watcherLog().at(-1)).toBe(
        `fjord-endpoints: applied orders 127.0.0.1:${fallback.port};`,
      );
    });
  },
);
