import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  endpointsMarker,
  gatewayFiles,
  makeGatewayPlan,
  renderEndpointWatcher,
  renderNginxConf,
  renderTraefikDynamic,
  renderTraefikStatic,
  validateGatewayPlan,
  type GatewayKind,
  type GatewayPlan,
} from "../../../components/plan/gateway";
import { nginxBlocks } from "../../../lib/parse/nginx";

function plan(kind: GatewayKind, endpoints = true): GatewayPlan {
  return makeGatewayPlan({
    kind,
    domains: ["api.example.test"],
    tls: { certFile: "/etc/fjord/tls/tls.crt", keyFile: "/etc/fjord/tls/tls.key" },
    routes: [
      { name: "orders", path: "/orders/", public: false, upstream: "orders", budgetMs: 800 },
      { name: "static", path: "/static/", public: true, upstream: "static", budgetMs: 800 },
    ],
    upstreams: [
      {
        name: "orders",
        servers: [{ host: "orders.fjord-orders.svc.cluster.local", port: 8080 }],
        ...(endpoints
          ? { endpoints: { host: "orders-pods.fjord-orders.svc.cluster.local", port: 8080 } }
          : {}),
      },
      { name: "static", servers: [{ host: "10.0.0.9", port: 3000 }] },
    ],
  });
}

describe("endpoint-aware upstreams: renderers", () => {
  it("GIVEN an nginx plan with one upstream with endpoints and one without WHEN nginx.conf is rendered THEN the discovered one is a single template server line, the fixed one keeps its server, and retries move to the next server", () => {
    // GIVEN an upstream with endpoints and one without WHEN nginx.conf is rendered
    const conf = renderNginxConf(plan("nginx"));
    const servers = (name: string) =>
      nginxBlocks(conf, "upstream", (a) => a[0] === `up_${name}`)[0]!
        .children!.filter((d) => d.name === "server")
        .map((d) => d.args);
    // THEN the discovered one carries the marker with the per-server failure accounting
    expect(servers("orders")).toEqual([
      [endpointsMarker("orders"), "max_fails=3", "fail_timeout=10s"],
    ]);
    expect(conf).not.toContain("orders.fjord-orders.svc.cluster.local");
    expect(servers("static")).toEqual([["10.0.0.9:3000", "max_fails=3", "fail_timeout=10s"]]);
    // ... and retries still go to the next server on errors, timeouts and 502-504
    expect(conf).toMatch(/proxy_next_upstream error timeout http_502 http_503 http_504;/);
  });

  it("GIVEN a Traefik plan with one upstream with endpoints and one without WHEN the dynamic file is rendered THEN the discovered one is a single template server URL, the fixed one keeps its URL, and each judges servers on their own", () => {
    const doc = parse(renderTraefikDynamic(plan("traefik")));
    expect(doc.http.services.orders.loadBalancer.servers).toEqual([
      { url: `http://${endpointsMarker("orders")}` },
    ]);
    expect(doc.http.services.static.loadBalancer.servers).toEqual([
      { url: "http://10.0.0.9:3000" },
    ]);

    // ... and each server is judged on its own, like nginx's max_fails/fail_timeout
    for (const svc of ["orders", "static"])
      expect(doc.http.services[svc].loadBalancer.passiveHealthCheck).toEqual({
        maxFailedAttempts: 3,
        failureWindow: "10s",
      });
  });

  it("GIVEN an endpoints host that could break out of a directive WHEN the plan is validated THEN it is refused, naming the upstream", () => {
    const p = plan("nginx");
    p.upstreams[0]!.endpoints = { host: "x; include /etc/passwd", port: 8080 };
    expect(validateGatewayPlan(p)).toContain("upstreams.orders: invalid endpoints host");
  });
});

describe("endpoint-aware upstreams: gateway files", () => {
  it("GIVEN an nginx plan with endpoints WHEN the gateway files are made THEN the watcher starts nginx on the expanded config and reloads it with SIGHUP", () => {
    // GIVEN a plan with endpoints WHEN the files are made for /etc/fjord
    const f = gatewayFiles(plan("nginx"), "/etc/fjord");
    // THEN the watcher runs first and execs nginx on the config it writes under /tmp
    expect(f.command).toEqual([
      "sh",
      "/etc/fjord/endpoints.sh",
      "nginx",
      "-e",
      "stderr",
      "-c",
      "/tmp/fjord/nginx.conf",
      "-g",
      "daemon off;",
    ]);
    const sh = f.files["endpoints.sh"]!;
    expect(sh).toContain("CONF_DIR=/etc/fjord\nRUN_DIR=/tmp/fjord\n");
    expect(sh).toContain("for f in nginx.conf; do");
    expect(sh).toContain(
      "UPSTREAMS='orders orders-pods.fjord-orders.svc.cluster.local 8080 orders.fjord-orders.svc.cluster.local:8080'",
    );
    expect(sh).toMatch(/kill -HUP "\$PROXY"\n/);
    expect(sh).toMatch(/PROXY=\$\$\nwatch &\nexec "\$@"\n$/);
  });

  it("GIVEN a Traefik plan with endpoints WHEN the gateway files are made THEN the static file points the file provider at the expanded dynamic file, and the watcher sends no signal", () => {
    const f = gatewayFiles(plan("traefik"), "/etc/fjord");
    expect(f.command).toEqual([
      "sh",
      "/etc/fjord/endpoints.sh",
      "traefik",
      "--configFile=/etc/fjord/traefik.yml",
    ]);
    expect(parse(f.files["traefik.yml"]!).providers.file).toEqual({
      filename: "/tmp/fjord/dynamic.yml",
      watch: true,
    });
    const sh = f.files["endpoints.sh"]!;
    expect(sh).toContain("for f in dynamic.yml; do");
    expect(sh).not.toContain("kill -HUP");
  });

  it.each(["nginx", "traefik"] as const)(
    "GIVEN %s without endpoints (Docker: one server per replica container) WHEN the gateway files are made THEN there is no watcher and no endpoints marker",
    (kind) => {
      const f = gatewayFiles(plan(kind, false), "/etc/fjord");
      expect(f.files["endpoints.sh"]).toBeUndefined();
      expect(f.command[0]).toBe(kind);
      expect(JSON.stringify(f.files)).not.toContain("@@endpoints");
      if (kind === "traefik")
        expect(parse(renderTraefikStatic(plan(kind, false))).providers.file.filename).toBe(
          "/etc/traefik/dynamic.yml",
        );
    },
  );

  it("GIVEN the same plan twice, then a changed one WHEN the gateway files are made THEN the config hash (and so the gateway's rollout) changes only with the plan", () => {
    const a = gatewayFiles(plan("nginx"), "/etc/fjord");
    const b = gatewayFiles(plan("nginx"), "/etc/fjord");
    expect(a.hash).toBe(b.hash);
    expect(gatewayFiles(plan("nginx", false), "/etc/fjord").hash).not.toBe(a.hash);
  });

  it("GIVEN a poll interval and a settle count WHEN the watcher is rendered THEN it uses them", () => {
    const sh = renderEndpointWatcher(plan("nginx"), {
      configDir: "/c",
      runtimeDir: "/r",
      templates: ["nginx.conf"],
      intervalSeconds: 1,
      settlePolls: 3,
    });
    expect(sh).toContain("INTERVAL=1\nSETTLE=3\n");
  });
});
