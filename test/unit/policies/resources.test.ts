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
  it("GIVEN a Deployment and a Docker container with requests and limits WHEN judged THEN both pass", async () => {
    expect(
      (await runResource(containerResources, { type: T.deployment, props: dep })).violations,
    ).toEqual([]);
    expect(
      (await runResource(containerResources, { type: T.docker, props: dockerContainer() }))
        .violations,
    ).toEqual([]);
  });
  it("GIVEN a container with only a CPU request WHEN judged THEN it is refused, naming each missing field", async () => {
    const d = edit(dep, (x) => (main(x).resources = { requests: { cpu: "100m" } }));
    expect(
      (await runResource(containerResources, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders container 'orders' has no resources.requests.memory, resources.limits.cpu, resources.limits.memory. Set CPU and memory requests and limits on every container.",
    ]);
  });
  it("GIVEN an init container without resources WHEN judged THEN it is refused, naming its missing fields", async () => {
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
  it("GIVEN a Docker container without memory and CPU limits WHEN judged THEN it is refused", async () => {
    const c = dockerContainer({ memory: undefined, cpus: undefined });
    expect((await runResource(containerResources, { type: T.docker, props: c })).mandatory).toEqual(
      [
        "Docker container 'fjord-dev-orders-1' has no memory limit (memory) and no CPU limit (cpus, or cpuQuota/cpuPeriod, or cpuShares). Set memory (MB) and cpus on the container.",
      ],
    );
  });
  it("GIVEN a container's resources computed at preview WHEN judged THEN it is advised as unverifiable", async () => {
    const d = edit(dep, (x) => (main(x).resources = unknown("object")));
    expect(
      (await runResource(containerResources, { type: T.deployment, props: d })).advisory,
    ).toEqual([
      "Cannot verify the resources of Deployment fjord-orders/orders container 'orders' at preview: resources are computed.",
    ]);
  });
  it("GIVEN a Service WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(containerResources, { type: T.service, props: {} })).notApplicable,
    ).toEqual(["Only Kubernetes workloads and Docker containers run containers."]);
  });
});

describe("limits-fit-node", () => {
  it("GIVEN limits below the configured node class WHEN judged THEN it passes", async () => {
    expect(
      (await runResource(limitsFitNode, { type: T.deployment, props: dep }, { config: node }))
        .violations,
    ).toEqual([]);
  });
  it("GIVEN a 16Gi memory limit on an 8192Mi node class WHEN judged THEN it is refused", async () => {
    const d = edit(dep, (x) => (main(x).resources.limits.memory = "16Gi"));
    expect(
      (await runResource(limitsFitNode, { type: T.deployment, props: d }, { config: node }))
        .mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders container 'orders' has a memory limit 16384Mi larger than the largest node (4 vCPU, 8192Mi), so it can never be scheduled at its limit. Lower the limit or use a larger node class.",
    ]);
  });
  it("GIVEN a database pod whose containers together exceed the node class WHEN judged THEN the pod is refused with the summed limits", async () => {
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
  it("GIVEN a Docker container with cpus 6 on a 4 vCPU node class WHEN judged THEN it is refused", async () => {
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
  it("GIVEN no configured node class WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(limitsFitNode, { type: T.deployment, props: dep })).notApplicable,
    ).toEqual(["No nodeClass is configured for this environment."]);
  });
});

describe("database config parsing", () => {
  it("GIVEN postgres sizes with units, quoted and as bare 8kB blocks WHEN parsed THEN each is read in bytes, and the last shared_buffers line wins", () => {
    expect(postgresBytes("512MB")).toBe(512 * 2 ** 20);
    expect(postgresBytes("'1GB'")).toBe(2 ** 30);
    expect(postgresBytes("16384")).toBe(128 * 2 ** 20);
    expect(
      postgresSharedBuffers(
        "# shared_buffers = 9GB\nshared_buffers = 256MB\nshared_buffers = 384MB # later wins\n",
      )?.bytes,
    ).toBe(384 * 2 ** 20);
  });
  it("GIVEN a my.cnf with a [client] pool and a loose- dash-spelt [mysqld] pool WHEN parsed THEN only the server section counts", () => {
    expect(
      mysqlPool(
        "[client]\ninnodb_buffer_pool_size=9G\n[mysqld]\nloose-innodb-buffer-pool-size = 1536M\n",
      )?.bytes,
    ).toBe(1536 * 2 ** 20);
    expect(mysqlPool("[client]\ninnodb_buffer_pool_size=9G\n")).toBeUndefined();
  });
  it("GIVEN -c shared_buffers=1GB or --innodb-buffer-pool-size=2G as server args WHEN read THEN each is read in bytes", () => {
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
  it("GIVEN the prod fixture stack with shared_buffers at 25% of the limit WHEN judged THEN it passes", async () => {
    expect((await runStack(databaseMemoryTuning, stack)).violations).toEqual([]);
  });
  it("GIVEN shared_buffers at 75% of the limit WHEN judged THEN it is refused, naming the ConfigMap", async () => {
    expect(
      (await runStack(databaseMemoryTuning, withConfig("shared_buffers = 1536MB\n"))).mandatory,
    ).toEqual([
      "StatefulSet fjord-orders/orders-db container 'postgres' sets shared_buffers = 1536MB (ConfigMap fjord-orders/orders-db-config data key 'postgresql.conf'), 75% of its 2048Mi memory limit; keep it at most 40% (819.2Mi) or raise the limit.",
    ]);
  });
  it("GIVEN a 2G InnoDB pool in a 1Gi MySQL container WHEN judged THEN it is refused", async () => {
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
  it("GIVEN an oversized shared_buffers in a ConfigMap mounted under a computed name WHEN judged THEN it is still found through dependencies and refused", async () => {
    const s = edit(
      dbStatefulSet("orders"),
      (x) => (x.spec.template.spec.volumes[0].configMap.name = unknown()),
    );
    const fixtures = withConfig("shared_buffers = 1536MB\n").map((r): Fixture =>
      r.name === "orders-db-statefulset" ? { ...r, props: s } : r,
    );
    expect((await runStack(databaseMemoryTuning, fixtures)).mandatory).toHaveLength(1);
  });
  it("GIVEN a Docker database uploading shared_buffers at 75% of its memory WHEN judged THEN it is refused, naming the upload", async () => {
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
  it("GIVEN computed database config content WHEN judged THEN it is advised as unverifiable, not failed", async () => {
    const r = await runStack(databaseMemoryTuning, withConfig(unknown()));
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify the database tuning in ConfigMap fjord-orders/orders-db-config (data key 'postgresql.conf') at preview: it is computed.",
    ]);
  });
  it("GIVEN a stack without containers WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runStack(databaseMemoryTuning, [{ type: T.namespace, name: "ns", props: {} }]))
        .notApplicable,
    ).toEqual(["The stack runs no containers."]);
  });
});
