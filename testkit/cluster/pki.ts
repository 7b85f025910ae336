/**
 * The test cluster's PKI, made fresh for every run with the system `openssl`: one CA, the API
 * server's serving certificate, a client certificate per component (the CN and O are the user and
 * group that RBAC and the Node authorizer see), the service-account signing key, and kubeconfigs.
 */
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { stringify } from "yaml";

export interface Pair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  ca: Pair;
  apiserver: Pair;
  /** Service-account token signing key pair (PEM files). */
  saKey: string;
  saPub: string;
  /** A client certificate for `user` in `groups`. */
  client(name: string, user: string, groups?: string[]): Pair;
  /** A kubeconfig file for a client pair, pointing at `server`. */
  kubeconfig(name: string, pair: Pair, server: string): string;
  /** The same kubeconfig as a string with the certificates inlined (what a stack is handed). */
  inlineKubeconfig(pair: Pair, server: string): string;
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`);
  }
}

const ecKey = (file: string) =>
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);

/** `subject` like /CN=x/O=y; `ext` lines for the extension file. */
function sign(dir: string, ca: Pair, name: string, subject: string, ext: string[]): Pair {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const extFile = path.join(dir, `${name}.ext`);
  const cert = path.join(dir, `${name}.crt`);
  ecKey(key);
  writeFileSync(extFile, ["basicConstraints=critical,CA:FALSE", ...ext, ""].join("\n"));
  openssl(["req", "-new", "-key", key, "-out", csr, "-subj", subject]);
  // prettier-ignore
  openssl([
    "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-days", "2", "-sha256",
    "-set_serial", `0x${randomBytes(12).toString("hex")}`, "-extfile", extFile, "-out", cert,
  ]);
  return { cert, key };
}

const b64 = (file: string) => readFileSync(file).toString("base64");

function kubeconfigObject(pair: Pair, server: string, ca: string, inline: boolean) {
  const cluster = inline
    ? { server, "certificate-authority-data": b64(ca) }
    : { server, "certificate-authority": ca };
  const user = inline
    ? { "client-certificate-data": b64(pair.cert), "client-key-data": b64(pair.key) }
    : { "client-certificate": pair.cert, "client-key": pair.key };
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "fjord-test", cluster }],
    users: [{ name: "fjord-test", user }],
    contexts: [{ name: "fjord-test", context: { cluster: "fjord-test", user: "fjord-test" } }],
    "current-context": "fjord-test",
  };
}

/**
 * Makes the PKI in `dir`. `apiserverIps` and the service IP of `kubernetes.default` go into the
 * serving certificate, so pods (through the Service) and the test (directly) both verify it.
 */
export function createClusterPki(dir: string, apiserverIps: string[]): ClusterPki {
  mkdirSync(dir, { recursive: true });
  const ca: Pair = { cert: path.join(dir, "ca.crt"), key: path.join(dir, "ca.key") };
  ecKey(ca.key);
  // prettier-ignore
  openssl([
    "req", "-x509", "-new", "-key", ca.key, "-out", ca.cert, "-days", "2",
    "-subj", "/CN=fjord-test-cluster-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const dns = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
  ];
  const san = [...dns.map((d) => `DNS:${d}`), ...apiserverIps.map((ip) => `IP:${ip}`)].join(",");
  const apiserver = sign(dir, ca, "apiserver", "/CN=kube-apiserver", [
    `subjectAltName=${san}`,
    "keyUsage=critical,digitalSignature,keyEncipherment",
    "extendedKeyUsage=serverAuth",
  ]);
  const saKey = path.join(dir, "sa.key");
  const saPub = path.join(dir, "sa.pub");
  ecKey(saKey);
  openssl(["pkey", "-in", saKey, "-pubout", "-out", saPub]);
  return {
    dir,
    ca,
    apiserver,
    saKey,
    saPub,
    client(name, user, groups = []) {
      const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join("")}`;
      return sign(dir, ca, name, subject, [
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=clientAuth",
      ]);
    },
    kubeconfig(name, pair, server) {
      const file = path.join(dir, `${name}.kubeconfig`);
      writeFileSync(file, stringify(kubeconfigObject(pair, server, ca.cert, false)), {
        mode: 0o600,
      });
      return file;
    },
    inlineKubeconfig: (pair, server) => stringify(kubeconfigObject(pair, server, ca.cert, true)),
  };
}
