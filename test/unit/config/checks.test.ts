/**
 * Bad config that used to get past the spec (issue #14) and fail later, while resources were
 * built: each case changes a valid config in one way and expects exactly one problem, under the
 * key to fix, saying what is allowed.
 */
import { describe, expect, it } from "vitest";
import { parseSpec, SpecError, type SpecProblem } from "../../../components/config";
import { BACKUP_SECRETS, k3sNodes, validValues } from "./fixtures";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutating untyped config fixtures
type Values = Record<string, any>;

/** Every secret set, so a case about cluster mode or backups gets no missing-secret problem. */
const SECRETS = {
  sshPrivateKey: { secret: true },
  kubeconfig: { secret: true },
  ...BACKUP_SECRETS,
};

const parse = (values: Values) => parseSpec({ stack: "test", values, secrets: SECRETS });

function problemsOf(values: Values): SpecProblem[] {
  try {
    parse(values);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  return [];
}

interface Case {
  given: string;
  mutate: (v: Values) => void;
  key: string;
  says: RegExp;
}

/** GIVEN a config with X WHEN parsed THEN one problem names key K and says Y. */
function table(cases: Case[]) {
  it.each(cases.map((c) => [c.given, c.key, c] as const))(
    "GIVEN %s WHEN parsed THEN one problem names %s",
    (_given, _key, c) => {
      const v = validValues();
      c.mutate(v);
      const found = problemsOf(v);
      expect(found, JSON.stringify(found, null, 2)).toHaveLength(1);
      expect(found[0].key).toBe(c.key);
      expect(found[0].message).toMatch(c.says);
    },
  );
}

/** GIVEN a config with X WHEN parsed THEN it is accepted. */
function accepted(cases: Array<{ given: string; mutate: (v: Values) => void }>) {
  it.each(cases.map((c) => [c.given, c] as const))(
    "GIVEN %s WHEN parsed THEN it is accepted",
    (_given, c) => {
      const v = validValues();
      c.mutate(v);
      expect(problemsOf(v)).toEqual([]);
    },
  );
}

const k3s = (v: Values, nodes: number) => {
  v.cluster.mode = "k3s";
  v.nodes = k3sNodes(nodes);
};

describe("databases the tuners can tune", () => {
  table([
    {
      given: "a PostgreSQL database with 128Mi",
      mutate: (v) => (v.services[0].database.memory = "128Mi"),
      key: "fjord:services[0].database.memory",
      says: /^128Mi is less than 256Mi, the least PostgreSQL .*; raise it to at least 256Mi$/,
    },
    {
      given: "a PostgreSQL database with 260Mi and 6 CPUs",
      mutate: (v) => Object.assign(v.services[0].database, { memory: "260Mi", cpu: "6" }),
      key: "fjord:services[0].database.memory",
      says: /less than 288Mi.* with 6 or more CPUs .*at least 288Mi, or lower cpu/,
    },
    {
      given: "a MariaDB database with 160Mi",
      mutate: (v) => (v.services[1].database.memory = "160Mi"),
      key: "fjord:services[1].database.memory",
      says: /^160Mi is less than 192Mi, the least MariaDB .*; raise it to at least 192Mi$/,
    },
    {
      given: "PostgreSQL 12",
      mutate: (v) => (v.services[0].database.version = "12.20"),
      key: "fjord:services[0].database.version",
      says: /"12.20" is not a version .*; use PostgreSQL 13 to 17, such as "16.6"/,
    },
    {
      given: "PostgreSQL 18",
      mutate: (v) => (v.services[0].database.version = "18"),
      key: "fjord:services[0].database.version",
      says: /use PostgreSQL 13 to 17/,
    },
    {
      given: "MariaDB 10.4",
      mutate: (v) => (v.services[1].database.version = "10.4.34"),
      key: "fjord:services[1].database.version",
      says: /use MariaDB 10.5 to 10.11, or 11.x, such as "11.4.4"/,
    },
    {
      given: "a MySQL version for engine mysql",
      mutate: (v) => (v.services[1].database.version = "8.0.36"),
      key: "fjord:services[1].database.version",
      says: /"8.0.36" is a MySQL version, but engine "mysql" runs MariaDB/,
    },
    {
      given: "a database CPU below one millicore",
      mutate: (v) => (v.services[0].database.cpu = "0.0001"),
      key: "fjord:services[0].database.cpu",
      says: /got "0.0001"; must be at least "1m"/,
    },
  ]);
  accepted([
    {
      given: "the smallest sizes and the oldest and newest versions",
      mutate: (v) => {
        Object.assign(v.services[0].database, { memory: "256Mi", cpu: "5", version: "13" });
        Object.assign(v.services[1].database, { memory: "192Mi", version: "10.5" });
      },
    },
    {
      given: "PostgreSQL 17 with 288Mi and 8 CPUs, and MariaDB 11.8",
      mutate: (v) => {
        Object.assign(v.services[0].database, { memory: "288Mi", cpu: "8", version: "17.2" });
        v.services[1].database.version = "11.8.2";
      },
    },
  ]);
});

describe("what the gateway renders", () => {
  table([
    {
      given: "a fractional route budget",
      mutate: (v) => (v.services[0].route.budgetMs = 150.5),
      key: "fjord:services[0].route.budgetMs",
      says: /^got 150.5; must be a whole number of milliseconds .*; use 151$/,
    },
    {
      given: "a zero route budget",
      mutate: (v) => (v.services[0].route.budgetMs = 0),
      key: "fjord:services[0].route.budgetMs",
      says: /must be at least 1/,
    },
    {
      given: "a fractional default route budget",
      mutate: (v) => (v.latency = { defaultRouteBudgetMs: 199.9 }),
      key: "fjord:latency.defaultRouteBudgetMs",
      says: /whole number of milliseconds .*; use 200/,
    },
    {
      given: "no service with a route",
      mutate: (v) => delete v.services[0].route,
      key: "fjord:services",
      says: /no service has a route.*give at least one service a route/,
    },
    {
      given: "a domain listed twice",
      mutate: (v) => (v.gateway.domains = ["api.example.no", "API.example.no"]),
      key: "fjord:gateway.domains[1]",
      says: /already domains\[0\].*list each domain once/,
    },
    {
      given: "a domain that is not a host name",
      mutate: (v) => (v.gateway.domains = ["api..example.no"]),
      key: "fjord:gateway.domains[0]",
      says: /must be a host name such as api.example.no/,
    },
    {
      given: "a PII header the gateway sets itself",
      mutate: (v) => (v.gateway.piiHeaders = ["X-User-Email", "X-Forwarded-For"]),
      key: "fjord:gateway.piiHeaders[1]",
      says: /is set by the gateway itself .*remove it from the list/,
    },
    {
      given: "no upstream keepalive",
      mutate: (v) => (v.gateway.upstream = { keepalive: 0 }),
      key: "fjord:gateway.upstream.keepalive",
      says: /got 0; must be at least 1 idle connection/,
    },
    {
      given: "a sub-millisecond connect timeout",
      mutate: (v) => (v.gateway.upstream = { connectTimeout: "1.5ms" }),
      key: "fjord:gateway.upstream.connectTimeout",
      says: /whole number of milliseconds, at least 1ms/,
    },
    {
      given: "a zero read timeout",
      mutate: (v) => (v.gateway.upstream = { readTimeout: "0s" }),
      key: "fjord:gateway.upstream.readTimeout",
      says: /at least 1ms/,
    },
    {
      given: "a circuit breaker over two lines",
      mutate: (v) => (v.gateway.circuitBreaker = { expression: "NetworkErrorRatio() > 0.3\n" }),
      key: "fjord:gateway.circuitBreaker.expression",
      says: /must be one non-empty line/,
    },
    {
      given: "a fractional scrape interval",
      mutate: (v) => (v.observability = { scrapeInterval: "1.5m" }),
      key: "fjord:observability.scrapeInterval",
      says: /whole number with a unit, such as "90s"/,
    },
  ]);
});

describe("jurisdictions", () => {
  table([
    {
      given: "a service placed outside allowedJurisdictions",
      mutate: (v) => (v.services[1].region = "us-east1"),
      key: "fjord:services[1].region",
      says: /^"us-east1" is in US, outside fjord:allowedJurisdictions \(NO\); place the service in a region in NO \(such as no-osl1\), or add US/,
    },
    {
      given: "the stack's region outside allowedJurisdictions",
      mutate: (v) => (v.region = "de-fra1"),
      key: "fjord:region",
      says: /"de-fra1" is in DE, outside .*everything without a region of its own runs here/,
    },
    {
      given: "a node placed outside allowedJurisdictions",
      mutate: (v) => {
        v.nodes = k3sNodes(1);
        v.nodes[0].region = "se-sto1";
      },
      key: "fjord:nodes[0].region",
      says: /"se-sto1" is in SE, .*place the node in a region in NO/,
    },
    {
      given: "a service outside the EEA when only the EEA is allowed",
      mutate: (v) => {
        v.allowedJurisdictions = ["EEA"];
        v.services[1].region = "us-east1";
      },
      key: "fjord:services[1].region",
      says: /outside fjord:allowedJurisdictions \(EEA\)/,
    },
  ]);
  accepted([
    {
      given: "EEA allowed and a service in Frankfurt",
      mutate: (v) => {
        v.allowedJurisdictions = ["EEA"];
        v.services[1].region = "de-fra1";
      },
    },
    {
      given: "a region of the stack's own in an allowed jurisdiction",
      mutate: (v) => {
        v.regions = { "no-trd1": { jurisdiction: "NO", eea: true } };
        v.services[1].region = "no-trd1";
        v.latency = { rttMs: { "no-osl1/no-trd1": 8 } };
      },
    },
  ]);
});

describe("replicas with required anti-affinity", () => {
  table([
    {
      given: "3 replicas of a service on 2 k3s nodes",
      mutate: (v) => {
        k3s(v, 2);
        v.services[0].replicas = 3;
      },
      key: "fjord:services[0].replicas",
      says: /^3 replicas cannot all be scheduled: .*fjord:nodes has 2; lower replicas to 2, or add nodes$/,
    },
    {
      given: "3 gateway replicas on 2 k3s nodes",
      mutate: (v) => {
        k3s(v, 2);
        v.gateway.replicas = 3;
      },
      key: "fjord:gateway.replicas",
      says: /3 replicas cannot all be scheduled/,
    },
    {
      given: "a k3s node addressed by name",
      mutate: (v) => {
        k3s(v, 2);
        v.nodes[1].host = "node-2.example.no";
      },
      key: "fjord:nodes[1].host",
      says: /not an IP address; .*give the node's IP address/,
    },
  ]);
  accepted([
    {
      given: "one replica per k3s node",
      mutate: (v) => {
        k3s(v, 3);
        v.services[0].replicas = 3;
        v.gateway.replicas = 3;
      },
    },
    {
      given: "one replica on a single k3s node (no anti-affinity)",
      mutate: (v) => {
        k3s(v, 1);
        v.services.forEach((s: Values) => (s.replicas = 1));
        v.gateway.replicas = 1;
      },
    },
    {
      given: "more replicas than nodes listed, in kubeconfig mode (the cluster is not known)",
      mutate: (v) => {
        v.cluster.mode = "kubeconfig";
        v.nodes = k3sNodes(1);
        v.services[0].replicas = 5;
      },
    },
  ]);
});

describe("route budgets the latency model shows cannot be met", () => {
  table([
    {
      given: "a route budget below its worst case",
      mutate: (v) => (v.services[0].route.budgetMs = 40),
      key: "fjord:services[0].route.budgetMs",
      // gateway → orders 2 + 20, orders → payment 2 + 20
      says: /^route \/orders\/ takes up to 44 ms in the worst case, over its 40 ms budget: gateway → orders → payment, costliest hop .*; raise budgetMs to at least 44, or shorten the chain/,
    },
    {
      given: "a default route budget below a route's worst case",
      mutate: (v) => (v.latency = { defaultRouteBudgetMs: 43 }),
      key: "fjord:services[0].route.budgetMs",
      says: /over the default 43 ms budget \(fjord:latency.defaultRouteBudgetMs\)/,
    },
    {
      given: "a callee in a region with no measured round trip",
      mutate: (v) => {
        v.regions = { "no-trd1": { jurisdiction: "NO", eea: true } };
        v.services[1].region = "no-trd1";
        v.services[1].processingBudgetMs = 40;
      },
      key: "fjord:services[0].route.budgetMs",
      // 2 + 20 + 150 (the pessimistic unknown pair) + 40
      says: /takes up to 212 ms.*no RTT known for no-osl1\/no-trd1: set fjord:latency.rttMs/,
    },
  ]);

  it("GIVEN an over-budget route in a dev stack WHEN parsed THEN it is a warning, as the pack only advises there", () => {
    const v = validValues();
    v.environment = "dev";
    (v.services as Values[])[0].route.budgetMs = 40;
    const { warnings } = parse(v);
    expect(warnings).toEqual([
      expect.stringMatching(/^fjord:services\[0\].route.budgetMs: route \/orders\/ takes up to 44/),
    ]);
  });

  it("GIVEN a typo in a callee's region WHEN parsed THEN only the region is reported, not a budget", () => {
    const v = validValues();
    (v.services as Values[])[1].region = "no-os11";
    expect(problemsOf(v).map((p) => p.key)).toEqual(["fjord:services[1].region"]);
  });
});

/** Renames the first service, and every call to it. */
function renameFirst(v: Values, name: string) {
  const old = v.services[0].name;
  v.services[0].name = name;
  for (const s of v.services) {
    s.calls = (s.calls ?? []).map((c: string | { service: string }) =>
      c === old ? name : typeof c === "object" && c.service === old ? { ...c, service: name } : c,
    );
  }
}

describe("service names the docker target keeps for itself", () => {
  table([
    {
      given: 'a docker stack with a service named "prometheus"',
      mutate: (v) => {
        v.target = "docker";
        v.environment = "dev";
        renameFirst(v, "prometheus");
      },
      key: "fjord:services[0].name",
      says: /platform's own containers on the docker target; rename the service/,
    },
  ]);
  accepted([
    {
      given: 'a kubernetes stack with a service named "prometheus" (its own namespace)',
      mutate: (v) => renameFirst(v, "prometheus"),
    },
  ]);
});
