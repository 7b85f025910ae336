import { describe, expect, it } from "vitest";
import { parseSpec, SpecError } from "../../../components/config";
import { BACKUP_SECRETS, validValues, withField } from "./fixtures";

/** The fixtures back up to a bucket, so `up` needs its keys; cases that test secrets add theirs. */
const parse = (
  values: Record<string, unknown>,
  extra: Partial<Parameters<typeof parseSpec>[0]> = {},
) =>
  parseSpec({
    stack: "test",
    values,
    ...extra,
    secrets: { ...BACKUP_SECRETS, ...extra.secrets },
  });

function problems(
  values: Record<string, unknown>,
  extra: Partial<Parameters<typeof parseSpec>[0]> = {},
) {
  try {
    parse(values, extra);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  throw new Error("expected the config to be rejected");
}

describe("platform spec: valid input", () => {
  it("GIVEN a config that sets only required keys WHEN parsed THEN the seed defaults apply (region, jurisdiction, gateway, TLS, scrape interval, steal alert)", () => {
    const { spec } = parse(validValues());
    expect(spec.region).toBe("no-osl1");
    expect(spec.allowedJurisdictions).toEqual(["NO"]);
    expect(spec.gateway.kind).toBe("nginx");
    expect(spec.gateway.rateLimit).toEqual({ average: 100, burst: 50 });
    expect(spec.gateway.tls.minVersion).toBe("1.2");
    expect(spec.observability.scrapeInterval).toBe("15s");
    expect(spec.observability.alerts.cpuStealPercent).toBe(2);
  });

  it("GIVEN two services with calls and databases WHEN parsed THEN calls, region, route, database name, image and disk class are resolved", () => {
    const { spec } = parse(validValues());
    const [orders, payment] = spec.services;
    expect(orders.calls).toEqual([{ service: "payment", fanOut: 1, mode: "sequential" }]);
    expect(orders.region).toBe("no-osl1");
    expect(orders.route).toEqual({ path: "/orders/", public: true, budgetMs: 200 });
    expect(orders.database).toMatchObject({
      engine: "postgres",
      name: "orders",
      image: "postgres:16.6-bookworm",
      disk: "nvme",
    });
    expect(payment.database).toMatchObject({ engine: "mysql", image: "mariadb:11.4.4" });
    expect(spec.regions["no-osl1"].jurisdiction).toBe("NO");
  });

  it("GIVEN nodes with different disk classes WHEN parsed THEN databases get the slowest class among them", () => {
    const values = withField("nodes", [
      {
        name: "a",
        host: "192.0.2.1",
        role: "server",
        gateway: true,
        class: { vcpu: 4, memory: "8Gi", disk: "nvme" },
      },
      {
        name: "b",
        host: "192.0.2.2",
        role: "agent",
        class: { vcpu: 4, memory: "8Gi", disk: "ssd" },
      },
    ]);
    expect(parse(values).spec.services[0].database?.disk).toBe("ssd");
  });
});

describe("platform spec: every bad field is reported at once, by key", () => {
  const cases: Array<[string, string, unknown, string, RegExp]> = [
    ["environment", "environment", "qa", "fjord:environment", /got "qa"; must be "dev" or "prod"/],
    ["target", "target", "nomad", "fjord:target", /must be "kubernetes" or "docker"/],
    ["missing gateway", "gateway", undefined, "fjord:gateway", /is required/],
    ["no domains", "gateway.domains", [], "fjord:gateway.domains", /at least one domain/],
    [
      "gateway kind",
      "gateway.kind",
      "haproxy",
      "fjord:gateway.kind",
      /allowed: "nginx", "traefik"/,
    ],
    [
      "TLS 1.1",
      "gateway.tls",
      { minVersion: "1.1" },
      "fjord:gateway.tls.minVersion",
      /must be "1.2" or "1.3"; TLS 1.0 and 1.1 are not allowed/,
    ],
    ["typo key", "gateway.rateLimt", { average: 5 }, "fjord:gateway.rateLimt", /not a known key/],
    [
      "memory unit",
      "services.0.database.memory",
      "2GB",
      "fjord:services[0].database.memory",
      /memory quantity such as 512Mi/,
    ],
    [
      "db engine",
      "services.1.database.engine",
      "oracle",
      "fjord:services[1].database.engine",
      /allowed: "postgres", "mysql"/,
    ],
    [
      "latest image",
      "services.0.image",
      "orders:latest",
      "fjord:services[0].image",
      /pinned image/,
    ],
    [
      "untagged image",
      "services.0.image",
      "registry.example.no/orders",
      "fjord:services[0].image",
      /pinned image/,
    ],
    ["bad name", "services.0.name", "Orders_Svc", "fjord:services[0].name", /DNS label/],
    [
      "cpu",
      "services.0.resources.limits.cpu",
      "fast",
      "fjord:services[0].resources.limits.cpu",
      /CPU quantity/,
    ],
    ["port", "services.0.port", 70000, "fjord:services[0].port", /1 to 65535/],
    ["replicas", "services.0.replicas", 0, "fjord:services[0].replicas", /.+/],
    [
      "path",
      "services.0.route.path",
      "orders",
      "fjord:services[0].route.path",
      /starting with '\/'/,
    ],
    [
      "duration",
      "gateway.upstream",
      { failTimeout: "ten seconds" },
      "fjord:gateway.upstream.failTimeout",
      /duration/,
    ],
    [
      "jurisdiction code",
      "allowedJurisdictions",
      ["Norway"],
      "fjord:allowedJurisdictions[0]",
      /alpha-2/,
    ],
    [
      "retention size",
      "observability",
      { retentionSize: "10 gigs" },
      "fjord:observability.retentionSize",
      /10GB/,
    ],
    [
      "remote write url",
      "observability",
      { remoteWrite: [{ name: "x", url: "ftp://x" }] },
      "fjord:observability.remoteWrite[0].url",
      /http/,
    ],
  ];
  it.each(cases)(
    "GIVEN a bad %s WHEN parsed THEN it is refused under its fjord: key",
    (_label, path, value, key, message) => {
      const found = problems(withField(path, value));
      const match = found.find((p) => p.key === key);
      expect(match, JSON.stringify(found)).toBeDefined();
      expect(match!.message).toMatch(message);
    },
  );

  it("GIVEN three independent problems WHEN parsed THEN all three keys are reported together", () => {
    const values = withField("environment", "qa");
    (values.gateway as Record<string, unknown>).kind = "haproxy";
    ((values.services as Record<string, unknown>[])[0].database as Record<string, unknown>).memory =
      "lots";
    const keys = problems(values).map((p) => p.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        "fjord:environment",
        "fjord:gateway.kind",
        "fjord:services[0].database.memory",
      ]),
    );
  });

  it("GIVEN a bad database memory WHEN parsed THEN the one message names the key and says nothing was created", () => {
    try {
      parse(withField("services.0.database.memory", "2GB"));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain("nothing was created");
      expect((e as Error).message).toContain("fjord:services[0].database.memory");
    }
  });
});

describe("platform spec: cross-field rules", () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutating untyped config fixtures
  const cases: Array<[string, (v: Record<string, any>) => void, string, RegExp]> = [
    [
      "duplicate service",
      (v) => (v.services[1].name = "orders"),
      "fjord:services[1].name",
      /already used by services\[0\]/,
    ],
    [
      "unknown callee",
      (v) => (v.services[0].calls = ["billing"]),
      "fjord:services[0].calls[0]",
      /"billing" is not a service/,
    ],
    [
      "self call",
      (v) => (v.services[0].calls = ["orders"]),
      "fjord:services[0].calls[0]",
      /calls itself/,
    ],
    [
      "cycle",
      (v) => (v.services[1].calls = ["orders"]),
      "fjord:services[0].calls",
      /cycle orders → payment → orders/,
    ],
    [
      "request above limit",
      (v) => (v.services[0].resources.requests.memory = "1Gi"),
      "fjord:services[0].resources.requests.memory",
      /must not exceed its limit/,
    ],
    ["unknown region", (v) => (v.region = "mars-1"), "fjord:region", /not a known region/],
    [
      "shared database",
      (v) => (v.services[1].database.name = "orders"),
      "fjord:services[1].database.name",
      /its own database/,
    ],
    [
      "duplicate route",
      (v) => (v.services[1].route = { path: "/orders/" }),
      "fjord:services[1].route.path",
      /must be unique/,
    ],
    [
      "secret TLS without name",
      (v) => (v.gateway.tls = { certificate: "secret" }),
      "fjord:gateway.tls.secretName",
      /required/,
    ],
    ["k3s without nodes", (v) => (v.cluster.mode = "k3s"), "fjord:nodes", /at least one node/],
    [
      "own log agent while fjord's Fluent Bit runs",
      (v) => (v.docker = { logForward: "127.0.0.1:24224" }),
      "fjord:docker.logForward",
      /set fjord:observability\.components\.logShipper to false/,
    ],
    [
      "log agent without a port",
      (v) => (v.docker = { logForward: "logs.internal" }),
      "fjord:docker.logForward",
      /must be "host:port"/,
    ],
    [
      "log agent port out of range",
      (v) => (v.docker = { logForward: "127.0.0.1:70000" }),
      "fjord:docker.logForward",
      /from 1 to 65535/,
    ],
  ];
  it.each(cases)(
    "GIVEN a %s WHEN parsed THEN it is refused under its fjord: key",
    (_label, mutate, key, message) => {
      const v = validValues();
      mutate(v);
      const match = problems(v).find((p) => p.key === key);
      expect(match, JSON.stringify(problems(v))).toBeDefined();
      expect(match!.message).toMatch(message);
    },
  );

  it("GIVEN a database larger than the only node WHEN parsed THEN its memory key is refused, naming the largest node", () => {
    const v = withField("nodes", [
      {
        name: "a",
        host: "192.0.2.1",
        role: "server",
        gateway: true,
        class: { vcpu: 2, memory: "1Gi", disk: "nvme" },
      },
    ]);
    const match = problems(v).find((p) => p.key === "fjord:services[1].database.memory");
    expect(match?.message).toMatch(/does not fit on any node \(the largest has 1Gi\)/);
  });

  it("GIVEN two k3s server nodes WHEN parsed THEN fjord:nodes is refused: embedded etcd needs 1 or 3", () => {
    const node = (name: string, host: string) => ({
      name,
      host,
      role: "server",
      gateway: true,
      class: { vcpu: 4, memory: "8Gi", disk: "nvme" },
    });
    const v = withField("nodes", [node("a", "192.0.2.1"), node("b", "192.0.2.2")]);
    (v.cluster as Record<string, unknown>).mode = "k3s";
    expect(problems(v, { secrets: { sshPrivateKey: { secret: true } } })[0]).toEqual({
      key: "fjord:nodes",
      message:
        "has 2 server nodes; k3s with embedded etcd needs 1 or 3 (set role: server on exactly 1 or 3 nodes)",
    });
  });
});

describe("platform spec: secrets", () => {
  it("GIVEN a kubeconfig stored in plain text WHEN parsed THEN it is refused with the command that sets it as a secret", () => {
    expect(problems(validValues(), { secrets: { kubeconfig: { secret: false } } })).toEqual([
      {
        key: "fjord:kubeconfig",
        message:
          "is stored in plain text; remove it and set it again with `pulumi config set --secret kubeconfig ...`",
      },
    ]);
  });

  it("GIVEN kubeconfig mode without a kubeconfig WHEN parsed for up THEN it is refused, and WHEN parsed for a preview THEN it only warns", () => {
    const v = withField("cluster", { mode: "kubeconfig" });
    expect(problems(v).map((p) => p.key)).toEqual(["fjord:kubeconfig"]);
    const { warnings } = parse(v, { dryRun: true });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^fjord:kubeconfig is required .*\(preview continues/);
  });
});
