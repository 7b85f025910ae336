/**
 * How problems read: one line each, under the full key, in fjord's words rather than zod's, with
 * the schema's own messages kept, and a mistyped key answered with the key that was meant.
 */
import { describe, expect, it } from "vitest";
import { parseSpec, SpecError, type SpecProblem } from "../../../components/config";
import { validValues, withField } from "./fixtures";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutating untyped config fixtures
type Values = Record<string, any>;

function problemsOf(values: Values): SpecProblem[] {
  try {
    parseSpec({ stack: "test", values, secrets: {} });
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  throw new Error("expected the config to be rejected");
}

const one = (values: Values, key: string): string => {
  const found = problemsOf(values).filter((p) => p.key === key);
  expect(found, JSON.stringify(problemsOf(values))).toHaveLength(1);
  return found[0].message;
};

describe("zod's stock wording, in fjord's words", () => {
  it.each([
    ["gateway.rateLimit.burst", -1, "fjord:gateway.rateLimit.burst", "got -1; must be at least 0"],
    ["services.0.replicas", 101, "fjord:services[0].replicas", "got 101; must be at most 100"],
    ["services.0.replicas", 1.5, "fjord:services[0].replicas", "got 1.5; must be a whole number"],
    [
      "services.0.processingBudgetMs",
      0,
      "fjord:services[0].processingBudgetMs",
      "got 0; must be more than 0",
    ],
    ["services.0.replicas", "two", "fjord:services[0].replicas", 'got "two"; must be a number'],
    ["gateway.kind", "haproxy", "fjord:gateway.kind", 'got "haproxy"; allowed: "nginx", "traefik"'],
    ["gateway.http3", "yes", "fjord:gateway.http3", 'got "yes"; must be true or false'],
    ["ssh", { user: "" }, "fjord:ssh.user", 'got ""; must not be empty'],
    ["services", [], "fjord:services", "got an empty list; needs at least one service"],
  ])("GIVEN %s = %j WHEN parsed THEN %s says %j", (path, value, key, message) => {
    expect(one(withField(path, value), key)).toBe(message);
  });

  it("GIVEN many bad fields WHEN parsed THEN no message is zod's and each is one line", () => {
    const v: Values = validValues();
    v.gateway.rateLimit = { average: 0, burst: -5 };
    v.gateway.replicas = 50;
    v.services[0].port = 0;
    v.services[0].processingBudgetMs = -1;
    v.observability = { alerts: { cpuStealPercent: 500 }, piiFields: [""] };
    v.ssh = { adminCidrs: "all" };
    const found = problemsOf(v);
    expect(found.length).toBeGreaterThanOrEqual(7);
    for (const p of found) {
      expect(p.message).not.toMatch(/Too small|Too big|Invalid input|expected \w+ to/);
      expect(p.message).not.toContain("\n");
      expect(p.key).toMatch(/^fjord:[a-zA-Z]/);
    }
  });

  it("GIVEN a required key is missing WHEN parsed THEN it says so and keeps the schema's message", () => {
    const v: Values = validValues();
    delete v.target;
    expect(one(v, "fjord:target")).toBe('is required; must be "kubernetes" or "docker"');
    expect(one(withField("gateway", undefined), "fjord:gateway")).toBe(
      "is required (a map of keys)",
    );
  });

  it("GIVEN an env name in lower case WHEN parsed THEN the key itself is named as not allowed", () => {
    expect(
      one(withField("services.0.env", { log_level: "debug" }), "fjord:services[0].env.log_level"),
    ).toBe("is not an allowed key: must be an upper-case env name");
  });
});

describe("unknown keys", () => {
  it.each([
    ["a top-level typo", "servces", "fjord:services"],
    ["a different case", "Gateway", "fjord:gateway"],
    ["a swapped pair of letters", "enviornment", "fjord:environment"],
  ])("GIVEN %s (fjord:%s) WHEN parsed THEN it suggests %s", (_label, typo, meant) => {
    const v: Values = validValues();
    v[typo] = {};
    expect(one(v, `fjord:${typo}`)).toBe(`is not a known key; did you mean ${meant}?`);
  });

  it.each([
    ["services.1.database.memroy", "2Gi", "fjord:services[1].database.memory"],
    ["gateway.tls", { minVersoin: "1.3" }, "fjord:gateway.tls.minVersion"],
    ["services.0.route.pubic", false, "fjord:services[0].route.public"],
    ["services.0.calls", [{ service: "payment", fanOot: 2 }], "fjord:services[0].calls[0].fanOut"],
    ["observability.components", { grafan: false }, "fjord:observability.components.grafana"],
  ])("GIVEN nested %s WHEN parsed THEN it suggests %s", (path, value, meant) => {
    const found = problemsOf(withField(path, value));
    expect(found.map((p) => p.message)).toContain(`is not a known key; did you mean ${meant}?`);
  });

  it("GIVEN a key like no other WHEN parsed THEN it lists the keys allowed there", () => {
    const message = one(withField("gateway.tls", { quic: true }), "fjord:gateway.tls.quic");
    expect(message).toBe(
      "is not a known key; remove it, or use one of minVersion, certificate, secretName, hstsMaxAgeSeconds, ticketKeyGeneration",
    );
  });
});
