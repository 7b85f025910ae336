/**
 * Synthetic series for `promtool test rules`: for every alert, series that must fire it and
 * series that must not. Values are generated, so a case says what it models ("steal at 3 % for
 * 6 minutes") instead of listing hundreds of samples.
 */
import {
  BACKUP_METRICS as B,
  GATEWAY_SERIES,
  type ObservabilityModel,
} from "../../components/plan/observability";

export type Labels = Record<string, string>;
export interface Series {
  series: string;
  values: string;
}
export interface Check {
  at: string;
  /** Label sets of the alerts expected to be firing; [] means none. */
  firing: Labels[];
}
export interface Case {
  what: string;
  /** Sample spacing. @default "15s" */
  interval?: string;
  series: Series[];
  checks: Check[];
}
export interface AlertCases {
  fire: Case[];
  quiet: Case[];
}

export const STEP = 15;
const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** A counter growing at `perSecond` for `minutes`, segment after segment. */
export function counter(segments: Array<[minutes: number, perSecond: number]>): string {
  const out = [0];
  for (const [minutes, rate] of segments) {
    for (let i = 0; i < (minutes * 60) / STEP; i++)
      out.push(round(out[out.length - 1] + rate * STEP));
  }
  return out.join(" ");
}

/** A gauge holding `value` for `minutes`. */
export const gauge = (minutes: number, value: number): string =>
  Array<number>((minutes * 60) / STEP + 1)
    .fill(value)
    .join(" ");

export const s = (name: string, labels: Labels, values: string): Series => ({
  series: `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`,
  values,
});

/** One firing and one quiet case, each checked once at `at`. */
function pair(
  at: string,
  fire: [string, Series[], Labels[]],
  quiet: [string, Series[]],
): AlertCases {
  return {
    fire: [{ what: fire[0], series: fire[1], checks: [{ at, firing: fire[2] }] }],
    quiet: [{ what: quiet[0], series: quiet[1], checks: [{ at, firing: [] }] }],
  };
}

const NODE = { instance: "vps-1", job: "node-exporter" };
const cpu = (mode: string, values: string) =>
  s("node_cpu_seconds_total", { ...NODE, cpu: "0", mode }, values);
const FS = { ...NODE, device: "/dev/vda1", fstype: "ext4", mountpoint: "/" };
const PG = { instance: "10.42.1.5:9187", job: "databases", service: "orders" };
const MY = { instance: "10.42.1.9:9104", job: "databases", service: "inventory" };
const SVC = { instance: "10.42.0.5:8080", job: "kubernetes-pods", service: "orders" };
const GB = 1e9;
const DAY = 86400;
const warn = (l: Labels) => ({ ...l, severity: "warning" });
const crit = (l: Labels) => ({ ...l, severity: "critical" });
const db = (l: Labels) => warn({ instance: l.instance, service: l.service });

function disk(perMinute: number): Series[] {
  return [
    s("node_filesystem_avail_bytes", FS, `${100 * GB}-${perMinute}x60`),
    s("node_filesystem_readonly", FS, "0x60"),
  ];
}
const memory = (available: number) => [
  s("node_memory_MemAvailable_bytes", NODE, gauge(10, available)),
  s("node_memory_MemTotal_bytes", NODE, gauge(10, 8 * GB)),
];
const errors = (perHundred: number) => [
  s(GATEWAY_SERIES.requests, { route: "orders" }, gauge(10, 100)),
  s(GATEWAY_SERIES.errors, { route: "orders" }, gauge(10, perHundred)),
];
const p99 = (orders: number, inventory: number) => [
  s(GATEWAY_SERIES.p99, { route: "orders" }, gauge(15, orders)),
  s(GATEWAY_SERIES.p99, { route: "inventory" }, gauge(15, inventory)),
];
const pgConnections = (active: number, idle: number) => [
  s("pg_stat_activity_count", { ...PG, datname: "orders", state: "active" }, gauge(10, active)),
  s("pg_stat_activity_count", { ...PG, datname: "orders", state: "idle" }, gauge(10, idle)),
  s("pg_settings_max_connections", PG, gauge(10, 100)),
];
const myConnections = (connected: number) => [
  s("mysql_global_status_threads_connected", MY, gauge(10, connected)),
  s("mysql_global_variables_max_connections", MY, gauge(10, 100)),
];
const lag = (pg: number, my: number) => [
  s("pg_replication_lag_seconds", PG, gauge(10, pg)),
  s("mysql_slave_status_seconds_behind_master", MY, gauge(10, my)),
];
const certs = (days: number) => [
  s(
    "probe_ssl_earliest_cert_expiry",
    { instance: "https://api.example.no", job: "blackbox" },
    gauge(30, days * DAY),
  ),
  s("traefik_tls_certs_not_after", { cn: "api.example.no", job: "gateway" }, gauge(30, days * DAY)),
];

/**
 * Backup runner series (`database` and `engine` from the runner, the rest from scraping). Their
 * cases sample once a minute, so a series reads as promtool's `value x count` notation.
 */
const BK = {
  instance: "10.42.1.5:9188",
  job: "backups",
  service: "orders",
  database: "orders",
  engine: "postgres",
};
const HOUR = 3600;
/** An hourly schedule's limit: the 1 h gap plus 1 h. */
const MAX_AGE = 2 * HOUR;
/** `value` from minute `from` (absent before) to minute `to`, one sample a minute. */
const held = (value: number, from: number, to: number) =>
  `${from > 0 ? `_x${from} ` : ""}${value}x${to - from}`;
/**
 * A runner up from minute `startMin` whose newest backup ended at `lastSuccess` (epoch seconds of
 * the test's clock, which starts at 0), for 4 hours.
 */
const runner = (startMin: number, lastSuccess: string) => [
  s(B.runnerStart, BK, held(startMin * 60, startMin, 240)),
  s(B.maxAge, BK, held(MAX_AGE, startMin, 240)),
  s(B.lastSuccess, BK, lastSuccess),
];
/** pg_stat_archiver's last-archived and last-failed times, minute by minute. */
const wal = (archived: number[], failed: number[]) => [
  s(B.walLastArchived, BK, archived.join(" ")),
  s(B.walLastFailed, BK, failed.join(" ")),
];
/** `n` minutes of a timestamp that is `at` seconds up to minute `from`, then the minute itself. */
const attempts = (n: number, at: number, from: number) =>
  Array.from({ length: n + 1 }, (_, i) => (i < from ? at : i * 60));
const runs = (labels: Labels, failures: string, successes: string) => [
  s(B.runs, { ...labels, result: "failure" }, failures),
  s(B.runs, { ...labels, result: "success" }, successes),
];

/** The BackupFailed cases assume prod's daily schedule, whose limit (and window) is 25 h. */
function expect25h(...maxAges: Array<number | undefined>): void {
  for (const a of maxAges) {
    if (a !== 25 * HOUR) throw new Error(`BackupFailed cases expect a 25 h window, got ${a}`);
  }
}

/** Cases per alert name; the test fails when a catalogue alert has none. */
export function alertCases(m: ObservabilityModel): Record<string, AlertCases> {
  const node = warn({ instance: "vps-1" });
  return {
    NodeCpuStealHigh: {
      fire: [
        {
          what: "steal at 3 % for 6 minutes",
          series: [
            cpu(
              "steal",
              counter([
                [2, 0],
                [6, 0.03],
                [4, 0],
              ]),
            ),
          ],
          checks: [{ at: "8m", firing: [node] }],
        },
      ],
      quiet: [
        {
          what: "steal at 1 % for 10 minutes",
          series: [cpu("steal", counter([[10, 0.01]]))],
          checks: [{ at: "10m", firing: [] }],
        },
        {
          what: "a 5-minute blip at 3 %",
          series: [
            cpu(
              "steal",
              counter([
                [2, 0],
                [5, 0.03],
                [5, 0],
              ]),
            ),
          ],
          checks: ["6m", "7m", "7m15s", "8m", "10m"].map((at) => ({ at, firing: [] })),
        },
      ],
    },
    NodeIoWaitHigh: pair(
      "13m",
      [
        "30 % iowait for 12 minutes",
        [
          cpu(
            "iowait",
            counter([
              [1, 0],
              [12, 0.3],
            ]),
          ),
        ],
        [node],
      ],
      ["10 % iowait", [cpu("iowait", counter([[13, 0.1]]))]],
    ),
    NodeDown: pair(
      "3m",
      ["exporter down", [s("up", NODE, gauge(5, 0))], [crit(NODE)]],
      ["exporter up", [s("up", NODE, gauge(5, 1))]],
    ),
    NodeDiskFillingUp: (() => {
      const c = pair(
        "40m",
        ["1 GB/min off 100 GB free", disk(GB), [warn(FS)]],
        ["0.1 GB/min off 100 GB free (full in 16 h)", disk(0.1 * GB)],
      );
      for (const k of [...c.fire, ...c.quiet]) k.interval = "1m";
      return c;
    })(),
    NodeMemoryPressure: pair(
      "7m",
      ["6 % available", memory(0.5 * GB), [warn(NODE)]],
      ["25 % available", memory(2 * GB)],
    ),
    TargetDown: pair(
      "6m",
      ["a service scrape failing", [s("up", SVC, gauge(8, 0))], [warn(SVC)]],
      ["a node exporter down (NodeDown's job)", [s("up", NODE, gauge(8, 0))]],
    ),
    GatewayHigh5xxRatio: pair(
      "7m",
      ["10 % 5xx on orders", errors(10), [crit({ route: "orders" })]],
      ["1 % 5xx on orders", errors(1)],
    ),
    GatewayRouteLatencyOverBudget: pair(
      "12m",
      [
        "orders p99 350 ms (budget 200), inventory 180 ms (budget 150)",
        p99(0.35, 0.18),
        m.routes.map((r) => warn({ route: r.route, budget_ms: String(r.budgetMs) })),
      ],
      ["orders p99 180 ms, inventory 120 ms: both within budget", p99(0.18, 0.12)],
    ),
    PostgresDown: pair(
      "3m",
      ["pg_up 0", [s("pg_up", PG, gauge(5, 0))], [crit(PG)]],
      ["pg_up 1", [s("pg_up", PG, gauge(5, 1))]],
    ),
    MysqlDown: pair(
      "3m",
      ["mysql_up 0", [s("mysql_up", MY, gauge(5, 0))], [crit(MY)]],
      ["mysql_up 1", [s("mysql_up", MY, gauge(5, 1))]],
    ),
    PostgresConnectionsSaturated: pair(
      "7m",
      ["85 of 100 connections", pgConnections(45, 40), [db(PG)]],
      ["50 of 100 connections", pgConnections(30, 20)],
    ),
    MysqlConnectionsSaturated: pair(
      "7m",
      ["90 of 100 threads", myConnections(90), [db(MY)]],
      ["10 of 100 threads", myConnections(10)],
    ),
    DatabaseReplicationLagHigh: pair(
      "7m",
      [
        "a PostgreSQL replica 2 min behind, a MariaDB replica 1 min behind",
        lag(120, 60),
        [db(PG), db(MY)],
      ],
      ["primaries report 0 s, a replica 5 s", lag(0, 5)],
    ),
    BackupTooOld: (() => {
      const c: AlertCases = {
        fire: [
          {
            what: "newest backup 3 h old (limit 2 h), runner up 4 h",
            series: runner(0, held(HOUR, 0, 240)),
            checks: [{ at: "4h", firing: [crit(BK)] }],
          },
          {
            what: "newest backup 3 h old, runner restarted 30 min ago: a redeploy hides nothing",
            series: [
              s(B.runnerStart, BK, `0x209 ${12600}x30`),
              s(B.maxAge, BK, held(MAX_AGE, 0, 240)),
              s(B.lastSuccess, BK, held(HOUR, 0, 240)),
            ],
            checks: [{ at: "4h", firing: [crit(BK)] }],
          },
          {
            what: "no backup ever, runner up 4 h (a limit of 2 h)",
            series: runner(0, held(0, 0, 240)),
            checks: [{ at: "4h", firing: [crit(BK)] }],
          },
        ],
        quiet: [
          {
            what: "newest backup 1 h old",
            series: runner(0, held(3 * HOUR, 0, 240)),
            checks: [{ at: "4h", firing: [] }],
          },
          {
            what: "a new database: no backup yet, runner up 1 h of its 2 h grace",
            series: runner(180, held(0, 180, 240)),
            checks: ["3h30m", "4h"].map((at) => ({ at, firing: [] })),
          },
          {
            what: "over the limit for 10 minutes, under the 15 the alert waits",
            series: runner(0, held(4 * HOUR - MAX_AGE - 600, 0, 240)),
            checks: [{ at: "4h", firing: [] }],
          },
        ],
      };
      for (const k of [...c.fire, ...c.quiet]) k.interval = "1m";
      return c;
    })(),
    WalArchivingFailing: (() => {
      const c: AlertCases = {
        fire: [
          {
            what: "every archive attempt fails from minute 2 on",
            series: wal(Array<number>(11).fill(60), attempts(10, 0, 2)),
            checks: [{ at: "10m", firing: [crit(BK)] }],
          },
          {
            what: "nothing archived since the server started, only failures",
            series: wal(Array<number>(11).fill(0), attempts(10, 0, 1)),
            checks: [{ at: "10m", firing: [crit(BK)] }],
          },
        ],
        quiet: [
          {
            what: "one failure at minute 3, archived again at minute 4",
            series: wal(attempts(10, 60, 4), [0, 0, 0, ...Array<number>(8).fill(180)]),
            checks: ["5m", "10m"].map((at) => ({ at, firing: [] })),
          },
          {
            what: "failing for 4 minutes, then archived again",
            series: wal(attempts(10, 60, 6), [0, 0, 120, 180, 240, 300, 300, 300, 300, 300, 300]),
            checks: ["5m", "6m", "8m", "10m"].map((at) => ({ at, firing: [] })),
          },
          {
            what: "the server is down: the runner reports zeros",
            series: wal(Array<number>(11).fill(0), Array<number>(11).fill(0)),
            checks: [{ at: "10m", firing: [] }],
          },
        ],
      };
      for (const k of [...c.fire, ...c.quiet]) k.interval = "1m";
      return c;
    })(),
    BackupFailed: (() => {
      const inventory = {
        ...BK,
        instance: "10.42.1.9:9188",
        service: "inventory",
        database: "inventory",
        engine: "mysql",
      };
      const backedUp = (svc: string) => m.databases.find((d) => d.service === svc)?.backup;
      // The prod stack's default schedule (daily): the window is 25 h.
      expect25h(backedUp("orders")?.maxAgeSeconds, backedUp("inventory")?.maxAgeSeconds);
      const label = (l: Labels) =>
        warn({ service: l.service, database: l.database, engine: l.engine, window: "25h" });
      const c: AlertCases = {
        fire: [
          {
            what: "orders failed 2 h ago and inventory 10 min ago, after earlier successes",
            series: [...runs(BK, "0x59 1x120", "1x180"), ...runs(inventory, "0x169 1x10", "1x180")],
            checks: [{ at: "3h", firing: [label(BK), label(inventory)] }],
          },
          {
            what: "orders failed, then its pod was replaced (a new series): one alert",
            series: [
              ...runs(BK, "0x59 1x60", "0x120"),
              ...runs({ ...BK, instance: "10.42.1.8:9188" }, "_x120 0x60", "_x120 0x60"),
            ],
            checks: [{ at: "3h", firing: [label(BK)] }],
          },
        ],
        quiet: [
          {
            what: "every run succeeds",
            series: runs(BK, "0x180", "0x59 1x60 2x60"),
            checks: [{ at: "3h", firing: [] }],
          },
        ],
      };
      for (const k of [...c.fire, ...c.quiet]) k.interval = "1m";
      return {
        ...c,
        quiet: [
          ...c.quiet,
          {
            what: "a failure 26 h ago, every daily run since succeeded",
            interval: "1h",
            series: runs(BK, "0 1x30", "0x2 1x28"),
            checks: ["27h", "30h"].map((at) => ({ at, firing: [] })),
          },
        ],
      };
    })(),
    CertificateExpiringSoon: pair(
      "20m",
      [
        "blackbox probe and Traefik both see a certificate expiring in 10 days",
        certs(10),
        [warn({ instance: "https://api.example.no" }), warn({ cn: "api.example.no" })],
      ],
      ["certificates valid for 30 more days", certs(30)],
    ),
  };
}
