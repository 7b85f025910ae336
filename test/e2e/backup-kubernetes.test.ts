/**
 * The restore drill on the real test cluster (testkit/cluster), in an ephemeral prod stack in
 * kubeconfig mode: write known rows, back up, write more, destroy each database and its volume as
 * a lost node would, restore into a fresh StatefulSet, and check every row; PostgreSQL also
 * restores to a point between the two writes. The bucket must hold only ciphertext, and a failed
 * backup must leave the last good one in place.
 *
 * The object store runs inside the cluster, since pods cannot reach the host's loopback: the
 * test S3 server (rclone serve s3, testkit/tools/s3.sh) as a single-binary image, in a pod of the
 * namespace `fjord-s3-test` (PodSecurity `restricted` enforced), behind a Service the stack dials
 * by its DNS name over TLS. Its bucket is a directory of an emptyDir; a second container of that
 * pod, from a Debian image, mounts the same emptyDir read-only so the test reads exactly what the
 * server stored (as the Docker drill reads its bind-mounted directory).
 *
 * Needs what test/e2e/prod-kubernetes.test.ts needs, plus rclone-s3 (testkit/tools/s3.sh).
 */
import { upOrExplain } from "../../testkit/cluster/up";
import { backupMetrics, RUNNER_METRICS_COMMAND, timer } from "../../testkit/backups";
import { randomBytes } from "crypto";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestCluster, type KubeObject, type TestCluster } from "../../testkit/cluster";
import { waitFor } from "../../testkit/cluster/api";
import { prodClusterConfig } from "../../testkit/cluster/stack-config";
import { findLokiBinary } from "../../testkit/images";
import { makeTempDir, removeDir } from "../../testkit/proc";
import { ensureRcloneS3 } from "../../testkit/s3";
import { withEphemeralStack, type Ephemeral } from "../../testkit/stack";
import { createTestCa, issueTestCert } from "../../testkit/tls";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timings: Record<string, number> = {};
/** A value no backup may show in plain text. */
const MARKER = "fjord-drill-personal-data-7f3a";

const S3_NS = "fjord-s3-test";
const S3_HOST = `s3.${S3_NS}.svc.cluster.local`;
/**
 * The Service's port is the pod's port: kube-router matches a NetworkPolicy's egress port after
 * the Service's DNAT, so a Service port 443 → 9000 would not match the database's egress rule.
 */
const S3_PORT = 9000;
const BUCKET = "fjord-backups";

let cluster: TestCluster;

const timed = timer(timings);

/** `kubectl exec` that answers the exit code and output instead of throwing. */
async function tryExec(
  ns: string,
  pod: string,
  container: string,
  cmd: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; out: string }> {
  try {
    const out = await cluster.kubectl(
      ["exec", "-n", ns, pod, "-c", container, "--", ...cmd],
      timeoutMs,
    );
    return { code: 0, out };
  } catch (err) {
    const m = /exit code (\d+)/.exec((err as Error).message);
    return { code: m ? Number(m[1]) : -1, out: (err as Error).message };
  }
}

async function exec(ns: string, pod: string, container: string, cmd: string[], timeoutMs?: number) {
  const r = await tryExec(ns, pod, container, cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`exec in ${ns}/${pod} -c ${container} failed: ${r.out}`);
  return r.out;
}

/** SQL in the server's own container, over its socket; returns the rows as text. */
async function sql(engine: "postgres" | "mysql", name: string, q: string) {
  const cmd =
    engine === "postgres"
      ? ["psql", "-h", "/var/run/postgresql", "-U", name, "-d", name, "-Atq", "-c", q]
      : ["sh", "-c", `mariadb -uroot -p"$MARIADB_ROOT_PASSWORD" -D ${name} -N -s -e "${q}"`];
  return (await exec(`fjord-${name}`, `${name}-db-0`, engine, cmd)).trim();
}

/** Waits for a line in the `backup` sidecar's log (the runner says when it is ready). */
async function waitForRunner(service: string, text: string, timeoutMs = 300_000) {
  const ns = `fjord-${service}`;
  const until = Date.now() + timeoutMs;
  for (;;) {
    let log = "";
    try {
      log = await cluster.kubectl(["logs", "-n", ns, `${service}-db-0`, "-c", "backup"]);
    } catch (err) {
      log = (err as Error).message;
    }
    if (log.includes(text)) return;
    if (Date.now() > until)
      throw new Error(
        `${ns}/${service}-db-0 -c backup never logged "${text}":\n${log.slice(-3000)}`,
      );
    await sleep(3000);
  }
}

/** `run.sh now` in the sidecar, with optional variables overriding the pod's (a broken key). */
const backupNow = (service: string, env: string[] = []) =>
  tryExec(
    `fjord-${service}`,
    `${service}-db-0`,
    "backup",
    env.length
      ? [
          "sh",
          "-c",
          `${env.map((e) => `export ${e};`).join(" ")} exec sh /etc/fjord/backup/run.sh now`,
        ]
      : ["sh", "/etc/fjord/backup/run.sh", "now"],
    900_000,
  );

interface S3InCluster {
  accessKeyId: string;
  secretAccessKey: string;
  caPem: string;
  /** Keys below the bucket, with their size, read from the server's backing directory. */
  keys(): Promise<string[]>;
  /** Keys of the stored objects whose bytes contain any of `needles`, in plain text. */
  containing(needles: string[]): Promise<string[]>;
  bytes(): Promise<number>;
  stop(): Promise<void>;
}

const restricted = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
});

/** The test S3 server in the cluster, with a certificate for its Service's DNS name. */
async function startS3InCluster(): Promise<S3InCluster> {
  if (!cluster.images.s3)
    throw new Error("the test cluster was started without an rclone-s3 image");
  const dir = makeTempDir("fjord-s3k-");
  const ca = createTestCa(path.join(dir, "ca"));
  // pgBackRest matches only DNS names, so the certificate names the host the stack dials.
  const cert = issueTestCert(ca, dir, { name: "s3", dnsNames: [S3_HOST], ipAddresses: [] });
  removeDir(dir);
  const accessKeyId = randomBytes(10).toString("hex");
  const secretAccessKey = randomBytes(20).toString("hex");
  const uid = 65532;
  const labels = { app: "s3" };
  const objects: KubeObject[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: S3_NS,
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s3-tls", namespace: S3_NS },
      type: "kubernetes.io/tls",
      stringData: { "tls.crt": cert.certPem, "tls.key": cert.keyPem },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "s3", namespace: S3_NS, labels },
      spec: { selector: labels, ports: [{ name: "s3", port: S3_PORT, targetPort: S3_PORT }] },
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "s3", namespace: S3_NS, labels },
      spec: {
        automountServiceAccountToken: false,
        securityContext: {
          runAsNonRoot: true,
          fsGroup: uid,
          seccompProfile: { type: "RuntimeDefault" },
        },
        // The image holds the binary alone; the bucket directory must exist before the server
        // first lists its root, so a Debian image makes it.
        initContainers: [
          {
            name: "bucket",
            image: cluster.images.local.postgres,
            command: ["mkdir", "-p", `/data/${BUCKET}`],
            securityContext: restricted(uid),
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
        containers: [
          {
            name: "s3",
            image: cluster.images.s3,
            // prettier-ignore
            args: [
              "serve", "s3", "/data",
              "--addr", `:${S3_PORT}`,
              "--cert", "/certs/tls.crt", "--key", "/certs/tls.key",
              "--auth-key", `${accessKeyId},${secretAccessKey}`,
              "--config", "/nonexistent.conf",
            ],
            env: [{ name: "HOME", value: "/tmp" }],
            ports: [{ name: "s3", containerPort: S3_PORT }],
            readinessProbe: { tcpSocket: { port: S3_PORT }, periodSeconds: 2 },
            securityContext: restricted(uid),
            volumeMounts: [
              { name: "data", mountPath: "/data" },
              { name: "tls", mountPath: "/certs", readOnly: true },
              { name: "tmp", mountPath: "/tmp" },
            ],
          },
          {
            // What the server stored, for the test to read (find, grep); never written here.
            name: "files",
            image: cluster.images.local.postgres,
            command: ["sleep", "infinity"],
            securityContext: restricted(uid),
            volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
          },
        ],
        volumes: [
          { name: "data", emptyDir: {} },
          { name: "tmp", emptyDir: {} },
          { name: "tls", secret: { secretName: "s3-tls", defaultMode: 0o444 } },
        ],
      },
    },
  ];
  for (const o of objects) await cluster.api.apply(o);
  await waitFor(
    "the in-cluster S3 server to be Ready",
    async () => {
      const p = await cluster.api.get<
        KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }
      >(`/api/v1/namespaces/${S3_NS}/pods/s3`);
      return p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
        ? true
        : undefined;
    },
    180_000,
    1000,
  ).catch(async (err) => {
    throw new Error(`${(err as Error).message}\n${await cluster.diagnose()}`);
  });
  const files = (cmd: string[]) => tryExec(S3_NS, "s3", "files", cmd);
  return {
    accessKeyId,
    secretAccessKey,
    caPem: ca.certPem,
    async keys() {
      const r = await files(["find", `/data/${BUCKET}`, "-type", "f", "-printf", "%P\\n"]);
      if (r.code !== 0) throw new Error(r.out);
      return r.out.split("\n").filter(Boolean).sort();
    },
    async containing(needles) {
      // grep exits 1 when nothing matched: the answer this drill wants.
      const args = needles.flatMap((n) => ["-e", n]);
      const r = await files(["grep", "-rlF", "-a", ...args, `/data/${BUCKET}`]);
      if (r.code === 1) return [];
      if (r.code !== 0) throw new Error(r.out);
      return r.out.split("\n").filter(Boolean);
    },
    async bytes() {
      const r = await files(["du", "-sb", `/data/${BUCKET}`]);
      return Number(r.out.split(/\s/)[0]);
    },
    async stop() {
      await cluster.api.delete(`/api/v1/namespaces/${S3_NS}`);
    },
  };
}

async function setRestore(
  e: Ephemeral,
  base: Record<string, unknown>,
  from: Record<string, string>,
) {
  const services = (base.services as Array<Record<string, unknown> & { name: string }>).map(
    (s) => ({
      ...s,
      database: {
        ...(s.database as object),
        ...(from[s.name] ? { restore: { from: from[s.name] } } : {}),
      },
    }),
  );
  await e.stack.setConfig("fjord:services", { value: JSON.stringify(services) });
}

/** What a lost node leaves: no pod, no StatefulSet, no volume claim. */
async function destroyDatabase(service: string) {
  const ns = `fjord-${service}`;
  await cluster.kubectl(
    ["delete", "-n", ns, "statefulset", `${service}-db`, "--cascade=foreground", "--wait"],
    180_000,
  );
  await cluster.kubectl(
    ["delete", "-n", ns, "pod", `${service}-db-0`, "--ignore-not-found", "--wait"],
    180_000,
  );
  await cluster.kubectl(["delete", "-n", ns, "pvc", `data-${service}-db-0`, "--wait"], 180_000);
}

beforeAll(async () => {
  const t0 = Date.now();
  // The same binaries as the rollout e2e, so the nodes' shared image stores keep their images.
  cluster = await startTestCluster({
    nodes: 3,
    binaries: { loki: findLokiBinary(), s3: ensureRcloneS3() },
  });
  timings.clusterStart = (Date.now() - t0) / 1000;
  console.log(`[backup-k8s] test cluster ready in ${timings.clusterStart}s`, cluster.phases);
});

afterAll(async () => {
  await cluster?.stop();
  console.log(`[backup-k8s] timings (s): ${JSON.stringify(timings)}`);
});

describe("backups on Kubernetes: the restore drill", () => {
  it("GIVEN a prod stack on a real cluster backing up PostgreSQL and MariaDB to S3 WHEN each database and its volume are destroyed and restored THEN PostgreSQL has every row, also to a point in time, and MariaDB the rows of its backup", async () => {
    const s3 = await timed("s3Start", () => startS3InCluster());
    try {
      const prod = prodClusterConfig(cluster, {
        backups: {
          target: {
            endpoint: `${S3_HOST}:${S3_PORT}`,
            bucket: BUCKET,
            region: "no-osl1",
            caCert: s3.caPem,
          },
          // Never due during the test: the drill takes its backups on demand.
          schedule: "0 0 1 1 *",
          retention: { count: 2, age: "1d" },
        },
      });
      // The two services with a database of each engine; everything else is prod's own.
      const services = (prod.services as Array<Record<string, unknown> & { name: string }>)
        .filter((s) => s.name === "orders" || s.name === "inventory")
        .map((s) => (s.name === "orders" ? { ...s, calls: ["inventory"] } : s));
      const config = { ...prod, services, observability: { enabled: false } };
      await withEphemeralStack(
        {
          name: "backup-k8s",
          baseStack: "prod",
          config,
          secrets: {
            kubeconfig: cluster.kubeconfig,
            backupAccessKeyId: s3.accessKeyId,
            backupSecretAccessKey: s3.secretAccessKey,
          },
        },
        async (e) => {
          const up = await timed("up", () => upOrExplain(cluster, e));
          expect(up.summary.result).toBe("succeeded");
          await timed("runnersReady", async () => {
            await waitForRunner("orders", "backup runner ready");
            await waitForRunner("inventory", "backup runner ready");
          });

          // GIVEN rows A in each database, backed up
          await sql(
            "postgres",
            "orders",
            `create table drill (id int primary key, v text); insert into drill select g, '${MARKER}-' || g from generate_series(1, 500) g`,
          );
          await sql(
            "mysql",
            "inventory",
            `create table drill (id int primary key, v text); insert into drill values ${Array.from({ length: 200 }, (_, i) => `(${i + 1}, '${MARKER}-${i + 1}')`).join(",")}`,
          );
          for (const service of ["orders", "inventory"]) {
            const r = await timed(`backup:${service}`, () => backupNow(service));
            expect(r.code, `${service}: ${r.out}`).toBe(0);
          }
          const metrics = backupMetrics(
            await exec("fjord-orders", "orders-db-0", "backup", RUNNER_METRICS_COMMAND),
          );
          expect(metrics.lastSuccess).toBeGreaterThan(Date.now() / 1000 - 900);
          expect(metrics.sizeBytes).toBeGreaterThan(0);

          // WHEN a backup fails (the store refuses the key) THEN the last good one stays
          // The backups, not the WAL archive: PostgreSQL keeps archiving meanwhile, as it should.
          const backupKeys = async () => (await s3.keys()).filter((k) => !/\/archive\//.test(k));
          const beforeFail = await backupKeys();
          const bad = await backupNow("inventory", [
            "RCLONE_CONFIG_FJORDS3_SECRET_ACCESS_KEY=wrong",
          ]);
          expect(bad.code, bad.out).not.toBe(0);
          expect(bad.out).toMatch(/SignatureDoesNotMatch|403/);
          expect(bad.out).toMatch(/fjord:backups\.target \(.*\).*fjord:backupSecretAccessKey/);
          const badPg = await backupNow("orders", ["PGBACKREST_REPO1_S3_KEY_SECRET=wrong"]);
          expect(badPg.code, badPg.out).not.toBe(0);
          expect(badPg.out).toMatch(/fjord:backups\.target \(.*\).*fjord:backupSecretAccessKey/);
          expect(await backupKeys()).toEqual(beforeFail);

          // AND rows B after the backup; PostgreSQL's point in time lies between A and B
          await sleep(2000);
          const pointInTime = await sql(
            "postgres",
            "orders",
            "select to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
          );
          await sleep(2000);
          await sql(
            "postgres",
            "orders",
            "insert into drill select g, 'b-' || g from generate_series(501, 600) g",
          );
          await sql("mysql", "inventory", "insert into drill values (201, 'b-201')");
          const archivedCount = () =>
            sql("postgres", "orders", "select archived_count from pg_stat_archiver").then(Number);
          const archived = await archivedCount();
          await sql("postgres", "orders", "select pg_switch_wal()");
          await timed("walArchived", () =>
            waitFor(
              "the WAL segment holding rows B to be archived",
              async () => ((await archivedCount()) > archived ? true : undefined),
              120_000,
              1000,
            ),
          );

          // THEN the bucket holds only ciphertext
          const keys = await s3.keys();
          expect(keys.length).toBeGreaterThan(3);
          expect(keys.some((k) => k.includes("/orders/"))).toBe(true);
          expect(await s3.containing([MARKER, "drill"])).toEqual([]);
          timings.bucketBytes = await s3.bytes();

          // WHEN each database and its volume are destroyed, and restored into a fresh instance
          await timed("destroyDatabases", async () => {
            await destroyDatabase("orders");
            await destroyDatabase("inventory");
          });
          await setRestore(e, config, { orders: "latest", inventory: "latest" });
          await e.stack.refresh({ onOutput: (s) => process.stdout.write(s) });
          await timed("restoreLatest", () => upOrExplain(cluster, e));

          // THEN PostgreSQL has A and B (WAL replayed to the end); MariaDB its full backup, A
          expect(await sql("postgres", "orders", "select count(*), sum(id) from drill")).toBe(
            `600|${(600 * 601) / 2}`,
          );
          expect(
            await sql("postgres", "orders", `select count(*) from drill where v = '${MARKER}-250'`),
          ).toBe("1");
          expect(await sql("mysql", "inventory", "select count(*), sum(id) from drill")).toBe(
            `200\t${(200 * 201) / 2}`,
          );
          // ... on the volumes named after the restore point
          const claims = async (ns: string) =>
            (
              await cluster.api.list<KubeObject>(`/api/v1/namespaces/${ns}/persistentvolumeclaims`)
            ).map((c) => c.metadata.name);
          expect(await claims("fjord-orders")).toContain("data-restore-latest-orders-db-0");
          expect(await claims("fjord-inventory")).toContain("data-restore-latest-inventory-db-0");

          // WHEN PostgreSQL is restored to the point between the writes THEN only A is there
          await setRestore(e, config, { orders: pointInTime, inventory: "latest" });
          await timed("restorePointInTime", () => upOrExplain(cluster, e));
          expect(await sql("postgres", "orders", "select count(*), max(id) from drill")).toBe(
            "500|500",
          );
          // AND the restored database still archives and backs up
          await waitForRunner("orders", "backup runner ready");
          const again = await timed("backupAfterRestore", () => backupNow("orders"));
          expect(again.code, again.out).toBe(0);
        },
      );
    } finally {
      await s3.stop();
    }
  });
});
