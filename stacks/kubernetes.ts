/** Production target: a Kubernetes provider for the configured cluster mode, and the Platform on it. */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { SecretKey, Spec } from "../components/config";
import { Platform, checkClusterReachable } from "../components/kubernetes";
import { K3sCluster } from "../components/nodes";

export function deployKubernetes(
  spec: Spec,
  secret: (key: SecretKey) => pulumi.Output<string> | undefined,
  backupKeys?: { accessKeyId: pulumi.Output<string>; secretAccessKey: pulumi.Output<string> },
) {
  // Relative to the project (where Pulumi.yaml is), not to the program's directory.
  const renderDir = path.resolve(pulumi.runtime.getRootDirectory(), spec.cluster.renderDir);
  let provider: k8s.Provider;
  let cluster: K3sCluster | undefined;
  switch (spec.cluster.mode) {
    case "render":
      // No cluster at all: every manifest is written to disk (Secrets included, so keep it private).
      provider = new k8s.Provider("cluster", { renderYamlToDirectory: renderDir });
      break;
    case "kubeconfig": {
      // Before any resource, so an unreachable cluster leaves nothing half-recorded. A preview
      // still goes on (the provider previews without a cluster, which CI without access needs).
      const problem = checkClusterReachable(pulumi.runtime.getConfig("fjord:kubeconfig") ?? "");
      if (problem && !pulumi.runtime.isDryRun()) throw new pulumi.RunError(problem);
      if (problem) void pulumi.log.warn(`${problem} (this preview goes on; \`up\` stops here)`);
      provider = new k8s.Provider("cluster", {
        kubeconfig: secret("kubeconfig")!,
        enableServerSideApply: true,
      });
      break;
    }
    case "k3s": {
      // Preview works without the key: nothing connects until `up`, which the spec refuses without it.
      const privateKey = secret("sshPrivateKey") ?? pulumi.secret(pulumi.output(""));
      cluster = new K3sCluster("cluster", {
        nodes: spec.nodes,
        privateKey,
        adminCidrs: spec.ssh.adminCidrs,
        http3: spec.gateway.http3,
        k3sVersion: spec.cluster.k3sVersion,
        ...(spec.cluster.airgap ? { airgap: spec.cluster.airgap } : {}),
      });
      provider = cluster.provider;
      break;
    }
  }
  const platform = new Platform(
    "fjord",
    { spec, ...(backupKeys ? { backupKeys } : {}) },
    { providers: [provider] },
  );
  return {
    namespaces: platform.namespaces,
    gatewayService: platform.gatewayService,
    databases: platform.databases,
    grafanaAdminPassword: platform.grafanaAdminPassword,
    ...(cluster ? { nodes: cluster.nodeFacts } : {}),
    ...(spec.cluster.mode === "render" ? { renderDir } : {}),
  };
}
