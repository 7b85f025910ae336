/**
 * The log shipper's PII filter, run for real. Fluent Bit is not packaged for Debian, but its Lua
 * filter is plain Lua: the rendered pii-mask.lua runs here under LuaJIT (what Fluent Bit embeds)
 * and Lua 5.4, on records shaped as Fluent Bit hands them over. The YAML around it is checked
 * structurally in test/unit/plan/observability.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LUA_FUNCTIONS, PII_MASK, renderPiiMaskLua } from "../../components/plan/observability";
import { ensurePackages, findBinary } from "../support/apt";
import { run } from "../support/proc";
import { stackModel } from "../unit/plan/observability-fixtures";

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

interface LuaCase {
  call: string;
  tag: string;
  /** A Lua table constructor. */
  record: string;
}

const lua = (s: string) => JSON.stringify(s);
const ID = "0123456789abcdef".repeat(4);
const CASES: LuaCase[] = [
  {
    call: LUA_FUNCTIONS.maskPii,
    tag: "kube.x",
    record: `{ level = "info", msg = "signup", email = "kari@example.no", Authorization = "Bearer abc",
      user = { Phone = "+4712345678", id = 7 }, items = { { ssn = "01020312345" }, { sku = "A1" } } }`,
  },
  {
    call: LUA_FUNCTIONS.maskPii,
    tag: "kube.x",
    record: `{ log = ${lua("POST /signup email=kari@example.no phone=+4712345678 fnr=01020312345 status=201")} }`,
  },
  {
    call: LUA_FUNCTIONS.maskPii,
    tag: "kube.x",
    record: `{ log = ${lua('payload {"msg":"x","Email" : "kari@example.no","n":1}')} }`,
  },
  {
    call: LUA_FUNCTIONS.maskPii,
    tag: "kube.x",
    record: `{ log = ${lua("upstream said Authorization: Bearer abc.def; retry")} }`,
  },
  {
    call: LUA_FUNCTIONS.maskPii,
    tag: "kube.x",
    record: `{ log = ${lua("myemail=kept emailed=kept user email=gone")} }`,
  },
  {
    call: LUA_FUNCTIONS.kubernetesLabels,
    tag: `kube.var.log.containers.orders-5d8b9-x2k4_fjord-orders_orders-${ID}.log`,
    record: `{ log = "hello" }`,
  },
  { call: LUA_FUNCTIONS.kubernetesLabels, tag: "kube.something.else", record: `{ log = "hello" }` },
  {
    call: LUA_FUNCTIONS.dockerLabels,
    tag: "docker",
    record: `{ container_name = "/fjord-orders-0", log = "hi" }`,
  },
];

let dir: string;
let script: string;
let casesFile: string;
let harness: string;
beforeAll(() => {
  ensurePackages({ "lua5.4": "lua5.4", luajit: "luajit" });
  dir = mkdtempSync(path.join(tmpdir(), "fjord-lua-"));
  script = path.join(dir, "pii-mask.lua");
  writeFileSync(script, renderPiiMaskLua(stackModel("prod").piiFields));
  casesFile = path.join(dir, "cases.lua");
  writeFileSync(
    casesFile,
    `return {\n${CASES.map((c) => `  { call = ${lua(c.call)}, tag = ${lua(c.tag)}, record = ${c.record} },`).join("\n")}\n}\n`,
  );
  harness = path.join(dir, "harness.lua");
  writeFileSync(harness, HARNESS);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M = PII_MASK;
for (const interpreter of ["luajit", "lua5.4"]) {
  describe(`pii-mask.lua under ${interpreter}`, () => {
    let results: Array<{ code: number; record: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
    beforeAll(async () => {
      const out = await run(findBinary(interpreter)!, [harness, script, casesFile]);
      results = out
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(results).toHaveLength(CASES.length);
    });

    it("masks configured keys at any depth, whatever their case, and keeps the rest", () => {
      expect(results[0]).toEqual({
        code: 2,
        record: {
          level: "info",
          msg: "signup",
          email: M,
          Authorization: M,
          user: { Phone: M, id: 7 },
          items: [{ ssn: M }, { sku: "A1" }],
        },
      });
    });

    it("masks key=value, JSON and header forms inside unparsed lines", () => {
      expect(results[1].record.log).toBe(`POST /signup email=${M} phone=${M} fnr=${M} status=201`);
      expect(results[2].record.log).toBe(`payload {"msg":"x","Email" : "${M}","n":1}`);
      expect(results[3].record.log).toBe(`upstream said Authorization: ${M}; retry`);
    });

    it("matches whole keys only", () => {
      expect(results[4].record.log).toBe(`myemail=kept emailed=kept user email=${M}`);
    });

    it("labels records with namespace, pod and container from the log file name", () => {
      expect(results[5]).toEqual({
        code: 2,
        record: {
          log: "hello",
          kubernetes: {
            namespace_name: "fjord-orders",
            pod_name: "orders-5d8b9-x2k4",
            container_name: "orders",
          },
        },
      });
      expect(results[6].code).toBe(0);
      expect(results[7].record.kubernetes).toEqual({
        namespace_name: "docker",
        pod_name: "fjord-orders-0",
        container_name: "fjord-orders-0",
      });
    });
  });
}
