import { describe, expect, it } from "vitest";
import { DEFAULT_REGION, parseSpec } from "../../../components/config";
import {
  bindGateway,
  planPlatform,
  serviceEnv,
  type ServiceDatabasePlan,
} from "../../../components/plan";
import { databaseExporter, planDatabase } from "../../../components/plan/database";
import {
  GATEWAY_RSA_FILES,
  GATEWAY_TICKET_DIR,
  GATEWAY_TLS_FILES,
} from "../../../components/plan/gateway";
import { latencyAnnotations } from "../../../components/plan/latency";
import { observabilityModel } from "../../../components/plan/observability";
import { validValues } from "../config/fixtures";
import { stackSpec } from "./observability-fixtures";

const prod = stackSpec("prod");
const dev = stackSpec("dev");

// The two targets' host rules, as their Platforms pass them.
const k8sHost = (db: ServiceDatabasePlan) => `${db.app}.fjord-${db.owner}.svc.cluster.local`;
const dockerHost = (db: ServiceDatabasePlan) => `dev-${db.owner}-db`;

describe("planPlatform", () => {
  it("GIVEN the prod stack WHEN planned THEN each service with a database gets exactly one database plan, and the others none", () => {
    const plan = planPlatform(prod);
    expect(plan.services.map((s) => s.spec.name)).toEqual(prod.services.map((s) => s.name));
    for (const s of plan.services) {
      const db = prod.services.find((x) => x.name === s.spec.name)!.database;
      if (!db) {
        expect(s.database, s.spec.name).toBeUndefined();
        continue;
      }
      expect(s.database!.owner).toBe(s.spec.name);
      expect(s.database!.app).toBe(`${s.spec.name}-db`);
      expect(s.database!.spec).toBe(db);
      expect(s.database!.plan).toEqual(planDatabase(db));
    }
    expect(plan.services.filter((s) => s.database)).toHaveLength(
      prod.services.filter((s) => s.database).length,
    );
  });

  it("GIVEN a config that omits region, replicas, paths and port WHEN planned THEN the schema's defaults are in the plan", () => {
    const values = validValues();
    delete values.region;
    const spec = parseSpec({ stack: "t", values, secrets: {}, dryRun: true }).spec;
    const plan = planPlatform(spec);
    expect(plan.region).toBe(DEFAULT_REGION);
    expect(plan.jurisdiction).toBe("NO");
    for (const s of plan.services) {
      expect(s.spec.region).toBe(DEFAULT_REGION);
      expect(s.spec.replicas).toBe(2);
      expect(s.spec.port).toBe(8080);
      expect(s.spec.healthPath).toBe("/health");
      expect(s.spec.metricsPath).toBe("/metrics");
      expect(s.namespace).toBe(`fjord-${s.spec.name}`);
    }
    expect(plan.gateway.replicas).toBe(2);
    expect(plan.gateway.kind).toBe("nginx");
  });

  it("GIVEN both targets' host rules WHEN a service's env is built THEN the names, port and credential are the same and only DB_HOST differs", () => {
    const plan = planPlatform(prod);
    for (const s of plan.services.filter((x) => x.database)) {
      const k8s = serviceEnv(s, k8sHost);
      const docker = serviceEnv(s, dockerHost);
      expect(Object.keys(k8s.env)).toEqual(Object.keys(docker.env));
      expect(Object.keys(k8s.env)).toEqual(
        expect.arrayContaining(["DB_ENGINE", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER"]),
      );
      expect({ ...k8s.env, DB_HOST: "" }).toEqual({ ...docker.env, DB_HOST: "" });
      expect(k8s.env.DB_HOST).toBe(`${s.spec.name}-db.fjord-${s.spec.name}.svc.cluster.local`);
      expect(docker.env.DB_HOST).toBe(`dev-${s.spec.name}-db`);
      expect(k8s.env.DB_PORT).toBe(String(s.database!.plan.port));
      expect(k8s.env.DB_ENGINE).toBe(s.database!.spec.engine);
      expect(k8s.secretEnv).toEqual({ DB_PASSWORD: "password" });
      expect(docker.secretEnv).toEqual(k8s.secretEnv);
    }
  });

  it("GIVEN a service without a database WHEN its env is built THEN it is the service's own env, with no DB_* and no secrets", () => {
    // The fixture's second service, without its database and with an env of its own.
    const { database: _db, ...payment } = (validValues().services as Record<string, unknown>[])[1];
    void _db;
    const spec = stackSpec("prod", {
      services: [{ ...payment, route: { path: "/payment/" }, env: { LOG_LEVEL: "info" } }],
    });
    const [solo] = planPlatform(spec).services;
    const host = () => {
      throw new Error("no database: the host rule must not be asked");
    };
    expect(serviceEnv(solo, host)).toEqual({ env: { LOG_LEVEL: "info" }, secretEnv: {} });
  });

  it("GIVEN each engine WHEN planned THEN every secret env var names a credential the plan generates, and the exporter image matches the engine", () => {
    const plan = planPlatform(prod);
    const engines = new Set<string>();
    for (const s of plan.services) {
      const db = s.database;
      if (!db) continue;
      engines.add(db.plan.engine);
      const secrets = [...db.plan.serverEnv, ...databaseExporter(db.plan, "127.0.0.1").env]
        .filter((v) => "secret" in v)
        .map((v) => ("secret" in v ? v.secret : ""));
      for (const key of secrets) expect(db.plan.credentials, s.spec.name).toContain(key);
      expect(db.exporterImage).toBe(
        db.plan.engine === "postgres" ? prod.images.postgresExporter : prod.images.mysqlExporter,
      );
    }
    expect([...engines].sort()).toEqual(["mysql", "postgres"]);
  });

  it("GIVEN the exporter's host WHEN the exporter is planned THEN it dials that host on the server's port", () => {
    const db = planPlatform(prod).services.find((s) => s.database?.plan.engine === "mysql")!
      .database!.plan;
    expect(databaseExporter(db, "dev-inventory-db").args).toContain(
      `--mysqld.address=dev-inventory-db:${db.port}`,
    );
    const pg = planPlatform(prod).services.find((s) => s.database?.plan.engine === "postgres")!
      .database!.plan;
    expect(databaseExporter(pg, "127.0.0.1").env[0]).toEqual({
      name: "DATA_SOURCE_URI",
      value: `127.0.0.1:${pg.port}/${pg.name}?sslmode=disable`,
    });
  });

  it("GIVEN the spec WHEN planned THEN the latency annotations and the observability model are the plan domains' own, computed once", () => {
    const plan = planPlatform(prod);
    const latency = latencyAnnotations(prod);
    for (const s of plan.services) expect(s.annotations).toEqual(latency.services[s.spec.name]);
    expect(plan.gateway.annotations).toEqual(latency.gateway);
    expect(plan.observability).toEqual(observabilityModel(prod));
  });

  it("GIVEN callers in the spec WHEN planned THEN each service lists the services that call it", () => {
    const plan = planPlatform(prod);
    const callers = Object.fromEntries(plan.services.map((s) => [s.spec.name, s.callers]));
    expect(callers).toEqual({ orders: [], inventory: ["orders"], payment: ["orders"] });
  });

  it("GIVEN nginx or Traefik WHEN planned THEN the gateway image follows the kind and only nginx gets the exporter", () => {
    const nginx = planPlatform(prod).gateway;
    expect(nginx).toMatchObject({
      kind: "nginx",
      image: prod.images.nginx,
      exporterImage: prod.images.nginxExporter,
    });
    const traefikSpec = stackSpec("prod", {
      gateway: { domains: ["api.example.no"], kind: "traefik" },
    });
    const traefik = planPlatform(traefikSpec).gateway;
    expect(traefik.image).toBe(traefikSpec.images.traefik);
    expect(traefik.exporterImage).toBeUndefined();
  });

  it("GIVEN a target's binding WHEN the gateway is bound THEN upstreams come from the binding and the TLS paths and file dir from the plan", () => {
    const plan = planPlatform(dev);
    const gw = bindGateway(plan, {
      servers: (s) => [{ host: `dev-${s.name}-0`, port: s.port }],
      publicHttpsPort: 8443,
      rsaFallback: false,
    });
    expect(gw.plan.tls.rsaFallback).toBeUndefined();
    expect(gw.plan.tls.certFile).toBe(GATEWAY_TLS_FILES.certFile);
    expect(gw.plan.tls.keyFile).toBe(GATEWAY_TLS_FILES.keyFile);
    expect(GATEWAY_TLS_FILES.certFile.startsWith(`${gw.configDir}/`)).toBe(true);
    expect(gw.plan.upstreams.map((u) => u.servers[0].host)).toEqual(
      dev.services.filter((s) => s.route).map((s) => `dev-${s.name}-0`),
    );
    expect(gw.plan.listen.publicHttpsPort).toBe(8443);
    expect(gw.files.command.join(" ")).toContain(gw.configDir);
  });

  it("GIVEN a target that mounts an RSA pair WHEN bound THEN the plan serves it after the ECDSA one, and tickets use the mounted keys", () => {
    const gw = bindGateway(planPlatform(dev), {
      servers: (s) => [{ host: `dev-${s.name}-0`, port: s.port }],
      publicHttpsPort: 8443,
      rsaFallback: true,
    });
    expect(gw.plan.tls.rsaFallback).toEqual(GATEWAY_RSA_FILES);
    expect(gw.plan.tls.sessionTicketKeyFiles).toEqual([
      `${GATEWAY_TICKET_DIR}/current.key`,
      `${GATEWAY_TICKET_DIR}/previous.key`,
    ]);
    expect(GATEWAY_TICKET_DIR.startsWith(`${gw.configDir}/`)).toBe(true);
  });
});
