/**
 * One HTTP/3 request with testkit/tools/h3check (quic-go; Node 20 and bookworm's curl have no
 * HTTP/3 client), built once per run from the Go module cache the Traefik build fills.
 */
import { execFile } from "child_process";
import { writeFileSync } from "fs";
import * as path from "path";
import * as tls from "tls";
import { promisify } from "util";
import { buildGoProgram } from "./go-build";
import { makeTempDir } from "./proc";

const exec = promisify(execFile);
const SRC = path.resolve(__dirname, "tools/h3check");

let bin: Promise<string> | undefined;
/** The h3check binary; Go's build cache makes a repeat build fast. */
export function h3checkBinary(): Promise<string> {
  bin ??= (async () => {
    const out = path.join(makeTempDir("fjord-h3check-"), "h3check");
    await buildGoProgram(SRC, out);
    return out;
  })();
  return bin;
}

export interface H3Reply {
  proto: string;
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/**
 * GET `url` over QUIC, dialling UDP `connect` (host:port) with the URL's host as SNI and
 * :authority, and verifying the server against `caPem`.
 */
export async function h3Get(url: string, connect: string, caPem: string): Promise<H3Reply> {
  const caFile = path.join(makeTempDir("fjord-h3-ca-"), "ca.crt");
  writeFileSync(caFile, caPem);
  const { stdout } = await exec(
    await h3checkBinary(),
    [`-url=${url}`, `-connect=${connect}`, `-ca=${caFile}`],
    { timeout: 20_000 },
  );
  return JSON.parse(stdout) as H3Reply;
}

/** The certificate a TLS server presents for `servername`, as PEM (to trust a self-signed one). */
export function servedCertificate(host: string, port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, servername, rejectUnauthorized: false }, () => {
      const raw = s.getPeerCertificate().raw;
      s.end();
      const b64 = raw.toString("base64").replace(/.{64}/g, "$&\n");
      resolve(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
    });
    s.setTimeout(10_000, () => s.destroy(new Error(`TLS to ${host}:${port} timed out`)));
    s.on("error", reject);
  });
}
