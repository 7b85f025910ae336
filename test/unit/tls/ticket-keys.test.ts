import { beforeAll, describe, expect, it } from "vitest";
import { setupMocks } from "../../../testkit/mocks";

const rec = await setupMocks();
const { SessionTicketKeys } = await import("../../../components/tls");

const keys: Record<number, { current: string; previous: string }> = {};
const value = (o: { apply<U>(f: (v: string) => U): unknown }) =>
  new Promise<string>((resolve) => o.apply((v) => resolve(v)));

beforeAll(async () => {
  // Three stacks' worth of the same component, one per generation, as three `up`s would see it.
  for (const g of [1, 2, 3]) {
    const k = new SessionTicketKeys(`gen${g}`, { generation: g });
    keys[g] = { current: await value(k.current), previous: await value(k.previous) };
  }
  await rec.settle();
});

describe("SessionTicketKeys", () => {
  it("GIVEN a rotation by one generation THEN the old current key becomes the previous one", () => {
    expect(keys[2]!.previous).toBe(keys[1]!.current);
    expect(keys[3]!.previous).toBe(keys[2]!.current);
  });

  it("GIVEN a rotation THEN the new current key is one not used before", () => {
    expect(new Set([keys[1]!.current, keys[2]!.current, keys[3]!.current]).size).toBe(3);
    expect(keys[2]!.current).not.toBe(keys[1]!.previous);
  });

  it("draws 80 random bytes per slot (nginx's AES-256 ticket key size), secret from birth", () => {
    const slots = rec.ofType("random:index/randomBytes:RandomBytes");
    expect(slots).toHaveLength(6);
    for (const s of slots) expect(s.inputs.length).toBe(80);
    expect(Buffer.from(keys[1]!.current, "base64")).toHaveLength(80);
  });

  it("refuses a generation below 1 with the fjord: key to fix", () => {
    expect(() => new SessionTicketKeys("bad", { generation: 0 })).toThrow(
      /fjord:gateway\.tls\.ticketKeyGeneration/,
    );
  });
});
