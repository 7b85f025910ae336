/** The nginx gateway's TLS choices for speed: certificate order, ticket keys, log batching. */
import { describe, expect, it } from "vitest";
import {
  makeGatewayPlan,
  renderNginxConf,
  validateGatewayPlan,
} from "../../../components/plan/gateway";
import type { GatewayPlan, GatewayPlanInput } from "../../../components/plan/gateway";
import { nginxBlocks, nginxDirectives, parseNginx } from "../../../lib/parse/nginx";

function plan(
  tls: Partial<GatewayPlanInput["tls"]> = {},
  over: Partial<GatewayPlanInput> = {},
): GatewayPlan {
  return makeGatewayPlan({
    kind: "nginx",
    domains: ["api.example.test"],
    tls: { certFile: "/etc/gw/tls/tls.crt", keyFile: "/etc/gw/tls/tls.key", ...tls },
    routes: [
      { name: "orders", path: "/orders/", public: false, upstream: "orders", budgetMs: 800 },
    ],
    upstreams: [{ name: "orders", servers: [{ host: "10.0.0.5", port: 8080 }] }],
    ...over,
  });
}

/** The server block that serves the plan's domains over TLS. */
function mainServer(conf: string) {
  const servers = nginxBlocks(parseNginx(conf), "server");
  const main = servers.find(
    (s) =>
      (s.children ?? []).some(
        (d) => d.name === "server_name" && d.args[0] === "api.example.test",
      ) && (s.children ?? []).some((d) => d.name === "ssl_certificate"),
  );
  if (!main) throw new Error("no TLS server for the domain");
  return (main.children ?? []).map((d) => [d.name, ...d.args]);
}

describe("nginx certificates", () => {
  it("GIVEN an RSA fallback pair WHEN rendered THEN the ECDSA pair is served first and the RSA pair after it, each key right after its certificate", () => {
    const conf = renderNginxConf(
      plan({ rsaFallback: { certFile: "/etc/gw/tls/rsa.crt", keyFile: "/etc/gw/tls/rsa.key" } }),
    );
    const certs = mainServer(conf).filter(([n]) => n!.startsWith("ssl_certificate"));
    expect(certs).toEqual([
      ["ssl_certificate", "/etc/gw/tls/tls.crt"],
      ["ssl_certificate_key", "/etc/gw/tls/tls.key"],
      ["ssl_certificate", "/etc/gw/tls/rsa.crt"],
      ["ssl_certificate_key", "/etc/gw/tls/rsa.key"],
    ]);
  });

  it("GIVEN no RSA fallback WHEN rendered THEN one certificate is served", () => {
    const certs = mainServer(renderNginxConf(plan())).filter(([n]) => n === "ssl_certificate");
    expect(certs).toEqual([["ssl_certificate", "/etc/gw/tls/tls.crt"]]);
  });

  it("GIVEN an RSA fallback path that could break out of the directive WHEN the plan is validated THEN it is refused, naming the key", () => {
    const errs = validateGatewayPlan(plan({ rsaFallback: { certFile: "/x;y", keyFile: "/k" } }));
    expect(errs).toContain("tls.rsaFallback.certFile: unsafe or empty path");
  });
});

describe("nginx session tickets", () => {
  it("GIVEN two ticket key files, newest first WHEN rendered THEN tickets are on and the keys are listed in that order, so the first encrypts and the others still decrypt", () => {
    const conf = renderNginxConf(
      plan({
        sessionTicketKeyFiles: ["/etc/gw/tickets/current.key", "/etc/gw/tickets/previous.key"],
      }),
    );
    expect(nginxDirectives(conf, "ssl_session_tickets")).toEqual([["on"]]);
    expect(nginxDirectives(conf, "ssl_session_ticket_key")).toEqual([
      ["/etc/gw/tickets/current.key"],
      ["/etc/gw/tickets/previous.key"],
    ]);
  });

  it("GIVEN no ticket key files WHEN rendered THEN tickets are off, since nginx's own keys would not survive a restart, and the shared session cache stays", () => {
    for (const files of [undefined, []]) {
      const conf = renderNginxConf(plan(files ? { sessionTicketKeyFiles: files } : {}));
      expect(nginxDirectives(conf, "ssl_session_tickets")).toEqual([["off"]]);
      expect(nginxDirectives(conf, "ssl_session_ticket_key")).toEqual([]);
      expect(nginxDirectives(conf, "ssl_session_cache")).toEqual([["shared:gw_tls:10m"]]);
    }
  });
});

describe("nginx access log", () => {
  it("GIVEN an access log on stdout WHEN rendered THEN writes are batched in PIPE_BUF-sized buffers flushed every second", () => {
    const [line] = nginxDirectives(
      renderNginxConf(plan(), { accessLogPath: "/dev/stdout" }),
      "access_log",
    );
    expect(line).toEqual(["/dev/stdout", "gw_json", "buffer=4k", "flush=1s"]);
  });
});

describe("nginx client connections", () => {
  it("GIVEN the default plan WHEN rendered THEN the http block keeps a client connection for 10000 requests, so a busy client seldom pays a new handshake", () => {
    const http = parseNginx(renderNginxConf(plan())).find((d) => d.name === "http")!;
    const own = (http.children ?? []).filter((d) => d.name === "keepalive_requests");
    expect(own.map((d) => d.args)).toEqual([["10000"]]);
  });
});
