/**
 * The e2e's forward-protocol receiver, fed by hand-encoded messages over loopback, so each mode it
 * claims to decode is shown to decode (Docker itself only sends Message mode).
 */
import { encode, ExtensionCodec } from "@msgpack/msgpack";
import { connect, type Socket } from "net";
import { gzipSync } from "zlib";
import { afterEach, beforeEach, expect, it } from "vitest";
import { startForwardReceiver, type ForwardReceiver } from "../../../testkit/forward";

let rx: ForwardReceiver;
let sock: Socket;
beforeEach(async () => {
  rx = await startForwardReceiver();
  sock = connect(rx.port, "127.0.0.1");
  await new Promise((r) => sock.once("connect", r));
});
afterEach(async () => {
  sock.destroy();
  await rx.close();
});

/** EventTime as Fluent Bit and Docker send it: ext type 0, seconds and nanoseconds. */
const ET = {};
const eventTime = (sec: number, nsec: number) => {
  const codec = new ExtensionCodec();
  const b = Buffer.alloc(8);
  b.writeUInt32BE(sec, 0);
  b.writeUInt32BE(nsec, 4);
  codec.register({ type: 0, encode: (v) => (v === ET ? b : null), decode: () => null });
  return codec;
};

it("GIVEN a Message-mode entry with EventTime split across two writes WHEN the receiver reads it THEN it decodes one record with its tag, time and fields", async () => {
  // GIVEN
  const bytes = encode(["docker.a.b.c", ET, { log: "hi" }], {
    extensionCodec: eventTime(10, 5e8),
  });
  // WHEN
  sock.write(bytes.subarray(0, 5));
  await new Promise((r) => setTimeout(r, 20));
  sock.write(bytes.subarray(5));
  const r = await rx.waitFor((x) => x.record.log === "hi", 2000, "hi");
  // THEN
  expect(r).toEqual({ tag: "docker.a.b.c", time: 10.5, record: { log: "hi" } });
});

it("GIVEN a Forward-mode entry and a gzip PackedForward one with a chunk id WHEN the receiver reads them THEN it acks the chunk and decodes all four records in order", async () => {
  sock.write(
    encode([
      "t1",
      [
        [1, { n: 1 }],
        [2, { n: 2 }],
      ],
    ]),
  );
  const packed = gzipSync(Buffer.concat([encode([3, { n: 3 }]), encode([4, { n: 4 }])]));
  sock.write(encode(["t2", packed, { compressed: "gzip", chunk: "abc" }]));
  const ack = await new Promise<Buffer>((r) => sock.once("data", r));
  expect(ack).toEqual(Buffer.from(encode({ ack: "abc" })));
  await rx.waitFor((x) => x.record.n === 4, 2000, "n=4");
  expect(rx.records.map((r) => [r.tag, r.time, r.record.n])).toEqual([
    ["t1", 1, 1],
    ["t1", 2, 2],
    ["t2", 3, 3],
    ["t2", 4, 4],
  ]);
});

it("GIVEN a message that is not the forward protocol WHEN a record is awaited THEN the wait times out naming what it waited for, and the receiver reports the bad message", async () => {
  sock.write(encode({ not: "forward" }));
  await expect(rx.waitFor(() => false, 200, "never")).rejects.toThrow(
    /no forwarded log line never/,
  );
  await new Promise((r) => setTimeout(r, 50));
  expect(rx.errors).toEqual([expect.stringMatching(/not a forward message/)]);
});
