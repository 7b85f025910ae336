/**
 * The rendered nginx gateway's TLS speed settings, read back from real handshakes with
 * `openssl s_client`: a session ticket survives a restart of the gateway (and a key rotation),
 * and the certificate follows what the client can verify: ECDSA when it can, RSA when it cannot.
 */
import { randomBytes } from "crypto";
import { execFile } from "child_process";
import * as https from "https";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeGatewayPlan, renderNginxConf, type GatewayPlan } from "../../components/plan/gateway";
import { ensureNginx, planForPorts, startNginx, type NginxInstance } from "../../testkit/nginx";
import { makeTempDir, removeDir } from "../../testkit/proc";
import { createTestCa, issueTestCert, type TestCert } from "../../testkit/tls";

const DOMAIN = "api.example.test";

function plan(tickets: boolean): GatewayPlan {
  return makeGatewayPlan({
    kind: "nginx",
    domains: [DOMAIN],
    // Paths relative to the launcher's prefix (the config's directory); see files() below.
    tls: {
      certFile: "tls/ecdsa.crt",
      keyFile: "tls/ecdsa.key",
      rsaFallback: { certFile: "tls/rsa.crt", keyFile: "tls/rsa.key" },
      ...(tickets
        ? { sessionTicketKeyFiles: ["tickets/current.key", "tickets/previous.key"] }
        : {}),
    },
    routes: [{ name: "app", path: "/", public: false, upstream: "app", budgetMs: 2000 }],
    // Nothing listens on port 9: the handshakes are what is tested, not the proxying.
    upstreams: [{ name: "app", servers: [{ host: "127.0.0.1", port: 9 }] }],
  });
}

let pki: string;
let ecdsa: TestCert;
let rsa: TestCert;
const running: NginxInstance[] = [];

beforeAll(() => {
  ensureNginx();
  pki = makeTempDir("fjord-pki-");
  const ca = createTestCa(path.join(pki, "ca"));
  ecdsa = issueTestCert(ca, pki, { name: "ecdsa", dnsNames: [DOMAIN], keyType: "ec" });
  rsa = issueTestCert(ca, pki, { name: "rsa", dnsNames: [DOMAIN], keyType: "rsa" });
});
afterAll(async () => {
  for (const n of running) await n.stop().catch(() => undefined);
  removeDir(pki);
});

/** A fresh nginx process (new ports, new workers) with the given ticket keys, newest first. */
async function gateway(tickets: [string, string] | undefined): Promise<NginxInstance> {
  const p = plan(tickets !== undefined);
  const files: Record<string, string> = {
    "tls/ecdsa.crt": ecdsa.certPem,
    "tls/ecdsa.key": ecdsa.keyPem,
    "tls/rsa.crt": rsa.certPem,
    "tls/rsa.key": rsa.keyPem,
  };
  if (tickets) {
    files["tickets/current.key"] = tickets[0];
    files["tickets/previous.key"] = tickets[1];
  }
  const n = await startNginx({
    confText: (ctx) => renderNginxConf(planForPorts(p, ctx.ports), ctx.renderOptions),
    files,
  });
  running.push(n);
  return n;
}

async function stop(n: NginxInstance): Promise<void> {
  await n.stop();
  running.splice(running.indexOf(n), 1);
}

/** 80 bytes, the size nginx wants for an AES-256 ticket key (hex keeps the launcher's text files). */
const ticketKey = () => randomBytes(40).toString("hex");

function sClient(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "openssl",
      // -ign_eof: read until the server closes (Connection: close), not until stdin ends, so a
      // TLS 1.3 ticket that arrives after the handshake is always read and saved.
      ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", DOMAIN, "-ign_eof", ...args],
      { timeout: 15_000 },
      (err, stdout, stderr) =>
        err && !stdout ? reject(new Error(`s_client: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    // A whole request, so the client reads past the handshake and takes TLS 1.3's tickets too.
    child.stdin!.end(`GET / HTTP/1.1\r\nHost: ${DOMAIN}\r\nConnection: close\r\n\r\n`);
  });
}

/** "New" or "Reused", as s_client reports the handshake. */
const handshake = (out: string) => /^(New|Reused), TLSv1\.[23]/m.exec(out)?.[1];

describe("session resumption across a gateway restart", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), "fjord-sess-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const version of ["-tls1_2", "-tls1_3"]) {
    it(`GIVEN a ${version.slice(1)} session ticket from a gateway WHEN it is offered to a restarted gateway with the same keys, to one after a key rotation, and to one with other keys THEN the first two resume the session and the last does not`, async () => {
      const current = ticketKey();
      const previous = ticketKey();
      const sess = path.join(dir, `sess${version}`);
      // GIVEN a ticket from a gateway process
      const first = await gateway([current, previous]);
      expect(handshake(await sClient(first.httpsPort, [version, "-sess_out", sess]))).toBe("New");
      expect(readFileSync(sess, "utf8")).toMatch(/BEGIN SSL SESSION PARAMETERS/);
      // WHEN that process is gone and a new one starts from the same key files
      await stop(first);
      const restarted = await gateway([current, previous]);
      // THEN the new process resumes the session
      expect(handshake(await sClient(restarted.httpsPort, [version, "-sess_in", sess]))).toBe(
        "Reused",
      );
      // AND after a rotation (a new current key, the old one kept to decrypt) it still does
      await stop(restarted);
      const rotated = await gateway([ticketKey(), current]);
      expect(handshake(await sClient(rotated.httpsPort, [version, "-sess_in", sess]))).toBe(
        "Reused",
      );
      // AND a gateway without that key does not: the keys, not luck, carry the session
      const stranger = await gateway([ticketKey(), ticketKey()]);
      expect(handshake(await sClient(stranger.httpsPort, [version, "-sess_in", sess]))).toBe("New");
      await stop(rotated);
      await stop(stranger);
    });
  }
});

describe("certificate choice", () => {
  let gw: NginxInstance;
  beforeAll(async () => (gw = await gateway(undefined)));

  /** The key algorithm of the certificate the gateway presented. */
  async function servedKey(args: string[]): Promise<"EC" | "RSA"> {
    const out = await sClient(gw.httpsPort, ["-showcerts", ...args]);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out)?.[0];
    expect(pem, out).toBeDefined();
    if (pem === ecdsa.certPem.trim()) return "EC";
    if (pem === rsa.certPem.trim()) return "RSA";
    throw new Error(`the gateway served neither test certificate:\n${pem}`);
  }

  it("GIVEN a gateway with an ECDSA and an RSA certificate WHEN a client that accepts ECDSA connects over TLS 1.3 and over 1.2 THEN it is served the ECDSA certificate", async () => {
    expect(await servedKey(["-tls1_3"])).toBe("EC");
    expect(await servedKey(["-tls1_2"])).toBe("EC");
  });

  it("GIVEN a gateway with an ECDSA and an RSA certificate WHEN a client that can only verify RSA signatures connects over TLS 1.3 and over 1.2 THEN it is served the RSA certificate", async () => {
    expect(await servedKey(["-tls1_3", "-sigalgs", "RSA-PSS+SHA256:RSA-PSS+SHA384"])).toBe("RSA");
    expect(await servedKey(["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"])).toBe("RSA");
  });
});

describe("client connections", () => {
  it("GIVEN one kept-alive TLS connection to the gateway WHEN 1100 requests go over it one after another THEN all use that one connection, past nginx's default of 1000", async () => {
    const gw = await gateway(undefined);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<number>();
    try {
      // GIVEN one kept-alive TLS connection WHEN 1100 requests go over it one after another
      for (let i = 0; i < 1100; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = https.get(
            {
              host: "127.0.0.1",
              port: gw.httpsPort,
              servername: DOMAIN,
              path: "/",
              headers: { host: DOMAIN },
              ca: ecdsa.caPem,
              agent,
            },
            (res) => {
              sockets.add(res.socket.localPort!);
              res.resume();
              res.on("end", resolve);
            },
          );
          req.on("error", reject);
        });
      }
    } finally {
      agent.destroy();
      await stop(gw);
    }
    // THEN nginx never closed it (with keepalive_requests 1000 a second connection would appear)
    expect(sockets.size).toBe(1);
  });
});
