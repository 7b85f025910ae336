/**
 * OpenSSH server launcher for node tests: a temp dir with its own host key, authorized_keys and
 * config; `sshd -D` on a loopback port or inside a test network namespace; ready when it greets.
 * `stop()` / `start()` take it down and bring it back on the same address and key (fault tests);
 * `dispose()` stops it and removes the dir.
 */
import { execFileSync } from "child_process";
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { connect } from "net";
import * as path from "path";
import { ensurePackages, findBinary } from "./apt";
import { freePort } from "./ports";
import { makeTempDir, removeDir, startProcess, waitUntilReady, type ServerProcess } from "./proc";

export interface KeyPair {
  privateKey: string;
  /** authorized_keys line. */
  publicKey: string;
  privateKeyPath: string;
}

/** A fresh ed25519 key pair in `dir` (OpenSSH format, no passphrase). */
export function generateKeyPair(dir: string, name = "id_ed25519"): KeyPair {
  ensurePackages({ "ssh-keygen": "openssh-client" });
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fjord-test", "-f", file]);
  return {
    privateKey: readFileSync(file, "utf8"),
    publicKey: readFileSync(`${file}.pub`, "utf8").trim(),
    privateKeyPath: file,
  };
}

export interface SshdOptions {
  /** Public keys allowed to log in (as root). */
  authorizedKeys: string[];
  /** Run inside this network namespace (listening on `address`). @default this namespace */
  netns?: string;
  /** @default "127.0.0.1" */
  address?: string;
  /** @default a free loopback port, or 22 inside a namespace */
  port?: number;
}

export interface Sshd {
  host: string;
  port: number;
  /** The server's public host key ("ssh-ed25519 AAAA..."). */
  hostKey: string;
  dir: string;
  logPath: string;
  running(): boolean;
  /** Stops the server now (connections are refused until start()). */
  stop(): Promise<void>;
  /** Starts it again on the same address, port and host key; waits until it greets. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** Resolves true once something on host:port sends an SSH banner. */
function greets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once("error", () => done(false));
    s.once("data", (d) => done(d.toString().startsWith("SSH-2.0-")));
  });
}

export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  ensurePackages({ sshd: "openssh-server", "ssh-keygen": "openssh-client" });
  const sshd = findBinary("sshd")!;
  const host = opts.address ?? "127.0.0.1";
  const port = opts.port ?? (opts.netns ? 22 : await freePort());
  const dir = makeTempDir("fjord-sshd-");
  // sshd refuses to start without its privilege separation directory.
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-f",
    path.join(dir, "host_ed25519"),
  ]);
  writeFileSync(path.join(dir, "authorized_keys"), `${opts.authorizedKeys.join("\n")}\n`, {
    mode: 0o600,
  });
  const config = path.join(dir, "sshd_config");
  writeFileSync(
    config,
    [
      `ListenAddress ${host}`,
      `HostKey ${path.join(dir, "host_ed25519")}`,
      `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
      `PidFile ${path.join(dir, "sshd.pid")}`,
      "UsePAM no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      // The temp dir is not root-owned 0755 all the way up, which StrictModes would reject.
      "StrictModes no",
      "AcceptEnv FJORD_*",
      "Subsystem sftp internal-sftp",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  const hostKey = readFileSync(path.join(dir, "host_ed25519.pub"), "utf8")
    .trim()
    .split(/\s+/)
    .slice(0, 2)
    .join(" ");
  const logPath = path.join(dir, "sshd.log");
  const argv = [sshd, "-D", "-e", "-f", config, "-p", String(port)];
  let proc: ServerProcess | undefined;

  const start = async () => {
    if (proc?.running()) return;
    const [cmd, args] = opts.netns
      ? ["ip", ["netns", "exec", opts.netns, ...argv]]
      : [argv[0], argv.slice(1)];
    proc = startProcess(cmd, args, { logPath });
    await waitUntilReady(proc, () => greets(host, port), `sshd on ${host}:${port}`);
  };
  await start();
  return {
    host,
    port,
    hostKey,
    dir,
    logPath,
    running: () => proc?.running() ?? false,
    async stop() {
      await proc?.stop("SIGTERM", 5000);
    },
    start,
    async dispose() {
      await proc?.stop("SIGTERM", 5000);
      removeDir(dir);
    },
  };
}
