/** Where things run: jurisdictions the stack may use, and what the k3s node list can hold. */
import { DEFAULT_REGIONS, expandJurisdictions } from "../../lib/regions";
import { ipVersion } from "../../lib/ip";
import { problem as p, type Check } from "./check";
import type { SpecProblem } from "./errors";

/**
 * The stack's region, and every node and service placed in a region of its own, must be in an
 * allowed jurisdiction: the policy pack would refuse the resources, after nodes were prepared.
 * An unknown region is knownRegions' problem, so it is not reported twice.
 */
export const jurisdictions: Check = (spec) => {
  const known = { ...DEFAULT_REGIONS, ...spec.regions };
  const allowed = expandJurisdictions(spec.allowedJurisdictions);
  const list = spec.allowedJurisdictions.join(", ");
  const example = Object.keys(known).find((r) => allowed.has(known[r].jurisdiction));
  const instead = example ? `a region in ${list} (such as ${example})` : `a region in ${list}`;
  const out: SpecProblem[] = [];
  const check = (region: string | undefined, path: PropertyKey[], what: string) => {
    const j = region === undefined ? undefined : known[region]?.jurisdiction;
    if (j === undefined || allowed.has(j)) return;
    out.push(
      p(
        path,
        `"${region}" is in ${j}, outside fjord:allowedJurisdictions (${list}); ${what} ${instead}, or add ${j} to fjord:allowedJurisdictions`,
      ),
    );
  };
  check(
    spec.region,
    ["region"],
    "the gateway and everything without a region of its own runs here, so use",
  );
  spec.nodes.forEach((n, i) => check(n.region, ["nodes", i, "region"], "place the node in"));
  spec.services.forEach((s, i) =>
    check(s.region, ["services", i, "region"], "place the service in"),
  );
  return out;
};

const k3s = (spec: Parameters<Check>[0]) =>
  spec.target === "kubernetes" && spec.cluster.mode === "k3s" && spec.nodes.length > 0;

/** The host firewall of a k3s node admits its peers by IP address. */
export const nodeAddresses: Check = (spec) =>
  k3s(spec)
    ? spec.nodes.flatMap((n, i) =>
        ipVersion(n.host) === 0
          ? [
              p(
                ["nodes", i, "host"],
                `"${n.host}" is not an IP address; in cluster.mode "k3s" each node's firewall admits its peers by IP, so give the node's IP address`,
              ),
            ]
          : [],
      )
    : [];

/**
 * Replicas of a service (and of the gateway) carry required anti-affinity on the node hostname
 * (components/kubernetes/naming.ts spreadAcrossNodes), and no node is tainted or selected away,
 * so each replica needs a node of its own. Only a k3s stack's node list is the whole cluster.
 */
export const replicasFitNodes: Check = (spec) => {
  if (!k3s(spec)) return [];
  const nodes = spec.nodes.length;
  const check = (replicas: number, path: PropertyKey[]) =>
    replicas > 1 && replicas > nodes
      ? [
          p(
            path,
            `${replicas} replicas cannot all be scheduled: each must run on a node of its own (required anti-affinity) and fjord:nodes has ${nodes}; lower replicas to ${nodes}, or add nodes`,
          ),
        ]
      : [];
  return [
    ...spec.services.flatMap((s, i) => check(s.replicas, ["services", i, "replicas"])),
    ...check(spec.gateway.replicas, ["gateway", "replicas"]),
  ];
};
