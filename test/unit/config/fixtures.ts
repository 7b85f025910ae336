/** A bucket in Norway: a prod stack with databases has to name one (fjord:backups.target). */
export const BACKUP_TARGET = {
  endpoint: "s3.osl1.example.no",
  bucket: "fjord-backups",
  region: "no-osl1",
} as const;

/** The object store's keys, which `up` requires once fjord:backups.target is set. */
export const BACKUP_SECRETS = {
  backupAccessKeyId: { secret: true },
  backupSecretAccessKey: { secret: true },
} as const;

/** A minimal valid config; each bad-input case changes one field of a fresh copy. */
export function validValues(): Record<string, unknown> {
  return {
    environment: "prod",
    target: "kubernetes",
    cluster: { mode: "render" },
    gateway: { domains: ["api.example.no"] },
    backups: { target: { ...BACKUP_TARGET } },
    services: [
      {
        name: "orders",
        image: "registry.example.no/orders:1.4.2",
        resources: {
          requests: { cpu: "250m", memory: "128Mi" },
          limits: { cpu: "500m", memory: "256Mi" },
        },
        route: { path: "/orders/" },
        calls: ["payment"],
        database: { engine: "postgres", memory: "1Gi" },
      },
      {
        name: "payment",
        image: "registry.example.no/payment:2.0.0",
        resources: {
          requests: { cpu: "250m", memory: "128Mi" },
          limits: { cpu: "500m", memory: "256Mi" },
        },
        database: { engine: "mysql", memory: "2Gi" },
      },
    ],
  };
}

/** Sets `value` at a dotted/indexed path ("services.0.database.memory") in a copy. */
export function withField(path: string, value: unknown): Record<string, unknown> {
  const root = validValues();
  const keys = path.split(".");
  let cur: Record<string, unknown> = root;
  for (const k of keys.slice(0, -1)) {
    cur[k] ??= {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return root;
}

/** `n` k3s nodes (one server, all gateways) with these IP addresses' last octets. */
export function k3sNodes(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `node-${i + 1}`,
    host: `192.0.2.${i + 11}`,
    role: i === 0 ? "server" : "agent",
    gateway: true,
    class: { vcpu: 4, memory: "8Gi", disk: "nvme" },
  }));
}
