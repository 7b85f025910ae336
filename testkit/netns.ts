/**
 * Private network namespaces for test hosts: each gets a veth pair and a /30 from 10.213.0.0/16,
 * with our side at .1 and the host at .2. Only these addresses, inside namespaces made here, are
 * ever targeted by tests. Always destroyed, also when the test process dies.
 */
import { execFileSync, spawnSync } from "child_process";
import { ensurePackages } from "./apt";

export interface TestNetns {
  /** Namespace name (for `ip netns exec`). */
  name: string;
  /** The host's address inside the namespace. */
  address: string;
  /** Our address on the other end of the veth (what the host sees as the client). */
  peerAddress: string;
  destroy(): void;
}

const live = new Set<string>();
process.once("exit", () => {
  for (const ns of live) spawnSync("ip", ["netns", "del", ns]);
});

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] });

/** Third octets already used on this machine, so parallel runs pick different /30s. */
function usedOctets(): Set<number> {
  const out = execFileSync("ip", ["-o", "-4", "addr", "show"], { encoding: "utf8" });
  return new Set([...out.matchAll(/inet 10\.213\.(\d+)\./g)].map((m) => Number(m[1])));
}

/** Creates a namespace with loopback up and a veth link to this namespace. Needs root. */
export function createNetns(label: string): TestNetns {
  ensurePackages({ ip: "iproute2" });
  const used = usedOctets();
  const start = process.pid % 250;
  let octet = -1;
  for (let i = 0; i < 250; i++) {
    const k = ((start + i) % 250) + 1;
    if (!used.has(k)) {
      octet = k;
      break;
    }
  }
  if (octet < 0) throw new Error("no free 10.213.x.0/30 left for a test namespace");
  const name = `fjord-${label}-${octet}`;
  const outer = `fjv${octet}o`;
  const inner = `fjv${octet}i`;
  const address = `10.213.${octet}.2`;
  const peerAddress = `10.213.${octet}.1`;
  ip("netns", "add", name);
  live.add(name);
  const destroy = () => {
    spawnSync("ip", ["netns", "del", name]);
    spawnSync("ip", ["link", "del", outer]);
    live.delete(name);
  };
  try {
    ip("link", "add", outer, "type", "veth", "peer", "name", inner);
    ip("link", "set", inner, "netns", name);
    ip("addr", "add", `${peerAddress}/30`, "dev", outer);
    ip("link", "set", outer, "up");
    ip("-n", name, "addr", "add", `${address}/30`, "dev", inner);
    ip("-n", name, "link", "set", inner, "up");
    ip("-n", name, "link", "set", "lo", "up");
  } catch (err) {
    destroy();
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(
      `could not set up test namespace ${name}: ${e.stderr?.toString() ?? e.message}`,
    );
  }
  return { name, address, peerAddress, destroy };
}
