/**
 * A cheap, synchronous "is there a Docker daemon?" check, so `pulumi up` against a stopped Docker
 * fails with one line that says what to do instead of a provider stack trace per resource.
 */
import { spawnSync } from "child_process";

const DEFAULT_HOST = "unix:///var/run/docker.sock";

/** The host the provider will use: `fjord:docker.host`, else DOCKER_HOST, else the default socket. */
export function dockerHost(
  configured: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return configured ?? env.DOCKER_HOST ?? DEFAULT_HOST;
}

// Runs in a child process so the check can stay synchronous (the program builds resources
// synchronously) and still time out.
const PING = `
const http = require("http"), net = require("net");
const [kind, target] = [process.argv[1], process.argv[2]];
const done = (ok, why) => { process.stdout.write(ok ? "ok" : String(why)); process.exit(ok ? 0 : 1); };
setTimeout(() => done(false, "no answer within 3s"), 3000).unref();
if (kind === "unix") {
  http.get({ socketPath: target, path: "/_ping" }, (r) => done(r.statusCode === 200, "HTTP " + r.statusCode))
    .on("error", (e) => done(false, e.code || e.message));
} else {
  const [h, p] = target.split(":");
  net.connect({ host: h, port: Number(p) || 2375 }, () => done(true)).on("error", (e) => done(false, e.code || e.message));
}`;

/**
 * Undefined when a daemon answers at `host`, else a one-line message naming the host, what went
 * wrong and what to do. ssh:// and other schemes are left to the provider.
 */
export function checkDockerDaemon(host: string): string | undefined {
  let kind: string;
  let target: string;
  if (host.startsWith("unix://")) [kind, target] = ["unix", host.slice("unix://".length)];
  else if (host.startsWith("tcp://"))
    [kind, target] = ["tcp", host.slice("tcp://".length).replace(/\/.*$/, "")];
  else return undefined;
  const r = spawnSync(process.execPath, ["-e", PING, kind, target], {
    encoding: "utf8",
    timeout: 10_000,
  });
  if (r.status === 0) return undefined;
  const why = (r.stdout || r.error?.message || "no answer").trim();
  return `fjord: no Docker daemon at ${host} (${why}): start Docker, or set fjord:docker.host / DOCKER_HOST to a running daemon`;
}
