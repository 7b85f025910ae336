/**
 * Throwaway PKI for tests: a CA and leaf certificates made with the system `openssl`, so
 * real proxies (nginx, Traefik) can terminate TLS and clients can verify against the CA.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type TestKeyType = "ec" | "rsa";

export interface TestCa {
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface TestCert {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
  /** The issuing CA's PEM, for `ca:` in Node clients. */
  caPem: string;
}

export interface IssueOptions {
  /** File stem inside the directory. @default "server" */
  name?: string;
  /** @default ["localhost"] */
  dnsNames?: string[];
  /** @default ["127.0.0.1"] */
  ipAddresses?: string[];
  /** EC P-256 is fast to generate; RSA exercises the ECDHE-RSA suites. @default "ec" */
  keyType?: TestKeyType;
  /** @default 2 */
  days?: number;
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`);
  }
}

function generateKey(file: string, type: TestKeyType): void {
  const opts =
    type === "ec"
      ? ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
      : ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
  openssl(["genpkey", ...opts, "-out", file]);
}

/** Creates `ca.crt` / `ca.key` in `dir`. */
export function createTestCa(
  dir: string,
  opts: { commonName?: string; keyType?: TestKeyType } = {},
): TestCa {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, "ca.key");
  const certFile = join(dir, "ca.crt");
  generateKey(keyFile, opts.keyType ?? "ec");
  // prettier-ignore
  openssl([
    "req", "-x509", "-new", "-key", keyFile, "-out", certFile, "-days", "2",
    "-subj", `/CN=${opts.commonName ?? "fjord test CA"}`,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { certFile, keyFile, certPem: readFileSync(certFile, "utf8") };
}

/** Issues a server certificate signed by `ca` into `dir` (`<name>.crt` / `<name>.key`). */
export function issueTestCert(ca: TestCa, dir: string, opts: IssueOptions = {}): TestCert {
  mkdirSync(dir, { recursive: true });
  const name = opts.name ?? "server";
  const dnsNames = opts.dnsNames ?? ["localhost"];
  const ips = opts.ipAddresses ?? ["127.0.0.1"];
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  const certFile = join(dir, `${name}.crt`);
  generateKey(keyFile, opts.keyType ?? "ec");
  const san = [...dnsNames.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(",");
  // An ext file rather than -copy_extensions keeps this working on OpenSSL 1.1 as well as 3.x.
  writeFileSync(
    extFile,
    [
      `subjectAltName=${san}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"),
  );
  openssl([
    "req",
    "-new",
    "-key",
    keyFile,
    "-out",
    csrFile,
    "-subj",
    `/CN=${dnsNames[0] ?? ips[0] ?? name}`,
  ]);
  // prettier-ignore
  openssl([
    "x509", "-req", "-in", csrFile, "-CA", ca.certFile, "-CAkey", ca.keyFile,
    "-set_serial", `0x${randomBytes(12).toString("hex")}`,
    "-days", String(opts.days ?? 2), "-sha256", "-extfile", extFile, "-out", certFile,
  ]);
  return {
    certFile,
    keyFile,
    certPem: readFileSync(certFile, "utf8"),
    keyPem: readFileSync(keyFile, "utf8"),
    caPem: ca.certPem,
  };
}

/** CA + one server certificate in `dir` (CA files under `dir/ca`). */
export function createTestTls(
  dir: string,
  opts: IssueOptions = {},
): { ca: TestCa; cert: TestCert } {
  const ca = createTestCa(join(dir, "ca"), { keyType: opts.keyType });
  return { ca, cert: issueTestCert(ca, dir, opts) };
}
