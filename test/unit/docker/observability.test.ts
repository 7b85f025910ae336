/**
 * The Docker observability stack, mocked: Alertmanager, Grafana, Loki and Fluent Bit cannot run
 * in the e2e (no local images), so their containers and rendered files are checked here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { isSecret, setupMocks, valueOf, type Recorded } from "../../../testkit/mocks";
import { CONTAINER as C, containerNamed, envOf, labelMap, networksOf, uploads } from "./containers";
import { devSpec } from "./spec";

const rec = await setupMocks({
  stack: "dev",
  outputs: {
    "docker:index/remoteImage:RemoteImage": (r) => ({ imageId: `sha256:${r.inputs.name}` }),
  },
});
const { Platform } = await import("../../../components/docker");
const { renderAlertmanagerConfig, renderDashboards, observabilityModel, PART_NAMES, PART_SIZING } =
  await import("../../../components/plan/observability");

const full = devSpec({
  docker: { publishAddress: "127.0.0.1", grafanaPort: 3001 },
  observability: { alertWebhooks: [{ name: "oncall", url: "https://hooks.example.no/fjord" }] },
});
const lean = devSpec(
  {
    observability: {
      components: { alertmanager: false, grafana: false, loki: false, logShipper: false },
    },
  },
  "lean",
);
let fullPlatform: InstanceType<typeof Platform>;
let leanPlatform: InstanceType<typeof Platform>;

beforeAll(async () => {
  fullPlatform = new Platform("fjord", { spec: full });
  leanPlatform = new Platform("lean", { spec: lean });
  await rec.settle();
});

const byName = (n: string): Recorded => containerNamed(rec, n);
const file = (r: Recorded, path: string): string => {
  const u = uploads(r).find((x) => x.file === path);
  if (!u) throw new Error(`${r.inputs.name} has no ${path}; has ${uploads(r).map((x) => x.file)}`);
  return String(u.content);
};
const env = envOf;
const PARTS = {
  "dev-alertmanager": "alertmanager",
  "dev-grafana": "grafana",
  "dev-loki": "loki",
  "dev-log-shipper": "log-shipper",
};

describe("docker Observability: Alertmanager, Grafana, Loki, Fluent Bit", () => {
  it("GIVEN the dev stack with every observability part WHEN the Platform is built THEN the four containers run labelled, non-root, without capabilities, on the internal metrics network (Grafana and Fluent Bit also on front)", () => {
    for (const [name, role] of Object.entries(PARTS)) {
      const c = byName(name);
      expect(labelMap(c), name).toEqual({ "fjord.stack": "dev", "fjord.role": role });
      expect(c.inputs.user, name).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(c.inputs.capabilities.drops, name).toEqual(["ALL"]);
      const nets = networksOf(c);
      expect(nets, name).toEqual(
        name === "dev-grafana" || name === "dev-log-shipper"
          ? ["dev-front", "dev-metrics"]
          : ["dev-metrics"],
      );
    }
    expect(byName("dev-grafana").inputs.user).toBe("472:472");
    expect(byName("dev-loki").inputs.user).toBe("10001:10001");
  });

  it("GIVEN the dev stack with an alert webhook WHEN the Platform is built THEN the rendered files are uploaded read-only at the paths Kubernetes mounts them, and Prometheus accepts the ruler's remote write", () => {
    for (const name of Object.keys(PARTS))
      for (const u of uploads(byName(name))) expect(u.permissions, u.file).toBe("0444");
    expect(file(byName("dev-alertmanager"), "/etc/alertmanager/alertmanager.yml")).toBe(
      renderAlertmanagerConfig({ webhooks: full.observability.alertWebhooks }),
    );
    const grafana = byName("dev-grafana");
    const ds = file(grafana, "/etc/grafana/provisioning/datasources/datasources.yaml");
    for (const u of [
      "http://dev-prometheus:9090",
      "http://dev-loki:3100",
      "http://dev-alertmanager:9093",
    ])
      expect(ds).toContain(u);
    expect(file(grafana, "/etc/grafana/provisioning/dashboards/dashboards.yaml")).toContain(
      "/etc/grafana/dashboards",
    );
    const dashboards = renderDashboards(observabilityModel(full));
    expect(Object.keys(dashboards).length).toBeGreaterThan(0);
    for (const [f, json] of Object.entries(dashboards))
      expect(file(grafana, `/etc/grafana/dashboards/${f}`)).toBe(json);
    const loki = byName("dev-loki");
    expect(file(loki, "/etc/loki/config/loki.yaml")).toMatch(/retention_period: 168h/);
    // nginx gateway: the ruler file, and Prometheus accepts the ruler's remote write.
    expect(file(loki, "/etc/loki/rules/fake/fjord-gateway.yaml")).toBeTruthy();
    expect(byName("dev-prometheus").inputs.command).toContain("--web.enable-remote-write-receiver");
    const shipper = byName("dev-log-shipper");
    const fb = file(shipper, "/fluent-bit/etc/fjord/fluent-bit.yaml");
    expect(fb).toMatch(/name: forward/);
    expect(fb).toMatch(/host: dev-loki/);
    expect(file(shipper, "/fluent-bit/etc/fjord/pii-mask.lua")).toContain('"email"');
    expect(shipper.inputs.entrypoints).toEqual([
      "/fluent-bit/bin/fluent-bit",
      "-c",
      "/fluent-bit/etc/fjord/fluent-bit.yaml",
    ]);
  });

  it("GIVEN the dev stack with Grafana WHEN the Platform is built THEN Grafana's generated password is passed only as secret env, with anonymous access off, and the password output is secret", async () => {
    const g = byName("dev-grafana");
    expect(() => env(g)).toThrow();
    const e = env(g, true);
    expect(e.GF_SECURITY_ADMIN_PASSWORD).toBe(
      "mock-password-fjord-observability-grafana-admin-password",
    );
    expect(e.GF_SECURITY_ADMIN_USER).toBe("admin");
    expect(e.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
    expect(e.GF_USERS_ALLOW_SIGN_UP).toBe("false");
    expect(e.GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
    expect(e.GF_AUTH_DISABLE_LOGIN_FORM).toBeUndefined();
    expect(JSON.stringify(uploads(g))).not.toContain("mock-password");
    expect(await isSecret(fullPlatform.grafanaAdminPassword)).toBe(true);
    expect(await valueOf(fullPlatform.grafanaUrl)).toBe("http://127.0.0.1:3001/");
  });

  it("GIVEN fjord:docker.grafanaPort 3001 and the default docker.logForwardPort WHEN the Platform is built THEN Grafana and the log input are published there on 127.0.0.1, Alertmanager and Loki not at all", () => {
    expect(byName("dev-grafana").inputs.ports).toEqual([
      { internal: 3000, external: 3001, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(byName("dev-log-shipper").inputs.ports).toEqual([
      { internal: 24224, external: 24224, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    for (const n of ["dev-alertmanager", "dev-loki"]) expect(byName(n).inputs.ports, n).toEqual([]);
  });

  it("GIVEN the dev stack with Loki WHEN the Platform is built THEN Loki's data is on a labelled named volume listed in the volumes output", async () => {
    expect(byName("dev-loki").inputs.volumes).toEqual([
      { containerPath: "/loki", volumeName: "dev-loki-data" },
    ]);
    const vol = rec
      .ofType("docker:index/volume:Volume")
      .find((v) => v.inputs.name === "dev-loki-data")!;
    expect(labelMap(vol)).toEqual({ "fjord.stack": "dev", "fjord.role": "volume" });
    expect(await valueOf(fullPlatform.volumes)).toContain("dev-loki-data");
  });

  it("GIVEN the dev stack with every observability part WHEN the Platform is built THEN Prometheus points at Alertmanager and scrapes the four parts", () => {
    const yml = file(byName("dev-prometheus"), "/etc/prometheus/prometheus.yml");
    expect(yml).toMatch(/alerting:/);
    for (const t of [
      "dev-alertmanager:9093",
      "dev-grafana:3000",
      "dev-loki:3100",
      "dev-log-shipper:2020",
    ])
      expect(yml).toContain(t);
  });

  it("GIVEN the plan's part table WHEN the stack is built THEN every part has its limits, memory request as reservation, and readiness path as health check where it has one", () => {
    // The provider's units: whole MiB and CPUs as a decimal string.
    const mib = (q: string) => parseInt(q, 10) * (q.endsWith("Gi") ? 1024 : 1);
    const cpus = (q: string) => String(q.endsWith("m") ? parseInt(q, 10) / 1000 : Number(q));
    for (const [part, sizing] of Object.entries(PART_SIZING)) {
      const c = byName(`dev-${PART_NAMES[part as keyof typeof PART_NAMES]}`);
      expect(c.inputs.memory, part).toBe(mib(sizing.resources.limits.memory));
      expect(c.inputs.cpus, part).toBe(cpus(sizing.resources.limits.cpu));
      expect(c.inputs.memoryReservation, part).toBe(mib(sizing.resources.requests.memory));
      const health = c.inputs.healthcheck?.tests as string[] | undefined;
      if (health) expect(health.at(-1), part).toMatch(new RegExp(`:\\d+${sizing.ready!.path}$`));
    }
    // The parts `up` waits on: the others' images cannot run a check, or nothing waits on them.
    expect(Object.values(PART_NAMES).filter((n) => byName(`dev-${n}`).inputs.healthcheck)).toEqual([
      "prometheus",
      "alertmanager",
      "grafana",
    ]);
  });

  it("GIVEN observability.components switching off Alertmanager, Grafana, Loki and Fluent Bit WHEN the Platform is built THEN none of them runs or has its image pulled, and Prometheus, the volumes and the outputs do not refer to them", async () => {
    const names = rec
      .ofType(C)
      .map((r) => r.inputs.name as string)
      .filter((n) => n.startsWith("lean-"));
    for (const part of ["alertmanager", "grafana", "loki", "log-shipper"])
      expect(names, part).not.toContain(`lean-${part}`);
    expect(names).toContain("lean-prometheus");
    const pulled = rec
      .ofType("docker:index/remoteImage:RemoteImage")
      .filter((r) => r.name.startsWith("lean-"))
      .map((r) => r.inputs.name);
    for (const img of [
      lean.images.alertmanager,
      lean.images.grafana,
      lean.images.loki,
      lean.images.logShipper,
    ])
      expect(pulled, img).not.toContain(img);
    expect(
      rec.ofType("random:index/randomPassword:RandomPassword").map((r) => r.name),
    ).not.toContain("lean-observability-grafana-admin-password");
    const prom = byName("lean-prometheus");
    const yml = file(prom, "/etc/prometheus/prometheus.yml");
    expect(yml).not.toMatch(/alerting:|alertmanager|lean-loki|lean-grafana/);
    expect(prom.inputs.command).not.toContain("--web.enable-remote-write-receiver");
    expect(await valueOf(leanPlatform.volumes)).not.toContain("lean-loki-data");
    expect(await valueOf(leanPlatform.grafanaUrl)).toBeUndefined();
  });
});
