import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { Node } from "../config";
import type { NodeFacts } from "./facts";
import type { AirgapFiles } from "./k3s";
import { planCluster } from "../plan/nodes";
import { VpsNode } from "./vps-node";

export interface K3sNodesArgs {
  /** Resolved nodes from the spec: one or three servers, any number of agents. */
  nodes: Node[];
  /** SSH private key for every node (secret). */
  privateKey: pulumi.Input<string>;
  /** CIDRs allowed to reach SSH and the API; empty opens both to anyone (with a warning). */
  adminCidrs: string[];
  /** The gateway serves HTTP/3 (the resolved fjord:gateway.http3): gateway nodes open UDP 443. */
  http3: boolean;
  /** Pinned k3s release, e.g. v1.31.4+k3s1. */
  k3sVersion: string;
  /** Install k3s from these local files instead of downloading it. */
  airgap?: AirgapFiles;
  /** Expected SSH host keys by node name. @default not checked */
  hostKeys?: Record<string, string>;
  /** @default "vxlan" */
  flannelBackend?: "vxlan" | "wireguard-native";
  /**
   * See VpsNodeArgs.root: build images instead of changing the hosts; one root for every node, or
   * one per node name (an image per node). Then kubeconfig is "". @default ""
   */
  root?: string | ((node: string) => string);
  /** @default 10 */
  dialErrorLimit?: number;
  /** @default 3 */
  stealSampleSeconds?: number;
  /** @default 2 */
  maxStealPercent?: number;
  /** @default 300 */
  drainTimeoutSeconds?: number;
}

/**
 * The SSH half of a k3s cluster: a VpsNode per node, the join token, and the install order (first
 * server, then the other servers one by one, then the agents, each after its own facts, prep and
 * firewall). K3sCluster adds the Kubernetes provider on top.
 */
export class K3sNodes extends pulumi.ComponentResource {
  /** Admin kubeconfig of the first server, addressed by its host (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly nodeFacts: pulumi.Output<Record<string, NodeFacts>>;
  /** The join token (secret). */
  public readonly token: pulumi.Output<string>;
  public readonly nodes: Record<string, VpsNode>;

  constructor(name: string, args: K3sNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:nodes:K3sNodes", name, {}, opts);
    const plan = planCluster(args.nodes);

    // Changing the token would orphan every joined node: keep this resource's name stable.
    const token = new random.RandomPassword(
      `${name}-token`,
      { length: 48, special: false },
      { parent: this, additionalSecretOutputs: ["result"] },
    );
    this.token = pulumi.secret(token.result);

    const nodes: Record<string, VpsNode> = {};
    for (const p of plan.nodes) {
      const drainVia = {
        name: p.drainVia.name,
        host: p.drainVia.host,
        port: p.drainVia.port,
        user: p.drainVia.user,
        ...(args.hostKeys?.[p.drainVia.name] ? { hostKey: args.hostKeys[p.drainVia.name] } : {}),
      };
      nodes[p.node.name] = new VpsNode(
        `${name}-${p.node.name}`,
        {
          node: p.node,
          privateKey: args.privateKey,
          adminCidrs: args.adminCidrs,
          http3: args.http3,
          peers: p.peers,
          serverPeers: p.serverPeers,
          k3s: {
            version: args.k3sVersion,
            token: this.token,
            ...(p.serverUrl ? { serverUrl: p.serverUrl } : {}),
            clusterInit: p.first,
            ...(args.airgap ? { airgap: args.airgap } : {}),
            ...(args.flannelBackend ? { flannelBackend: args.flannelBackend } : {}),
          },
          readKubeconfig: p.first,
          drainVia,
          installAfter: p.after.map((n) => nodes[n].k3sInstall),
          ...(args.hostKeys?.[p.node.name] ? { hostKey: args.hostKeys[p.node.name] } : {}),
          ...(args.root !== undefined
            ? { root: typeof args.root === "string" ? args.root : args.root(p.node.name) }
            : {}),
          ...(args.dialErrorLimit !== undefined ? { dialErrorLimit: args.dialErrorLimit } : {}),
          ...(args.stealSampleSeconds !== undefined
            ? { stealSampleSeconds: args.stealSampleSeconds }
            : {}),
          ...(args.maxStealPercent !== undefined ? { maxStealPercent: args.maxStealPercent } : {}),
          ...(args.drainTimeoutSeconds !== undefined
            ? { drainTimeoutSeconds: args.drainTimeoutSeconds }
            : {}),
        },
        { parent: this },
      );
    }
    this.nodes = nodes;
    this.kubeconfig = pulumi.secret(nodes[plan.first.name].kubeconfig.apply((k) => k ?? ""));
    this.nodeFacts = pulumi
      .all(Object.fromEntries(Object.entries(nodes).map(([n, v]) => [n, v.facts])))
      .apply((f) => f as Record<string, NodeFacts>);

    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      nodeFacts: this.nodeFacts,
      token: this.token,
    });
  }
}

/** Without `root`: an image's k3s never runs, and the provider needs a running cluster. */
export type K3sClusterArgs = Omit<K3sNodesArgs, "root">;

/** A k3s cluster on VPS nodes over SSH, and a Kubernetes provider for it. */
export class K3sCluster extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  /** Admin kubeconfig (secret). */
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly nodeFacts: pulumi.Output<Record<string, NodeFacts>>;

  constructor(name: string, args: K3sClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:nodes:K3sCluster", name, {}, opts);
    const nodes = new K3sNodes(`${name}-nodes`, args, { parent: this });
    this.kubeconfig = nodes.kubeconfig;
    this.nodeFacts = nodes.nodeFacts;
    this.provider = new k8s.Provider(
      `${name}-provider`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [nodes] },
    );
    this.registerOutputs({
      provider: this.provider,
      kubeconfig: this.kubeconfig,
      nodeFacts: this.nodeFacts,
    });
  }
}
