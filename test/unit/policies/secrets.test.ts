import { generateKeyPairSync } from "crypto";
import { describe, expect, it } from "vitest";
import { type Fixture, edit, runStack, unknown } from "./harness";
import { T, deployment, dockerContainer, prodStack } from "./fixtures";
import { noSecretLiterals } from "../../../policies/secrets";

const stack = prodStack();
const dep = deployment();
const env = (d: typeof dep) =>
  d.spec.template.spec.containers[0].env as Array<Record<string, unknown>>;
const withEnv = (name: string, value: unknown): Fixture[] =>
  stack.map((r) =>
    r.name === "orders-deployment"
      ? { ...r, props: edit(dep, (d) => env(d).push({ name, value })) }
      : r,
  );
const withData = (data: Record<string, unknown>): Fixture[] => [
  ...stack,
  {
    type: T.configMap,
    name: "app",
    props: { metadata: { name: "app", namespace: "fjord-orders" }, data },
  },
];
const pem = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({
  type: "sec1",
  format: "pem",
}) as string;
const TOKEN = "q8Zr3Kx0VbN7mW2sYc5tLp9uGh4jDf6aE1";

describe("no-secret-literals by value", () => {
  it("GIVEN fjord's fixture stack WHEN no-secret-literals judges it THEN nothing is found", async () => {
    expect((await runStack(noSecretLiterals, stack)).violations).toEqual([]);
  });
  it("GIVEN a PEM private key in an innocently named env var WHEN judged THEN it is flagged, explaining the match", async () => {
    expect((await runStack(noSecretLiterals, withEnv("TLS_MATERIAL", pem))).mandatory).toEqual([
      "Deployment fjord-orders/orders container 'orders' env TLS_MATERIAL holds a PEM private key (EC PRIVATE KEY): '-----BEGIN EC PRIVATE KEY-----' in plain text in the pod spec; move it to a Secret and read it with valueFrom.secretKeyRef.",
    ]);
  });
  it("GIVEN an AWS access key id inside a ConfigMap entry with an arbitrary key WHEN judged THEN it is flagged with its line", async () => {
    const r = await runStack(
      noSecretLiterals,
      withData({ "app.ini": "[s3]\nbucket = orders\naccess = AKIAIOSFODNN7EXAMPLE\n" }),
    );
    expect(r.mandatory).toEqual([
      "ConfigMap fjord-orders/app data 'app.ini' holds an AWS access key id at line 3: 'AKIA…' (20 characters); move it to a Secret and reference it from there.",
    ]);
  });
  it("GIVEN a high-entropy token in a Docker env WHEN it is a literal THEN it is flagged, and WHEN it depends on a generated random resource THEN it passes", async () => {
    const literal: Fixture = {
      type: T.docker,
      name: "orders",
      props: dockerContainer({ envs: [`UPSTREAM_AUTH=${TOKEN}`] }),
    };
    expect((await runStack(noSecretLiterals, [literal])).mandatory).toEqual([
      "Docker container 'fjord-dev-orders-1' sets UPSTREAM_AUTH to a literal that holds a high-entropy token (5.1 bits/char): 'q8Zr…' (34 characters) in its environment; generate it (e.g. a RandomPassword) or read it from a secret store instead of writing it in the program.",
    ]);
    const random: Fixture = { type: T.random, name: "auth", props: { length: 34, result: TOKEN } };
    const derived = { ...literal, propertyDependencies: { envs: ["auth"] } };
    expect((await runStack(noSecretLiterals, [random, derived])).violations).toEqual([]);
  });
  it("GIVEN innocent values named CACHE_KEY (env) and SORT_KEY (ConfigMap) WHEN judged THEN neither is flagged", async () => {
    expect(
      (await runStack(noSecretLiterals, withEnv("CACHE_KEY", "orders-by-id"))).violations,
    ).toEqual([]);
    expect(
      (await runStack(noSecretLiterals, withData({ SORT_KEY: "created_at" }))).violations,
    ).toEqual([]);
  });
  it("GIVEN a high-entropy token under PARTNER_KEY WHEN judged THEN it is flagged by its value", async () => {
    const r = await runStack(noSecretLiterals, withEnv("PARTNER_KEY", TOKEN));
    expect(r.mandatory).toHaveLength(1);
    expect(r.mandatory[0]).toContain("env PARTNER_KEY holds a high-entropy token");
  });
  it("GIVEN API_KEY or SIGNING_KEY set to a short literal WHEN judged THEN each is flagged by its name", async () => {
    for (const name of ["API_KEY", "SIGNING_KEY"])
      expect((await runStack(noSecretLiterals, withEnv(name, "short"))).mandatory).toEqual([
        `Deployment fjord-orders/orders container 'orders' sets ${name} to a literal value in plain text in the pod spec; use valueFrom.secretKeyRef to read it from a Secret.`,
      ]);
  });
  it("GIVEN a computed value in an innocently named env var or ConfigMap entry WHEN judged THEN it is not flagged, left to the resource it comes from", async () => {
    expect((await runStack(noSecretLiterals, withEnv("UPSTREAM", unknown()))).violations).toEqual(
      [],
    );
    expect(
      (await runStack(noSecretLiterals, withData({ "app.ini": unknown() }))).violations,
    ).toEqual([]);
  });
  it("GIVEN detectValues false WHEN a PEM private key sits in an innocently named env var THEN it is not flagged, since only names are checked", async () => {
    const r = await runStack(noSecretLiterals, withEnv("TLS_MATERIAL", pem), {
      config: { detectValues: false },
    });
    expect(r.violations).toEqual([]);
  });
});
