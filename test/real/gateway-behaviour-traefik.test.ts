/**
 * The gateway behaviour table (gateway-table.ts) against a real Traefik v3 (built from Go modules
 * by testkit/tools/traefik.sh) running the rendered traefik.yml + dynamic.yml, on loopback. Adds the
 * Traefik-only promises: HTTP/3 over QUIC and the ratio circuit breaker.
 */
import { existsSync, readFileSync } from "fs";
import { expect } from "vitest";
import { h3Get } from "../../testkit/h3check";
import { ensureTraefik, serverUp, startTraefik, type TraefikInstance } from "../../testkit/traefik";
import { GATEWAY_TEST_DOMAIN, getHttps, sleep } from "../../testkit/upstreams";
import { gatewayBehaviour, type RunningGateway } from "./gateway-table";

ensureTraefik();

/** UDP sockets bound on 127.0.0.1:port, from /proc (no tool needed). */
function udpListening(port: number): boolean {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  return ["/proc/net/udp", "/proc/net/udp6"]
    .filter(existsSync)
    .some((f) => readFileSync(f, "utf8").includes(hex));
}

gatewayBehaviour({
  name: "traefik",
  start: (plan, cert) => startTraefik({ plan, cert }),
  // Token bucket that starts full: `burst` tokens, and no waiting longer than half a token period.
  admittedAtOnce: (rl) => rl.burst,
  // Active health checks take the server out; the gauge is Traefik's own view of it.
  async awaitEjected(gw, upstream, server) {
    const t = gw as RunningGateway & TraefikInstance;
    const url = `http://127.0.0.1:${server.port}`;
    const deadline = Date.now() + 20_000;
    while (serverUp(await t.metrics(), url) !== 0) {
      if (Date.now() > deadline) throw new Error(`traefik never marked ${upstream} ${url} down`);
      await sleep(200);
    }
  },
  readmission: "health_probe",
  ratioBreaker: true,
  async http3(gw, cert) {
    const alt = (await getHttps(gw.httpsPort, cert.caPem, "/echo/h3")).headers["alt-svc"];
    expect(alt).toContain(`h3=":${gw.httpsPort}"`);
    expect(udpListening(gw.httpsPort)).toBe(true);
    const r = await h3Get(
      `https://${GATEWAY_TEST_DOMAIN}:${gw.httpsPort}/echo/h3?x=1`,
      `127.0.0.1:${gw.httpsPort}`,
      cert.caPem,
    );
    expect(r.proto).toBe("HTTP/3.0");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ upstream: "echo", url: "/echo/h3?x=1" });
  },
});
