/** What the figures were measured on, and the tools that measured them. */
import { execFileSync } from "child_process";
import { existsSync, readFileSync } from "fs";
import * as os from "os";

function out(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 10_000,
    }).trim();
  } catch (err) {
    // `nginx -v` and `wrk -v` print to stderr, and wrk exits 1 for -v.
    const e = err as { stdout?: string; stderr?: string };
    return `${e.stdout ?? ""}${e.stderr ?? ""}`.trim();
  }
}

const firstLine = (s: string) => s.split("\n")[0]?.trim() ?? "";

export function cpuModel(): string {
  const line = readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((l) => l.startsWith("model name"));
  return line?.split(":")[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
}

/** One line for each section header. */
export function machineLine(): string {
  const mem = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
  return `${os.cpus().length} CPUs (${cpuModel()}), ${mem} GiB RAM, Linux ${os.release()}, load average at start ${load}`;
}

/** Versions of everything the benches run, where installed. */
export function toolVersions(): Record<string, string> {
  const v: Record<string, string> = { node: process.version };
  const add = (name: string, cmd: string, args: string[], pick = firstLine) => {
    const s = pick(out(cmd, args));
    if (s) v[name] = s;
  };
  add("nginx", "nginx", ["-v"], (s) => s.replace(/^nginx version: /, ""));
  add("wrk", "wrk", ["-v"], (s) => firstLine(s).split(" [")[0] ?? s);
  add("postgres", "/usr/lib/postgresql/15/bin/postgres", ["--version"]);
  add("pgbench", "/usr/lib/postgresql/15/bin/pgbench", ["--version"]);
  add("mariadbd", "/usr/sbin/mariadbd", ["--version"]);
  add("sysbench", "sysbench", ["--version"]);
  add("openssl", "openssl", ["version"]);
  add("go", "go", ["version"]);
  const traefik = `${__dirname}/../.tools/bin/traefik`;
  if (existsSync(traefik))
    add("traefik", traefik, ["version"], (s) => /Version:\s*(\S+)/.exec(s)?.[1] ?? "");
  return v;
}

export function machineHeader(): string {
  const debian = existsSync("/etc/debian_version")
    ? readFileSync("/etc/debian_version", "utf8").trim()
    : "?";
  const versions = Object.entries(toolVersions())
    .map(([k, val]) => `${k} ${val}`)
    .join("; ");
  return [
    "## Machine",
    "",
    `- nproc ${os.cpus().length}; memory ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; CPU ${cpuModel()}`,
    `- kernel Linux ${os.release()}; Debian ${debian}`,
    `- tools: ${versions}`,
    "- The machine is shared with other work (see each section's load average); ratios are taken",
    "  from interleaved runs so that drift hits every configuration alike.",
  ].join("\n");
}
