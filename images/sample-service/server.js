// fjord's sample service: the smallest thing that behaves like a fjord service, for the dev stack
// and its e2e test. No dependencies (Node >= 18); it reaches its database through the client
// CLIs in its image, so it needs no driver.
//   GET /health            200 "ok"
//   GET /metrics           Prometheus text format
//   GET /<any>/db          runs `select 1` and a table count against its own database
//   GET /<any>/probe?host=H&port=P   can this container open a TCP connection to H:P?
//   GET /<any>/call/<svc>  GET http://<svc>:<port>/health (a service it `calls`; <svc> may be a
//                          DNS name such as inventory.fjord-inventory on Kubernetes)
//   GET /<any>/headers     the request headers as received (what the gateway forwarded)
//   anything else          200 with the service name and path
// Every request but /health and /metrics is logged to stdout as one JSON line.
"use strict";
const http = require("http");
const net = require("net");
const os = require("os");
const { execFile } = require("child_process");

const PORT = Number(process.env.PORT || 8080);
const started = Date.now();
const counts = new Map();

function count(path, status) {
  const key = `path="${path}",status="${status}"`;
  counts.set(key, (counts.get(key) || 0) + 1);
}

function send(res, status, body, type = "application/json") {
  res.writeHead(status, { "Content-Type": type, "X-Served-By": os.hostname() });
  res.end(typeof body === "string" ? body : JSON.stringify(body) + "\n");
}

// Password via the environment, never argv, so it does not show in `ps`.
function query(sql) {
  const e = process.env;
  if (!e.DB_ENGINE) return Promise.reject(new Error("no database configured (DB_ENGINE unset)"));
  const [cmd, args, env] =
    e.DB_ENGINE === "postgres"
      ? [
          "psql",
          ["-h", e.DB_HOST, "-p", e.DB_PORT, "-U", e.DB_USER, "-d", e.DB_NAME, "-tAqc", sql],
          { PGPASSWORD: e.DB_PASSWORD, PGCONNECT_TIMEOUT: "3" },
        ]
      : [
          "mariadb",
          [
            "-h",
            e.DB_HOST,
            "-P",
            e.DB_PORT,
            "-u",
            e.DB_USER,
            "-D",
            e.DB_NAME,
            "--connect-timeout=3",
            "-N",
            "-B",
            "-e",
            sql,
          ],
          { MYSQL_PWD: e.DB_PASSWORD },
        ];
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { env: { PATH: process.env.PATH, HOME: "/tmp", ...env }, timeout: 10000 },
      (err, stdout, stderr) =>
        err ? reject(new Error((stderr || err.message).trim())) : resolve(stdout.trim()),
    );
  });
}

function probe(host, port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port, timeout: 2000 });
    const done = (reachable, error) => {
      sock.destroy();
      resolve({ host, port, reachable, ...(error ? { error } : {}) });
    };
    sock.once("connect", () => done(true));
    sock.once("timeout", () => done(false, "timeout"));
    sock.once("error", (err) => done(false, err.code || err.message));
  });
}

async function handle(req, res) {
  const url = new URL(req.url, "http://localhost");
  const path = url.pathname;
  if (path === "/health") return send(res, 200, "ok\n", "text/plain");
  if (path === "/metrics") {
    const lines = [
      "# HELP sample_requests_total Requests served, by path and status.",
      "# TYPE sample_requests_total counter",
      ...[...counts].map(([k, v]) => `sample_requests_total{${k}} ${v}`),
      "# HELP sample_uptime_seconds Seconds since start.",
      "# TYPE sample_uptime_seconds gauge",
      `sample_uptime_seconds ${((Date.now() - started) / 1000).toFixed(1)}`,
    ];
    return send(res, 200, lines.join("\n") + "\n", "text/plain; version=0.0.4");
  }
  if (path.endsWith("/db")) {
    // One client process per request: each start costs tens of milliseconds.
    const tables =
      process.env.DB_ENGINE === "postgres"
        ? "select count(*) from information_schema.tables where table_schema = 'public'"
        : "select count(*) from information_schema.tables where table_schema = database()";
    try {
      const [one, count] = (await query(`select 1, (${tables})`)).split(/[|\t]/);
      return send(res, 200, {
        engine: process.env.DB_ENGINE,
        database: process.env.DB_NAME,
        select1: Number(one),
        tables: Number(count),
      });
    } catch (err) {
      return send(res, 503, { engine: process.env.DB_ENGINE, error: err.message });
    }
  }
  if (path.endsWith("/probe")) {
    const host = url.searchParams.get("host");
    const port = Number(url.searchParams.get("port"));
    if (!host || !port) return send(res, 400, { error: "need ?host=&port=" });
    return send(res, 200, await probe(host, port));
  }
  if (path.endsWith("/headers")) return send(res, 200, { headers: req.headers });
  const call = /\/call\/([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*)$/.exec(path);
  if (call) {
    try {
      const r = await fetch(`http://${call[1]}:${PORT}/health`, {
        signal: AbortSignal.timeout(3000),
      });
      return send(res, 200, { callee: call[1], status: r.status });
    } catch (err) {
      return send(res, 502, { callee: call[1], error: String(err.cause?.code || err.message) });
    }
  }
  return send(res, 200, { host: os.hostname(), path });
}

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  res.on("finish", () => {
    const url = new URL(req.url, "http://x");
    count(url.pathname.split("/").slice(0, 3).join("/"), res.statusCode);
    if (url.pathname === "/health" || url.pathname === "/metrics") return;
    // One JSON line per request. Query parameters are logged as they come, as many services do:
    // keeping PII among them out of Loki is the log shipper's job (pii-mask.lua).
    console.log(
      JSON.stringify({
        msg: "request",
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        status: res.statusCode,
        duration_ms: Number(process.hrtime.bigint() - t0) / 1e6,
      }),
    );
  });
  handle(req, res).catch((err) => send(res, 500, { error: err.message }));
});
server.keepAliveTimeout = 65000;
server.listen(PORT, () =>
  console.log(JSON.stringify({ msg: "listening", port: PORT, host: os.hostname() })),
);
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
