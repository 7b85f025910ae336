/**
 * The layer rules bite: each case lints a real file of one layer, with one forbidden import
 * added, through the repository's own ESLint config (the one `npm run lint` runs).
 */
import { ESLint } from "eslint";
import * as path from "path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../../..");
const eslint = new ESLint({ cwd: ROOT });

async function layerMessages(file: string, importLine: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${importLine}\nexport const probe = 1;\n`, {
    filePath: path.join(ROOT, file),
  });
  return result.messages.filter((m) => m.ruleId === "fjord/layers").map((m) => m.message);
}

const CASES: Array<{ given: string; file: string; line: string; says: RegExp }> = [
  {
    given: "config importing the plan",
    file: "components/config/checks.ts",
    line: 'import { planDatabase } from "../plan/database";',
    says: /config may import only lib, components\/config, not components\/plan\/database/,
  },
  {
    given: "the plan importing a target",
    file: "components/plan/gateway/files.ts",
    line: 'import { Platform } from "../../kubernetes";',
    says: /plan may import only .* not components\/kubernetes/,
  },
  {
    given: "the plan importing fs",
    file: "components/plan/database/index.ts",
    line: 'import { readFileSync } from "node:fs";',
    says: /plan is pure: no "node:fs"/,
  },
  {
    given: "config importing @pulumi/pulumi",
    file: "components/config/schema/index.ts",
    line: 'import * as pulumi from "@pulumi/pulumi";',
    says: /config is pure: no "@pulumi\/pulumi"/,
  },
  {
    given: "the shared library importing net",
    file: "lib/ip.ts",
    line: 'import { isIP } from "net";',
    says: /lib is pure: no "net"/,
  },
  {
    given: "a policy importing a component",
    file: "policies/tls.ts",
    line: 'import { renderNginxConf } from "../components/plan/gateway";',
    says: /policies import only lib\//,
  },
  {
    given: "a target importing another target's internals",
    file: "components/docker/logging.ts",
    line: 'import { workloadLabels } from "../kubernetes/naming";',
    says: /internal to components\/kubernetes/,
  },
  {
    given: "a test importing a component's internals",
    file: "test/unit/plan/tuning.test.ts",
    line: 'import { tunePostgres } from "../../../components/plan/database/tuning/postgres";',
    says: /tests import components through their public index/,
  },
  {
    given: "a dynamic import from a policy",
    file: "policies/latency.ts",
    line: 'const m = await import("../components/config");',
    says: /policies import only lib\//,
  },
];

// The first lint starts TypeScript's project service (seconds, more on a loaded machine).
describe("layer rules (fjord/layers in eslint.config.mjs)", { timeout: 180_000 }, () => {
  for (const c of CASES) {
    it(`GIVEN ${c.given} WHEN linted THEN the rule reports it`, async () => {
      const messages = await layerMessages(c.file, c.line);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(c.says);
    });
  }

  it("GIVEN imports the layers allow WHEN linted THEN nothing is reported", async () => {
    const allowed: Array<[string, string]> = [
      ["components/plan/database/index.ts", 'import { parseMemory } from "../../config";'],
      ["components/config/checks.ts", 'import { findCycle } from "../../lib/graph";'],
      ["policies/tls.ts", 'import { parseNginx } from "../lib/parse/nginx";'],
      ["components/docker/platform.ts", 'import { SelfSignedCertificate } from "../tls";'],
      [
        "test/unit/plan/tuning.test.ts",
        'import { tunePostgres } from "../../../components/plan/database";',
      ],
    ];
    for (const [file, line] of allowed) expect(await layerMessages(file, line), file).toEqual([]);
  });
});
