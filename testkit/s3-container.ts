/**
 * The test S3 server (rclone serve s3, testkit/tools/s3.sh) as a container on a Docker network
 * the test creates, for stacks whose backup runners live on that daemon: containers cannot reach
 * the host's loopback. The static binary and a certificate for `s3.fjord.test` are bind-mounted
 * into an image the daemon already has; the bucket's files stay in a host directory, so a test
 * reads exactly what the server stored.
 */
import { randomBytes } from "crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import type { DockerDaemon } from "./dockerd";
import { makeTempDir, removeDir } from "./proc";
import { ensureRcloneS3 } from "./s3";
import { createTestCa, issueTestCert } from "./tls";

export const S3_HOST = "s3.fjord.test";
export const S3_PORT = 9000;

export interface S3Container {
  network: string;
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  caPem: string;
  /** Every stored object: its key below the bucket and its bytes. */
  objects(): Array<{ key: string; bytes: Buffer }>;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export async function startS3Container(
  d: DockerDaemon,
  opts: { name: string; image: string; bucket?: string },
): Promise<S3Container> {
  const bin = ensureRcloneS3();
  const dir = makeTempDir("fjord-s3c-");
  const certs = path.join(dir, "certs");
  const data = path.join(dir, "data");
  const bucket = opts.bucket ?? "fjord-backups";
  mkdirSync(certs);
  mkdirSync(path.join(data, bucket), { recursive: true });
  chmodSync(dir, 0o755);
  const ca = createTestCa(certs);
  // pgBackRest matches only DNS names, so the certificate names the host the stack dials.
  const cert = issueTestCert(ca, certs, { name: "s3", dnsNames: [S3_HOST], ipAddresses: [] });
  const accessKeyId = randomBytes(10).toString("hex");
  const secretAccessKey = randomBytes(20).toString("hex");
  const network = `${opts.name}-s3net`;
  const container = `${opts.name}-s3`;
  await d.docker(["network", "create", "--driver", "bridge", network]);
  await d.docker([
    "run",
    "-d",
    "--name",
    container,
    "--network",
    network,
    "--network-alias",
    S3_HOST,
    "--user",
    "0",
    "-v",
    `${bin}:/usr/local/bin/rclone-s3:ro`,
    "-v",
    `${certs}:/certs:ro`,
    "-v",
    `${data}:/data`,
    "--entrypoint",
    "/usr/local/bin/rclone-s3",
    opts.image,
    "serve",
    "s3",
    "/data",
    "--addr",
    `:${S3_PORT}`,
    "--cert",
    `/certs/${path.basename(cert.certFile)}`,
    "--key",
    `/certs/${path.basename(cert.keyFile)}`,
    "--auth-key",
    `${accessKeyId},${secretAccessKey}`,
    "--config",
    "/nonexistent.conf",
  ]);
  const walk = (p: string, key: string): Array<{ key: string; bytes: Buffer }> =>
    statSync(p).isDirectory()
      ? readdirSync(p).flatMap((f) => walk(path.join(p, f), key ? `${key}/${f}` : f))
      : [{ key, bytes: readFileSync(p) }];
  return {
    network,
    endpoint: `${S3_HOST}:${S3_PORT}`,
    bucket,
    accessKeyId,
    secretAccessKey,
    caPem: ca.certPem,
    objects: () => walk(path.join(data, bucket), ""),
    logs: async () => (await d.tryDocker(["logs", container])).stderr,
    async stop() {
      await d.tryDocker(["rm", "-f", container]);
      await d.tryDocker(["network", "rm", network]);
      removeDir(dir);
    },
  };
}
