import { beforeAll, describe, expect, it } from "vitest";
import { setupMocks, type Recorded } from "../../../testkit/mocks";
import {
  CONTAINER as C,
  containerNamed,
  envOf,
  labelMap,
  networksOf,
  uploads,
  type Upload,
} from "./containers";
import { devSpec } from "./spec";

const rec = await setupMocks({
  stack: "dev",
  outputs: {
    "docker:index/remoteImage:RemoteImage": (r) => ({ imageId: `sha256:${r.inputs.name}` }),
  },
});
const { Platform } = await import("../../../components/docker");

const spec = devSpec({ images: { nginx: "fjord-local/nginx:1.22.1-abc" } });

beforeAll(async () => {
  new Platform("fjord", { spec });
  await rec.settle();
});

const containers = () => rec.ofType(C);
const byName = (n: string): Recorded => containerNamed(rec, n);

describe("docker Platform (dev stack file)", () => {
  it("GIVEN the dev stack file WHEN the Platform is built THEN there is one internal network per service and per database, plus front and an internal metrics network", () => {
    const nets = rec
      .ofType("docker:index/network:Network")
      .map((r) => [r.inputs.name, r.inputs.internal]);
    expect(nets).toEqual([
      ["dev-front", false],
      ["dev-metrics", true],
      ["dev-svc-orders", true],
      ["dev-db-orders", true],
      ["dev-svc-inventory", true],
      ["dev-db-inventory", true],
    ]);
  });

  it("GIVEN the dev stack file WHEN the Platform is built THEN each service's database runs on its own internal network only, unpublished, with a named volume, and the only other volumes are Loki's and Prometheus'", () => {
    const dbs = containers().filter((r) => labelMap(r)["fjord.role"] === "database");
    expect(dbs.map((r) => r.inputs.name).sort()).toEqual(["dev-inventory-db", "dev-orders-db"]);
    for (const db of dbs) {
      const svc = labelMap(db)["fjord.service"];
      expect(networksOf(db), db.inputs.name).toEqual([`dev-db-${svc}`]);
      expect(db.inputs.ports, db.inputs.name).toEqual([]);
      expect(db.inputs.volumes[0].volumeName).toBe(`dev-${svc}-db-data`);
    }
    const vols = rec.ofType("docker:index/volume:Volume").map((r) => r.inputs.name);
    expect(vols.sort()).toEqual([
      "dev-inventory-db-data",
      "dev-loki-data",
      "dev-orders-db-data",
      "dev-prometheus-data",
    ]);
  });

  it("GIVEN a PostgreSQL and a MariaDB database WHEN the Platform is built THEN each gets its rendered config read-only, and PostgreSQL the args that load it", () => {
    const pg = byName("dev-orders-db");
    const conf = uploads(pg).find((u) => u.file === "/etc/fjord/postgresql.conf")!;
    expect(conf.permissions).toBe("0444");
    expect(String(conf.content)).toMatch(/shared_buffers/);
    expect(pg.inputs.command).toEqual(["-c", "config_file=/etc/fjord/postgresql.conf"]);
    const maria = byName("dev-inventory-db");
    expect(uploads(maria).map((u) => u.file)).toEqual(["/etc/mysql/conf.d/fjord.cnf"]);
  });

  it("GIVEN a service with two replicas WHEN the Platform is built THEN one container per replica is named <stack>-<service>-<i>, on its own database network and the api networks it needs only", () => {
    const orders = containers().filter(
      (r) => labelMap(r)["fjord.role"] === "service" && labelMap(r)["fjord.service"] === "orders",
    );
    expect(orders.map((r) => r.inputs.name)).toEqual(["dev-orders-0", "dev-orders-1"]);
    for (const o of orders)
      expect(networksOf(o)).toEqual(["dev-db-orders", "dev-svc-orders", "dev-svc-inventory"]);
    expect(networksOf(byName("dev-inventory-0"))).toEqual([
      "dev-db-inventory",
      "dev-svc-inventory",
    ]);
  });

  it("GIVEN services with databases WHEN the Platform is built THEN the DB_* variables are set and database passwords are passed only as secret env", () => {
    const env = envOf(byName("dev-orders-0"), true);
    expect(env).toMatchObject({
      DB_ENGINE: "postgres",
      DB_HOST: "dev-orders-db",
      DB_PORT: "5432",
      DB_NAME: "orders",
      DB_USER: "orders",
    });
    expect(env.DB_PASSWORD).toBe("mock-password-orders-db-password");
    expect(envOf(byName("dev-orders-db"), true).POSTGRES_PASSWORD).toBe(
      "mock-password-orders-db-password",
    );
    const maria = envOf(byName("dev-inventory-db"), true);
    expect(maria.MARIADB_ROOT_PASSWORD).toBe("mock-password-inventory-db-root-password");
    expect(envOf(byName("dev-inventory-db-exporter"), true).MYSQLD_EXPORTER_PASSWORD).toBeDefined();
    // A container with no secret has plain env.
    expect(Array.isArray(byName("dev-node-exporter").inputs.envs)).toBe(true);
  });

  it("GIVEN the dev stack file WHEN the Platform is built THEN only the gateway, Prometheus, Grafana and the log input are published, the gateway and Prometheus on 127.0.0.1", () => {
    const published = containers().filter((r) => (r.inputs.ports ?? []).length > 0);
    expect(published.map((r) => r.inputs.name).sort()).toEqual([
      "dev-gateway",
      "dev-grafana",
      "dev-log-shipper",
      "dev-prometheus",
    ]);
    const gw = byName("dev-gateway").inputs.ports;
    expect(gw).toEqual([
      { internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(byName("dev-prometheus").inputs.ports).toEqual([
      { internal: 9090, external: 9090, ip: "127.0.0.1", protocol: "tcp" },
    ]);
  });

  it("GIVEN the dev stack file WHEN the Platform is built THEN every container has memory (without swap) and CPU limits, a restart policy, no capabilities, no-new-privileges and a numeric user", () => {
    for (const c of containers()) {
      expect(c.inputs.memory, c.inputs.name).toBeGreaterThan(0);
      expect(c.inputs.memorySwap, c.inputs.name).toBe(c.inputs.memory);
      expect(Number(c.inputs.cpus), c.inputs.name).toBeGreaterThan(0);
      expect(c.inputs.restart).toBe("unless-stopped");
      expect(c.inputs.capabilities.drops).toEqual(["ALL"]);
      expect(c.inputs.securityOpts).toEqual(["no-new-privileges:true"]);
      expect(c.inputs.user, c.inputs.name).toMatch(/^\d+:\d+$/);
    }
    expect(byName("dev-orders-0").inputs).toMatchObject({
      memory: 128,
      cpus: "0.5",
      memoryReservation: 64,
      readOnly: true,
    });
    expect(byName("dev-orders-db").inputs).toMatchObject({ memory: 512, cpus: "0.5" });
  });

  it("GIVEN the dev stack file WHEN the Platform is built THEN every container, network and volume is labelled with the stack and role, and a service's containers with the service", () => {
    for (const r of [
      ...containers(),
      ...rec.ofType("docker:index/network:Network"),
      ...rec.ofType("docker:index/volume:Volume"),
    ]) {
      const l = labelMap(r);
      expect(l["fjord.stack"], r.name).toBe("dev");
      expect(l["fjord.role"], r.name).toBeTruthy();
    }
    expect(labelMap(byName("dev-orders-1"))).toEqual({
      "fjord.stack": "dev",
      "fjord.role": "service",
      "fjord.service": "orders",
    });
  });

  it("GIVEN an nginx gateway WHEN the Platform is built THEN its config has one upstream server per replica and Docker's resolver, and the TLS pairs and ticket keys are uploaded readable by nginx only", () => {
    const gw = byName("dev-gateway");
    const conf = String(uploads(gw, true).find((u) => u.file === "/etc/fjord/nginx.conf")!.content);
    expect(conf).toMatch(/server dev-orders-0:8080 max_fails=3/);
    expect(conf).toMatch(/server dev-orders-1:8080 max_fails=3/);
    // Replicas are fixed containers here: no endpoint watcher, nginx runs the file as uploaded.
    expect(conf).not.toContain("@@endpoints");
    expect(uploads(gw, true).map((u) => u.file)).not.toContain("/etc/fjord/endpoints.sh");
    expect(conf).toMatch(/resolver 127\.0\.0\.11/);
    expect(conf).toMatch(/return 301 https:\/\/\$host:8443\$request_uri/);
    const key = uploads(gw, true).find((u) => u.file === "/etc/fjord/tls/tls.key")!;
    expect(key.content).toMatch(/PRIVATE KEY/);
    expect(key.permissions).toBe("0400");
    // The RSA fallback pair beside the ECDSA one, and the ticket keys as bytes, both readable by nginx only.
    expect(conf).toContain("ssl_certificate /etc/fjord/tls/rsa.crt;");
    const rsaKey = uploads(gw, true).find((u) => u.file === "/etc/fjord/tls/rsa.key")!;
    expect(rsaKey.permissions).toBe("0400");
    for (const k of ["current", "previous"]) {
      const file = `/etc/fjord/tickets/${k}.key`;
      expect(conf).toContain(`ssl_session_ticket_key ${file};`);
      const u = uploads(gw, true).find((x) => x.file === file) as Upload & {
        contentBase64: string;
      };
      expect(Buffer.from(u.contentBase64, "base64")).toHaveLength(80);
      expect(u.permissions).toBe("0400");
    }
    expect(networksOf(gw)).toEqual(["dev-front", "dev-svc-orders", "dev-svc-inventory"]);
    const exporter = byName("dev-gateway-exporter");
    expect(exporter.inputs.networkMode).toMatch(/^container:/);
  });

  it("GIVEN an nginx image override in fjord:images WHEN the Platform is built THEN the override and the pinned defaults are pulled and kept locally", () => {
    const imgs = rec
      .ofType("docker:index/remoteImage:RemoteImage")
      .map((r) => r.inputs.name)
      .sort();
    expect(imgs).toContain("fjord-local/nginx:1.22.1-abc");
    expect(imgs).toContain("postgres:16.6-bookworm");
    expect(imgs).toContain("mariadb:11.4.4");
    expect(imgs).toContain("prom/prometheus:v3.1.0");
    expect(imgs).toContain("fjord-local/sample-service:0.1.0");
    for (const r of rec.ofType("docker:index/remoteImage:RemoteImage"))
      expect(r.inputs.keepLocally).toBe(true);
    expect(byName("dev-gateway").inputs.image).toBe("sha256:fjord-local/nginx:1.22.1-abc");
  });

  it("GIVEN the dev stack file WHEN the Platform is built THEN Prometheus scrapes every replica, database exporter, the gateway and the node exporter, with alert rules, and is on no database network", () => {
    const prom = byName("dev-prometheus");
    const yml = String(
      uploads(prom).find((u) => u.file === "/etc/prometheus/prometheus.yml")!.content,
    );
    for (const t of [
      "dev-orders-0:8080",
      "dev-orders-1:8080",
      "dev-inventory-0:8080",
      "dev-orders-db-exporter:9187",
      "dev-inventory-db-exporter:9104",
      "dev-gateway:9113",
      "dev-node-exporter:9100",
    ]) {
      expect(yml).toContain(t);
    }
    expect(uploads(prom).map((u) => u.file)).toContain("/etc/prometheus/alerts.yml");
    expect(networksOf(prom).filter((n) => n.startsWith("dev-db-"))).toEqual([]);
  });

  it("GIVEN the dev stack file WHEN the Platform is built THEN the services, databases, gateway and Prometheus have a health check that up waits for", () => {
    for (const n of [
      "dev-orders-0",
      "dev-orders-db",
      "dev-inventory-db",
      "dev-gateway",
      "dev-prometheus",
    ]) {
      const c = byName(n).inputs;
      expect(c.healthcheck.tests.length, n).toBeGreaterThan(1);
      expect(c.wait, n).toBe(true);
    }
  });
});
