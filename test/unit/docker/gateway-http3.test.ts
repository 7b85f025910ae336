/**
 * The Docker gateway publishes UDP for HTTP/3 exactly when the resolved fjord:gateway.http3 says
 * the gateway serves it, on the same host port as HTTPS, and its rendered entry point listens.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { setupMocks } from "../../../testkit/mocks";
import { containerNamed, uploads } from "./containers";
import { devSpec } from "./spec";

const rec = await setupMocks({
  stack: "dev",
  outputs: {
    "docker:index/remoteImage:RemoteImage": (r) => ({ imageId: `sha256:${r.inputs.name}` }),
  },
});
const { Platform } = await import("../../../components/docker");

const gateway = (extra: Record<string, unknown>) => ({
  gateway: { replicas: 1, domains: ["localhost"], ...extra },
});
// One stack per case, so each gateway container has its own Docker name.
const CASES = {
  "traefik-default": gateway({ kind: "traefik" }),
  "traefik-off": gateway({ kind: "traefik", http3: false }),
  "nginx-default": gateway({ kind: "nginx" }),
};

beforeAll(async () => {
  for (const [stack, overrides] of Object.entries(CASES))
    new Platform(stack, { spec: devSpec(overrides, stack) });
  await rec.settle();
  // Three whole Platforms: slower than one under a loaded machine's 10 s default.
}, 120_000);

const ports = (stack: string) =>
  containerNamed(rec, `${stack}-gateway`).inputs.ports as Array<Record<string, unknown>>;
const staticConfig = (stack: string) =>
  String(
    uploads(containerNamed(rec, `${stack}-gateway`), true).find((u) =>
      u.file.endsWith("/traefik.yml"),
    )!.content,
  );

describe("Docker gateway and HTTP/3", () => {
  it("GIVEN Traefik with the default WHEN the dev Platform is built THEN UDP is published on the HTTPS host port and websecure listens on it", () => {
    expect(ports("traefik-default")).toEqual([
      { internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "udp" },
    ]);
    expect(staticConfig("traefik-default")).toMatch(/http3:\s*\n\s+advertisedPort: 8443/);
  });

  it("GIVEN Traefik with http3 false WHEN the dev Platform is built THEN no UDP port and no http3 entry point", () => {
    expect(ports("traefik-off").map((p) => p.protocol)).toEqual(["tcp", "tcp"]);
    expect(staticConfig("traefik-off")).not.toMatch(/http3/);
  });

  it("GIVEN nginx with the default WHEN the dev Platform is built THEN the gateway publishes no UDP port", () => {
    expect(ports("nginx-default").map((p) => p.protocol)).toEqual(["tcp", "tcp"]);
  });
});
