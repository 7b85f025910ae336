import { spawn, type ChildProcess } from "child_process";
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkClusterReachable, clusterEndpoint } from "../../../components/kubernetes";
import { createTestCa, issueTestCert, type TestCert } from "../../../testkit/tls";

const dir = mkdtempSync(path.join(tmpdir(), "fjord-cluster-check-"));
let cert: TestCert;
let otherCa: string;
let server: ChildProcess;
let port = 0;

function kubeconfig(cluster: Record<string, unknown>, context = "test"): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": context,
    contexts: [{ name: "test", context: { cluster: "c", user: "u" } }],
    clusters: [{ name: "c", cluster }],
    users: [{ name: "u", user: { token: "not-checked" } }],
  });
}
const b64 = (s: string) => Buffer.from(s).toString("base64");

beforeAll(async () => {
  cert = issueTestCert(createTestCa(path.join(dir, "ca")), path.join(dir, "srv"));
  otherCa = createTestCa(path.join(dir, "other")).certPem;
  // An API server stand-in in another process: the check blocks this one while it waits. It
  // answers /version only, as a cluster does to anyone.
  const code = `
    const s = require("https").createServer(
      { cert: ${JSON.stringify(readFileSync(cert.certFile, "utf8"))}, key: ${JSON.stringify(cert.keyPem)} },
      (q, r) => r.writeHead(q.url === "/version" ? 200 : 403).end('{"gitVersion":"v1.34.4"}'));
    s.listen(0, "127.0.0.1", () => console.log(s.address().port));`;
  server = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  port = await new Promise<number>((resolve) =>
    server.stdout!.once("data", (d: Buffer) => resolve(Number(String(d).trim()))),
  );
});
afterAll(() => {
  server?.kill();
  rmSync(dir, { recursive: true, force: true });
});

describe("kubeconfig reachability check", () => {
  it("GIVEN a kubeconfig whose API server answers with a certificate its CA, inline or in a file, trusts WHEN checked THEN nothing is reported", () => {
    // GIVEN a kubeconfig with the CA inline WHEN checked THEN nothing is reported
    const kc = kubeconfig({
      server: `https://127.0.0.1:${port}`,
      "certificate-authority-data": b64(cert.caPem),
    });
    expect(checkClusterReachable(kc)).toBeUndefined();
    // ... and a CA file works as well as inline data
    const file = kubeconfig({
      server: `https://127.0.0.1:${port}`,
      "certificate-authority": path.join(dir, "ca", "ca.crt"),
    });
    expect(checkClusterReachable(file)).toBeUndefined();
  });

  it("GIVEN a kubeconfig pointing at a loopback port where nothing listens WHEN checked THEN one line names the key, the context, the server and the fix", () => {
    // GIVEN port 1 on loopback, where nothing listens
    const kc = kubeconfig({
      server: "https://127.0.0.1:1",
      "certificate-authority-data": b64(cert.caPem),
    });
    const msg = checkClusterReachable(kc)!;
    expect(msg).toMatch(
      /^fjord:kubeconfig: the cluster of context "test" at https:\/\/127\.0\.0\.1:1 does not answer \(ECONNREFUSED\): start the cluster/,
    );
    expect(msg).toContain("pulumi config set --secret kubeconfig");
    expect(msg).not.toContain("\n");
  });

  it("GIVEN a server whose certificate the kubeconfig's CA does not sign WHEN checked THEN the message is about the certificate, unless insecure-skip-tls-verify is set", () => {
    // GIVEN the right server but another CA WHEN checked THEN the message is about the certificate
    const kc = kubeconfig({
      server: `https://127.0.0.1:${port}`,
      "certificate-authority-data": b64(otherCa),
    });
    expect(checkClusterReachable(kc)).toMatch(/certificate is not the one the kubeconfig trusts/);
    // ... and insecure-skip-tls-verify, when the user chose it, is honoured
    const insecure = kubeconfig({
      server: `https://127.0.0.1:${port}`,
      "insecure-skip-tls-verify": true,
    });
    expect(checkClusterReachable(insecure)).toBeUndefined();
  });

  it.each([
    ["not YAML", "{ a: [", /fjord:kubeconfig is not a kubeconfig \(YAML/],
    ["empty", "", /fjord:kubeconfig is empty or not a kubeconfig/],
    [
      "no current context",
      kubeconfig({ server: "https://127.0.0.1:1" }, ""),
      /has no current-context: run `kubectl config use-context/,
    ],
    [
      "a context with no cluster",
      kubeconfig({}, "test"),
      /context "test" names no cluster with a server address/,
    ],
    [
      "an unreadable CA file",
      kubeconfig({
        server: "https://127.0.0.1:1",
        "certificate-authority": path.join(dir, "absent.crt"),
      }),
      /names a CA file that cannot be read .*absent\.crt/,
    ],
  ])(
    "GIVEN a bad kubeconfig: %s WHEN its endpoint is read or it is checked THEN both say what is wrong, in the same message",
    (_what, text, expected) => {
      const r = clusterEndpoint(text);
      expect(typeof r).toBe("string");
      expect(r).toMatch(expected);
      expect(checkClusterReachable(text)).toBe(r);
    },
  );

  it("GIVEN a kubeconfig whose current context is not the first WHEN its endpoint is read THEN it is the current context's cluster, with its insecure flag", () => {
    const kc = stringify({
      "current-context": "b",
      contexts: [
        { name: "a", context: { cluster: "ca" } },
        { name: "b", context: { cluster: "cb" } },
      ],
      clusters: [
        { name: "ca", cluster: { server: "https://a.example.no" } },
        {
          name: "cb",
          cluster: { server: "https://b.example.no", "insecure-skip-tls-verify": true },
        },
      ],
    });
    expect(clusterEndpoint(kc)).toEqual({
      context: "b",
      server: "https://b.example.no",
      insecure: true,
    });
  });
});
