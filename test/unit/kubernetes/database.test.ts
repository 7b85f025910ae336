import { beforeAll, describe, expect, it } from "vitest";
import { isSecret, secretInput, setupMocks, valueOf } from "../../../testkit/mocks";
import type { Database } from "../../../components/config";
import { planDatabase } from "../../../components/plan/database";

const rec = await setupMocks();
const { ServiceDatabase } = await import("../../../components/kubernetes");

const pg: Database = {
  engine: "postgres",
  version: "16.6",
  memory: "2Gi",
  cpu: "1",
  storage: "20Gi",
  disk: "nvme",
  name: "orders",
  image: "postgres:16.6-bookworm",
};
const my: Database = {
  engine: "mysql",
  version: "11.4.4",
  memory: "2Gi",
  cpu: "1",
  storage: "20Gi",
  disk: "ssd",
  name: "inventory",
  image: "mariadb:11.4.4",
};
let orders: InstanceType<typeof ServiceDatabase>;

beforeAll(async () => {
  orders = new ServiceDatabase("orders-db", {
    namespace: "fjord-orders",
    database: {
      owner: "orders",
      app: "orders-db",
      spec: pg,
      plan: planDatabase(pg),
      exporterImage: "pg-exporter:0.16.0",
    },
    region: "no-osl1",
  });
  new ServiceDatabase("inventory-db", {
    namespace: "fjord-inventory",
    database: {
      owner: "inventory",
      app: "inventory-db",
      spec: my,
      plan: planDatabase(my),
      exporterImage: "mysqld-exporter:0.16.0",
    },
    region: "no-osl1",
  });
  await rec.settle();
});

describe("ServiceDatabase", () => {
  it("GIVEN a PostgreSQL database with 2Gi and 20Gi of storage WHEN it is built THEN one StatefulSet replica has a 20Gi claim, limits equal to requests, and a ConfigMap tuned to the limit", () => {
    const sts = rec.get("kubernetes:apps/v1:StatefulSet", "orders-db-statefulset").inputs;
    expect(sts.spec.replicas).toBe(1);
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("20Gi");
    const db = sts.spec.template.spec.containers[0];
    expect(db.resources.limits).toEqual({ cpu: "1", memory: "2Gi" });
    expect(db.resources.requests).toEqual(db.resources.limits);
    expect(db.args).toEqual(["-c", "config_file=/etc/fjord/postgresql.conf"]);
    const conf = rec.get("kubernetes:core/v1:ConfigMap", "orders-db-config").inputs.data[
      "postgresql.conf"
    ];
    // 25% of the 2Gi limit.
    expect(conf).toMatch(/^shared_buffers\s*=\s*'?512MB'?/m);
  });

  it("GIVEN a PostgreSQL database WHEN it is built THEN its generated password is in a Secret, referenced by secretKeyRef and out of every pod spec, and the password output is secret", async () => {
    expect(
      rec.get("random:index/randomPassword:RandomPassword", "orders-db-password"),
    ).toBeTruthy();
    const sts = rec.get("kubernetes:apps/v1:StatefulSet", "orders-db-statefulset").inputs;
    expect(JSON.stringify(sts)).not.toContain("mock-password");
    const env = sts.spec.template.spec.containers.flatMap((c: { env: unknown[] }) => c.env);
    const refs = env.filter((e: { valueFrom?: unknown }) => e.valueFrom);
    expect(refs.map((e: { name: string }) => e.name)).toEqual([
      "POSTGRES_PASSWORD",
      "DATA_SOURCE_PASS",
    ]);
    for (const e of refs)
      expect(e.valueFrom.secretKeyRef).toEqual({ name: "orders-db-credentials", key: "password" });
    const secret = rec.get("kubernetes:core/v1:Secret", "orders-db-credentials").inputs;
    expect(secretInput(secret.stringData).password).toBe("mock-password-orders-db-password");
    expect(await isSecret(orders.password)).toBe(true);
    expect(await valueOf(orders.password)).toBe("mock-password-orders-db-password");
  });

  it("GIVEN a PostgreSQL database owned by orders WHEN it is built THEN it is reachable only through a ClusterIP Service, on its port and only from its owner, at the endpoint output", async () => {
    const svc = rec.get("kubernetes:core/v1:Service", "orders-db-service").inputs;
    expect(svc.spec.type).toBe("ClusterIP");
    const np = rec.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "orders-db-ingress").inputs
      .spec;
    expect(np.podSelector).toEqual({ matchLabels: { app: "orders-db" } });
    expect(np.ingress[0].from).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "fjord-orders" } },
        podSelector: { matchLabels: { app: "orders" } },
      },
    ]);
    expect(np.ingress[0].ports).toEqual([{ protocol: "TCP", port: 5432 }]);
    expect(await valueOf(orders.endpoint)).toBe("orders-db.fjord-orders.svc.cluster.local:5432");
  });

  it("GIVEN a MariaDB database WHEN it is built THEN it gets its own root password by secretKeyRef, config in fjord.cnf and an exporter", () => {
    expect(
      rec.get("random:index/randomPassword:RandomPassword", "inventory-db-root-password"),
    ).toBeTruthy();
    const cm = rec.get("kubernetes:core/v1:ConfigMap", "inventory-db-config").inputs.data[
      "fjord.cnf"
    ];
    expect(cm).toMatch(/innodb_buffer_pool_size/);
    const c = rec.get("kubernetes:apps/v1:StatefulSet", "inventory-db-statefulset").inputs.spec
      .template.spec.containers;
    expect(c.map((x: { name: string }) => x.name)).toEqual(["mysql", "exporter"]);
    expect(
      c[0].env.find((e: { name: string }) => e.name === "MARIADB_ROOT_PASSWORD").valueFrom
        .secretKeyRef.key,
    ).toBe("root-password");
  });
});
