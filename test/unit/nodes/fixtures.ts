/** Shared inputs for the nodes tests: resolved nodes and facts as the facts script prints them. */
import type { Node } from "../../../components/config";

export function node(
  name: string,
  role: "server" | "agent",
  host: string,
  extra: Partial<Node> = {},
): Node {
  return {
    name,
    host,
    port: 22,
    user: "fjord",
    role,
    gateway: false,
    region: "no-osl1",
    class: { vcpu: 4, memory: "8Gi", disk: "nvme", virtualization: "kvm" },
    allowNonKvm: false,
    ...extra,
  };
}

export interface RawFactsInput {
  virtualization?: string;
  disks?: { name: string; rotational: number; sectors: number }[];
  memTotalKb?: number;
  vcpus?: number;
  /** [user, steal] deltas between the two /proc/stat samples. */
  busy?: [number, number];
}

/** One line of facts-script output. */
export function factsLine(o: RawFactsInput = {}): string {
  const [user, steal] = o.busy ?? [990, 10];
  return JSON.stringify({
    virtualization: o.virtualization ?? "kvm",
    kernel: "6.1.0-28-amd64",
    vcpus: o.vcpus ?? 4,
    memTotalKb: o.memTotalKb ?? 8_000_000,
    swapTotalKb: 0,
    disks: o.disks ?? [{ name: "nvme0n1", rotational: 0, sectors: 160_000_000 }],
    stat1: "cpu  1000 0 500 90000 10 0 5 100 0 0",
    stat2: `cpu  ${1000 + user} 0 500 90000 10 0 5 ${100 + steal} 0 0`,
    sampleSeconds: 3,
  });
}

export const KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
users:
- name: default
  user:
    client-key-data: S0VZ
`;
