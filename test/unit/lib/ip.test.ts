/** lib/ip answers exactly as Node's net.isIP, which the pure layers may not import. */
import * as fc from "fast-check";
import { isIP } from "net";
import { describe, expect, it } from "vitest";
import { ipVersion } from "../../../lib/ip";

describe("ipVersion", () => {
  it("agrees with net.isIP on every IPv4 and IPv6 literal", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (ip) => {
        expect(ipVersion(ip)).toBe(isIP(ip));
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with net.isIP on arbitrary strings (host names, garbage, near-misses)", () => {
    const near = fc.oneof(
      fc.string(),
      fc.domain(),
      fc.ipV4().map((ip) => `${ip}.1`),
      fc.ipV6().map((ip) => `${ip}:`),
      fc.ipV6().map((ip) => `[${ip}]`),
      fc.ipV6().map((ip) => `${ip}%eth0`),
      fc.stringMatching(/^[0-9a-f:.%]{0,20}$/),
    );
    fc.assert(
      fc.property(near, (s) => {
        expect(ipVersion(s)).toBe(isIP(s));
      }),
      { numRuns: 5000 },
    );
  });

  it.each([
    ["10.0.0.1", 4],
    ["::1", 6],
    ["fe80::1%eth0", 6],
    ["::ffff:10.0.0.1", 6],
    ["node-1.example", 0],
    ["256.1.1.1", 0],
    ["01.2.3.4", 0],
  ] as const)("%s → %i", (s, v) => expect(ipVersion(s)).toBe(v));
});
