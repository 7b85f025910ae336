import { describe, expect, it } from "vitest";
import { memoByText } from "../../../policies/lib/memo";

describe("memoByText", () => {
  it("parses each text once and returns the same result for it", () => {
    let calls = 0;
    const parse = memoByText((t: string) => {
      calls++;
      return { words: t.split(" ") };
    });
    const a = parse("ssl_protocols TLSv1.2");
    expect(parse("ssl_protocols TLSv1.2")).toBe(a);
    expect(calls).toBe(1);
    expect(parse("ssl_protocols TLSv1.3")).not.toBe(a);
    expect(calls).toBe(2);
  });
  it("remembers undefined results too", () => {
    let calls = 0;
    const parse = memoByText(() => {
      calls++;
      return undefined;
    });
    parse("not: [yaml");
    parse("not: [yaml");
    expect(calls).toBe(1);
  });
  it("forgets the oldest text beyond its size", () => {
    let calls = 0;
    const parse = memoByText((t: string) => {
      calls++;
      return t.length;
    }, 2);
    parse("a");
    parse("bb");
    parse("ccc");
    expect(calls).toBe(3);
    parse("bb");
    expect(calls).toBe(3);
    parse("a");
    expect(calls).toBe(4);
  });
});
