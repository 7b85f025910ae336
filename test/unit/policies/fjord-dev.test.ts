/**
 * fjord's own dev Platform on Docker (the real components under Pulumi mocks, from
 * Pulumi.dev.yaml) through every policy with policies/config/dev.json: it must pass.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Policies } from "@pulumi/policy";
import { setupMocks } from "../../../testkit/mocks";
import { devSpec } from "../docker/spec";
import { type Fixture, runPack } from "./harness";

const rec = await setupMocks({
  stack: "dev",
  preview: true,
  outputs: {
    "docker:index/remoteImage:RemoteImage": (r) => ({
      imageId: `sha256:${"0".repeat(64)}`,
      name: r.inputs.name,
    }),
  },
});
const { Platform } = await import("../../../components/docker");
const { policies } = (await import("../../../policies/policies")) as { policies: Policies };
const packConfig = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../policies/config/dev.json"), "utf8"),
);

let stack: Fixture[] = [];
beforeAll(async () => {
  process.env.FJORD_RESIDENCY_EVIDENCE = path.join(
    fs.mkdtempSync(path.join(os.tmpdir(), "fjord-")),
    "ev.json",
  );
  new Platform("fjord", { spec: devSpec() });
  const recorded = await rec.settle();
  // Mocks do not record dependencies; the engine reports each container's envs as depending on
  // the generated passwords it reads, which is what lets no-secret-literals tell them from literals.
  const passwords = recorded
    .filter((r) => r.type === "random:index/randomPassword:RandomPassword")
    .map((r) => r.name);
  stack = recorded.map((r) => ({
    type: r.type,
    name: r.name,
    // Stack policies see outputs: the mocks' generated password is the RandomPassword's result.
    props: passwords.includes(r.name)
      ? { ...r.inputs, result: `mock-password-${r.name}` }
      : r.inputs,
    ...(r.type === "docker:index/container:Container"
      ? { propertyDependencies: { envs: passwords } }
      : {}),
  }));
});

describe("fjord's dev Platform", () => {
  it("GIVEN fjord's dev Platform under mocks WHEN every policy judges it with dev.json THEN no finding is mandatory", async () => {
    const { mandatory, advisory } = await runPack(policies, stack, packConfig);
    if (process.env.SHOW) console.log(advisory.join("\n"));
    expect(mandatory).toEqual([]);
  });
  it("GIVEN fjord's dev Platform WHEN no-secret-literals judges it THEN it reports no secret by value, not even as advice", async () => {
    const { mandatory, advisory } = await runPack(
      policies.filter((p) => p.name === "no-secret-literals"),
      stack,
      packConfig,
    );
    expect([...mandatory, ...advisory]).toEqual([]);
  });
});
