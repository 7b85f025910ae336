/**
 * The cluster plan: which node is the first server, who joins whom, in which order installs run,
 * which peers each host firewall admits and which server drains each node on removal. Pure.
 */
import { ipVersion } from "../../../lib/ip";
import type { Node } from "../../config";

export interface NodePlan {
  node: Node;
  /** The first server bootstraps the cluster (embedded etcd) and is where the kubeconfig is read. */
  first: boolean;
  /** https://<first server>:6443, for every node but the first. */
  serverUrl?: string;
  /** Names of nodes whose k3s install must finish before this one starts. */
  after: string[];
  /** Addresses of every other node (k3s ports are opened to these only). */
  peers: string[];
  /** Addresses of the other servers (etcd). */
  serverPeers: string[];
  /** The server whose kubectl drains this node when it is removed. */
  drainVia: Node;
}

export interface ClusterPlan {
  first: Node;
  servers: Node[];
  agents: Node[];
  /** In install order: first server, other servers one at a time, then agents together. */
  nodes: NodePlan[];
}

/** Thrown for a node list that cannot form a cluster; names `fjord:nodes` and what to change. */
export class ClusterPlanError extends Error {}

export function planCluster(nodes: Node[]): ClusterPlan {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const n of nodes) {
    for (const [what, key] of [
      ["name", n.name],
      ["host", `${n.host}:${n.port}`],
    ] as const) {
      const k = `${what}=${key}`;
      if (seen.has(k)) problems.push(`${what} ${key} is used by both ${seen.get(k)} and ${n.name}`);
      seen.set(k, n.name);
    }
    if (ipVersion(n.host) === 0) {
      problems.push(
        `${n.name}: host ${n.host} is not an IP address; the host firewall admits peers by IP`,
      );
    }
  }
  const servers = nodes.filter((n) => n.role === "server");
  const agents = nodes.filter((n) => n.role === "agent");
  if (nodes.length === 0)
    problems.push("no nodes: cluster.mode k3s needs at least one server node");
  else if (servers.length !== 1 && servers.length !== 3) {
    problems.push(
      `${servers.length} server nodes (${servers.map((s) => s.name).join(", ") || "none"}): use 1 server, ` +
        "or 3 for an etcd quorum that survives one failure (2 survives none); make the others agents",
    );
  }
  if (problems.length > 0) {
    throw new ClusterPlanError(`fjord:nodes: ${problems.join("; ")}`);
  }
  const first = servers[0];
  const serverUrl = `https://${ipVersion(first.host) === 6 ? `[${first.host}]` : first.host}:6443`;
  const others = (n: Node, among: Node[]) => among.filter((o) => o !== n).map((o) => o.host);
  const plan = (n: Node, after: string[]): NodePlan => ({
    node: n,
    first: n === first,
    ...(n === first ? {} : { serverUrl }),
    after,
    peers: others(n, nodes),
    serverPeers: n.role === "server" ? others(n, servers) : [],
    // A server drains itself; an agent has no admin credentials, so the first server drains it.
    drainVia: n.role === "server" ? n : first,
  });
  // etcd members join one at a time: two joining at once can both be counted against quorum.
  const serverPlans = servers.map((s, i) => plan(s, i === 0 ? [] : [servers[i - 1].name]));
  const lastServer = servers[servers.length - 1].name;
  return {
    first,
    servers,
    agents,
    nodes: [...serverPlans, ...agents.map((a) => plan(a, [lastServer]))],
  };
}
