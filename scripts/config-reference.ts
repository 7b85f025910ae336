/** Prints the config reference table; with --write, replaces it in docs/configuration.md. */
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { configReferenceMarkdown } from "../components/config";

const table = configReferenceMarkdown();
if (process.argv.includes("--write")) {
  const file = path.resolve(__dirname, "../docs/configuration.md");
  const readme = readFileSync(file, "utf8");
  const re = /<!-- config-reference:start -->[\s\S]*?<!-- config-reference:end -->/;
  if (!re.test(readme))
    throw new Error("docs/configuration.md lacks the <!-- config-reference:start/end --> markers");
  writeFileSync(
    file,
    readme.replace(re, `<!-- config-reference:start -->\n${table}\n<!-- config-reference:end -->`),
  );
} else {
  console.log(table);
}
