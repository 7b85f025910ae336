/**
 * A receiver for the Fluentd forward protocol on 127.0.0.1: what Docker's fluentd log driver
 * speaks, and what Fluent Bit's `forward` input accepts. The e2e points a stack's
 * `docker.logForward` at it to see the lines a real daemon ships, exactly as it ships them.
 * Decodes Message, Forward and PackedForward (plain or gzip) modes, EventTime, and answers acks.
 */
import { decodeMulti, decodeMultiStream, encode, ExtensionCodec } from "@msgpack/msgpack";
import { createServer, type Server, type Socket } from "net";
import { gunzipSync } from "zlib";

export interface ForwardRecord {
  tag: string;
  /** Seconds since the epoch, with sub-second precision when the sender used EventTime. */
  time: number;
  record: Record<string, unknown>;
}

export interface ForwardReceiver {
  port: number;
  records: ForwardRecord[];
  /** Resolves with the first record matching `pred`, or rejects after `timeoutMs`. */
  waitFor(
    pred: (r: ForwardRecord) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<ForwardRecord>;
  /** Decode errors, per connection: a sender speaking something else shows up here. */
  errors: string[];
  close(): Promise<void>;
}

/** EventTime (ext type 0): uint32 seconds and uint32 nanoseconds, big-endian. */
const codec = new ExtensionCodec();
codec.register({
  type: 0,
  encode: () => null,
  decode: (d: Uint8Array) => {
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    return v.getUint32(0) + v.getUint32(4) / 1e9;
  },
});

type Entry = [number, Record<string, unknown>];

function entries(tag: string, payload: unknown, option: Record<string, unknown> | undefined) {
  if (Array.isArray(payload))
    return (payload as Entry[]).map(([time, record]) => ({ tag, time, record }));
  // PackedForward: a msgpack stream of [time, record] pairs, as a bin (or a legacy str).
  let bytes =
    typeof payload === "string" ? Buffer.from(payload, "binary") : (payload as Uint8Array);
  if (option?.compressed === "gzip") bytes = gunzipSync(bytes);
  return [...decodeMulti(bytes, { extensionCodec: codec })].map((e) => {
    const [time, record] = e as Entry;
    return { tag, time, record };
  });
}

async function serve(sock: Socket, rx: ForwardReceiver, notify: () => void): Promise<void> {
  try {
    for await (const msg of decodeMultiStream(sock, { extensionCodec: codec })) {
      if (!Array.isArray(msg) || typeof msg[0] !== "string")
        throw new Error("not a forward message");
      const [tag, second, third, fourth] = msg as [string, unknown, unknown, unknown];
      let option: Record<string, unknown> | undefined;
      if (typeof second === "number") {
        rx.records.push({ tag, time: second, record: third as Record<string, unknown> });
        option = fourth as Record<string, unknown> | undefined;
      } else {
        option = third as Record<string, unknown> | undefined;
        rx.records.push(...entries(tag, second, option));
      }
      if (option && typeof option.chunk === "string") sock.write(encode({ ack: option.chunk }));
      notify();
    }
  } catch (e) {
    rx.errors.push(String(e));
  }
}

export async function startForwardReceiver(): Promise<ForwardReceiver> {
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => sock.destroy());
    void serve(sock, rx, notify);
  });
  const rx: ForwardReceiver = {
    port: 0,
    records: [],
    errors: [],
    waitFor(pred, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = rx.records.find(pred);
          if (!hit) return;
          done();
          resolve(hit);
        };
        const timer = setTimeout(() => {
          done();
          const tags = [...new Set(rx.records.map((r) => r.tag))].sort();
          reject(
            new Error(
              `no forwarded log line ${what} within ${timeoutMs} ms; tags seen: ${tags.join(", ")}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  rx.port = typeof addr === "object" && addr ? addr.port : 0;
  return rx;
}
