/**
 * The spec never accepts what a planner or renderer then rejects (issue #14): database sizes,
 * versions and disk classes, route budgets and gateway timeouts are drawn across and beyond their
 * valid ranges; whatever `parseSpec` accepts must tune, render and analyse without throwing.
 */
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSpec, SpecError, type Spec } from "../../../components/config";
import { planDatabase } from "../../../components/plan/database";
import {
  gatewayPlanFromSpec,
  renderNginxConf,
  renderTraefikDynamic,
  renderTraefikStatic,
} from "../../../components/plan/gateway";
import { analyzeRoutes, latencyModelFromSpec } from "../../../components/plan/latency";
import { assertNever } from "../../../lib/never";
import { BACKUP_SECRETS, BACKUP_TARGET } from "../config/fixtures";

const MiB = 2 ** 20;

/**
 * Mostly values near and across the boundaries the tuners and renderers have, sometimes plain
 * nonsense: with every field drawn at once, a config is accepted often enough to test the plan.
 */
const mostly = <T, U>(near: fc.Arbitrary<T>, wild: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: near, weight: 12 }, { arbitrary: wild, weight: 1 });

const memory = mostly(
  fc.oneof(
    fc.integer({ min: 128, max: 8192 }).map((n) => `${n}Mi`),
    // Bytes around the tuners' smallest limits, where rounding decides.
    fc.integer({ min: 170 * MiB, max: 300 * MiB }).map(String),
    fc.double({ min: 0.1, max: 64, noNaN: true }).map((g) => `${g.toFixed(3)}Gi`),
  ),
  fc.oneof(
    fc.integer({ min: 1, max: 127 }).map((n) => `${n}Mi`),
    fc.integer({ min: 1, max: 4096 }).map((n) => `${n}Gi`),
    fc.constantFrom("1Ti", "100Ti", "999999Ti", "1", "1023", "1Ki", "2GB", "-1Gi"),
  ),
);

const cpu = mostly(
  fc.oneof(
    fc.integer({ min: 1, max: 64_000 }).map((m) => `${m}m`),
    fc.integer({ min: 1, max: 16 }).map(String),
    fc.double({ min: 0.001, max: 16, noNaN: true }).map((c) => c.toFixed(3)),
  ),
  fc.oneof(
    fc.integer({ min: 17, max: 1024 }).map(String),
    fc.constantFrom("0", "0m", "0.0001", "0.4m", "1.5m", "fast"),
  ),
);

const dotted = fc
  .tuple(
    // Both engines' supported majors and their neighbours.
    fc.integer({ min: 9, max: 19 }),
    fc.option(fc.integer({ min: 0, max: 14 }), { nil: undefined }),
    fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  )
  .map(([a, b, c]) =>
    b === undefined ? `${a}` : c === undefined ? `${a}.${b}` : `${a}.${b}.${c}`,
  );

const version = fc.option(
  mostly(dotted, fc.constantFrom("5.7.44", "8.0.36", "8.4", "0", "99", "latest", "16.x", "")),
  { nil: undefined, freq: 2 },
);

const database = fc.record(
  {
    engine: mostly(fc.constantFrom("postgres", "mysql"), fc.constant("oracle")),
    version,
    memory,
    cpu,
    disk: fc.option(mostly(fc.constantFrom("nvme", "ssd", "hdd"), fc.constant("tape")), {
      nil: undefined,
    }),
  },
  { requiredKeys: ["engine", "memory", "cpu"] },
);

const budgetMs = fc.option(
  mostly(
    // The drawn routes' worst case is 44 ms (two hops of 2 ms RTT + 20 ms processing).
    fc.oneof(fc.integer({ min: 30, max: 5000 }), fc.constantFrom(1, 43, 44, 45)),
    fc.oneof(
      fc.integer({ min: -5, max: 0 }),
      fc.double({ min: -10, max: 5000, noNaN: true }),
      fc.constantFrom(0.5, 44.1, Number.MAX_SAFE_INTEGER + 2),
    ),
  ),
  { nil: undefined },
);

const duration = mostly(
  fc.oneof(
    fc.integer({ min: 1, max: 20_000 }).map((n) => `${n}ms`),
    fc.integer({ min: 1, max: 60 }).map((n) => `${n}s`),
    fc.constantFrom("1.5s", "0.25s"),
  ),
  fc.oneof(
    fc.double({ min: 0, max: 30, noNaN: true }).map((x) => `${x.toFixed(4)}s`),
    fc.constantFrom("0ms", "0s", "1.5ms", "0.1ms", "10"),
  ),
);

const gateway = fc.record(
  {
    kind: fc.constantFrom("nginx", "traefik"),
    // nginx with http3 true is refused; every accepted combination must render.
    http3: fc.boolean(),
    upstream: fc.record(
      {
        keepalive: mostly(fc.integer({ min: 1, max: 512 }), fc.integer({ min: -1, max: 0 })),
        connectTimeout: duration,
        readTimeout: duration,
      },
      { requiredKeys: [] },
    ),
    retry: fc.record(
      {
        attempts: mostly(fc.integer({ min: 0, max: 5 }), fc.constantFrom(-1, 6)),
        initialInterval: duration,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const DEFAULT_DB = { engine: "postgres", memory: "1Gi", cpu: "1" };

const resources = {
  requests: { cpu: "250m", memory: "128Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

interface Drawn {
  orders?: Record<string, unknown>;
  payment?: Record<string, unknown>;
  ordersBudget?: number;
  paymentBudget?: number;
  defaultBudget?: number;
  gateway?: Record<string, unknown>;
}

/** Two routed services, orders calling payment, each with a database. */
function values(c: Drawn) {
  const route = (path: string, b: number | undefined) => ({
    path,
    ...(b === undefined ? {} : { budgetMs: b }),
  });
  return {
    environment: "prod",
    target: "kubernetes",
    cluster: { mode: "render" },
    gateway: { domains: ["api.example.no"], ...c.gateway },
    backups: { target: BACKUP_TARGET },
    ...(c.defaultBudget === undefined
      ? {}
      : { latency: { defaultRouteBudgetMs: c.defaultBudget } }),
    services: [
      {
        name: "orders",
        image: "registry.example.no/orders:1.4.2",
        resources,
        route: route("/orders/", c.ordersBudget),
        calls: ["payment"],
        database: c.orders ?? DEFAULT_DB,
      },
      {
        name: "payment",
        image: "registry.example.no/payment:2.0.0",
        resources,
        route: route("/payment/", c.paymentBudget),
        database: c.payment ?? DEFAULT_DB,
      },
    ],
  };
}

/** Everything the plan does with a spec that can throw on input it does not support. */
function planAll(spec: Spec): void {
  for (const s of spec.services) if (s.database) planDatabase(s.database);
  const plan = gatewayPlanFromSpec(spec, {
    servers: (s) => [{ host: `${s.name}.fjord-${s.name}.svc.cluster.local`, port: s.port }],
    certFile: "/etc/fjord/tls/tls.crt",
    keyFile: "/etc/fjord/tls/tls.key",
    publicHttpsPort: 443,
  });
  // The renderers of the plan's own kind, as a target runs them (an HTTP/3 plan is Traefik's).
  switch (plan.kind) {
    case "nginx":
      renderNginxConf(plan);
      break;
    case "traefik":
      renderTraefikStatic(plan);
      renderTraefikDynamic(plan);
      break;
    default:
      assertNever(plan.kind, "gateway kind");
  }
  analyzeRoutes(latencyModelFromSpec(spec));
}

/**
 * Asserts the property over `draw` and that both sides of the boundary were reached often
 * enough for it to say something.
 */
function neverAcceptsUnplannable(draw: fc.Arbitrary<Drawn>, numRuns: number): void {
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(draw, (c) => {
      let spec: Spec;
      try {
        spec = parseSpec({ stack: "prop", values: values(c), secrets: BACKUP_SECRETS }).spec;
      } catch (e) {
        // Refusing is always allowed, but only as a SpecError naming the keys.
        if (!(e instanceof SpecError)) throw e;
        rejected++;
        return;
      }
      accepted++;
      planAll(spec);
    }),
    { numRuns },
  );
  expect(accepted).toBeGreaterThan(numRuns / 20);
  expect(rejected).toBeGreaterThan(numRuns / 20);
}

describe("the spec never accepts what a renderer then rejects", () => {
  it("GIVEN database sizes, versions and disk classes in and out of range WHEN the spec accepts them THEN the tuners and config renderers do not throw", () => {
    neverAcceptsUnplannable(fc.record({ orders: database, payment: database }), 1500);
  });

  it("GIVEN route budgets and gateway timeouts in and out of range WHEN the spec accepts them THEN the gateway renderers and the latency analysis do not throw", () => {
    neverAcceptsUnplannable(
      fc.record({
        ordersBudget: budgetMs,
        paymentBudget: budgetMs,
        defaultBudget: budgetMs,
        gateway,
      }),
      1500,
    );
  });

  it.each([
    ["postgres", "13", "256Mi", "5"],
    ["postgres", "17", "288Mi", "64"],
    ["mysql", "10.5", "192Mi", "1m"],
    ["mysql", "11.8", "192Mi", "512"],
  ])(
    "GIVEN %s %s at its smallest accepted memory %s with cpu %s WHEN planned THEN it tunes",
    (engine, v, mem, c) => {
      const db = { engine, version: v, memory: mem, cpu: c };
      const spec = parseSpec({
        stack: "edge",
        values: values({ orders: db, payment: db }),
        secrets: BACKUP_SECRETS,
      }).spec;
      expect(() => planAll(spec)).not.toThrow();
    },
  );
});
