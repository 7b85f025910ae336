import { readFileSync } from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { configReferenceMarkdown, configRows } from "../../../components/config";

describe("config reference", () => {
  it("documents every key in the schema with a description in its JSON Schema", () => {
    const undocumented = configRows()
      .filter((r) => !r.doc)
      .map((r) => r.key);
    expect(
      undocumented,
      "give the field .meta({ description }) in components/config/schema/",
    ).toEqual([]);
  });

  it("is what docs/configuration.md shows (regenerate with `npx tsx scripts/config-reference.ts --write`)", () => {
    const readme = readFileSync(path.resolve(__dirname, "../../../docs/configuration.md"), "utf8");
    const block = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(
      readme,
    );
    expect(block, "docs/configuration.md lacks the config-reference markers").not.toBeNull();
    expect(block![1]).toBe(configReferenceMarkdown());
  });
});
