import { describe, expect, it } from "vitest";
import { memoByText } from "../../../policies/lib/memo";

describe("memoByText", () => {
  it("GIVEN a memoized parser WHEN the same text is parsed twice THEN it is parsed once and the same result returned, while a different text is parsed anew", () => {
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
  it("GIVEN a parser that returns undefined WHEN the same text is parsed twice THEN it is parsed only once", () => {
    let calls = 0;
    const parse = memoByText(() => {
      calls++;
      return undefined;
    });
    parse("not: [yaml");
    parse("not: [yaml");
    expect(calls).toBe(1);
  });
  it("GIVEN a memo of size 2 holding two texts WHEN a third is parsed THEN the oldest is forgotten and parsed again, while the newer one is still remembered", () => {
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
