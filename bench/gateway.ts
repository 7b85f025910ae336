/**
 * Gateway throughput and latency with wrk on loopback: fjord's rendered nginx.conf against a
 * hand-tuned keepalive config, the naive no-keepalive config and no gateway at all, plus TLS
 * against plain HTTP, plus how fast a gateway with every upstream dead answers once its breaker
 * is open. One fast upstream (a second nginx answering `return 200`) serves every configuration.
 */
import * as os from "os";
import {
  nginxConfForPlan,
  startNginx,
  tlsFiles,
  type NginxContext,
  type NginxInstance,
} from "../testkit/nginx";
import { makeTempDir, removeDir } from "../testkit/proc";
import { createTestTls } from "../testkit/tls";
import { startTraefik, type StartTraefikOptions } from "../testkit/traefik";
import { GATEWAY_TEST_DOMAIN } from "../testkit/upstreams";
import { createMemCgroup, removeWhenEmpty, type MemCgroup } from "./cgroup";
import { failFastRuns, traefikAvailable } from "./failfast";
import {
  benchPlan,
  handConf,
  renderedPlain,
  upstreamConf,
  withoutFeatures,
  withoutTraefikFeatures,
} from "./gateway-confs";
import { gatewayRatios } from "./gateway-ratios";
import { goAvailable, startGoProxy } from "./goproxy";
import { fmt, median, table, type Ratio, type SectionResult } from "./report";
import { runWrk, wrkArgs, type WrkOptions, type WrkResult } from "./wrk";

const ROUNDS = Number(process.env.FJORD_BENCH_ROUNDS ?? 5);
const WRK: WrkOptions = {
  threads: 1,
  connections: 64,
  durationS: Number(process.env.FJORD_BENCH_SECONDS ?? 6),
};
const log = (s: string) => console.log(`[bench gateway] ${s}`);
interface Target {
  key: string;
  label: string;
  url: string;
  cmd: string;
  /** The serving process's accounting cgroup: CPU per request is steady where rps is not. */
  cg: MemCgroup;
}

export async function benchGateway(): Promise<
  Omit<SectionResult, "machine" | "runId" | "startedAt" | "durationS">
> {
  const pki = makeTempDir("fjord-bench-pki-");
  const cert = createTestTls(pki, { dnsNames: ["localhost", GATEWAY_TEST_DOMAIN] }).cert;
  const started: Array<{ stop(): Promise<void> }> = [];
  const cgs: MemCgroup[] = [];
  const accounting = () => {
    // Only for CPU accounting: the limit is far above anything nginx uses.
    const cg = createMemCgroup(`fjord-bench-gw-${process.pid}-${cgs.length}`, 8 * 2 ** 30);
    cgs.push(cg);
    return cg;
  };
  const nginx = async (
    confText: (ctx: NginxContext) => string,
    files = {},
  ): Promise<NginxInstance & { cg: MemCgroup }> => {
    const cg = accounting();
    const n = await startNginx({ confText, files, wrap: cg.wrap });
    started.push(n);
    return Object.assign(n, { cg });
  };
  try {
    const up = await nginx(upstreamConf);
    const tlsPlan = benchPlan([up.httpPort]);
    const plainPlan = benchPlan([up.httpPort], { sniStrict: false });
    const rendered = await nginx(nginxConfForPlan(tlsPlan), tlsFiles(cert));
    const renderedHttp = await nginx(renderedPlain(plainPlan), tlsFiles(cert));
    // Diagnostics: the same rendered file without its access log, and with one log write per
    // request again, to size what the log costs; the hand config with TLS, as the TLS reference.
    const noLog = await nginx(
      renderedPlain({ ...plainPlan, accessLog: { ...plainPlan.accessLog, enabled: false } }),
      tlsFiles(cert),
    );
    const unbufLog = await nginx((ctx) => {
      const conf = renderedPlain(plainPlan)(ctx);
      const line = `access_log ${ctx.renderOptions.accessLogPath} gw_json buffer=4k flush=1s;`;
      if (!conf.includes(line))
        throw new Error("rendered nginx.conf has no buffered access_log line to unbuffer");
      return conf.replace(line, `access_log ${ctx.renderOptions.accessLogPath} gw_json;`);
    }, tlsFiles(cert));
    const bare = await nginx(
      (ctx) => withoutFeatures(renderedPlain(plainPlan)(ctx)),
      tlsFiles(cert),
    );
    const hand = await nginx(handConf(up.httpPort, true));
    const handTls = await nginx(handConf(up.httpPort, true, true), tlsFiles(cert));
    const naive = await nginx(handConf(up.httpPort, false));
    const target = (key: string, label: string, url: string, cg: MemCgroup): Target => ({
      key,
      label,
      url,
      cmd: "",
      cg,
    });
    const targets: Target[] = [
      target(
        "direct",
        "direct to the upstream (no gateway)",
        `http://127.0.0.1:${up.httpPort}/`,
        up.cg,
      ),
      target(
        "rendered",
        "fjord rendered nginx.conf, HTTP",
        `http://localhost:${renderedHttp.httpsPort}/`,
        renderedHttp.cg,
      ),
      target(
        "renderedNoLog",
        "rendered, access log off, HTTP (diagnostic)",
        `http://localhost:${noLog.httpsPort}/`,
        noLog.cg,
      ),
      target(
        "renderedUnbufLog",
        "rendered, access log unbuffered (one write per request), HTTP (diagnostic)",
        `http://localhost:${unbufLog.httpsPort}/`,
        unbufLog.cg,
      ),
      target(
        "renderedBare",
        "rendered, without limit_req, request id, HSTS and extra headers, HTTP (diagnostic)",
        `http://localhost:${bare.httpsPort}/`,
        bare.cg,
      ),
      target(
        "hand",
        "hand-tuned keepalive nginx.conf, HTTP",
        `http://127.0.0.1:${hand.httpPort}/`,
        hand.cg,
      ),
      target(
        "naive",
        "naive no-keepalive nginx.conf, HTTP",
        `http://127.0.0.1:${naive.httpPort}/`,
        naive.cg,
      ),
      target(
        "renderedTls",
        "fjord rendered nginx.conf, HTTPS",
        `https://localhost:${rendered.httpsPort}/`,
        rendered.cg,
      ),
      target(
        "handTls",
        "hand-tuned keepalive nginx.conf, HTTPS (diagnostic)",
        `https://localhost:${handTls.httpsPort}/`,
        handTls.cg,
      ),
    ];
    if (traefikAvailable()) {
      const traefikPlan = { ...tlsPlan, kind: "traefik" as const };
      const noLogPlan = { ...traefikPlan, accessLog: { ...traefikPlan.accessLog, enabled: false } };
      // Diagnostics beside the rendered config: what its access log costs, what Traefik costs with
      // every fjord feature off (its floor as a TLS proxy here), and whether one P changes it.
      const variants: Array<[string, string, StartTraefikOptions]> = [
        ["traefikTls", "HTTPS", { plan: traefikPlan, cert }],
        ["traefikNoLog", "access log off, HTTPS (diagnostic)", { plan: noLogPlan, cert }],
        [
          "traefikBare",
          "no middlewares, access log or metrics, HTTPS (diagnostic)",
          { plan: noLogPlan, cert, edit: withoutTraefikFeatures },
        ],
        [
          "traefikOneProc",
          "GOMAXPROCS=1, HTTPS (diagnostic)",
          { plan: traefikPlan, cert, env: { GOMAXPROCS: "1" } },
        ],
      ];
      for (const [key, what, options] of variants) {
        const cg = accounting();
        const t = await startTraefik({ ...options, readyPath: "/", wrap: cg.wrap });
        started.push(t);
        targets.push(
          target(
            key,
            `fjord rendered Traefik ${t.version}, ${what}`,
            `https://localhost:${t.httpsPort}/`,
            cg,
          ),
        );
      }
    }
    if (goAvailable()) {
      const cg = accounting();
      const g = await startGoProxy(up.httpPort, cert, cg.wrap);
      started.push(g);
      targets.push(
        target(
          "goProxyTls",
          "Go standard library reverse proxy, HTTPS (diagnostic: Go's floor)",
          `https://localhost:${g.httpsPort}/`,
          cg,
        ),
      );
    }
    for (const t of targets) t.cmd = `wrk ${wrkArgs(t.url, WRK).join(" ")}`;

    const runs = new Map<string, WrkResult[]>(targets.map((t) => [t.key, []]));
    const cpu = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    // Interleaved rounds: machine drift (other load, thermal) spreads over every configuration.
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotated each round, so no configuration always runs right after the same other one.
      const k = (round - 1) % targets.length;
      for (const t of [...targets.slice(k), ...targets.slice(0, k)]) {
        const cpu0 = t.cg.cpuMs();
        const r = await runWrk(t.url, WRK);
        runs.get(t.key)!.push(r);
        cpu.get(t.key)!.push(((t.cg.cpuMs() - cpu0) * 1000) / r.requests);
        log(
          `round ${round} ${t.key}: ${fmt(r.rps)} rps, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms${r.non2xx ? `, ${r.non2xx} non-2xx` : ""}`,
        );
      }
    }
    const rps = (k: string) => median(runs.get(k)!.map((r) => r.rps));
    // Per-round ratios, then their median: configurations measured back to back share the drift.
    const perRound = (a: string, b: string) =>
      runs.get(a)!.map((r, i) => r.rps / runs.get(b)![i]!.rps);
    const ratio = (a: string, b: string) => median(perRound(a, b));
    const rounds = (a: string, b: string) =>
      `per round: ${perRound(a, b)
        .map((x) => x.toFixed(2))
        .join(", ")}`;
    // CPU per request of b over a's: above 1 means a does the same work with less CPU.
    const cpuRatio = (a: string, b: string) =>
      median(cpu.get(a)!.map((c, i) => cpu.get(b)![i]! / c));
    const cpuUs = (k: string) => median(cpu.get(k)!);
    const bad = targets.filter((t) =>
      runs.get(t.key)!.some((r) => r.non2xx > 0 || r.socketErrors > 0),
    );

    const ff = await failFastRuns(cert, (ports) => benchPlan(ports, {}, GATEWAY_TEST_DOMAIN));
    const ratios: Ratio[] = gatewayRatios({
      ratio,
      rounds,
      cpuRatio,
      cpuUs,
      rps,
      has: (k) => runs.has(k),
      cores: os.cpus().length,
    });
    for (const f of ff) {
      ratios.push({
        name: `${f.gateway}: every upstream dead, p99 answer once the breaker is open`,
        value: f.p99,
        goalMax: 100,
        unit: "ms",
        note: `status ${f.openStatus}; opened after ${f.openAfterRequests} requests / ${fmt(f.openAfterMs, 0)} ms`,
      });
    }

    const raw = table(
      [
        "configuration",
        ...Array.from({ length: ROUNDS }, (_, i) => `rps round ${i + 1}`),
        "median rps",
        "p50 ms (median run)",
        "p99 ms (median run)",
        "server CPU µs / request (median)",
      ],
      targets.map((t) => {
        const rs = runs.get(t.key)!;
        const mid = [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)]!;
        return [
          t.label,
          ...rs.map((r) => Math.round(r.rps)),
          Math.round(rps(t.key)),
          mid.p50Ms,
          mid.p99Ms,
          cpuUs(t.key),
        ];
      }),
    );
    const ffTable = table(
      [
        "gateway",
        "first request ms",
        "breaker open after",
        "status when open",
        "open p50 ms",
        "open p99 ms",
        "open max ms",
        "samples",
      ],
      ff.map((f) => [
        f.gateway,
        f.firstMs,
        `${f.openAfterRequests} req / ${fmt(f.openAfterMs, 0)} ms`,
        f.openStatus,
        f.p50,
        f.p99,
        f.max,
        f.samples,
      ]),
    );
    const body = [
      "### Method",
      "",
      `- Every process on loopback; each nginx with \`worker_processes 1\` (the launcher's setting), wrk with ${WRK.threads} thread and ${WRK.connections} connections for ${WRK.durationS} s, ${ROUNDS} interleaved rounds, median reported.`,
      '- Upstream: a second nginx answering `return 200 "ok\\n"` with no access log. Node\'s http server was the alternative; nginx is several times faster and far steadier, so the gateway, not the upstream, is what the ratios measure.',
      "- Rendered: `renderNginxConf` of a plan with one route `/`, the prod stack's three PII headers to strip, and the default settings except the rate limit, set to 1,000,000 r/s with burst 1,000,000: wrk is one client IP, so the seed's 100/50 would answer 429 to nearly everything. limit_req still runs on every request (zone lookup and accounting) but never rejects. The rendered config only redirects on its plain port, so the HTTP figures use the same rendered file with `ssl http2` removed from its TLS `listen` line (and `sniStrict: false`, which only drops the handshake-rejecting default server).",
      "- Hand-tuned: the seed's upstream block (`keepalive 64`, `proxy_http_version 1.1`, `Connection \"\"`), access log in nginx's default format. Naive: the same without those three lines, so every request opens a new upstream TCP connection.",
      "- TLS: the rendered config as deployed (TLS 1.2/1.3, ECDSA P-256 test certificate, shared session cache; tickets are off here because the bench plan has no ticket key files, and wrk would not resume anyway). wrk does not resume sessions and keeps its connections open; nginx closes a client connection after 1000 requests (its default `keepalive_requests`), so a full handshake happens about every 1000 requests per connection. The TLS ratio is bulk AES-GCM cost plus those handshakes.",
      "- Diagnostics (no goal): the rendered file with its access log off, and with its `buffer=4k flush=1s` taken away, to size what the log and one `write()` per request cost; the rendered file without limit_req, the random request id, HSTS and the headers beyond `Host` and `Connection`, to size what those features cost together; the hand-tuned config behind TLS (`ssl_protocols TLSv1.2 TLSv1.3`, OpenSSL's default suites, shared session cache), to size what TLS costs on this machine independently of fjord's settings.",
      "- Traefik: the rendered static and dynamic files for the same plan (every middleware on: rate limit, PII headers, circuit breaker, retry; JSON access log; Prometheus entrypoint and service series), log level WARN (nothing per request), built by `testkit/tools/traefik.sh` the way upstream builds its releases (CGO off, `-trimpath`, `-s -w`). Go picks GOMAXPROCS 2 from the machine. wrk speaks HTTP/1.1 over TLS, so HTTP/2 plays no part; Traefik keeps its upstream connections (64 established to the upstream during a run, none opened per request). Diagnostics beside it: the same files with the access log off; with no middleware, access log or metrics (the router, TLS and service only: Traefik's floor as a TLS proxy); and the full files under `GOMAXPROCS=1`. A CPU profile of the full config (`api.debug`, `/debug/pprof/profile`) agrees: the access log handler, logrus and `encoding/json` are the largest single item, the write() syscalls to the client, upstream and log the next.",
      `- Non-2xx answers or socket errors in any run: ${bad.length ? bad.map((t) => t.key).join(", ") : "none"}.`,
      "",
      "### Raw numbers",
      "",
      raw,
      "",
      "### Every upstream dead",
      "",
      "Both upstream servers killed (their ports refuse). Sequential HTTPS requests over one kept-alive connection, default plan settings (max_fails 3, fail_timeout 10 s; Traefik breaker `NetworkErrorRatio() > 0.30`, check period 10 s). On loopback a refused connect costs well under a millisecond, so the time before the breaker opens is short too; what the figure shows is that the open path answers at once instead of waiting on an upstream.",
      "",
      ffTable,
      "",
      "### Commands",
      "",
      "```",
      ...targets.map((t) => t.cmd),
      "```",
    ].join("\n");
    return { section: "gateway", title: "Gateway throughput, latency and fail-fast", ratios, body };
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    for (const cg of cgs) await removeWhenEmpty(cg);
    removeDir(pki);
  }
}
