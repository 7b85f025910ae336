/**
 * Names, labels and network membership of the Docker target. Pure (no Pulumi), so the isolation
 * rules can be table-tested, and the components only turn this into resources.
 *
 * Isolation is by network membership, the only boundary Docker enforces without iptables rules:
 *  - `front`:        the gateway and the observability UIs; the only networks with published ports.
 *  - `svc-<name>`:   one service's replicas, plus whoever may call it (the gateway when routed, its
 *                    callers, Prometheus). Internal: no route off the host.
 *  - `db-<name>`:    one service's replicas, its database and the database's exporter. Internal.
 *  - `metrics`:      Prometheus and the exporters that are not a service (node, databases). Internal.
 * A service is never on another service's `db-` network, and services share no network unless one
 * calls the other, so a service can reach only its own database, by name or by address.
 */
import type { Service, Spec } from "../config";
import { callersOf } from "../plan";

/** Labels on every container, network and volume; `docker ps --filter label=...` finds a stack. */
export const LABEL = {
  stack: "fjord.stack",
  role: "fjord.role",
  service: "fjord.service",
} as const;

export type Role =
  | "service"
  | "database"
  | "database-exporter"
  | "database-backup"
  | "gateway"
  | "gateway-exporter"
  | "prometheus"
  | "node-exporter"
  | "alertmanager"
  | "grafana"
  | "loki"
  | "log-shipper"
  | "network"
  | "volume";

/** Container names taken by the platform's own roles (the config refuses them as services). */
export { DOCKER_RESERVED_NAMES as RESERVED_NAMES } from "../config";

export function labels(stack: string, role: Role, service?: string): Record<string, string> {
  return {
    [LABEL.stack]: stack,
    [LABEL.role]: role,
    ...(service ? { [LABEL.service]: service } : {}),
  };
}

/** The provider's list-of-pairs form. */
export const labelList = (l: Record<string, string>) =>
  Object.entries(l).map(([label, value]) => ({ label, value }));

export interface NetworkPlan {
  /** Stable key, also the Pulumi resource suffix. */
  key: string;
  /** Docker network name. */
  name: string;
  /** Internal networks get no gateway: containers only on them cannot leave the host. */
  internal: boolean;
  service?: string;
  /** A network someone else made (fjord:docker.backupNetwork): joined, never created. */
  external?: boolean;
}

export interface Topology {
  stack: string;
  networks: NetworkPlan[];
  /** Container name of each replica of a service, in replica order. */
  replicas: (service: string) => string[];
  /**
   * Networks a service's replicas join, primary first. Its own `svc-` network carries the service
   * name as an alias (callers dial `<service>:<port>`) unless it is the primary, where Docker
   * ignores aliases; then callers use the replica names.
   */
  serviceNetworks: (service: string) => Array<{ key: string; aliases: string[] }>;
  /** The database container's name, which is also its host name on its network. */
  databaseHost: (service: string) => string;
  databaseNetwork: (service: string) => string;
  gatewayNetworks: string[];
  prometheusNetworks: string[];
  /** Network keys whose names resolve in `svc-<name>`: who may reach a service. */
  reachableFrom: (service: string) => string[];
  name: (...parts: Array<string | number>) => string;
}

export const netKey = {
  front: "front",
  metrics: "metrics",
  backup: "backup",
  api: (service: string) => `svc-${service}`,
  db: (service: string) => `db-${service}`,
};

export function dockerTopology(spec: Spec): Topology {
  const stack = spec.stack;
  const name = (...parts: Array<string | number>) => [stack, ...parts].join("-");
  const byName = new Map(spec.services.map((s) => [s.name, s]));
  const networks: NetworkPlan[] = [
    // Not internal: port publishing needs a bridge with a gateway.
    { key: netKey.front, name: name("front"), internal: false },
    { key: netKey.metrics, name: name("metrics"), internal: true },
  ];
  // The backup runners' way to the object store, the one way off the host a database side has.
  if (spec.services.some((s) => s.database?.backup)) {
    networks.push({
      key: netKey.backup,
      name: spec.docker.backupNetwork ?? name("backup"),
      internal: false,
      ...(spec.docker.backupNetwork ? { external: true } : {}),
    });
  }
  for (const s of spec.services) {
    networks.push({
      key: netKey.api(s.name),
      name: name("svc", s.name),
      internal: true,
      service: s.name,
    });
    if (s.database) {
      networks.push({
        key: netKey.db(s.name),
        name: name("db", s.name),
        internal: true,
        service: s.name,
      });
    }
  }
  const svc = (n: string): Service => {
    const s = byName.get(n);
    if (!s) throw new Error(`fjord: unknown service ${n}`);
    return s;
  };
  return {
    stack,
    networks,
    name,
    replicas: (n) => Array.from({ length: svc(n).replicas }, (_, i) => name(n, i)),
    serviceNetworks: (n) => {
      const s = svc(n);
      const callees = s.calls
        .map((c) => netKey.api(c.service))
        .filter((k, i, all) => all.indexOf(k) === i && k !== netKey.api(n))
        .map((key) => ({ key, aliases: [] as string[] }));
      return s.database
        ? [{ key: netKey.db(n), aliases: [] }, { key: netKey.api(n), aliases: [n] }, ...callees]
        : [{ key: netKey.api(n), aliases: [] }, ...callees];
    },
    databaseHost: (n) => name(n, "db"),
    databaseNetwork: (n) => netKey.db(n),
    gatewayNetworks: [
      netKey.front,
      ...spec.services.filter((s) => s.route).map((s) => netKey.api(s.name)),
    ],
    prometheusNetworks: [
      netKey.front,
      netKey.metrics,
      ...spec.services.map((s) => netKey.api(s.name)),
    ],
    reachableFrom: (n) => [
      ...(svc(n).route ? ["gateway"] : []),
      ...callersOf(spec.services, n),
      "prometheus",
    ],
  };
}
