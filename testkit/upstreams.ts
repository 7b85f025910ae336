/**
 * Small HTTP upstreams for the gateway behaviour tests, on free loopback ports. They are the
 * "services" behind a real nginx or Traefik, so each one records what actually reached it
 * (headers, TCP connections, requests) and can fail on demand: stopped like a killed process,
 * slowed past a timeout, or answering 5xx. The client helpers at the end are what the tests and
 * benches send through a gateway.
 */
import * as http from "http";
import * as http2 from "http2";
import * as https from "https";
import type { AddressInfo, Socket } from "net";
import * as tls from "tls";
import { freePort } from "./ports";

export interface EchoBody {
  upstream: string;
  url: string;
  httpVersion: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestUpstream {
  /** Label echoed in every body, so a test can tell which server answered. */
  name: string;
  port: number;
  /** TCP connections accepted since start (the keepalive check compares this with requests). */
  connections(): number;
  /** Requests received, health probes excluded. */
  requests(): number;
  /** Health probes received (`healthPath`). */
  probes(): number;
  /** Time (Date.now) of the first proxied request / health probe since start or revive. */
  firstRequestAt(): number | undefined;
  firstProbeAt(): number | undefined;
  /** Headers of the last proxied request. */
  lastHeaders(): http.IncomingHttpHeaders | undefined;
  /** Delay before answering; 0 answers at once. Applies to health probes too (a hung service). */
  setDelay(ms: number): void;
  /** Status of proxied answers (health probes follow it too when it is 5xx). */
  setStatus(code: number): void;
  /**
   * Like a killed process: stop listening and reset every open connection, so the gateway gets
   * "connection refused" on new ones and errors on pooled ones.
   */
  kill(): Promise<void>;
  /** Listens again on the same port with fresh counters. */
  revive(): Promise<void>;
  alive(): boolean;
  close(): Promise<void>;
}

export interface UpstreamOptions {
  name?: string;
  /** Path answered as a health probe (not counted in requests). @default "/healthz" */
  healthPath?: string;
  /** Listen on this port instead of a free one. */
  port?: number;
  /** Loopback address to listen on (any of 127.0.0.0/8, so one name can list several). @default "127.0.0.1" */
  host?: string;
}

/**
 * An upstream that echoes the request (headers included) as JSON and counts its connections.
 * The same server can be killed, revived, slowed or made to fail, so one helper serves both the
 * echo and the fault-injection roles.
 */
export async function startUpstream(opts: UpstreamOptions = {}): Promise<TestUpstream> {
  const name = opts.name ?? "upstream";
  const healthPath = opts.healthPath ?? "/healthz";
  let connections = 0;
  let requests = 0;
  let probes = 0;
  let delayMs = 0;
  let status = 200;
  let last: http.IncomingHttpHeaders | undefined;
  let firstRequestAt: number | undefined;
  let firstProbeAt: number | undefined;
  let server: http.Server | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const handler: http.RequestListener = (req, res) => {
    const probe = req.url === healthPath;
    if (probe) {
      probes++;
      firstProbeAt ??= Date.now();
    } else {
      requests++;
      firstRequestAt ??= Date.now();
      last = req.headers;
    }
    const answer = () => {
      const code = probe ? (status >= 500 ? status : 200) : status;
      const body: EchoBody = {
        upstream: name,
        url: req.url ?? "",
        httpVersion: req.httpVersion,
        headers: req.headers,
      };
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (delayMs <= 0) return answer();
    const t = setTimeout(() => {
      timers.delete(t);
      if (!res.destroyed) answer();
    }, delayMs);
    timers.add(t);
  };

  const listen = (port: number) =>
    new Promise<http.Server>((resolve, reject) => {
      const srv = http.createServer({ keepAliveTimeout: 120_000 }, handler);
      srv.on("connection", (s: Socket) => {
        connections++;
        sockets.add(s);
        s.once("close", () => sockets.delete(s));
      });
      srv.once("error", reject);
      srv.listen(port, opts.host ?? "127.0.0.1", () => resolve(srv));
    });

  const bindPort = opts.port ?? (await freePort());
  server = await listen(bindPort);
  const port = (server.address() as AddressInfo).port;

  const kill = async () => {
    const srv = server;
    server = undefined;
    if (!srv) return;
    for (const t of timers) clearTimeout(t);
    timers.clear();
    // resetAndDestroy sends RST like a dying process would, instead of a polite FIN.
    for (const s of sockets) s.resetAndDestroy();
    sockets.clear();
    await new Promise<void>((r) => srv.close(() => r()));
  };

  return {
    name,
    port,
    connections: () => connections,
    requests: () => requests,
    probes: () => probes,
    firstRequestAt: () => firstRequestAt,
    firstProbeAt: () => firstProbeAt,
    lastHeaders: () => last,
    setDelay: (ms) => {
      delayMs = ms;
    },
    setStatus: (code) => {
      status = code;
    },
    kill,
    async revive() {
      if (server) return;
      connections = requests = probes = 0;
      firstRequestAt = firstProbeAt = undefined;
      // The port was ours a moment ago; on a busy machine another process could take it.
      for (let i = 0; ; i++) {
        try {
          server = await listen(port);
          return;
        } catch (err) {
          if (i >= 20) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
    alive: () => server !== undefined,
    close: kill,
  };
}

/** Parses an echo body, or undefined when the answer did not come from a test upstream. */
export function parseEcho(body: string): EchoBody | undefined {
  try {
    const j = JSON.parse(body) as Partial<EchoBody>;
    return typeof j.upstream === "string" ? (j as EchoBody) : undefined;
  } catch {
    return undefined;
  }
}

// --- clients: what the behaviour tests and benches send through a gateway -----------------------

/** The host name the test certificates and gateway plans use. */
export const GATEWAY_TEST_DOMAIN = "api.example.test";

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Wall time from sending to the end of the body. */
  ms: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One request; `agent: false` (a fresh connection) unless the caller passes an agent. */
export function request(
  mod: typeof http | typeof https,
  opts: https.RequestOptions,
  timeoutMs = 10_000,
): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = mod.request({ host: "127.0.0.1", agent: false, ...opts }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body,
          ms: performance.now() - t0,
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** HTTPS GET to the gateway's TLS port with SNI and Host set to the test domain. */
export function getHttps(
  port: number,
  caPem: string,
  urlPath: string,
  headers: Record<string, string> = {},
  agent?: https.Agent,
): Promise<Reply> {
  return request(https, {
    port,
    path: urlPath,
    servername: GATEWAY_TEST_DOMAIN,
    ca: caPem,
    headers: { host: GATEWAY_TEST_DOMAIN, ...headers },
    ...(agent ? { agent } : {}),
  });
}

/** A bare TLS handshake: protocol and ALPN result, or the handshake error. */
export function handshake(
  port: number,
  caPem: string,
  opts: tls.ConnectionOptions = {},
): Promise<{ protocol: string | null; alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect(
      { host: "127.0.0.1", port, servername: GATEWAY_TEST_DOMAIN, ca: caPem, ...opts },
      () => {
        const out = { protocol: s.getProtocol(), alpn: s.alpnProtocol ?? null };
        s.end();
        resolve(out);
      },
    );
    s.setTimeout(5000, () => s.destroy(new Error("handshake timeout")));
    s.on("error", reject);
  });
}

/**
 * `n` GETs multiplexed on one HTTP/2 connection, all sent before any answer is read: the TLS
 * handshake happens first, so the requests reach the gateway within a few milliseconds of each
 * other. Returns the statuses in send order.
 */
export async function h2Burst(
  port: number,
  caPem: string,
  urlPath: string,
  n: number,
): Promise<number[]> {
  const session = http2.connect(`https://${GATEWAY_TEST_DOMAIN}:${port}`, {
    createConnection: () =>
      tls.connect({
        host: "127.0.0.1",
        port,
        servername: GATEWAY_TEST_DOMAIN,
        ca: caPem,
        ALPNProtocols: ["h2"],
      }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      session.once("connect", () => resolve());
      session.once("error", reject);
    });
    return await Promise.all(
      Array.from(
        { length: n },
        (_, i) =>
          new Promise<number>((resolve, reject) => {
            const req = session.request({ ":path": `${urlPath}?i=${i}` });
            let status = 0;
            req.on("response", (h) => (status = Number(h[":status"])));
            req.on("error", reject);
            req.resume();
            req.on("end", () => resolve(status));
            req.end();
          }),
      ),
    );
  } finally {
    session.close();
  }
}
