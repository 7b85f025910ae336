/** The nodes target: VPS nodes over SSH (facts, tuning, firewall) and a k3s cluster on them. */
export { VpsNode, type VpsNodeArgs, type VpsNodeK3sArgs } from "./vps-node";
export { K3sCluster, K3sNodes, type K3sClusterArgs, type K3sNodesArgs } from "./cluster";
export {
  checkPreconditions,
  judgeFacts,
  parseFacts,
  renderFactsBody,
  stealPercent,
  type DiskFacts,
  type FactsVerdict,
  type NodeFacts,
  type PreconditionOptions,
  type PreconditionResult,
} from "./facts";
export {
  renderNftables,
  renderFirewallBody,
  NFTABLES_PATH,
  type FirewallOptions,
} from "./firewall";
export {
  renderSysctl,
  renderUdevNvmeRule,
  renderPrepBody,
  SYSCTL_PATH,
  type PrepOptions,
} from "./host";
export {
  renderK3sConfig,
  renderK3sBody,
  renderDrainBody,
  renderKubeconfigBody,
  rewriteKubeconfig,
  K3S_INSTALLER_PATH,
  type AirgapFiles,
  type K3sConfigOptions,
  type K3sInstallOptions,
} from "./k3s";
export { planCluster, ClusterPlanError, type ClusterPlan, type NodePlan } from "../plan/nodes";
export { launcher, renderStep, shq, type StepContext } from "./shell";
