import { generateKeyPairSync } from "crypto";
import { describe, expect, it } from "vitest";
import { entropy, explain, findSecrets } from "../../../policies/lib/secrets-detect";
import { unknown } from "./harness";

// Keys are generated per run, so no private key is ever committed.
const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({
  type: "pkcs1",
  format: "pem",
}) as string;
const ed = generateKeyPairSync("ed25519").privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;
const openssh = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "-----END OPENSSH PRIVATE KEY-----",
].join("\n");
// AWS's documented example credentials.
const AWS_ID = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN = "q8Zr3Kx0VbN7mW2sYc5tLp9uGh4jDf6aE1";
const HEX = "7c3e9a1f0b5d82c46e0f9a3b71d5c28e";

const kinds = (text: string) => findSecrets(text).map((m) => m.kind);

describe("the secrets detector", () => {
  it.each([
    ["an RSA PEM key", rsa, "a PEM private key (RSA PRIVATE KEY)"],
    ["a PKCS#8 PEM key", ed, "a PEM private key (PRIVATE KEY)"],
    ["an OpenSSH key", openssh, "an OpenSSH private key"],
    ["an AWS access key id", `id=${AWS_ID}`, "an AWS access key id"],
    ["a GitHub token", `ghp_${"a1B2c3D4e5".repeat(3)}x9Y8z7`, "a GitHub token"],
    ["a Google API key", `AIza${"SyD3x-9aB_7c".repeat(3)}`, "a Google API key"],
    ["a Stripe live key", `sk_live_${"4eC39HqLyjWDarjtT1zdp7dc"}`, "a Stripe secret key"],
    [
      "a JWT",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
      "a JSON Web Token",
    ],
  ])("GIVEN %s WHEN scanned THEN it is found and named", (_, text, kind) => {
    expect(kinds(text)[0]).toBe(kind);
  });
  it("GIVEN an AWS key id and an aws_secret_access_key assignment WHEN scanned THEN both are found, the secret key by its assignment", () => {
    const ini = `[default]\naws_access_key_id = ${AWS_ID}\naws_secret_access_key = ${AWS_SECRET}\n`;
    expect(kinds(ini)).toEqual(["an AWS access key id", "an AWS secret access key"]);
  });
  it("GIVEN a base64 and a hex random token WHEN scanned THEN each is found with its entropy", () => {
    expect(kinds(`token: ${TOKEN}`)).toEqual(["a high-entropy token (5.1 bits/char)"]);
    expect(kinds(HEX)).toEqual(["a high-entropy token (hex, 4.0 bits/char)"]);
  });
  it("GIVEN an RSA PEM key WHEN scanned THEN its body is part of the one match, not more tokens", () => {
    expect(kinds(rsa)).toHaveLength(1);
  });
  it("GIVEN a token on line 2 WHEN its match is explained THEN the line is named and the secret is not repeated", () => {
    const [m] = findSecrets(`a: 1\nb: ${TOKEN}\n`);
    expect(explain(m!)).toBe(
      "a high-entropy token (5.1 bits/char) at line 2: 'q8Zr…' (34 characters)",
    );
    expect(explain(m!)).not.toContain(TOKEN);
  });
  it.each([
    [
      "a digest",
      `image@sha256:${"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}`,
    ],
    ["a git commit id", "GIT_COMMIT=4f1b2b0b822cd15d6c15b0f00a089f86d081884c"],
    ["a bare SHA-256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    ["a UUID", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"],
    ["a Pulumi unknown", unknown()],
    ["a path", "/var/lib/rancher/k3s/agent/containerd/io.containerd"],
    ["a metric name", "mysql_global_status_innodb_buffer_pool_read_requests"],
    ["a camelCase identifier", "ThisIsAVeryLongCamelCaseIdentifierName2024"],
    [
      "a long camelCase identifier",
      "AnEvenLongerCamelCaseIdentifierThatKeepsGoingOnAndOn2024Edition",
    ],
    ["a short random string", "Zq8sX1mN4bV7"],
    ["repeated characters", "A1".repeat(30)],
    ["a URL", "https://prometheus.fjord-system.svc.cluster.local:9090/api/v1/write"],
    ["an innocent key name's value", "orders-cache-partition"],
  ])("GIVEN %s WHEN scanned THEN nothing is found", (_, text) => {
    expect(findSecrets(text)).toEqual([]);
  });
  it('GIVEN "aaaa" and "abcd" WHEN their Shannon entropy is measured THEN it is 0 and 2 bits per character', () => {
    expect(entropy("aaaa")).toBe(0);
    expect(entropy("abcd")).toBe(2);
  });
});
