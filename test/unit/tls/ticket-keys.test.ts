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
  it("GIVEN ticket keys at generations 1, 2 and 3 WHEN rotated by one generation THEN the old current key becomes the previous one", () => {
    expect(keys[2]!.previous).toBe(keys[1]!.current);
    expect(keys[3]!.previous).toBe(keys[2]!.current);
  });

  it("GIVEN ticket keys at generations 1, 2 and 3 WHEN rotated THEN the new current key is one not used before", () => {
    expect(new Set([keys[1]!.current, keys[2]!.current, keys[3]!.current]).size).toBe(3);
    expect(keys[2]!.current).not.toBe(keys[1]!.previous);
  });

  it("GIVEN three generations of ticket keys WHEN built THEN each of the 6 slots draws 80 random bytes (nginx's AES-256 ticket key size)", () => {
    const slots = rec.ofType("random:index/randomBytes:RandomBytes");
    expect(slots).toHaveLength(6);
    for (const s of slots) expect(s.inputs.length).toBe(80);
    expect(Buffer.from(keys[1]!.current, "base64")).toHaveLength(80);
  });

  it("GIVEN generation 0 WHEN the keys are built THEN it is refused naming fjord:gateway.tls.ticketKeyGeneration", () => {
    expect(() => new SessionTicketKeys("bad", { generation: 0 })).toThrow(
      /fjord:gateway\.tls\.ticketKeyGeneration/,
    );
  });
});
