import { describe, expect, it } from "vitest";
import { checkPreconditions, parseFacts, stealPercent } from "../../../components/nodes";
import { factsLine, node } from "./fixtures";

describe("parseFacts", () => {
  it("GIVEN a facts line among other output WHEN parsed THEN every fact and disk is read from it", () => {
    const f = parseFacts("osl-1", `some noise\n${factsLine()}\n`);
    expect(f).toMatchObject({
      virtualization: "kvm",
      kernel: "6.1.0-28-amd64",
      vcpus: 4,
      memoryBytes: 8_000_000 * 1024,
      hasNvme: true,
      stealPercent: 1,
      stealSampleSeconds: 3,
    });
    expect(f.disks).toEqual([
      { name: "nvme0n1", nvme: true, rotational: false, sizeBytes: 160_000_000 * 512 },
    ]);
  });

  it("GIVEN a virtio and a rotational disk WHEN the facts are parsed THEN neither is NVMe and only the rotational one is marked so", () => {
    const f = parseFacts(
      "osl-1",
      factsLine({
        disks: [
          { name: "vda", rotational: 0, sectors: 10 },
          { name: "sdb", rotational: 1, sectors: 10 },
        ],
      }),
    );
    expect(f.hasNvme).toBe(false);
    expect(f.disks.map((d) => [d.name, d.nvme, d.rotational])).toEqual([
      ["vda", false, false],
      ["sdb", false, true],
    ]);
  });

  it.each([
    ["", "printed no JSON"],
    ["{not json", "invalid JSON"],
    [
      JSON.stringify({ virtualization: "kvm", disks: [], stat1: "cpu 1", stat2: "cpu 2" }),
      "not a /proc/stat cpu line",
    ],
  ])(
    "GIVEN bad facts output %# WHEN parsed THEN the error names the node, the step and what is wrong",
    (out, why) => {
      expect(() => parseFacts("osl-2", out)).toThrow(/^fjord: node osl-2: facts failed: .*/);
      expect(() => parseFacts("osl-2", out)).toThrow(why);
    },
  );
});

describe("stealPercent", () => {
  it("GIVEN two /proc/stat cpu samples WHEN steal is computed THEN it is the steal share of all CPU time between them", () => {
    expect(stealPercent("cpu  100 0 0 800 0 0 0 0 0 0", "cpu  150 0 0 850 0 0 0 100 0 0")).toBe(50);
    expect(stealPercent("cpu  1 2 3 4 5 6 7 8 0 0", "cpu  1 2 3 4 5 6 7 8 0 0")).toBe(0);
  });
});

describe("checkPreconditions", () => {
  const facts = (o: Parameters<typeof factsLine>[0] = {}) => parseFacts("n", factsLine(o));

  it("GIVEN a KVM node with NVMe and low steal WHEN its preconditions are checked THEN there are no errors or warnings", () => {
    expect(checkPreconditions(node("osl-1", "server", "192.0.2.1"), facts())).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it("GIVEN an OpenVZ or LXC node WHEN its preconditions are checked THEN one error names the node, the step and the fix, and with allowNonKvm it is only a warning", () => {
    for (const virt of ["openvz", "lxc"]) {
      const r = checkPreconditions(
        node("osl-1", "agent", "192.0.2.1"),
        facts({ virtualization: virt }),
      );
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(
        new RegExp(`^fjord: node osl-1: preconditions failed: virtualization is "${virt}"`),
      );
      expect(r.errors[0]).toContain("allowNonKvm: true");
    }
    const allowed = checkPreconditions(
      node("osl-1", "agent", "192.0.2.1", { allowNonKvm: true }),
      facts({ virtualization: "lxc" }),
    );
    expect(allowed.errors).toEqual([]);
    expect(allowed.warnings[0]).toContain('"lxc"');
  });

  it("GIVEN class.disk nvme and no NVMe disk WHEN the preconditions are checked THEN the error lists the disks, and class.disk ssd passes", () => {
    const r = checkPreconditions(
      node("osl-3", "agent", "192.0.2.3"),
      facts({ disks: [{ name: "vda", rotational: 0, sectors: 1 }] }),
    );
    expect(r.errors[0]).toMatch(/^fjord: node osl-3: preconditions failed: class.disk is nvme/);
    expect(r.errors[0]).toContain("vda (non-rotational)");
    const ssd = node("osl-3", "agent", "192.0.2.3", {
      class: { vcpu: 4, memory: "8Gi", disk: "ssd", virtualization: "kvm" },
    });
    expect(
      checkPreconditions(ssd, facts({ disks: [{ name: "vda", rotational: 0, sectors: 1 }] }))
        .errors,
    ).toEqual([]);
  });

  it("GIVEN steal over the limit, fewer vCPUs and less memory than the class WHEN the preconditions are checked THEN each is a warning, not an error, and a higher steal limit silences the steal one", () => {
    const r = checkPreconditions(
      node("osl-1", "server", "192.0.2.1"),
      facts({ busy: [950, 50], vcpus: 2, memTotalKb: 4_000_000 }),
    );
    expect(r.errors).toEqual([]);
    expect(r.warnings.join("\n")).toMatch(/CPU steal is 5% over 3s \(limit 2%\)/);
    expect(r.warnings.join("\n")).toMatch(/2 vCPUs, but class.vcpu declares 4/);
    expect(r.warnings.join("\n")).toMatch(/class.memory declares 8Gi/);
    expect(
      checkPreconditions(node("osl-1", "server", "192.0.2.1"), facts({ busy: [950, 50] }), {
        maxStealPercent: 10,
      }).warnings,
    ).toEqual([]);
  });
});
