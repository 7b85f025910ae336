/**
 * Log shipping on Docker, mocked: every container but Loki and Fluent Bit uses the fluentd log
 * driver towards the shipper's loopback-published forward input, tagged with its Kubernetes
 * namespace, pod and container; or towards the user's own agent; or nowhere.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { setupMocks, type Recorded } from "../../../testkit/mocks";
import { CONTAINER as C, containerNamed } from "./containers";
import { devSpec } from "./spec";

const rec = await setupMocks({
  stack: "dev",
  outputs: {
    "docker:index/remoteImage:RemoteImage": (r) => ({ imageId: `sha256:${r.inputs.name}` }),
  },
});
const { Platform } = await import("../../../components/docker");
const { logConfig, logShipping, logTag } = await import("../../../components/docker");

const OFF = { alertmanager: true, grafana: true, loki: true, logShipper: false };
const specs = {
  // Published on every interface: the forward input must still be on loopback only.
  dev: devSpec({ docker: { publishAddress: "0.0.0.0", logForwardPort: 24300 } }),
  own: devSpec(
    {
      docker: { logForward: "10.0.0.5:24224" },
      observability: { components: OFF },
    },
    "own",
  ),
  none: devSpec({ observability: { components: OFF } }, "none"),
  dark: devSpec({ observability: { enabled: false } }, "dark"),
};

beforeAll(async () => {
  for (const [stack, spec] of Object.entries(specs)) new Platform(stack, { spec });
  await rec.settle();
});

const of = (stack: string): Recorded[] =>
  rec.ofType(C).filter((r) => String(r.inputs.name).startsWith(`${stack}-`));
const byName = (n: string): Recorded => containerNamed(rec, n);
const JSON_FILE = { logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } };

describe("docker log shipping", () => {
  it("GIVEN the dev stack with the log shipper WHEN the Platform is built THEN every container but Loki and Fluent Bit ships to the shipper's loopback port, never blocking, and those two keep json-file", () => {
    const shipped = of("dev").filter((c) => c.inputs.logDriver === "fluentd");
    expect(shipped.map((c) => c.inputs.name).sort()).toEqual(
      of("dev")
        .map((c) => c.inputs.name)
        .filter((n) => n !== "dev-loki" && n !== "dev-log-shipper")
        .sort(),
    );
    for (const c of shipped) {
      expect(c.inputs.logOpts, c.inputs.name).toMatchObject({
        "fluentd-address": "tcp://127.0.0.1:24300",
        "fluentd-async": "true",
        mode: "non-blocking",
      });
    }
    // Their own lines must stay readable when the pipeline is what is broken.
    for (const n of ["dev-loki", "dev-log-shipper"])
      expect(byName(n).inputs).toMatchObject(JSON_FILE);
  });

  it("GIVEN the dev stack with the log shipper WHEN the Platform is built THEN each shipping container is tagged with the namespace, pod and container it has on Kubernetes", () => {
    const tags = Object.fromEntries(
      of("dev")
        .filter((c) => c.inputs.logDriver === "fluentd")
        .map((c) => [c.inputs.name, c.inputs.logOpts.tag]),
    );
    expect(tags).toMatchObject({
      "dev-gateway": "docker.fjord-system.dev-gateway.nginx",
      "dev-gateway-exporter": "docker.fjord-system.dev-gateway-exporter.exporter",
      "dev-orders-0": "docker.fjord-orders.dev-orders-0.orders",
      "dev-orders-1": "docker.fjord-orders.dev-orders-1.orders",
      "dev-orders-db": "docker.fjord-orders.dev-orders-db.postgres",
      "dev-inventory-db": "docker.fjord-inventory.dev-inventory-db.mysql",
      "dev-prometheus": "docker.fjord-system.dev-prometheus.prometheus",
      "dev-grafana": "docker.fjord-system.dev-grafana.grafana",
    });
    for (const t of Object.values(tags)) expect(t).toMatch(/^docker\.[^.]+\.[^.]+\.[^.]+$/);
  });

  it("GIVEN publishAddress 0.0.0.0 and a docker.logForwardPort WHEN the Platform is built THEN the forward input is published on 127.0.0.1 at that port while the gateway uses 0.0.0.0", () => {
    const shipper = byName("dev-log-shipper");
    expect(shipper.inputs.ports).toEqual([
      { internal: 24224, external: 24300, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    // Published ports need a non-internal primary network; Loki is on metrics.
    expect(shipper.inputs.networkMode).toBe("dev-front");
    expect(shipper.inputs.networksAdvanced).toEqual([{ name: "dev-metrics" }]);
    expect(byName("dev-gateway").inputs.ports[0].ip).toBe("0.0.0.0");
  });

  it("GIVEN docker.logForward and the log shipper off WHEN the Platform is built THEN containers but Loki ship to the user's own agent and no Fluent Bit runs", () => {
    expect(of("own").map((c) => c.inputs.name)).not.toContain("own-log-shipper");
    for (const c of of("own")) {
      if (c.inputs.name === "own-loki") continue;
      expect(c.inputs.logOpts["fluentd-address"], c.inputs.name).toBe("tcp://10.0.0.5:24224");
    }
  });

  it("GIVEN the log shipper off without logForward, or observability off WHEN the Platform is built THEN every container keeps json-file alone", () => {
    for (const stack of ["none", "dark"]) {
      expect(of(stack).length).toBeGreaterThan(0);
      for (const c of of(stack)) expect(c.inputs, c.inputs.name).toMatchObject(JSON_FILE);
    }
  });

  it("GIVEN each stack's spec, or a container and a destination WHEN the destination, tag and log config are derived THEN they are the loopback port, the user's agent or none, the Kubernetes-style tag, and json-file without a destination", () => {
    expect(logShipping(specs.dev)).toEqual({ address: "127.0.0.1:24300" });
    expect(logShipping(specs.own)).toEqual({ address: "10.0.0.5:24224" });
    expect(logShipping(specs.none)).toBeUndefined();
    expect(logShipping(specs.dark)).toBeUndefined();
    expect(logTag("dev-gateway", "traefik")).toBe("docker.fjord-system.dev-gateway.traefik");
    expect(logConfig(undefined, "x")).toEqual(JSON_FILE);
    expect(logConfig({ address: "127.0.0.1:1" }, "docker.a.b.c").logOpts.tag).toBe("docker.a.b.c");
  });
});
