import { spawn, type ChildProcess } from "child_process";
import { existsSync, mkdtempSync, rmSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { afterAll, describe, expect, it } from "vitest";
import { checkDockerDaemon, dockerHost } from "../../../components/docker";

const dir = mkdtempSync(path.join(tmpdir(), "fjord-daemon-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in daemon in another process: the check blocks this one while it waits. */
async function fakeDaemon(socket: string): Promise<ChildProcess> {
  const code = `require("http").createServer((q, r) => r.writeHead(q.url === "/_ping" ? 200 : 404).end("OK")).listen(${JSON.stringify(socket)})`;
  const child = spawn(process.execPath, ["-e", code], { stdio: "ignore" });
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  return child;
}

describe("docker daemon check", () => {
  it("GIVEN fjord:docker.host, DOCKER_HOST, both or neither WHEN the Docker host is resolved THEN fjord:docker.host wins, then DOCKER_HOST, then the default socket", () => {
    expect(dockerHost("tcp://10.0.0.1:2375", { DOCKER_HOST: "unix:///x.sock" })).toBe(
      "tcp://10.0.0.1:2375",
    );
    expect(dockerHost(undefined, { DOCKER_HOST: "unix:///x.sock" })).toBe("unix:///x.sock");
    expect(dockerHost(undefined, {})).toBe("unix:///var/run/docker.sock");
  });

  it("GIVEN a socket where nothing answers WHEN the daemon is checked THEN one line names the host and the error and says to start Docker or set the key", () => {
    const msg = checkDockerDaemon(`unix://${dir}/absent.sock`)!;
    expect(msg).toMatch(
      /^fjord: no Docker daemon at unix:\/\/.*absent\.sock \(ENOENT\): start Docker, or set fjord:docker\.host \/ DOCKER_HOST/,
    );
    expect(msg).not.toContain("\n");
  });

  it("GIVEN a daemon that answers /_ping WHEN it is checked THEN the check passes", async () => {
    const socket = path.join(dir, "docker.sock");
    const child = await fakeDaemon(socket);
    try {
      expect(checkDockerDaemon(`unix://${socket}`)).toBeUndefined();
    } finally {
      child.kill();
    }
  });

  it("GIVEN an ssh:// host it cannot probe WHEN the daemon is checked THEN the check reports nothing, leaving it to the provider", () => {
    expect(checkDockerDaemon("ssh://dev@example")).toBeUndefined();
  });
});
