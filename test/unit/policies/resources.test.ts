import { describe, expect, it } from "vitest";
import { type Fixture, edit, runResource, runStack, unknown } from "./harness";
import { T, dbConfigMap, dbStatefulSet, deployment, dockerContainer, prodStack } from "./fixtures";
import { containerResources, limitsFitNode } from "../../../policies/resources";
import { databaseMemoryTuning } from "../../../policies/database-tuning";
import {
  mysqlPool,
  postgresBytes,
  postgresSharedBuffers,
  settingFromArgs,
} from "../../../lib/parse/dbconf";

const dep = deployment();
const main = (d: typeof dep) => d.spec.template.spec.containers[0];
const node = { nodeClass: { vcpu: 4, memoryMi: 8192 } };

describe("container-resources", () => {
  it("passes containers with requests and limits", async () => {
    expect(
      (await runResource(containerResources, { type: T.deployment, props: dep })).violations,
    ).toEqual([]);
    expect(
      (await runResource(containerResources, { type: T.docker, props: dockerContainer() }))
        .violations,
    ).toEqual([]);
  });
  it("names the missing fields of a container", async () => {
    const d = edit(dep, (x) => (main(x).resources = { requests: { cpu: "100m" } }));
    expect(
      (await runResource(containerResources, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders container 'orders' has no resources.requests.memory, resources.limits.cpu, resources.limits.memory. Set CPU and memory requests and limits on every container.",
    ]);
  });
  it("checks init containers too", async () => {
    const d = edit(
      dep,
      (x) =>
        (x.spec.template.spec.initContainers = [
          { name: "migrate", image: "registry.example.no/orders:1.4.2" },
        ]),
    );
    expect(
      (await runResource(containerResources, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders init container 'migrate' has no resources.requests.cpu, resources.requests.memory, resources.limits.cpu, resources.limits.memory. Set CPU and memory requests and limits on every container.",
    ]);
  });
  it("refuses a Docker container without limits", async () => {
    const c = dockerContainer({ memory: undefined, cpus: undefined });
    expect((await runResource(containerResources, { type: T.docker, props: c })).mandatory).toEqual(
      [
        "Docker container 'fjord-dev-orders-1' has no memory limit (memory) and no CPU limit (cpus, or cpuQuota/cpuPeriod, or cpuShares). Set memory (MB) and cpus on the container.",
      ],
    );
  });
  it("cannot verify computed resources", async () => {
    const d = edit(dep, (x) => (main(x).resources = unknown("object")));
    expect(
      (await runResource(containerResources, { type: T.deployment, props: d })).advisory,
    ).toEqual([
      "Cannot verify the resources of Deployment fjord-orders/orders container 'orders' at preview: resources are computed.",
    ]);
  });
  it("is not applicable to a Service", async () => {
    expect(
      (await runResource(containerResources, { type: T.service, props: {} })).notApplicable,
    ).toEqual(["Only Kubernetes workloads and Docker containers run containers."]);
  });
});

describe("limits-fit-node", () => {
  it("passes limits below the node class", async () => {
    expect(
      (await runResource(limitsFitNode, { type: T.deployment, props: dep }, { config: node }))
        .violations,
    ).toEqual([]);
  });
  it("refuses a limit larger than the largest node", async () => {
    const d = edit(dep, (x) => (main(x).resources.limits.memory = "16Gi"));
    expect(
      (await runResource(limitsFitNode, { type: T.deployment, props: d }, { config: node }))
        .mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders container 'orders' has a memory limit 16384Mi larger than the largest node (4 vCPU, 8192Mi), so it can never be scheduled at its limit. Lower the limit or use a larger node class.",
    ]);
  });
  it("adds up a pod's containers", async () => {
    const s = edit(
      dbStatefulSet("orders", "postgres", "8Gi"),
      (x) => (x.spec.template.spec.containers[0].resources.limits.cpu = "4"),
    );
    expect(
      (await runResource(limitsFitNode, { type: T.statefulSet, props: s }, { config: node }))
        .mandatory,
    ).toEqual([
      "StatefulSet fjord-orders/orders-db pod (all containers together) has a CPU limit 4.2 and a memory limit 8384Mi larger than the largest node (4 vCPU, 8192Mi), so it can never be scheduled at its limit. Lower the limit or use a larger node class.",
    ]);
  });
  it("checks Docker's memory (MB) and cpus", async () => {
    expect(
      (
        await runResource(
          limitsFitNode,
          { type: T.docker, props: dockerContainer({ cpus: "6" }) },
          { config: node },
        )
      ).mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' has a CPU limit 6 larger than the largest node (4 vCPU, 8192Mi), so it can never be scheduled at its limit. Lower the limit or use a larger node class.",
    ]);
  });
  it("is not applicable without a configured node class", async () => {
    expect(
      (await runResource(limitsFitNode, { type: T.deployment, props: dep })).notApplicable,
    ).toEqual(["No nodeClass is configured for this environment."]);
  });
});

describe("database config parsing", () => {
  it("reads postgres units, including bare 8kB blocks", () => {
    expect(postgresBytes("512MB")).toBe(512 * 2 ** 20);
    expect(postgresBytes("'1GB'")).toBe(2 ** 30);
    expect(postgresBytes("16384")).toBe(128 * 2 ** 20);
    expect(
      postgresSharedBuffers(
        "# shared_buffers = 9GB\nshared_buffers = 256MB\nshared_buffers = 384MB # later wins\n",
      )?.bytes,
    ).toBe(384 * 2 ** 20);
  });
  it("reads my.cnf server sections only, with loose- and dash spellings", () => {
    expect(
      mysqlPool(
        "[client]\ninnodb_buffer_pool_size=9G\n[mysqld]\nloose-innodb-buffer-pool-size = 1536M\n",
      )?.bytes,
    ).toBe(1536 * 2 ** 20);
    expect(mysqlPool("[client]\ninnodb_buffer_pool_size=9G\n")).toBeUndefined();
  });
  it("reads server flags", () => {
    expect(settingFromArgs(["-c", "shared_buffers=1GB"])?.bytes).toBe(2 ** 30);
    expect(settingFromArgs(["--innodb-buffer-pool-size=2G"])?.bytes).toBe(2 * 2 ** 30);
  });
});

describe("database-memory-tuning", () => {
  const stack = prodStack();
  const withConfig = (text: string, file = "postgresql.conf") =>
    stack.map((r): Fixture =>
      r.name === "orders-db-config" ? { ...r, props: dbConfigMap("orders", file, text) } : r,
    );
  it("passes shared_buffers at 25% of the limit", async () => {
    expect((await runStack(databaseMemoryTuning, stack)).violations).toEqual([]);
  });
  it("refuses shared_buffers above 40% of the limit, naming the ConfigMap", async () => {
    expect(
      (await runStack(databaseMemoryTuning, withConfig("shared_buffers = 1536MB\n"))).mandatory,
    ).toEqual([
      "StatefulSet fjord-orders/orders-db container 'postgres' sets shared_buffers = 1536MB (ConfigMap fjord-orders/orders-db-config data key 'postgresql.conf'), 75% of its 2048Mi memory limit; keep it at most 40% (819.2Mi) or raise the limit.",
    ]);
  });
  it("refuses an InnoDB pool bigger than the container (the seed's 2G pool in a 1Gi limit)", async () => {
    const s = stack.map((r): Fixture =>
      r.name === "orders-db-statefulset"
        ? { ...r, props: dbStatefulSet("orders", "mysql", "1Gi") }
        : r.name === "orders-db-config"
          ? {
              ...r,
              props: dbConfigMap("orders", "fjord.cnf", "[mysqld]\ninnodb_buffer_pool_size = 2G\n"),
            }
          : r,
    );
    expect((await runStack(databaseMemoryTuning, s)).mandatory).toEqual([
      "StatefulSet fjord-orders/orders-db container 'mysql' sets innodb_buffer_pool_size = 2G (ConfigMap fjord-orders/orders-db-config data key 'fjord.cnf'), 200% of its 1024Mi memory limit; keep it at most 75% (768Mi) or raise the limit.",
    ]);
  });
  it("follows dependencies when the mounted ConfigMap's name is computed at preview", async () => {
    const s = edit(
      dbStatefulSet("orders"),
      (x) => (x.spec.template.spec.volumes[0].configMap.name = unknown()),
    );
    const fixtures = withConfig("shared_buffers = 1536MB\n").map((r): Fixture =>
      r.name === "orders-db-statefulset" ? { ...r, props: s } : r,
    );
    expect((await runStack(databaseMemoryTuning, fixtures)).mandatory).toHaveLength(1);
  });
  it("checks a Docker database's upload against its memory", async () => {
    const c = dockerContainer({
      name: "orders-db",
      memory: 512,
      uploads: [{ file: "/etc/fjord/postgresql.conf", content: "shared_buffers = 384MB\n" }],
    });
    expect(
      (await runStack(databaseMemoryTuning, [{ type: T.docker, name: "db", props: c }])).mandatory,
    ).toEqual([
      "Docker container 'orders-db' sets shared_buffers = 384MB (upload /etc/fjord/postgresql.conf), 75% of its 512Mi memory limit; keep it at most 40% (204.8Mi) or raise the limit.",
    ]);
  });
  it("cannot verify computed config content", async () => {
    const r = await runStack(databaseMemoryTuning, withConfig(unknown()));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify the database tuning in ConfigMap fjord-orders/orders-db-config (data key 'postgresql.conf') at preview: it is computed.",
    ]);
  });
  it("is not applicable without containers", async () => {
    expect(
      (await runStack(databaseMemoryTuning, [{ type: T.namespace, name: "ns", props: {} }]))
        .notApplicable,
    ).toEqual(["The stack runs no containers."]);
  });
});
