/**
 * The log shipper's PII filter, run for real. Fluent Bit is not packaged for Debian, but its Lua
 * filter is plain Lua: the rendered pii-mask.lua runs here under LuaJIT (what Fluent Bit embeds)
 * and Lua 5.4, on records shaped as Fluent Bit hands them over. The YAML around it is checked
 * structurally in test/unit/plan/observability.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { logTag } from "../../components/docker";
import { LUA_FUNCTIONS, PII_MASK, renderPiiMaskLua } from "../../components/plan/observability";
import { ensurePackages } from "../../testkit/apt";
import { luaString as lua, runLuaFilters, type LuaCase, type LuaResult } from "../../testkit/lua";
import { stackModel } from "../unit/plan/observability-fixtures";

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
    tag: "forwarded.by.someone",
    record: `{ container_name = "/fjord-orders-0", log = "hi" }`,
  },
  {
    call: LUA_FUNCTIONS.dockerLabels,
    tag: logTag("dev-orders-1", "orders", "orders"),
    record: `{ container_name = "/dev-orders-1", log = "hi" }`,
  },
  { call: LUA_FUNCTIONS.dockerLabels, tag: "docker.too.short", record: `{ log = "hi" }` },
];

beforeAll(() => {
  ensurePackages({ "lua5.4": "lua5.4", luajit: "luajit" });
});

const M = PII_MASK;
for (const interpreter of ["luajit", "lua5.4"]) {
  describe(`pii-mask.lua under ${interpreter}`, () => {
    let results: LuaResult[];
    beforeAll(async () => {
      results = await runLuaFilters(
        interpreter,
        renderPiiMaskLua(stackModel("prod").piiFields),
        CASES,
      );
    });

    it("GIVEN a parsed record with configured PII keys in mixed case at several depths WHEN pii-mask.lua filters it THEN those values are masked and the rest kept", () => {
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

    it("GIVEN unparsed lines with PII in key=value, JSON and header forms WHEN pii-mask.lua filters them THEN each value is masked in place", () => {
      expect(results[1].record.log).toBe(`POST /signup email=${M} phone=${M} fnr=${M} status=201`);
      expect(results[2].record.log).toBe(`payload {"msg":"x","Email" : "${M}","n":1}`);
      expect(results[3].record.log).toBe(`upstream said Authorization: ${M}; retry`);
    });

    it("GIVEN a line with keys that only contain a PII key's name WHEN pii-mask.lua filters it THEN only the whole key's value is masked", () => {
      expect(results[4].record.log).toBe(`myemail=kept emailed=kept user email=${M}`);
    });

    it("GIVEN a Kubernetes container log's tag, another tag, and a Docker record with a foreign tag WHEN labelled THEN the first gets namespace, pod and container from the file name, the second is left alone, and the third is labelled from its container name under docker", () => {
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

    it("GIVEN a record with fjord's Docker log tag, and one with neither that tag nor a container name WHEN labelled THEN the first gets the namespace, pod and container it has on Kubernetes, and the second is left alone", () => {
      expect(results[8].record.kubernetes).toEqual({
        namespace_name: "fjord-orders",
        pod_name: "dev-orders-1",
        container_name: "orders",
      });
      expect(results[9].code, "not fjord's tag and no container_name: left alone").toBe(0);
    });
  });
}
