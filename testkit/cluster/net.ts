/**
 * The test cluster's network, made by the test and removed after it: a bridge in this namespace
 * (the "hub", where the API server listens) and one network namespace per node, each joined to the
 * hub by a veth pair. Pod subnets are routed between the nodes over the hub, with no overlay and no
 * masquerading, so a NetworkPolicy sees every pod's real address. Every address used is in the
 * ranges below, on interfaces made here; nothing else is ever a target.
 */
import { execFileSync, spawnSync } from "child_process";
import { writeFileSync } from "fs";

/** One cluster at a time per machine (the harness takes a lock), so the plan can be fixed. */
export const NET = {
  bridge: "fjk0",
  hubCidr: "10.214.0.0/24",
  hubIp: "10.214.0.1",
  clusterCidr: "10.215.0.0/16",
  serviceCidr: "10.216.0.0/16",
  /** The `kubernetes` Service's ClusterIP (first of serviceCidr); in the API server's certificate. */
  apiServiceIp: "10.216.0.1",
  dnsIp: "10.216.0.10",
  nodeIp: (i: number) => `10.214.0.${11 + i}`,
  podCidr: (i: number) => `10.215.${i + 1}.0/24`,
  netns: (i: number) => `fjk-node${i + 1}`,
  nodeName: (i: number) => `node${i + 1}`,
} as const;

const ip = (...args: string[]) =>
  execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"] }).toString();

function tryIp(...args: string[]): void {
  spawnSync("ip", args, { stdio: "ignore" });
}

/** Runs a command in a node's network namespace (and only that: the mount namespace is shared). */
export const inNode = (i: number, cmd: string, args: string[]) =>
  execFileSync("nsenter", [`--net=/var/run/netns/${NET.netns(i)}`, "--", cmd, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();

/** argv prefix for long-running processes that live in node `i`'s network namespace. */
export const nodeWrap = (i: number): string[] => [
  "nsenter",
  `--net=/var/run/netns/${NET.netns(i)}`,
  "--",
];

function sysctlIn(i: number, key: string, value: string): void {
  // /proc/sys/net is per network namespace; writing it from inside the namespace sets that copy.
  inNode(i, "sh", ["-c", `echo ${value} > /proc/sys/${key.replace(/\./g, "/")}`]);
}

/** Removes whatever an earlier, killed run left behind (same names, same ranges). */
export function removeClusterNetwork(nodes = 8): void {
  for (let i = 0; i < nodes; i++) {
    tryIp("netns", "del", NET.netns(i));
    tryIp("link", "del", `fjk${i + 1}o`);
    tryIp("route", "del", NET.podCidr(i));
  }
  tryIp("link", "del", NET.bridge);
}

/**
 * Makes the hub and `count` node namespaces. Each node gets its address on the hub, a default
 * route to the hub, and a route to every other node's pod subnet through that node.
 */
export function createClusterNetwork(count: number): void {
  removeClusterNetwork();
  // br_netfilter: without it bridged pod traffic skips iptables, so neither Services on the same
  // node nor NetworkPolicies would work. Built in on some kernels, a module on others.
  spawnSync("modprobe", ["br_netfilter"], { stdio: "ignore" });
  ip("link", "add", NET.bridge, "type", "bridge");
  ip("addr", "add", `${NET.hubIp}/24`, "dev", NET.bridge);
  ip("link", "set", NET.bridge, "up");
  for (let i = 0; i < count; i++) {
    const ns = NET.netns(i);
    const outer = `fjk${i + 1}o`;
    ip("netns", "add", ns);
    ip("link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns);
    ip("link", "set", outer, "master", NET.bridge);
    ip("link", "set", outer, "up");
    ip("-n", ns, "addr", "add", `${NET.nodeIp(i)}/24`, "dev", "eth0");
    ip("-n", ns, "link", "set", "eth0", "up");
    ip("-n", ns, "link", "set", "lo", "up");
    ip("-n", ns, "route", "add", "default", "via", NET.hubIp);
    ip("route", "add", NET.podCidr(i), "via", NET.nodeIp(i));
    sysctlIn(i, "net.ipv4.ip_forward", "1");
    sysctlIn(i, "net.bridge.bridge-nf-call-iptables", "1");
  }
  for (let i = 0; i < count; i++)
    for (let j = 0; j < count; j++)
      if (i !== j) ip("-n", NET.netns(i), "route", "add", NET.podCidr(j), "via", NET.nodeIp(j));
}

/** The CNI network of node `i`: a bridge with the node's pod subnet, no masquerading (see above). */
export function writeCniConfig(i: number, confDir: string, ipamDir: string): void {
  writeFileSync(
    `${confDir}/10-fjord.conflist`,
    JSON.stringify(
      {
        cniVersion: "1.0.0",
        name: "fjord-test",
        plugins: [
          {
            type: "bridge",
            bridge: "cni0",
            isGateway: true,
            ipMasq: false,
            hairpinMode: true,
            ipam: {
              type: "host-local",
              dataDir: ipamDir,
              ranges: [[{ subnet: NET.podCidr(i) }]],
              routes: [{ dst: "0.0.0.0/0" }],
            },
          },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ),
  );
}
