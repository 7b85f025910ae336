/**
 * Cross-field rules that one field's schema cannot see, in report order. Each returns problems,
 * never throws. Rules about one domain live beside this file (checks-<domain>.ts).
 */
import { parseCpu, parseMemory, formatMemory } from "./units";
import type { SpecProblem } from "./errors";
import { findCycle } from "../../lib/graph";
import { DEFAULT_REGIONS } from "../../lib/regions";
import { calleeOf, problem as p, type Check } from "./check";
import { databaseMemory, databaseVersions } from "./checks-database";
import { backupReasons, backupResidency, backupTarget, restoreSources } from "./checks-backups";
import { domainsOnce, someRoute } from "./checks-gateway";
import { routeBudgets } from "./checks-latency";
import { jurisdictions, nodeAddresses, replicasFitNodes } from "./checks-placement";

function duplicates<T>(items: readonly T[], keyOf: (t: T) => string): Map<number, number> {
  const seen = new Map<string, number>();
  const dups = new Map<number, number>();
  items.forEach((item, i) => {
    const first = seen.get(keyOf(item));
    if (first === undefined) seen.set(keyOf(item), i);
    else dups.set(i, first);
  });
  return dups;
}

const uniqueNames: Check = (spec) => {
  const out: SpecProblem[] = [];
  for (const [i, first] of duplicates(spec.services, (s) => s.name)) {
    out.push(
      p(
        ["services", i, "name"],
        `"${spec.services[i].name}" is already used by services[${first}]; service names must be unique`,
      ),
    );
  }
  for (const [i, first] of duplicates(spec.nodes, (n) => n.name)) {
    out.push(
      p(
        ["nodes", i, "name"],
        `"${spec.nodes[i].name}" is already used by nodes[${first}]; node names must be unique`,
      ),
    );
  }
  for (const [i, first] of duplicates(spec.nodes, (n) => `${n.host}:${n.port ?? spec.ssh.port}`)) {
    out.push(
      p(
        ["nodes", i, "host"],
        `${spec.nodes[i].host} is already nodes[${first}]; each node needs its own host`,
      ),
    );
  }
  const routed = spec.services.map((s, i) => ({ s, i })).filter(({ s }) => s.route);
  for (const [j, first] of duplicates(routed, ({ s }) => s.route!.path)) {
    out.push(
      p(
        ["services", routed[j].i, "route", "path"],
        `"${routed[j].s.route!.path}" is already the route of services[${routed[first].i}]; route paths must be unique`,
      ),
    );
  }
  const dbNames = spec.services.map((s, i) => ({ s, i })).filter(({ s }) => s.database);
  for (const [j, first] of duplicates(
    dbNames,
    ({ s }) => s.database!.name ?? s.name.replace(/-/g, "_"),
  )) {
    out.push(
      p(
        ["services", dbNames[j].i, "database", "name"],
        `is the same database as services[${dbNames[first].i}]'s; every service gets its own database, so give it another name`,
      ),
    );
  }
  return out;
};

const knownRegions: Check = (spec) => {
  const known = { ...DEFAULT_REGIONS, ...spec.regions };
  const allowed = `one of ${Object.keys(known).join(", ")}, or add it under fjord:regions`;
  const out: SpecProblem[] = [];
  if (!known[spec.region])
    out.push(p(["region"], `"${spec.region}" is not a known region; use ${allowed}`));
  spec.nodes.forEach((n, i) => {
    if (n.region && !known[n.region])
      out.push(p(["nodes", i, "region"], `"${n.region}" is not a known region; use ${allowed}`));
  });
  spec.services.forEach((s, i) => {
    if (s.region && !known[s.region])
      out.push(p(["services", i, "region"], `"${s.region}" is not a known region; use ${allowed}`));
  });
  return out;
};

const callsResolve: Check = (spec) => {
  const names = new Set(spec.services.map((s) => s.name));
  const out: SpecProblem[] = [];
  spec.services.forEach((s, i) =>
    s.calls.forEach((c, j) => {
      const callee = calleeOf(c);
      if (callee === s.name)
        out.push(p(["services", i, "calls", j], `"${s.name}" calls itself; remove the call`));
      else if (!names.has(callee))
        out.push(
          p(
            ["services", i, "calls", j],
            `"${callee}" is not a service of this stack; use one of ${[...names].join(", ")}`,
          ),
        );
    }),
  );
  return out;
};

const requestsWithinLimits: Check = (spec) => {
  const out: SpecProblem[] = [];
  const check = (
    r: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } },
    path: PropertyKey[],
  ) => {
    if (parseCpu(r.requests.cpu) > parseCpu(r.limits.cpu)) {
      out.push(
        p(
          [...path, "requests", "cpu"],
          `${r.requests.cpu} is more than the limit ${r.limits.cpu}; a request must not exceed its limit`,
        ),
      );
    }
    if (parseMemory(r.requests.memory) > parseMemory(r.limits.memory)) {
      out.push(
        p(
          [...path, "requests", "memory"],
          `${r.requests.memory} is more than the limit ${r.limits.memory}; a request must not exceed its limit`,
        ),
      );
    }
  };
  spec.services.forEach((s, i) => check(s.resources, ["services", i, "resources"]));
  check(spec.gateway.resources, ["gateway", "resources"]);
  return out;
};

const fitsOnNodes: Check = (spec) => {
  if (spec.nodes.length === 0) return [];
  const largest = Math.max(...spec.nodes.map((n) => parseMemory(n.class.memory)));
  const cores = Math.max(...spec.nodes.map((n) => n.class.vcpu)) * 1000;
  const out: SpecProblem[] = [];
  const fit = (mem: string, cpu: string, path: PropertyKey[]) => {
    if (parseMemory(mem) > largest)
      out.push(
        p(
          [...path, "memory"],
          `${mem} does not fit on any node (the largest has ${formatMemory(largest)}); lower it or add a larger node class`,
        ),
      );
    if (parseCpu(cpu) > cores)
      out.push(
        p(
          [...path, "cpu"],
          `${cpu} is more than any node's ${cores / 1000} vCPU; lower it or add a larger node class`,
        ),
      );
  };
  spec.services.forEach((s, i) => {
    fit(s.resources.limits.memory, s.resources.limits.cpu, ["services", i, "resources", "limits"]);
    if (s.database) fit(s.database.memory, s.database.cpu, ["services", i, "database"]);
  });
  return out;
};

const clusterShape: Check = (spec) => {
  if (spec.target !== "kubernetes" || spec.cluster.mode !== "k3s") return [];
  const servers = spec.nodes.filter((n) => n.role === "server").length;
  if (spec.nodes.length === 0)
    return [
      p(
        ["nodes"],
        'cluster.mode "k3s" needs at least one node; add nodes, or set fjord:cluster.mode to "kubeconfig" or "render"',
      ),
    ];
  if (servers !== 1 && servers !== 3)
    return [
      p(
        ["nodes"],
        `has ${servers} server nodes; k3s with embedded etcd needs 1 or 3 (set role: server on exactly 1 or 3 nodes)`,
      ),
    ];
  if (!spec.nodes.some((n) => n.gateway))
    return [
      p(["nodes"], "no node has gateway: true; mark at least one node to receive ports 80/443"),
    ];
  return [];
};

const tlsSecret: Check = (spec) =>
  spec.gateway.tls.certificate === "secret" && !spec.gateway.tls.secretName
    ? [
        p(
          ["gateway", "tls", "secretName"],
          'is required when certificate is "secret"; name the TLS Secret that holds the certificate',
        ),
      ]
    : [];

const noCycles: Check = (spec) => {
  const cycle = findCycle(new Map(spec.services.map((s) => [s.name, s.calls.map(calleeOf)])));
  if (!cycle) return [];
  const i = spec.services.findIndex((s) => s.name === cycle[0]);
  return [
    p(
      ["services", i, "calls"],
      `synchronous call cycle ${cycle.join(" → ")}; a request would never finish, so make one of these calls asynchronous (remove it from calls)`,
    ),
  ];
};

const oneLogShipper: Check = (spec) =>
  spec.docker.logForward !== undefined &&
  spec.observability.enabled &&
  spec.observability.components.logShipper
    ? [
        p(
          ["docker", "logForward"],
          "sends container logs to your own agent, but fjord's Fluent Bit also runs; set fjord:observability.components.logShipper to false, or remove fjord:docker.logForward",
        ),
      ]
    : [];

/** Container names the docker target's own roles take; a service cannot have them there. */
export const DOCKER_RESERVED_NAMES: readonly string[] = [
  "gateway",
  "prometheus",
  "node-exporter",
  "alertmanager",
  "grafana",
  "loki",
  "log-shipper",
];

const dockerReservedNames: Check = (spec) =>
  spec.target !== "docker"
    ? []
    : spec.services.flatMap((s, i) =>
        DOCKER_RESERVED_NAMES.includes(s.name)
          ? [
              p(
                ["services", i, "name"],
                `"${s.name}" is the name of one of the platform's own containers on the docker target; rename the service (reserved: ${DOCKER_RESERVED_NAMES.join(", ")})`,
              ),
            ]
          : [],
      );

/** All cross-field checks, in report order. */
export const CHECKS: readonly Check[] = [
  uniqueNames,
  dockerReservedNames,
  knownRegions,
  jurisdictions,
  callsResolve,
  noCycles,
  requestsWithinLimits,
  fitsOnNodes,
  databaseVersions,
  databaseMemory,
  clusterShape,
  nodeAddresses,
  replicasFitNodes,
  domainsOnce,
  someRoute,
  routeBudgets,
  tlsSecret,
  oneLogShipper,
  backupReasons,
  backupTarget,
  backupResidency,
  restoreSources,
];
