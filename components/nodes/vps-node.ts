import { createHash } from "crypto";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import type { Node } from "../config";
import { judgeFacts, renderFactsBody, type NodeFacts } from "./facts";
import { renderNftables, renderFirewallBody } from "./firewall";
import { renderPrepBody } from "./host";
import {
  AIRGAP_STAGING_DIR,
  isK3sRelease,
  renderDrainBody,
  renderK3sBody,
  renderK3sConfig,
  renderKubeconfigBody,
  rewriteKubeconfig,
  type AirgapFiles,
} from "./k3s";
import { launcher, renderStep, shq, type StepContext } from "./shell";

type Remote = Pick<Node, "name" | "host" | "port" | "user"> & { hostKey?: string };

export interface VpsNodeK3sArgs {
  /** Pinned k3s release, e.g. v1.31.4+k3s1. */
  version: string;
  /** Cluster join token (secret). */
  token: pulumi.Input<string>;
  /** https://<first server>:6443; absent on the first server. */
  serverUrl?: string;
  /** Bootstrap embedded etcd here (the first server). @default false */
  clusterInit?: boolean;
  /** Copy k3s from these local paths instead of downloading it. */
  airgap?: AirgapFiles;
  /** @default "vxlan" */
  flannelBackend?: "vxlan" | "wireguard-native";
}

export interface VpsNodeArgs {
  /** The resolved node from the spec. */
  node: Node;
  /** SSH private key (OpenSSH or PEM); kept secret. */
  privateKey: pulumi.Input<string>;
  /** CIDRs allowed to reach SSH and the API; empty opens SSH to anyone (with a warning). */
  adminCidrs: string[];
  /** The gateway serves HTTP/3 (the resolved fjord:gateway.http3): gateway nodes open UDP 443. */
  http3: boolean;
  /** Addresses of the other cluster nodes. @default [] */
  peers?: string[];
  /** Addresses of the other server nodes. @default [] */
  serverPeers?: string[];
  k3s: VpsNodeK3sArgs;
  /** Read the admin kubeconfig from this node (the first server). @default false */
  readKubeconfig?: boolean;
  /** The server that drains this node on removal. @default this node (a server drains itself) */
  drainVia?: Remote;
  /** Resources (earlier nodes) this node's k3s install waits for. @default [] */
  installAfter?: pulumi.Resource[];
  /** Expected SSH host key ("ssh-ed25519 AAAA..."); a mismatch fails every step. @default not checked */
  hostKey?: string;
  /** SSH connection attempts before a step fails (each waits longer). @default 10 */
  dialErrorLimit?: number;
  /**
   * Build an image instead of changing a running system: every written file is placed under this
   * root (a mounted root or a chroot), every file is still checked (nft -c), and nothing live
   * changes (no sysctl, modprobe, swapoff, nft load or service); k3s is installed under the root
   * but not started, so there is no kubeconfig to read. Paths written into config files stay as
   * seen from inside the image. "" (or "/") is the live system. @default ""
   */
  root?: string;
  /** Seconds /proc/stat is sampled for CPU steal. @default 3 */
  stealSampleSeconds?: number;
  /** Steal above this warns. @default 2 */
  maxStealPercent?: number;
  /** Seconds to wait for evictions when this node is removed. @default 300 */
  drainTimeoutSeconds?: number;
}

const HINTS: Record<string, string> = {
  facts: "check that the node is up and reachable over SSH with this key, then run pulumi up again",
  prep: "fix the failing command on the node (see above), then run pulumi up again; the step converges",
  firewall:
    "the ruleset was not loaded; fix the cause above and run pulumi up again. Locked out? Use the provider's console and run: nft delete table inet fjord",
  airgap:
    "check the local air-gap paths and free space in /var/tmp on the node, then run pulumi up again",
  k3s: "see the installer output above and journalctl -u k3s / k3s-agent on the node; then run pulumi up again",
  drain: "free capacity or relax the PodDisruptionBudget, then run pulumi up (or destroy) again",
  kubeconfig:
    "check that k3s is running on the first server (systemctl status k3s), then run pulumi up again",
};

const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/**
 * One KVM VPS reached over SSH: measures it, refuses hosts that cannot run k3s as declared,
 * tunes and firewalls it, and installs k3s. Every step is an idempotent script on stdin.
 */
export class VpsNode extends pulumi.ComponentResource {
  /** Measured host facts, after the preconditions passed. */
  public readonly facts: pulumi.Output<NodeFacts>;
  /** The rendered host firewall (without the deployer's address, which is added on the node). */
  public readonly ruleset: pulumi.Output<string>;
  /** Admin kubeconfig pointing at this node (secret); only with readKubeconfig. */
  public readonly kubeconfig: pulumi.Output<string | undefined>;
  /** The k3s install step, for ordering other nodes after it. */
  public readonly k3sInstall: command.remote.Command;

  constructor(name: string, args: VpsNodeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:nodes:VpsNode", name, {}, opts);
    const node = args.node;
    // Checked here, not where the script is rendered: that runs in an apply, which knows no
    // resource and leaves the steps after it waiting instead of failing.
    if (!isK3sRelease(args.k3s.version)) {
      throw new pulumi.ResourceError(
        `fjord:cluster.k3sVersion: ${JSON.stringify(args.k3s.version)} is not a k3s release; pin one such as "v1.31.4+k3s1"`,
        this,
      );
    }
    const root = (args.root ?? "").replace(/\/+$/, "");
    // A root is an image being built: what runs here is the host, not the image's system.
    const live = root === "";
    const peers = args.peers ?? [];
    const serverPeers = args.serverPeers ?? [];
    const sample = args.stealSampleSeconds ?? 3;
    const drainVia = args.drainVia ?? node;
    const privateKey = pulumi.secret(args.privateKey);

    const connection = (to: Remote): command.types.input.remote.ConnectionArgs => {
      const hostKey = to === node ? args.hostKey : to.hostKey;
      return {
        host: to.host,
        port: to.port,
        user: to.user,
        privateKey,
        dialErrorLimit: args.dialErrorLimit ?? 10,
        ...(hostKey ? { hostKey } : {}),
      };
    };
    const ctx = (step: string, on: Remote = node): StepContext => ({
      node: on.name,
      region: node.region,
      step: on === node ? step : `${step} ${node.name}`,
      root,
      live,
      hint: HINTS[step],
    });
    const step = (
      role: string,
      script: pulumi.Input<string>,
      o: {
        on?: Remote;
        remove?: boolean;
        secretStdin?: boolean;
        secretStdout?: boolean;
        /** Extra values whose change re-runs the step. */
        trigger?: string;
        deps?: pulumi.Input<pulumi.Resource>[];
      } = {},
    ) => {
      const c = ctx(role, o.on);
      return new command.remote.Command(
        `${name}-${role}`,
        {
          connection: connection(o.on ?? node),
          create: launcher(c, "create"),
          update: launcher(c, "update"),
          ...(o.remove ? { delete: launcher(c, "delete") } : {}),
          stdin: script,
          // The residency policy reads these; the scripts carry their own copy, as sshd only passes
          // variables it is told to accept (AcceptEnv) and sudo resets the environment anyway.
          environment: { FJORD_NODE: node.name, FJORD_REGION: node.region },
          addPreviousOutputInEnv: false,
          logging: o.secretStdout ? "stderr" : "stdoutAndStderr",
          // A replacement would run the delete (uninstall, drain), so those re-run through update.
          ...(o.remove
            ? {}
            : { triggers: [pulumi.output(script).apply(sha), ...(o.trigger ? [o.trigger] : [])] }),
        },
        {
          parent: this,
          dependsOn: o.deps ?? [],
          additionalSecretOutputs: [
            ...(o.secretStdin ? ["stdin"] : []),
            ...(o.secretStdout ? ["stdout"] : []),
          ],
        },
      );
    };

    const factsCmd = step("facts", renderStep(ctx("facts"), renderFactsBody(sample)));
    const verdict = factsCmd.stdout.apply((out) => {
      const v = judgeFacts(node, out, { maxStealPercent: args.maxStealPercent ?? 2 });
      for (const w of v.warnings) pulumi.log.warn(w, this);
      return v;
    });
    // A failed precondition fails this resource instead of throwing in an apply: a throw leaves
    // every step that depends on the gated ones waiting forever under the Automation API
    // (pulumi/pulumi#14980), while a failed resource ends the update.
    const preconditions = new command.local.Command(
      `${name}-preconditions`,
      {
        create: verdict.apply((v) =>
          v.errors.length > 0 ? `printf '%s\\n' ${shq(v.errors.join("\n"))} >&2; exit 1` : "true",
        ),
        logging: "none",
      },
      { parent: this },
    );
    this.facts = pulumi.all([verdict, preconditions.stdout]).apply(([v]) => {
      // Only reached once the preconditions step succeeded, which it does only with facts.
      if (v.facts === undefined) throw new pulumi.ResourceError(v.errors.join("\n"), this);
      return v.facts;
    });
    // Later steps read the checked facts, so nothing changes on a node that failed a precondition.
    const gated = (script: string) => this.facts.apply(() => script);

    const prep = step(
      "prep",
      this.facts.apply((f) =>
        renderStep(ctx("prep"), renderPrepBody({ nvme: node.class.disk === "nvme" || f.hasNvme })),
      ),
    );

    if (args.adminCidrs.length === 0) {
      pulumi.log.warn(
        `fjord: node ${node.name}: ssh.adminCidrs is empty, so SSH${node.role === "server" ? " and the Kubernetes API are" : " is"} open to anyone. ` +
          "Set fjord:ssh.adminCidrs to your admin networks (the deploying machine's address is always admitted).",
        this,
      );
    }
    let rulesetText: string;
    try {
      rulesetText = renderNftables({
        node: node.name,
        role: node.role,
        sshPort: node.port,
        adminCidrs: args.adminCidrs,
        gateway: node.gateway,
        http3: args.http3,
        peers,
        serverPeers,
        wireguard: args.k3s.flannelBackend === "wireguard-native",
      });
    } catch (e) {
      // The renderer is pure and knows no resource; name the node whose firewall it is.
      throw new pulumi.ResourceError((e as Error).message, this);
    }
    this.ruleset = pulumi.output(rulesetText);
    const firewall = step(
      "firewall",
      gated(renderStep(ctx("firewall"), renderFirewallBody(rulesetText))),
      { deps: [prep] },
    );

    const uploads: command.remote.CopyToRemote[] = [];
    let airgap: { stagingDir: string; imagesFile: string } | undefined;
    if (args.k3s.airgap) {
      const stagingDir = path.posix.join(root || "/", AIRGAP_STAGING_DIR);
      const imagesFile = path.basename(args.k3s.airgap.imagesTarball);
      airgap = { stagingDir, imagesFile };
      const files: [string, string, string][] = [
        ["k3s", args.k3s.airgap.k3sBinary, "k3s"],
        ["images", args.k3s.airgap.imagesTarball, imagesFile],
        ["installer", args.k3s.airgap.installScript, "install.sh"],
      ];
      for (const [role, local, remoteName] of files) {
        uploads.push(
          new command.remote.CopyToRemote(
            `${name}-airgap-${role}`,
            {
              connection: connection(node),
              source: new pulumi.asset.FileAsset(local),
              remotePath: path.posix.join(stagingDir, remoteName),
            },
            { parent: this, dependsOn: [prep] },
          ),
        );
      }
    }

    const config = renderK3sConfig({
      node: node.name,
      role: node.role,
      host: node.host,
      region: node.region,
      gateway: node.gateway,
      ...(args.k3s.serverUrl ? { serverUrl: args.k3s.serverUrl } : {}),
      clusterInit: args.k3s.clusterInit ?? false,
      ...(args.k3s.flannelBackend ? { flannelBackend: args.k3s.flannelBackend } : {}),
    });
    const k3sScript = pulumi.all([pulumi.secret(args.k3s.token), this.facts]).apply(([token]) =>
      renderStep(
        ctx("k3s"),
        renderK3sBody({
          role: node.role,
          version: args.k3s.version,
          config,
          token,
          ...(airgap ? { airgap } : {}),
        }),
      ),
    );
    this.k3sInstall = step("k3s", pulumi.secret(k3sScript), {
      remove: true,
      secretStdin: true,
      deps: [firewall, ...uploads, ...(args.installAfter ?? [])],
    });

    // Depends on the install, so on removal it is deleted (drains) before k3s is uninstalled.
    step(
      "drain",
      renderStep(
        ctx("drain", drainVia),
        renderDrainBody({
          target: node.name,
          ...(args.drainTimeoutSeconds ? { timeoutSeconds: args.drainTimeoutSeconds } : {}),
        }),
      ),
      { on: drainVia, remove: true, deps: [this.k3sInstall] },
    );

    if (args.readKubeconfig) {
      const read = step(
        "kubeconfig",
        renderStep(ctx("kubeconfig"), renderKubeconfigBody()),
        // Re-read whenever the install re-runs with a new version or config.
        { secretStdout: true, trigger: sha(args.k3s.version + config), deps: [this.k3sInstall] },
      );
      this.kubeconfig = pulumi.secret(
        read.stdout.apply((k) => (k ? rewriteKubeconfig(k, node.host) : undefined)),
      );
    } else {
      this.kubeconfig = pulumi.output(undefined);
    }

    this.registerOutputs({
      facts: this.facts,
      ruleset: this.ruleset,
      kubeconfig: this.kubeconfig,
      k3sInstall: this.k3sInstall,
    });
  }
}
