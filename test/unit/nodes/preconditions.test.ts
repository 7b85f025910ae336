/**
 * The preconditions gate: what the facts step printed decides whether a node may be changed.
 * Facts that cannot be read fail the gate with the node named, like a failed check, instead of
 * throwing inside an apply (which would leave the update waiting on the gated steps).
 */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { setupMocks, type Recorded } from "../../../testkit/mocks";
import { factsLine, node } from "./fixtures";

// What each node's facts step prints: good facts, and an OpenVZ container.
const FACTS: Record<string, string> = {
  "osl-1": factsLine(),
  "osl-3": factsLine({ virtualization: "openvz" }),
};
const rec = await setupMocks({
  outputs: {
    "command:remote:Command": (r: Recorded) => ({
      stdout: r.name.endsWith("-facts") ? FACTS[r.name.replace(/^n-|-facts$/g, "")] : "",
      stderr: "",
    }),
  },
});
const { VpsNode, judgeFacts } = await import("../../../components/nodes");

for (const name of Object.keys(FACTS))
  new VpsNode(`n-${name}`, {
    node: node(name, "server", "192.0.2.11"),
    privateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----\nMOCK\n"),
    adminCidrs: ["198.51.100.0/24"],
    http3: false,
    k3s: { version: "v1.31.4+k3s1", token: pulumi.secret("t"), clusterInit: true },
  });
await rec.settle();
const gate = (n: string) =>
  String(rec.get("command:local:Command", `n-${n}-preconditions`).inputs.create);

describe("judgeFacts", () => {
  it.each([
    [
      "printed no JSON",
      "bash: line 1: awk: command not found\n",
      "the facts script printed no JSON",
    ],
    ["printed broken JSON", '{"virtualization":"kvm",', "invalid JSON"],
    ["printed JSON without disks", '{"virtualization":"kvm"}', "disks is missing"],
    [
      "printed a bad /proc/stat line",
      factsLine().replace(/"stat1":"[^"]*"/, '"stat1":"cpu x"'),
      "not a /proc/stat cpu line",
    ],
  ])(
    "GIVEN a facts step that %s WHEN judged THEN it is one failed precondition naming the node, what came back and the fix, with no facts",
    (_given, stdout, why) => {
      const v = judgeFacts(node("osl-2", "agent", "192.0.2.12"), stdout);
      expect(v.facts).toBeUndefined();
      expect(v.errors).toHaveLength(1);
      expect(v.errors[0]).toContain(`fjord: node osl-2: facts failed: ${why}`);
      expect(v.errors[0]).toContain(`got: ${JSON.stringify(stdout.slice(0, 300))}`);
      expect(v.errors[0]).toContain("hint: the facts script needs bash, awk");
    },
  );

  it("GIVEN readable facts of an OpenVZ container WHEN judged THEN the facts are kept and the virtualization check fails", () => {
    const v = judgeFacts(
      node("osl-3", "agent", "192.0.2.13"),
      factsLine({ virtualization: "openvz" }),
    );
    expect(v.facts?.virtualization).toBe("openvz");
    expect(v.errors).toEqual([
      expect.stringMatching(/^fjord: node osl-3: preconditions failed: virtualization is "openvz"/),
    ]);
  });
});

describe("VpsNode preconditions step (mocks)", () => {
  it("GIVEN facts that meet every precondition WHEN the node is built THEN its preconditions step just succeeds", () => {
    expect(gate("osl-1")).toBe("true");
  });

  it("GIVEN facts that fail a precondition WHEN the node is built THEN its preconditions step prints the message and exits 1", () => {
    const script = gate("osl-3");
    expect(script).toMatch(/fjord: node osl-3: preconditions failed: virtualization is "openvz"/);
    expect(script).toMatch(/>&2; exit 1$/);
  });
});
