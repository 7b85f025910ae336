/**
 * A real S3-compatible server for the backup tests: `rclone serve s3` (rclone v1.76, built from Go
 * modules by testkit/tools/s3.sh and linked as .tools/bin/rclone-s3) over TLS on a free loopback
 * port, with SigV4 authentication required and its buckets as the top-level directories of a
 * private temp dir. Clients (Debian's rclone, pgBackRest) talk to it exactly as to a cloud bucket;
 * tests read what they stored straight from the backing files.
 */
import { createHash, createHmac, randomBytes } from "crypto";
import { mkdirSync, readdirSync, statSync } from "fs";
import * as https from "https";
import * as path from "path";
import { ensureGoTool } from "./go-tools";
import {
  makeTempDir,
  removeDir,
  startProcess,
  tail,
  waitUntilReady,
  withPortRetry,
  type ServerProcess,
} from "./proc";
import { createTestTls } from "./tls";

const ROOT = path.resolve(__dirname, "..");

/** Where the server binary is expected (FJORD_RCLONE_S3 overrides the .tools/bin link). */
export const rcloneS3Path = (): string =>
  process.env.FJORD_RCLONE_S3 ?? path.join(ROOT, ".tools/bin/rclone-s3");

/** Path of the server binary, building it with testkit/tools/s3.sh when it is not there yet. */
export const ensureRcloneS3 = (): string => ensureGoTool("s3.sh", rcloneS3Path(), 45);

export interface S3Options {
  /** @default a random 20-character key */
  accessKeyId?: string;
  /** @default a random 40-character secret */
  secretAccessKey?: string;
  /** Buckets that exist from the start. */
  buckets?: string[];
  /** @default 30000 */
  readyTimeoutMs?: number;
}

export interface S3Object {
  /** Object key: the path below the bucket's directory, with `/` separators. */
  key: string;
  size: number;
  /** The backing file, to read what the server actually stored. */
  path: string;
}

export interface S3Server {
  /** `127.0.0.1:PORT`: what pgBackRest's repo1-s3-endpoint and rclone's endpoint (as https://) take. */
  endpoint: string;
  host: "127.0.0.1";
  port: number;
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** The server accepts any region in the signature; clients still need one to sign with. */
  region: "us-east-1";
  accessKeyId: string;
  secretAccessKey: string;
  /** The test CA that issued the server certificate (for 127.0.0.1 and localhost). */
  caFile: string;
  caPem: string;
  /** Backing directory: one subdirectory per bucket. */
  dataDir: string;
  logPath: string;
  /**
   * Makes an empty bucket through the S3 API (a signed CreateBucket): a directory made behind the
   * server's back stays invisible until its directory cache expires (5 minutes).
   */
  createBucket(name: string): Promise<void>;
  /** Every object in `bucket`, sorted by key, read from the backing directory. */
  objects(bucket: string): S3Object[];
  /**
   * RCLONE_CONFIG_<NAME>_* variables that define an rclone remote `name` of type s3 for this
   * server (Debian's rclone 1.60 and later); pass `--ca-cert caFile` (or RCLONE_CA_CERT) as well.
   */
  rcloneEnv(name?: string): Record<string, string>;
  /** SIGTERM, then SIGKILL; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const randomKey = (bytes: number) => randomBytes(bytes).toString("base64url").slice(0, bytes);

const sha256 = (data: string) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) =>
  createHmac("sha256", key).update(data).digest();

/** An empty-bodied S3 request signed with AWS Signature V4; resolves with status and body. */
function signedRequest(
  port: number,
  ca: string,
  creds: { accessKeyId: string; secretAccessKey: string },
  method: string,
  pathname: string,
): Promise<{ status: number; body: string }> {
  const host = `127.0.0.1:${port}`;
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const payload = sha256("");
  const signed = "host;x-amz-content-sha256;x-amz-date";
  const canonical = [
    method,
    pathname,
    "",
    `host:${host}`,
    `x-amz-content-sha256:${payload}`,
    `x-amz-date:${amzDate}`,
    "",
    signed,
    payload,
  ].join("\n");
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key: Buffer = hmac(`AWS4${creds.secretAccessKey}`, day);
  for (const part of ["us-east-1", "s3", "aws4_request"]) key = hmac(key, part);
  const signature = createHmac("sha256", key).update(toSign).digest("hex");
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path: pathname,
        ca,
        agent: false,
        timeout: 10_000,
        headers: {
          host,
          "x-amz-content-sha256": payload,
          "x-amz-date": amzDate,
          "content-length": "0",
          authorization:
            `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, ` +
            `SignedHeaders=${signed}, Signature=${signature}`,
        },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** TLS probe that counts any HTTP answer (403 without credentials) as up. */
function answers(port: number, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: "127.0.0.1", port, path: "/", ca, agent: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 0) > 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
  });
}

function walk(dir: string, prefix = ""): S3Object[] {
  const out: S3Object[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const key = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(file, key));
    else if (entry.isFile()) out.push({ key, size: statSync(file).size, path: file });
  }
  return out;
}

export async function startS3(opts: S3Options = {}): Promise<S3Server> {
  const bin = ensureRcloneS3();
  const accessKeyId = opts.accessKeyId ?? randomKey(20);
  const secretAccessKey = opts.secretAccessKey ?? randomKey(40);
  const baseDir = makeTempDir("fjord-s3-");
  const dataDir = path.join(baseDir, "data");
  const logPath = path.join(baseDir, "rclone-s3.log");
  mkdirSync(dataDir);
  // "127.0.0.1" as a DNS name too: pgBackRest 2.45 matches its endpoint host against the
  // certificate's DNS names only, never its IP addresses; Go and OpenSSL clients use the IP SAN.
  const { ca, cert } = createTestTls(path.join(baseDir, "tls"), {
    dnsNames: ["localhost", "127.0.0.1"],
  });
  // Buckets are top-level directories; these exist before the server first lists the root.
  for (const b of opts.buckets ?? []) mkdirSync(path.join(dataDir, b));
  let proc: ServerProcess | undefined;
  try {
    const port = await withPortRetry(async (port) => {
      proc = startProcess(
        bin,
        [
          ...["serve", "s3", dataDir, "--addr", `127.0.0.1:${port}`],
          ...["--cert", cert.certFile, "--key", cert.keyFile],
          ...["--auth-key", `${accessKeyId},${secretAccessKey}`],
          // Not --dir-cache-time 0s: v1.76 then spins re-reading directories (a core, and 5 s
          // per PUT). Buckets made later go through the API (createBucket), which updates the cache.
          // No rclone.conf: the remote is the local path on the command line.
          ...["--config", path.join(baseDir, "rclone.conf")],
        ],
        { logPath, cwd: baseDir },
      );
      try {
        await waitUntilReady(
          proc,
          () => answers(port, ca.certPem),
          `rclone serve s3 on 127.0.0.1:${port}`,
          opts.readyTimeoutMs ?? 30_000,
        );
      } catch (err) {
        await proc.stop("SIGKILL");
        throw err;
      }
      return port;
    });
    const endpoint = `127.0.0.1:${port}`;
    return {
      endpoint,
      host: "127.0.0.1",
      port,
      url: `https://${endpoint}`,
      region: "us-east-1",
      accessKeyId,
      secretAccessKey,
      caFile: ca.certFile,
      caPem: ca.certPem,
      dataDir,
      logPath,
      async createBucket(name) {
        const res = await signedRequest(
          port,
          ca.certPem,
          { accessKeyId, secretAccessKey },
          "PUT",
          `/${name}`,
        );
        if (res.status !== 200)
          throw new Error(`CreateBucket ${name}: HTTP ${res.status} ${res.body}\n${tail(logPath)}`);
      },
      objects: (bucket) =>
        walk(path.join(dataDir, bucket)).sort((a, b) => (a.key < b.key ? -1 : 1)),
      rcloneEnv(name = "s3") {
        const p = `RCLONE_CONFIG_${name.toUpperCase()}_`;
        return {
          [`${p}TYPE`]: "s3",
          [`${p}PROVIDER`]: "Other",
          [`${p}ENDPOINT`]: `https://${endpoint}`,
          [`${p}REGION`]: "us-east-1",
          [`${p}FORCE_PATH_STYLE`]: "true",
          [`${p}ACCESS_KEY_ID`]: accessKeyId,
          [`${p}SECRET_ACCESS_KEY`]: secretAccessKey,
        };
      },
      async stop() {
        await proc?.stop("SIGTERM", 10_000);
        removeDir(baseDir);
      },
    };
  } catch (err) {
    await proc?.stop("SIGKILL");
    removeDir(baseDir);
    throw err;
  }
}
