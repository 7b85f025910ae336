/** The machines fjord installs k3s on, and how it reaches them over SSH. */
import { z } from "zod";
import { cidr, dnsLabel, host, memory, port } from "../fields";

export const DISK_CLASSES = ["nvme", "ssd", "hdd"] as const;
export const VIRTUALIZATIONS = ["kvm", "xen", "vmware", "microsoft", "openvz", "lxc"] as const;
export type DiskClass = (typeof DISK_CLASSES)[number];

const nodeClass = z.strictObject({
  vcpu: z.int().min(1).max(512).meta({ description: "vCPUs of the node class; limits must fit." }),
  memory: memory.meta({ description: "Memory of the node class; limits must fit." }),
  disk: z.enum(DISK_CLASSES).meta({
    description: "Disk class; sets database I/O tuning, and NVMe is verified on the host.",
  }),
  virtualization: z
    .enum(VIRTUALIZATIONS)
    .default("kvm")
    .meta({ description: "Expected hypervisor." }),
});

const node = z.strictObject({
  name: dnsLabel.meta({ description: "Node name (also the Kubernetes node name)." }),
  host: host.meta({ description: "Address fjord connects to over SSH." }),
  port: port.optional().meta({ description: "SSH port; defaults to ssh.port." }),
  user: z.string().min(1).optional().meta({ description: "SSH user; defaults to ssh.user." }),
  role: z.enum(["server", "agent"]).meta({ description: "k3s role; use 1 or 3 servers." }),
  gateway: z.boolean().default(false).meta({
    description:
      "Opens 80/443 on this node's firewall, and UDP 443 when the gateway serves HTTP/3 (gateway.http3).",
  }),
  region: z
    .string()
    .optional()
    .meta({ description: "Where the node is; defaults to the stack region." }),
  class: nodeClass,
  allowNonKvm: z.boolean().default(false).meta({
    description: "Accept a non-KVM hypervisor (container VPS cannot run k3s properly).",
  }),
});

export const nodes = z.array(node).default([]);

export const ssh = z
  .strictObject({
    user: z.string().min(1).default("fjord").meta({ description: "Default SSH user on nodes." }),
    port: port.default(22).meta({ description: "Default SSH port on nodes." }),
    adminCidrs: z.array(cidr).default([]).meta({
      description:
        "Sources allowed to SSH to nodes through the host firewall (empty: anywhere, with a warning).",
    }),
  })
  .prefault({});
