/**
 * fjord's layer rules as one ESLint rule. Imports are resolved to repository paths, so a rule
 * reads the same from any depth (no-restricted-imports matches specifier text, where
 * "../plan" means different folders in different files).
 *
 *   lib/                 shared, pure: parsers, region catalogue, latency analysis
 *   components/config    the ground floor: schema, units, ports, defaults
 *   components/plan      pure functions from config to a platform plan and rendered files
 *   components/<target>  docker, kubernetes, nodes (and tls): plan → resources
 *   policies/            the pack: lib/ only, never a component
 *   test/, bench/        components through their public index only
 */
import * as path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");
const TARGETS = ["docker", "kubernetes", "nodes", "tls"];
const IO_MODULES = new Set([
  "fs",
  "fs/promises",
  "net",
  "http",
  "https",
  "http2",
  "dns",
  "dns/promises",
  "tls",
  "dgram",
  "child_process",
  "worker_threads",
]);

/** Repository path of a relative import, or undefined for a package. */
function resolved(file, spec) {
  if (!spec.startsWith(".")) return undefined;
  const p = path
    .relative(ROOT, path.resolve(path.dirname(file), spec))
    .split(path.sep)
    .join("/");
  // "x/index.js" (ESM style) and "x/index" name the folder x, as "x" does.
  return p.replace(/\/index(\.[cm]?[jt]s)?$/, "");
}

const under = (p, dir) => p === dir || p.startsWith(dir + "/");

/** components/<module>, or components/plan/<domain>: the folders whose index is public. */
function publicIndex(p) {
  const parts = p.split("/");
  if (parts[0] !== "components") return true;
  if (parts[1] === "plan") return parts.length <= 3;
  return parts.length <= 2;
}

/** The layer of a file, by its repository path. */
function layerOf(p) {
  if (under(p, "lib")) return "lib";
  if (under(p, "components/config")) return "config";
  if (under(p, "components/plan")) return "plan";
  const t = TARGETS.find((x) => under(p, `components/${x}`));
  if (t) return `target:${t}`;
  if (under(p, "policies")) return "policies";
  if (under(p, "test") || under(p, "bench") || under(p, "testkit")) return "tests";
  return "other";
}

const ALLOWED = {
  lib: ["lib"],
  config: ["lib", "components/config"],
  plan: ["lib", "components/config", "components/plan"],
  policies: ["lib", "policies"],
};

function check(file, spec) {
  const from = layerOf(path.relative(ROOT, file).split(path.sep).join("/"));
  const pure = from === "lib" || from === "config" || from === "plan";
  const target = resolved(file, spec);
  if (target === undefined) {
    const bare = spec.replace(/^node:/, "");
    if (pure && IO_MODULES.has(bare)) {
      return `${from} is pure: no "${spec}" (file or network I/O belongs to a target or a tool)`;
    }
    if (pure && spec.startsWith("@pulumi/")) {
      return `${from} is pure: no "${spec}" (resources belong to components/docker, kubernetes or nodes)`;
    }
    return undefined;
  }
  const allowed = ALLOWED[from];
  if (allowed && !allowed.some((a) => under(target, a))) {
    return from === "policies"
      ? `policies import only lib/ (the shared pure library), not ${target}: the pack must judge programs fjord did not write`
      : `${from} may import only ${allowed.join(", ")}, not ${target}`;
  }
  if (from.startsWith("target:")) {
    const own = `components/${from.slice("target:".length)}`;
    const other = TARGETS.map((t) => `components/${t}`).find((t) => t !== own && under(target, t));
    if (other && target !== other) {
      return `a target imports another target's public index at most: ${target} is internal to ${other}`;
    }
  }
  if (from === "tests" && !publicIndex(target)) {
    return `tests import components through their public index (components/<module> or components/plan/<domain>), not ${target}`;
  }
  return undefined;
}

const rule = {
  meta: {
    type: "problem",
    docs: { description: "fjord's one-way layers: lib ← config ← plan ← targets; policies ← lib" },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const report = (node, source) => {
      if (!source || source.type !== "Literal" || typeof source.value !== "string") return;
      const message = check(file, source.value);
      if (message) context.report({ node: source, message });
    };
    return {
      ImportDeclaration: (n) => report(n, n.source),
      ExportNamedDeclaration: (n) => report(n, n.source),
      ExportAllDeclaration: (n) => report(n, n.source),
      ImportExpression: (n) => report(n, n.source),
      CallExpression: (n) => {
        if (n.callee.type === "Identifier" && n.callee.name === "require")
          report(n, n.arguments[0]);
      },
    };
  },
};

export default { rules: { layers: rule } };
