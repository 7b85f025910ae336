/**
 * Runs Fluent Bit Lua filter functions outside Fluent Bit: each case calls one function with a tag
 * and a record, as Fluent Bit's `lua` filter does, and gets back `{ code, record }`. The rendered
 * script is loaded as is, so what runs is exactly what the shipper would run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { findBinary } from "./apt";
import { run } from "./proc";

/** Calls each filter on each case and prints `{code, record}` as JSON, one line per case. */
const HARNESS = `
local script, cases = ...
dofile(script)
local function encode(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\\\]', function(c) return string.format("\\\\u%04x", c:byte()) end) .. '"'
  elseif t == "number" or t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    if #v > 0 then
      local out = {}
      for _, x in ipairs(v) do out[#out + 1] = encode(x) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do out[#out + 1] = encode(k) .. ":" .. encode(v[k]) end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return "null"
end
for _, c in ipairs(dofile(cases)) do
  local code, _, record = _G[c.call](c.tag, 0, c.record)
  print(encode({ code = code, record = record }))
end
`;

export interface LuaCase {
  call: string;
  tag: string;
  /** A Lua table constructor (see luaValue). */
  record: string;
}

export interface LuaResult {
  code: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- whatever the filter returned
  record: any;
}

/** A Lua string literal (JSON string escapes are valid Lua escapes for what records hold). */
export const luaString = (s: string): string => JSON.stringify(s);

/** A JSON-like value as a Lua constructor: arrays become sequences, objects keyed tables. */
export function luaValue(v: unknown): string {
  if (typeof v === "string") return luaString(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `{ ${v.map(luaValue).join(", ")} }`;
  if (v && typeof v === "object") {
    const fields = Object.entries(v).map(([k, x]) => `[${luaString(k)}] = ${luaValue(x)}`);
    return `{ ${fields.join(", ")} }`;
  }
  return "nil";
}

/** Runs `cases` against `script` (Lua source) under `interpreter` (luajit or lua5.4). */
export async function runLuaFilters(
  interpreter: string,
  script: string,
  cases: LuaCase[],
): Promise<LuaResult[]> {
  const bin = findBinary(interpreter);
  if (!bin) throw new Error(`${interpreter} is not installed; apt-get install -y ${interpreter}`);
  const dir = mkdtempSync(path.join(tmpdir(), "fjord-lua-"));
  try {
    const files = {
      script: path.join(dir, "filter.lua"),
      cases: path.join(dir, "cases.lua"),
      harness: path.join(dir, "harness.lua"),
    };
    writeFileSync(files.script, script);
    const body = cases.map(
      (c) => `  { call = ${luaString(c.call)}, tag = ${luaString(c.tag)}, record = ${c.record} },`,
    );
    writeFileSync(files.cases, `return {\n${body.join("\n")}\n}\n`);
    writeFileSync(files.harness, HARNESS);
    const out = await run(bin, [files.harness, files.script, files.cases]);
    const results = out
      .trim()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as LuaResult);
    if (results.length !== cases.length) {
      throw new Error(
        `${interpreter}: ${results.length} results for ${cases.length} cases:\n${out}`,
      );
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
