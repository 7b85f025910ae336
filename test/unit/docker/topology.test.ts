import { describe, expect, it } from "vitest";
import { dockerTopology, netKey } from "../../../components/docker";
import { dockerScrapeJobs } from "../../../components/docker";
import { planPlatform } from "../../../components/plan";
import { devSpec } from "./spec";

const spec = devSpec();
const topo = dockerTopology(spec);
const keys = (n: Array<{ key: string }>) => n.map((x) => x.key);

describe("dockerTopology (dev stack file)", () => {
  it("GIVEN the dev stack WHEN its topology is derived THEN it has a front network, a metrics network, and per service an api and a database network", () => {
    expect(topo.networks.map((n) => [n.name, n.internal])).toEqual([
      ["dev-front", false],
      ["dev-metrics", true],
      ["dev-svc-orders", true],
      ["dev-db-orders", true],
      ["dev-svc-inventory", true],
      ["dev-db-inventory", true],
    ]);
  });

  it("GIVEN the dev stack WHEN its topology is derived THEN it names one container per replica <stack>-<service>-<i> and the database <stack>-<service>-db", () => {
    expect(topo.replicas("orders")).toEqual(["dev-orders-0", "dev-orders-1"]);
    expect(topo.replicas("inventory")).toEqual(["dev-inventory-0"]);
    expect(topo.databaseHost("orders")).toBe("dev-orders-db");
  });

  it("GIVEN a service that calls another WHEN its networks are derived THEN it is on its own database network, its own api network and its callees' api networks only", () => {
    expect(topo.serviceNetworks("orders")).toEqual([
      { key: "db-orders", aliases: [] },
      { key: "svc-orders", aliases: ["orders"] },
      { key: "svc-inventory", aliases: [] },
    ]);
    expect(keys(topo.serviceNetworks("inventory"))).toEqual(["db-inventory", "svc-inventory"]);
  });

  it("GIVEN the dev stack WHEN its topology is derived THEN no service, nor the gateway or Prometheus, is on another service's database network", () => {
    for (const s of spec.services) {
      const others = spec.services.filter((o) => o.name !== s.name);
      for (const o of others)
        expect(keys(topo.serviceNetworks(s.name))).not.toContain(netKey.db(o.name));
    }
    expect(topo.gatewayNetworks.some((k) => k.startsWith("db-"))).toBe(false);
    expect(topo.prometheusNetworks.some((k) => k.startsWith("db-"))).toBe(false);
  });

  it("GIVEN a service without a database or callees WHEN its networks are derived THEN it is only on its api network, without an alias", () => {
    const t = dockerTopology(devSpec({ services: [{ ...rawService("solo"), calls: [] }] }));
    expect(t.serviceNetworks("solo")).toEqual([{ key: "svc-solo", aliases: [] }]);
  });

  it("GIVEN a service named like one of the platform's containers WHEN the dev config is read THEN the spec refuses it under its key, before any topology", () => {
    expect(() => devSpec({ services: [rawService("prometheus")] })).toThrow(
      /fjord:services\[0\]\.name: "prometheus" is the name of one of the platform's own containers/,
    );
  });

  it("GIVEN the dev plan and topology WHEN the scrape jobs are built THEN they scrape every replica, the database exporters, the gateway and the node exporter", () => {
    const jobs = dockerScrapeJobs(planPlatform(spec), topo, {
      gateway: { endpoint: "dev-gateway:9113", path: "/metrics" },
      nodeExporter: "dev-node-exporter",
    });
    const byJob = Object.fromEntries(jobs.map((j) => [j.job, j]));
    expect(byJob["service-orders"].targets).toEqual(["dev-orders-0:8080", "dev-orders-1:8080"]);
    expect(byJob["service-orders"].labels).toEqual({ service: "orders" });
    expect(byJob["databases-inventory"]).toMatchObject({
      targets: ["dev-inventory-db-exporter:9104"],
      labels: { service: "inventory", engine: "mysql" },
    });
    expect(byJob.gateway.targets).toEqual(["dev-gateway:9113"]);
    expect(byJob["node-exporter"].targets).toEqual(["dev-node-exporter:9100"]);
  });
});

function rawService(name: string) {
  return {
    name,
    image: "registry.example.no/x:1.0.0",
    replicas: 1,
    resources: {
      requests: { cpu: "100m", memory: "64Mi" },
      limits: { cpu: "500m", memory: "128Mi" },
    },
    route: { path: `/${name}/` },
  };
}
