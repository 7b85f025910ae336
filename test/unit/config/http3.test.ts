/**
 * fjord:gateway.http3 follows the gateway kind: Traefik serves HTTP/3 by default, nginx (Debian
 * bookworm's 1.22, no QUIC) does not and cannot be told to. The plan carries the resolved value.
 */
import { describe, expect, it } from "vitest";
import { parseSpec, SpecError, type Spec } from "../../../components/config";
import { planPlatform, bindGateway } from "../../../components/plan";
import { makeGatewayPlan, validateGatewayPlan } from "../../../components/plan/gateway";
import { BACKUP_SECRETS, validValues } from "./fixtures";

const parse = (gateway: Record<string, unknown>): Spec => {
  const v = validValues();
  v.gateway = { ...(v.gateway as object), ...gateway };
  return parseSpec({ stack: "test", values: v, secrets: { ...BACKUP_SECRETS } }).spec;
};

function refusal(gateway: Record<string, unknown>): SpecError {
  try {
    parse(gateway);
  } catch (e) {
    if (e instanceof SpecError) return e;
    throw e;
  }
  throw new Error("expected the config to be rejected");
}

const planned = (spec: Spec) =>
  bindGateway(planPlatform(spec), {
    servers: (s) => [{ host: s.name, port: 8080 }],
    publicHttpsPort: 443,
    rsaFallback: false,
  }).plan;

describe("fjord:gateway.http3", () => {
  it.each([
    [{}, false],
    [{ kind: "nginx" }, false],
    [{ kind: "nginx", http3: false }, false],
    [{ kind: "traefik" }, true],
    [{ kind: "traefik", http3: true }, true],
    [{ kind: "traefik", http3: false }, false],
  ])("GIVEN gateway %j WHEN parsed THEN http3 is %s, in the spec and in the plan", (gw, want) => {
    const spec = parse(gw);
    expect(spec.gateway.http3).toBe(want);
    expect(planned(spec).http3).toBe(want);
  });

  it("GIVEN kind nginx with http3 true WHEN parsed THEN one problem names the key and the fix", () => {
    const err = refusal({ kind: "nginx", http3: true });
    expect(err.problems).toEqual([
      {
        key: "fjord:gateway.http3",
        message:
          'got true; the nginx gateway cannot serve HTTP/3 (Debian bookworm\'s nginx 1.22 has no QUIC); remove fjord:gateway.http3 (or set it to false), or set fjord:gateway.kind to "traefik"',
      },
    ]);
    expect(err.message).toContain("  - fjord:gateway.http3: got true; the nginx gateway");
    expect(err.stack ?? "").not.toMatch(/zod/);
  });

  it("GIVEN the default kind with http3 true WHEN parsed THEN it is refused the same way", () => {
    expect(refusal({ http3: true }).problems.map((p) => p.key)).toEqual(["fjord:gateway.http3"]);
  });

  it("GIVEN a hand-built nginx plan with http3 WHEN validated THEN the renderer refuses it", () => {
    const plan = makeGatewayPlan({
      kind: "nginx",
      domains: ["api.example.no"],
      http3: true,
      tls: { certFile: "/etc/fjord/tls/tls.crt", keyFile: "/etc/fjord/tls/tls.key" },
      routes: [{ name: "a", path: "/a/", public: true, upstream: "a", budgetMs: 200 }],
      upstreams: [{ name: "a", servers: [{ host: "a", port: 8080 }] }],
    });
    expect(validateGatewayPlan(plan)).toEqual([
      "http3: the nginx gateway renders no QUIC listener (nginx 1.22); use kind traefik or http3 false",
    ]);
    expect(validateGatewayPlan({ ...plan, kind: "traefik" })).toEqual([]);
  });
});
