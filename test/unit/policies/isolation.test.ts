import { describe, expect, it } from "vitest";
import { type Fixture, edit, runStack, unknown } from "./harness";
import {
  T,
  dbService,
  dbStatefulSet,
  defaultDeny,
  deployment,
  dockerContainer,
  namespace,
  prodStack,
} from "./fixtures";
import {
  databaseServiceInternal,
  defaultDenyNetworkPolicy,
  isDefaultDeny,
} from "../../../policies/isolation";
import { noSecretLiterals } from "../../../policies/secrets";
import { canonicalDbHost, oneDatabasePerService } from "../../../policies/databases";

const stack = prodStack();
const replace = (
  name: string,
  props: Record<string, unknown>,
  extra: Partial<Fixture> = {},
): Fixture[] => stack.map((r) => (r.name === name ? { ...r, props, ...extra } : r));
const dep = deployment();
const env = (d: typeof dep) =>
  d.spec.template.spec.containers[0].env as Array<Record<string, unknown>>;

describe("no-secret-literals", () => {
  it("GIVEN valueFrom secrets and plain settings whose names only look secret WHEN judged THEN it passes", async () => {
    const grafanaLike = edit(dep, (d) =>
      env(d).push(
        { name: "GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED", value: "true" },
        { name: "DB_PASSWORD_FILE", value: "/run/secrets/db" },
      ),
    );
    expect(
      (await runStack(noSecretLiterals, replace("orders-deployment", grafanaLike))).violations,
    ).toEqual([]);
  });
  it("GIVEN a literal DB_PASSWORD in a pod spec WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => (env(x)[1] = { name: "DB_PASSWORD", value: "hunter2-hunter2" }));
    expect((await runStack(noSecretLiterals, replace("orders-deployment", d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' sets DB_PASSWORD to a literal value in plain text in the pod spec; use valueFrom.secretKeyRef to read it from a Secret.",
    ]);
  });
  it("GIVEN a computed API_TOKEN value in a pod spec WHEN judged THEN it is refused too, as plain text there", async () => {
    const d = edit(dep, (x) => (env(x)[1] = { name: "API_TOKEN", value: unknown() }));
    expect((await runStack(noSecretLiterals, replace("orders-deployment", d))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' sets API_TOKEN to a computed value in plain text in the pod spec; use valueFrom.secretKeyRef to read it from a Secret.",
    ]);
  });
  it("GIVEN STRIPE_SECRET_KEY in ConfigMap data WHEN judged THEN it is refused", async () => {
    const cm = {
      metadata: { name: "app-config", namespace: "fjord-orders" },
      data: { LOG_LEVEL: "info", STRIPE_SECRET_KEY: "sk_live_abcdef" },
    };
    expect(
      (
        await runStack(noSecretLiterals, [
          ...stack,
          { type: T.configMap, name: "app-config", props: cm },
        ])
      ).mandatory,
    ).toEqual([
      "ConfigMap fjord-orders/app-config stores 'STRIPE_SECRET_KEY' in plain ConfigMap data; move it to a Secret and reference it from there.",
    ]);
  });
  it("GIVEN a Docker password env WHEN it depends on a generated password THEN it passes, and WHEN it is a literal THEN it is refused", async () => {
    const pw = "Zq8sX1mN4bV7cR2tY6uI9oP3";
    const random: Fixture = {
      type: T.random,
      name: "orders-db-password",
      props: { length: 24, result: pw },
    };
    const generated: Fixture = {
      type: T.docker,
      name: "orders-db",
      props: dockerContainer({ name: "orders-db", envs: [`POSTGRES_PASSWORD=${pw}`] }),
      propertyDependencies: { envs: ["orders-db-password"] },
    };
    expect((await runStack(noSecretLiterals, [random, generated])).violations).toEqual([]);
    const literal = {
      ...generated,
      props: dockerContainer({ name: "orders-db", envs: ["POSTGRES_PASSWORD=changeme123"] }),
    };
    expect((await runStack(noSecretLiterals, [random, literal])).mandatory).toEqual([
      "Docker container 'orders-db' sets POSTGRES_PASSWORD to a literal value in its environment; generate it (e.g. a RandomPassword) or read it from a secret store instead of writing it in the program.",
    ]);
  });
  it("GIVEN a computed Docker environment WHEN judged THEN it is not called a literal (a literal is always known at preview)", async () => {
    const c: Fixture = {
      type: T.docker,
      name: "orders-db",
      props: dockerContainer({ envs: unknown("array") }),
    };
    const r = await runStack(noSecretLiterals, [c]);
    expect(r.violations).toEqual([]);
  });
  it("GIVEN a stack with only a Namespace WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runStack(noSecretLiterals, [{ type: T.namespace, name: "ns", props: namespace("x") }]))
        .notApplicable,
    ).toEqual(["The stack has no containers or ConfigMaps."]);
  });
});

describe("database-service-internal", () => {
  it("GIVEN ClusterIP database Services WHEN judged THEN it passes", async () => {
    expect((await runStack(databaseServiceInternal, stack)).violations).toEqual([]);
  });
  it("GIVEN a LoadBalancer database Service WHEN judged THEN it is refused", async () => {
    expect(
      (
        await runStack(
          databaseServiceInternal,
          replace("orders-db-service", dbService("orders", "LoadBalancer")),
        )
      ).mandatory,
    ).toEqual([
      "Service fjord-orders/orders-db selects the database pods of StatefulSet fjord-orders/orders-db and is reachable from outside the cluster (type LoadBalancer); make it type ClusterIP without externalIPs.",
    ]);
  });
  it("GIVEN an unlabelled NodePort Service selecting database pods WHEN judged THEN it is found by its selector and refused", async () => {
    const svc = {
      metadata: { name: "debug", namespace: "fjord-orders" },
      spec: {
        type: "NodePort",
        selector: { app: "orders-db" },
        ports: [{ port: 15432, targetPort: 15432 }],
      },
    };
    expect(
      (
        await runStack(databaseServiceInternal, [
          ...stack,
          { type: T.service, name: "debug", props: svc },
        ])
      ).mandatory,
    ).toEqual([
      "Service fjord-orders/debug selects the database pods of StatefulSet fjord-orders/orders-db and is reachable from outside the cluster (type NodePort); make it type ClusterIP without externalIPs.",
    ]);
  });
  it("GIVEN a ClusterIP Service with externalIPs on database port 3306 WHEN judged THEN it is found by its port and refused", async () => {
    const svc = {
      metadata: { name: "legacy" },
      spec: {
        type: "ClusterIP",
        externalIPs: ["203.0.113.5"],
        selector: { app: "legacy" },
        ports: [{ port: 3306 }],
      },
    };
    expect(
      (await runStack(databaseServiceInternal, [{ type: T.service, name: "legacy", props: svc }]))
        .mandatory,
    ).toEqual([
      "Service legacy exposes database port 3306 and is reachable from outside the cluster (externalIPs); make it type ClusterIP without externalIPs.",
    ]);
  });
  it("GIVEN a Docker database publishing its port WHEN bound to loopback THEN it passes, and WHEN on all interfaces THEN it is refused", async () => {
    const db = (ip?: string) =>
      dockerContainer({
        name: "orders-db",
        image: "postgres:16.4",
        ports: [{ internal: 5432, external: 5432, ...(ip ? { ip } : {}) }],
      });
    expect(
      (
        await runStack(databaseServiceInternal, [
          { type: T.docker, name: "db", props: db("127.0.0.1") },
        ])
      ).violations,
    ).toEqual([]);
    expect(
      (await runStack(databaseServiceInternal, [{ type: T.docker, name: "db", props: db() }]))
        .mandatory,
    ).toEqual([
      "Docker container 'orders-db' is a database and publishes port 5432 on all host interfaces; remove the port mapping or bind it to 127.0.0.1.",
    ]);
  });
  it("GIVEN a database Service with a computed type WHEN judged THEN it is advised as unverifiable", async () => {
    const r = await runStack(
      databaseServiceInternal,
      replace("orders-db-service", dbService("orders", unknown())),
    );
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify the type of Service fjord-orders/orders-db at preview: spec.type is computed, and it selects the database pods of StatefulSet fjord-orders/orders-db.",
    ]);
  });
  it("GIVEN a stack with only a Namespace WHEN judged THEN the database-service policy is not applicable", async () => {
    expect(
      (await runStack(databaseServiceInternal, [{ type: T.namespace, name: "ns", props: {} }]))
        .notApplicable,
    ).toHaveLength(1);
  });
});

describe("default-deny-network-policy", () => {
  it.each([
    [{ podSelector: {}, policyTypes: ["Ingress", "Egress"] }, true],
    [{ podSelector: {} }, true],
    [{ podSelector: {}, policyTypes: ["Egress"] }, false],
    [{ podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress"] }, false],
    [{ podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] }, false],
  ])(
    "GIVEN the NetworkPolicy spec %j WHEN isDefaultDeny reads it THEN it returns %s",
    (spec, want) => expect(isDefaultDeny(spec)).toBe(want),
  );

  it("GIVEN a default-deny policy in every namespace WHEN judged THEN it passes", async () => {
    expect((await runStack(defaultDenyNetworkPolicy, stack)).violations).toEqual([]);
  });
  it("GIVEN a namespace without a default-deny policy WHEN judged THEN it is refused by name", async () => {
    const s = stack.filter((r) => r.name !== "orders-default-deny");
    expect((await runStack(defaultDenyNetworkPolicy, s)).mandatory).toEqual([
      "Namespace fjord-orders has no default-deny NetworkPolicy; add one with podSelector: {} and policyTypes: [Ingress, Egress] and no rules, then allow each flow explicitly.",
    ]);
  });
  it("GIVEN the namespace's only policy allowing ingress WHEN judged THEN it does not count and the namespace is refused", async () => {
    const allow = edit(defaultDeny("fjord-orders"), (p) =>
      Object.assign(p.spec, { ingress: [{ from: [{ podSelector: {} }] }] }),
    );
    expect(
      (await runStack(defaultDenyNetworkPolicy, replace("orders-default-deny", allow))).mandatory,
    ).toHaveLength(1);
  });
  it("GIVEN a default-deny policy whose namespace is computed but depends on the Namespace WHEN judged THEN it counts and the stack passes", async () => {
    const np = edit(defaultDeny("x"), (p) => (p.metadata.namespace = unknown()));
    const r = await runStack(
      defaultDenyNetworkPolicy,
      replace("orders-default-deny", np, { propertyDependencies: { metadata: ["ns-orders"] } }),
    );
    expect(r.violations).toEqual([]);
  });
  it("GIVEN a stack that creates no namespaces WHEN judged THEN the default-deny policy is not applicable", async () => {
    expect(
      (await runStack(defaultDenyNetworkPolicy, [{ type: T.deployment, name: "d", props: dep }]))
        .notApplicable,
    ).toEqual(["The stack creates no Kubernetes namespaces."]);
  });
});

describe("one-database-per-service", () => {
  it.each([
    ["orders-db.fjord-orders.svc.cluster.local", false, "x", "orders-db.fjord-orders"],
    ["orders-db:5432", false, "fjord-orders", "orders-db.fjord-orders"],
    ["postgres://u:p@orders-db.fjord-orders.svc:5432/orders", true, "y", "orders-db.fjord-orders"],
    ["db.example.no", false, "x", "db.example.no"],
  ])(
    "GIVEN the database address %s (a URL: %s) in namespace %s WHEN canonicalDbHost reads it THEN it returns %s",
    (v, url, ns, want) => expect(canonicalDbHost(v, url, ns)).toBe(want),
  );

  it("GIVEN one database per service WHEN judged THEN it passes", async () => {
    expect((await runStack(oneDatabasePerService, stack)).violations).toEqual([]);
  });
  it("GIVEN billing pointing DB_HOST at the orders database WHEN judged THEN both services are named as sharing it", async () => {
    const billing = edit(
      deployment("billing", "fjord-billing"),
      (d) => (env(d)[0] = { name: "DB_HOST", value: "orders-db.fjord-orders.svc.cluster.local" }),
    );
    const r = await runStack(oneDatabasePerService, [
      ...stack,
      { type: T.deployment, name: "billing", props: billing },
    ]);
    expect(r.mandatory).toEqual([
      "Services billing and orders share the database at orders-db.fjord-orders: Deployment fjord-orders/orders (DB_HOST), Deployment fjord-billing/billing (DB_HOST); give each service its own database.",
    ]);
  });
  it("GIVEN billing using a database Service owned by payment WHEN judged THEN it is refused, naming the owner", async () => {
    const svc = {
      ...dbService("payment", "ClusterIP", "fjord-orders"),
      metadata: { ...dbService("payment").metadata, name: "shared-db", namespace: "fjord-orders" },
    };
    const billing = edit(
      deployment("billing", "fjord-billing"),
      (d) =>
        (env(d)[0] = {
          name: "DATABASE_URL",
          value: "postgres://billing@shared-db.fjord-orders.svc:5432/billing",
        }),
    );
    const r = await runStack(oneDatabasePerService, [
      ...stack,
      { type: T.service, name: "shared", props: svc },
      { type: T.deployment, name: "billing", props: billing },
    ]);
    expect(r.mandatory).toEqual([
      "Deployment fjord-billing/billing (service billing) uses the database at shared-db.fjord-orders, which belongs to service payment (fjord.io/owner-service); give billing its own database.",
    ]);
  });
  it("GIVEN two database StatefulSets claiming the orders service WHEN judged THEN the owner is refused", async () => {
    const second = edit(dbStatefulSet("orders"), (s) => (s.metadata.name = "orders-db-2"));
    expect(
      (
        await runStack(oneDatabasePerService, [
          ...stack,
          { type: T.statefulSet, name: "orders-db-2", props: second },
        ])
      ).mandatory,
    ).toEqual([
      "Service orders is claimed as owner (fjord.io/owner-service) by 2 database StatefulSets (StatefulSet fjord-orders/orders-db, StatefulSet fjord-orders/orders-db-2); each service owns exactly one database.",
    ]);
  });
  it("GIVEN two Docker services with the same DB_HOST WHEN judged THEN they are refused as sharing one database", async () => {
    const a = dockerContainer();
    const b = dockerContainer({
      name: "fjord-dev-billing-1",
      labels: [{ label: "fjord.service", value: "billing" }],
    });
    expect(
      (
        await runStack(oneDatabasePerService, [
          { type: T.docker, name: "a", props: a },
          { type: T.docker, name: "b", props: b },
        ])
      ).mandatory,
    ).toEqual([
      "Services billing and orders share the database at fjord-dev-orders-db: Docker container 'fjord-dev-orders-1' (DB_HOST), Docker container 'fjord-dev-billing-1' (DB_HOST); give each service its own database.",
    ]);
  });
  it("GIVEN a stack without workloads WHEN judged THEN the one-database policy is not applicable", async () => {
    expect(
      (await runStack(oneDatabasePerService, [{ type: T.namespace, name: "ns", props: {} }]))
        .notApplicable,
    ).toEqual(["The stack runs no workloads."]);
  });
});
