/** The services behind the gateway, their routes, calls and latency budgets. */
import { z } from "zod";
import { dnsLabel, pinnedImage, port, resourcesFor, urlPath } from "../fields";
import { database } from "./database";

/** The gateway turns a route's budget into proxy timeouts, which are whole milliseconds. */
const routeBudgetMs = z
  .int({
    error: (iss) =>
      typeof iss.input === "number" && Number.isFinite(iss.input)
        ? `must be a whole number of milliseconds (the gateway's timeouts have no fractions); use ${Math.max(1, Math.ceil(iss.input))}`
        : undefined,
  })
  .min(1, { error: "must be at least 1 (milliseconds)" });

const call = z.union([
  dnsLabel,
  z.strictObject({
    service: dnsLabel,
    fanOut: z
      .int()
      .min(1)
      .max(100)
      .default(1)
      .meta({ description: "How many calls one request makes to the callee." }),
    mode: z.enum(["sequential", "parallel"]).default("sequential").meta({
      description:
        "`parallel` fan-out costs one call's latency, `sequential` costs fanOut of them.",
    }),
  }),
]);

const service = z.strictObject({
  name: dnsLabel.meta({ description: "Service name; its namespace is fjord-<name>." }),
  image: pinnedImage.meta({ description: "Pinned image: a tag other than latest, or a digest." }),
  port: port.default(8080).meta({ description: "Container port for HTTP, health and metrics." }),
  replicas: z.int().min(1).max(100).default(2).meta({
    description: "Replicas; more than one gets required anti-affinity on the hostname.",
  }),
  resources: resourcesFor("", "; must fit on a node"),
  healthPath: urlPath
    .default("/health")
    .meta({ description: "Readiness and liveness probe path." }),
  metricsPath: urlPath.default("/metrics").meta({ description: "Prometheus scrape path." }),
  region: z.string().optional().meta({
    description: "Placement for latency budgets; defaults to the stack region.",
  }),
  processingBudgetMs: z.number().positive().default(20).meta({
    description: "Worst-case time the service itself spends per request.",
  }),
  route: z
    .strictObject({
      path: urlPath.meta({ description: "Gateway path prefix, e.g. /orders/." }),
      public: z
        .boolean()
        .default(true)
        .meta({ description: "Public routes have Cookie stripped." }),
      budgetMs: routeBudgetMs.optional().meta({
        description:
          "End-to-end latency budget in whole ms; defaults to latency.defaultRouteBudgetMs. The worst case of the route's call chain must fit (advisory in dev).",
      }),
    })
    .optional(),
  calls: z.array(call).default([]).meta({
    description:
      "Synchronous calls: a service name, or {service, fanOut, mode: sequential|parallel}.",
  }),
  env: z
    .record(
      z.string().regex(/^[A-Z_][A-Z0-9_]*$/, { error: "must be an upper-case env name" }),
      z.string(),
    )
    .default({})
    .meta({ description: "Plain environment variables (never secrets)." }),
  database: database.optional(),
});

export const services = z.array(service).min(1, { error: "needs at least one service" });

export const latency = z
  .strictObject({
    defaultRouteBudgetMs: routeBudgetMs
      .default(200)
      .meta({ description: "Budget of a route that sets none." }),
    rttMs: z
      .record(
        z.string().regex(/^[a-z0-9-]+\/[a-z0-9-]+$/, { error: 'must be "regionA/regionB"' }),
        z.number().nonnegative(),
      )
      .default({})
      .meta({ description: 'Round-trip overrides in ms, keyed "regionA/regionB".' }),
  })
  .prefault({});
