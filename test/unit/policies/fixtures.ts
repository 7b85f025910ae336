/**
 * Passing fixtures shaped like what fjord's components produce (and what any well-behaved
 * program would): each test starts from one of these and changes a single field.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures and wire messages are untyped JSON */
import type { Fixture } from "./harness";

export const T = {
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  pod: "kubernetes:core/v1:Pod",
  cronJob: "kubernetes:batch/v1:CronJob",
  service: "kubernetes:core/v1:Service",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  namespace: "kubernetes:core/v1:Namespace",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  ingress: "kubernetes:networking.k8s.io/v1:Ingress",
  tlsOption: "kubernetes:traefik.io/v1alpha1:TLSOption",
  middleware: "kubernetes:traefik.io/v1alpha1:Middleware",
  prometheusCrd: "kubernetes:monitoring.coreos.com/v1:Prometheus",
  docker: "docker:index/container:Container",
  remoteImage: "docker:index/remoteImage:RemoteImage",
  dockerProvider: "pulumi:providers:docker",
  command: "command:remote:Command",
  copy: "command:remote:CopyToRemote",
  random: "random:index/randomPassword:RandomPassword",
  stack: "pulumi:pulumi:Stack",
} as const;

const MANAGED = { "app.kubernetes.io/managed-by": "fjord", "app.kubernetes.io/part-of": "fjord" };

export const labels = (app: string, component = "service", region = "no-osl1") => ({
  app,
  "app.kubernetes.io/name": app,
  "app.kubernetes.io/component": component,
  "fjord.io/region": region,
  ...MANAGED,
});

export const restricted = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});

export const spread = (app: string) => ({
  podAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: [
      {
        labelSelector: { matchExpressions: [{ key: "app", operator: "In", values: [app] }] },
        topologyKey: "kubernetes.io/hostname",
      },
    ],
  },
});

const res = (cpu: string, memory: string) => ({
  requests: { cpu, memory },
  limits: { cpu, memory },
});

/** A service Deployment as fjord's Microservice renders it. */
export function deployment(app = "orders", ns = `fjord-${app}`): Record<string, any> {
  const l = labels(app);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: app, namespace: ns, labels: l },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: l },
        spec: {
          automountServiceAccountToken: false,
          affinity: spread(app),
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: app,
              image: `registry.example.no/${app}:1.4.2`,
              ports: [{ name: "http", containerPort: 8080 }],
              env: [
                { name: "DB_HOST", value: `${app}-db.${ns}.svc.cluster.local` },
                {
                  name: "DB_PASSWORD",
                  valueFrom: { secretKeyRef: { name: `${app}-db-credentials`, key: "password" } },
                },
              ],
              resources: {
                requests: { cpu: "250m", memory: "128Mi" },
                limits: { cpu: "500m", memory: "256Mi" },
              },
              readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10 },
              livenessProbe: {
                httpGet: { path: "/health", port: "http" },
                initialDelaySeconds: 15,
                failureThreshold: 6,
              },
              securityContext: restricted(10001),
            },
          ],
        },
      },
    },
  };
}

/** The FJORD_BACKUP_* facts fjord's backup runner carries (components/plan/database/backup). */
export const backupFacts = (
  engine: "postgres" | "mysql" = "postgres",
  over: Record<string, string> = {},
): Record<string, string> => ({
  FJORD_BACKUP_TOOL: engine === "postgres" ? "pgbackrest" : "mariabackup",
  FJORD_BACKUP_REGION: "no-osl1",
  FJORD_BACKUP_ENDPOINT: "s3.osl1.example.no",
  FJORD_BACKUP_BUCKET: "fjord-backups",
  FJORD_BACKUP_SCHEDULE: "15 2 * * *",
  FJORD_BACKUP_RETENTION_COUNT: "7",
  FJORD_BACKUP_RETENTION_AGE: "14d",
  FJORD_BACKUP_ENCRYPT: "true",
  ...over,
});

/** The backup sidecar of a database pod, from the server's image. */
export function backupContainer(
  engine: "postgres" | "mysql" = "postgres",
  over: Record<string, string> = {},
): Record<string, any> {
  return {
    name: "backup",
    image: engine === "postgres" ? "postgres:16.4" : "mariadb:11.4.3",
    command: ["sh", "/etc/fjord/backup/run.sh", "schedule"],
    env: Object.entries(backupFacts(engine, over)).map(([name, value]) => ({ name, value })),
    resources: res("100m", "128Mi"),
    securityContext: restricted(999),
  };
}

/** A database StatefulSet as fjord's ServiceDatabase renders it (config mounted from a ConfigMap). */
export function dbStatefulSet(
  owner = "orders",
  engine: "postgres" | "mysql" = "postgres",
  memory = "2Gi",
  ns = `fjord-${owner}`,
): Record<string, any> {
  const app = `${owner}-db`;
  const l = {
    ...labels(app, "database"),
    "fjord.io/owner-service": owner,
    "fjord.io/database-engine": engine,
  };
  return {
    metadata: { name: app, namespace: ns, labels: l },
    spec: {
      serviceName: app,
      replicas: 1,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: l },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, fsGroup: 999 },
          containers: [
            {
              name: engine,
              image: engine === "postgres" ? "postgres:16.4" : "mariadb:11.4.3",
              args: engine === "postgres" ? ["-c", "config_file=/etc/fjord/postgresql.conf"] : [],
              ports: [{ name: "db", containerPort: engine === "postgres" ? 5432 : 3306 }],
              resources: res("1", memory),
              readinessProbe: { exec: { command: ["pg_isready"] } },
              livenessProbe: { tcpSocket: { port: "db" }, initialDelaySeconds: 30 },
              securityContext: restricted(999),
              volumeMounts: [{ name: "config", mountPath: "/etc/fjord", readOnly: true }],
            },
            {
              name: "exporter",
              image: "prom/postgres-exporter:v0.15.0",
              resources: res("100m", "64Mi"),
              securityContext: restricted(65534),
            },
            backupContainer(engine),
          ],
          volumes: [{ name: "config", configMap: { name: `${app}-config` } }],
        },
      },
    },
  };
}

export function dbConfigMap(
  owner = "orders",
  file = "postgresql.conf",
  text = "shared_buffers = 512MB\nmax_connections = 50\n",
  ns = `fjord-${owner}`,
) {
  const app = `${owner}-db`;
  return {
    metadata: {
      name: `${app}-config`,
      namespace: ns,
      labels: { ...labels(app, "database"), "fjord.io/owner-service": owner },
    },
    data: { [file]: text },
  };
}

export function dbService(owner = "orders", type = "ClusterIP", ns = `fjord-${owner}`) {
  const app = `${owner}-db`;
  return {
    metadata: {
      name: app,
      namespace: ns,
      labels: { ...labels(app, "database"), "fjord.io/owner-service": owner },
    },
    spec: { type, selector: { app }, ports: [{ name: "db", port: 5432, targetPort: "db" }] },
  };
}

export const namespace = (ns: string) => ({
  metadata: {
    name: ns,
    labels: { ...MANAGED, "fjord.io/region": "no-osl1", "fjord.io/jurisdiction": "NO" },
  },
});
export const defaultDeny = (ns: string) => ({
  metadata: { name: "default-deny", namespace: ns },
  spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
});
export const pdb = (app: string, ns = `fjord-${app}`) => ({
  metadata: { name: app, namespace: ns },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app } } },
});

/** fjord's rendered gateway nginx.conf, trimmed to what the TLS policies read. */
export const NGINX_CONF = `
worker_processes auto;
events { worker_connections 4096; }
http {
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
    upstream up_orders { server orders.fjord-orders.svc.cluster.local:8080; keepalive 64; }
    server {
        listen 8080;
        server_name api.example.no;
        return 301 https://$host$request_uri;
    }
    server {
        listen 8080 default_server;
        server_name _;
        return 444;
    }
    server {
        listen 8443 ssl http2 default_server;
        server_name _;
        ssl_reject_handshake on;
    }
    server {
        listen 8443 ssl http2;
        server_name api.example.no;
        ssl_certificate /etc/fjord/tls/tls.crt;
        ssl_certificate_key /etc/fjord/tls/tls.key;
        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        location /orders/ { proxy_pass http://up_orders; }
        location / { return 404; }
    }
    server {
        listen 9100;
        location = /healthz { return 200 "ok"; }
        location = /stub_status { stub_status; allow 10.0.0.0/8; deny all; }
        location / { return 404; }
    }
}
`;

export const TRAEFIK_STATIC = `
entryPoints:
  web:
    address: :8080
    http:
      redirections:
        entryPoint: { to: ":443", scheme: https, permanent: true }
  websecure:
    address: :8443
    http:
      tls: {}
  internal:
    address: :9100
api:
  dashboard: false
  insecure: false
ping:
  entryPoint: internal
metrics:
  prometheus:
    entryPoint: internal
`;

export const TRAEFIK_DYNAMIC = `
http:
  routers:
    orders:
      entryPoints: [websecure]
      rule: Host(\`api.example.no\`) && PathPrefix(\`/orders/\`)
      middlewares: [gw-ratelimit, gw-secure-headers]
      service: orders
      tls: {}
  middlewares:
    gw-ratelimit:
      rateLimit: { average: 100, burst: 50 }
    gw-secure-headers:
      headers:
        stsSeconds: 31536000
        stsIncludeSubdomains: true
  services:
    orders:
      loadBalancer:
        servers: [{ url: "http://orders.fjord-orders.svc.cluster.local:8080" }]
tls:
  options:
    default:
      minVersion: VersionTLS12
      cipherSuites:
        - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
`;

export const gatewayConfigMap = (files: Record<string, string>) => ({
  metadata: {
    name: "gateway-config",
    namespace: "fjord-system",
    labels: labels("gateway", "gateway"),
  },
  data: files,
});

/** A Docker container as fjord's docker target creates it. */
export function dockerContainer(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    name: "fjord-dev-orders-1",
    image: "ghcr.io/fjord-platform/sample-service:0.1.0",
    labels: [
      { label: "fjord.stack", value: "dev" },
      { label: "fjord.role", value: "service" },
      { label: "fjord.service", value: "orders" },
    ],
    memory: 128,
    memorySwap: 128,
    cpus: "0.5",
    user: "10001:10001",
    networkMode: "fjord-dev-svc-orders",
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "3" },
    capabilities: { drops: ["ALL"], adds: [] },
    envs: ["DB_HOST=fjord-dev-orders-db", "PORT=8080"],
    ports: [],
    ...over,
  };
}

/** A service's database on Docker, and its backup runner beside it (role database-backup). */
export function dockerDatabase(service = "orders", extraLabels: Record<string, string> = {}) {
  return dockerContainer({
    name: `fjord-dev-${service}-db`,
    image: "postgres:16.4",
    labels: [
      { label: "fjord.stack", value: "dev" },
      { label: "fjord.role", value: "database" },
      { label: "fjord.service", value: service },
      ...Object.entries(extraLabels).map(([label, value]) => ({ label, value })),
    ],
    user: "999:999",
    networkMode: `fjord-dev-db-${service}`,
    envs: ["POSTGRES_DB=app", "PGDATA=/var/lib/postgresql/data/pgdata"],
  });
}

export function dockerBackupRunner(service = "orders", over: Record<string, string> = {}) {
  return dockerContainer({
    name: `fjord-dev-${service}-db-backup`,
    image: "postgres:16.4",
    labels: [
      { label: "fjord.stack", value: "dev" },
      { label: "fjord.role", value: "database-backup" },
      { label: "fjord.service", value: service },
    ],
    user: "999:999",
    networkMode: `fjord-dev-db-${service}`,
    command: ["sh", "/etc/fjord/backup/run.sh", "schedule"],
    envs: Object.entries(backupFacts("postgres", over)).map(([k, v]) => `${k}=${v}`),
  });
}

export const vpsCommand = (node: string, host: string, region = "no-osl1") => ({
  connection: { host, port: 22, user: "fjord" },
  create: "bash -s",
  environment: { FJORD_NODE: node, FJORD_REGION: region },
});

/** A small known-good production stack: namespaces, a service, its database, the gateway, nodes. */
export function prodStack(): Fixture[] {
  return [
    { type: T.command, name: "osl-1-facts", props: vpsCommand("osl-1", "192.0.2.11") },
    { type: T.command, name: "osl-2-facts", props: vpsCommand("osl-2", "192.0.2.12") },
    { type: T.command, name: "osl-3-facts", props: vpsCommand("osl-3", "192.0.2.13") },
    { type: T.namespace, name: "ns-orders", props: namespace("fjord-orders") },
    { type: T.networkPolicy, name: "orders-default-deny", props: defaultDeny("fjord-orders") },
    { type: T.deployment, name: "orders-deployment", props: deployment("orders") },
    { type: T.pdb, name: "orders-pdb", props: pdb("orders") },
    {
      type: T.statefulSet,
      name: "orders-db-statefulset",
      props: dbStatefulSet("orders"),
      dependencies: ["orders-db-config"],
    },
    { type: T.configMap, name: "orders-db-config", props: dbConfigMap("orders") },
    { type: T.service, name: "orders-db-service", props: dbService("orders") },
  ];
}
