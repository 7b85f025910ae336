import { describe, expect, it } from "vitest";
import {
  checkExpected,
  parseRun,
  resourceOf,
  toJUnit,
  toSarif,
  toText,
} from "../../scripts/policy-report";

/** Lines as `pulumi preview --json` streams them (PULUMI_ENABLE_STREAMING_JSON_PREVIEW), trimmed. */
const URN = "urn:pulumi:noncompliant::fjord-noncompliant::";
const ev = (o: object) => JSON.stringify({ sequence: 1, timestamp: 1, ...o });
const STREAM = [
  "warning: not JSON, e.g. a plugin's stray output",
  ev({ policyLoadEvent: {} }),
  ev({
    policyEvent: {
      resourceUrn: `${URN}kubernetes:core/v1:ConfigMap::gateway`,
      message:
        "ConfigMap shop/gateway (data key 'nginx.conf') allows protocols below TLS 1.2: ssl_protocols enables TLSv1. Set ssl_protocols TLSv1.2 TLSv1.3.\n",
      color: "never",
      policyName: "tls-min-version",
      policyPackName: "fjord",
      policyPackVersion: "0.1.0",
      enforcementLevel: "mandatory",
      severity: "high",
    },
  }),
  ev({
    policyEvent: {
      resourceUrn: `${URN}fjord:kubernetes:Platform$kubernetes:core/v1:Namespace::shop`,
      message: 'Cannot verify <Namespace> "shop" & co at preview.\n',
      policyName: "default-deny-network-policy",
      policyPackName: "fjord",
      policyPackVersion: "0.1.0",
      enforcementLevel: "advisory",
      severity: "high",
    },
  }),
  ev({
    policyAnalyzeSummaryEvent: {
      resourceUrn: `${URN}kubernetes:core/v1:ConfigMap::gateway`,
      policyPackName: "fjord",
      passed: ["tls-hsts", "tls-strong-ciphers"],
      failed: ["tls-min-version"],
    },
  }),
  ev({
    policyAnalyzeStackSummaryEvent: {
      policyPackName: "fjord",
      passed: ["one-database-per-service"],
      failed: ["default-deny-network-policy"],
    },
  }),
  ev({ diagnosticEvent: { prefix: "error: ", message: "preview failed\n", severity: "error" } }),
  ev({ summaryEvent: { isPreview: true, result: "failed" } }),
].join("\n");

const run = parseRun("noncompliant", STREAM, "test/fixtures/noncompliant/index.ts");

describe("parseRun", () => {
  it("collects violations, passes, errors and the result, skipping non-JSON lines", () => {
    expect(run.violations.map((v) => [v.policy, v.level, resourceOf(v.urn).name])).toEqual([
      ["tls-min-version", "mandatory", "gateway"],
      ["default-deny-network-policy", "advisory", "shop"],
    ]);
    expect(run.violations[0]!.message.endsWith("TLSv1.3.")).toBe(true);
    expect([...run.passed.keys()].sort()).toEqual([
      "one-database-per-service",
      "tls-hsts",
      "tls-strong-ciphers",
    ]);
    expect(run.passed.get("one-database-per-service")).toEqual(new Set(["stack"]));
    expect(run.errors).toEqual(["preview failed"]);
    expect(run.result).toBe("failed");
  });
  it("reads the type of a child resource from its URN", () => {
    expect(
      resourceOf(`${URN}fjord:kubernetes:Platform$kubernetes:core/v1:Namespace::shop`),
    ).toEqual({ type: "kubernetes:core/v1:Namespace", name: "shop" });
    expect(resourceOf("")).toEqual({ type: "stack", name: "stack" });
  });
});

describe("toSarif", () => {
  const sarif = toSarif([run]) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  it("is SARIF 2.1.0 with one run per preview and one rule per policy seen", () => {
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.$schema).toMatch(/sarif-2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    expect(sarif.runs[0].automationDetails.id).toBe("fjord-policy-check/noncompliant/");
    expect(sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toEqual([
      "default-deny-network-policy",
      "one-database-per-service",
      "tls-hsts",
      "tls-min-version",
      "tls-strong-ciphers",
    ]);
  });
  it("maps mandatory to error and advisory to warning, located in the program with the URN", () => {
    const [mandatory, advisory] = sarif.runs[0].results;
    expect(mandatory).toMatchObject({
      ruleId: "tls-min-version",
      ruleIndex: 3,
      level: "error",
      message: { text: expect.stringContaining("ssl_protocols enables TLSv1") },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "test/fixtures/noncompliant/index.ts" },
            region: { startLine: 1 },
          },
          logicalLocations: [
            {
              name: "gateway",
              fullyQualifiedName: `${URN}kubernetes:core/v1:ConfigMap::gateway`,
              kind: "resource",
            },
          ],
        },
      ],
      properties: {
        enforcementLevel: "mandatory",
        severity: "high",
        stack: "noncompliant",
        resourceType: "kubernetes:core/v1:ConfigMap",
      },
    });
    expect(mandatory.partialFingerprints["fjordPolicy/v1"]).toMatch(/^[0-9a-f]{64}$/);
    expect(advisory.level).toBe("warning");
  });
});

describe("toJUnit", () => {
  const xml = toJUnit([run]);
  it("has a failing case per mandatory violation and a passing case per check that passed", () => {
    expect(xml).toContain(
      '<testsuites name="fjord policy-check" tests="5" failures="1" errors="0">',
    );
    expect(xml).toContain(
      '<testsuite name="policy-check.noncompliant" tests="5" failures="1" errors="0">',
    );
    expect(xml).toContain(
      '<testcase classname="noncompliant.tls-min-version" name="kubernetes:core/v1:ConfigMap::gateway"><failure type="mandatory" message="ConfigMap shop/gateway (data key &apos;nginx.conf&apos;)',
    );
    expect(xml).toContain(
      '<testcase classname="noncompliant.tls-hsts" name="kubernetes:core/v1:ConfigMap::gateway"/>',
    );
    expect(xml).toContain(
      '<testcase classname="noncompliant.one-database-per-service" name="stack::stack"/>',
    );
  });
  it("keeps advisories as passing cases with their text, escaped", () => {
    expect(xml).toContain(
      "<system-out>[advisory] Cannot verify &lt;Namespace&gt; &quot;shop&quot; &amp; co at preview.</system-out>",
    );
  });
  it("reports a preview that failed for another reason as an error", () => {
    const broken = parseRun(
      "dev",
      [
        ev({
          diagnosticEvent: {
            severity: "error",
            message: "fjord: no Docker daemon\u0007 at unix:///var/run/docker.sock",
          },
        }),
        ev({ summaryEvent: { result: "failed" } }),
      ].join("\n"),
    );
    expect(toJUnit([broken])).toContain(
      '<testcase classname="dev" name="preview"><error message="fjord: no Docker daemon at unix:///var/run/docker.sock">',
    );
  });
});

describe("toJUnit for a run that must fail", () => {
  it("passes each expected violation and fails what is missing or unexpected", () => {
    const expected = new Map([
      [
        "noncompliant",
        [
          { policy: "tls-min-version", resource: "gateway" },
          { policy: "pinned-images", resource: "traefik" },
        ],
      ],
    ]);
    const junit = toJUnit([run], expected);
    expect(junit).toContain(
      '<testsuite name="policy-check.noncompliant" tests="2" failures="1" errors="0">',
    );
    expect(junit).toContain(
      '<testcase classname="noncompliant.tls-min-version" name="stops gateway"/>',
    );
    expect(junit).toContain(
      '<testcase classname="noncompliant.pinned-images" name="stops traefik"><failure type="missing" message="the pack did not stop traefik with pinned-images"/></testcase>',
    );
  });
});

describe("toText and checkExpected", () => {
  it("prints each finding with its level, policy and resource", () => {
    expect(toText([run])).toBe(
      [
        "== noncompliant: preview failed; 1 mandatory, 1 advisory finding(s); 3 check(s) passed",
        "  [mandatory] tls-min-version (kubernetes:core/v1:ConfigMap: gateway)",
        "      ConfigMap shop/gateway (data key 'nginx.conf') allows protocols below TLS 1.2: ssl_protocols enables TLSv1. Set ssl_protocols TLSv1.2 TLSv1.3.",
        "  [advisory] default-deny-network-policy (kubernetes:core/v1:Namespace: shop)",
        '      Cannot verify <Namespace> "shop" & co at preview.',
        "",
      ].join("\n"),
    );
  });
  it("compares mandatory violations with the expected pairs, both ways", () => {
    expect(checkExpected(run, [{ policy: "tls-min-version", resource: "gateway" }])).toEqual([]);
    expect(checkExpected(run, [{ policy: "pinned-images", resource: "traefik" }])).toEqual([
      "missing: pinned-images on traefik",
      "unexpected: tls-min-version on gateway",
    ]);
  });
});
