/**
 * fjord's policy pack. Every policy is listed here by hand, so what runs in CI is exactly what
 * this file says (no registry, no import side effects). Levels per environment come from
 * policies/config/<env>.json via `pulumi preview --policy-pack policies --policy-pack-config ...`.
 */
import { PolicyPack, type Policies } from "@pulumi/policy";
import { residencyEndpoints, residencyNodes, residencyWorkloads } from "./residency";
import { residencyEvidence } from "./residency-evidence";
import {
  tlsHsts,
  tlsHttpRedirectOnly,
  tlsMinVersion,
  tlsStrongCiphers,
  traefikApiSecure,
} from "./tls";
import { containerResources, limitsFitNode } from "./resources";
import { databaseMemoryTuning } from "./database-tuning";
import {
  antiAffinitySchedulable,
  podDisruptionBudget,
  readinessProbes,
  replicasAntiAffinity,
} from "./availability";
import { noHostNamespaces, noPrivilegedContainers, pinnedImages, runAsNonRoot } from "./security";
import { databaseServiceInternal, defaultDenyNetworkPolicy } from "./isolation";
import { noSecretLiterals } from "./secrets";
import { oneDatabasePerService } from "./databases";
import { podSecurityStandards } from "./pod-security";
import { imagePullPolicy, livenessProbes, noNakedPods, readOnlyRootFilesystem } from "./workloads";
import {
  automountServiceAccountToken,
  networkPolicySelectsPods,
  pdbAllowsDisruption,
} from "./workload-coverage";
import {
  rbacNoClusterAdminBinding,
  rbacNoEscalation,
  rbacNoPodExec,
  rbacNoWildcards,
} from "./rbac";
import { latencyCallResidency, latencyRouteBudget } from "./latency";

export const policies: Policies = [
  // Residency
  residencyNodes,
  residencyWorkloads,
  residencyEndpoints,
  residencyEvidence,
  latencyCallResidency,
  // TLS
  tlsMinVersion,
  tlsStrongCiphers,
  tlsHsts,
  tlsHttpRedirectOnly,
  traefikApiSecure,
  // Resources
  containerResources,
  limitsFitNode,
  databaseMemoryTuning,
  // Availability and latency
  replicasAntiAffinity,
  readinessProbes,
  podDisruptionBudget,
  antiAffinitySchedulable,
  latencyRouteBudget,
  livenessProbes,
  pdbAllowsDisruption,
  noNakedPods,
  // Workload hygiene
  readOnlyRootFilesystem,
  automountServiceAccountToken,
  imagePullPolicy,
  networkPolicySelectsPods,
  // Security and isolation
  podSecurityStandards,
  noPrivilegedContainers,
  noHostNamespaces,
  runAsNonRoot,
  pinnedImages,
  noSecretLiterals,
  databaseServiceInternal,
  defaultDenyNetworkPolicy,
  oneDatabasePerService,
  // RBAC
  rbacNoWildcards,
  rbacNoPodExec,
  rbacNoEscalation,
  rbacNoClusterAdminBinding,
];

// Tests import this module to check the list; constructing the pack starts the gRPC server.
if (process.env.FJORD_POLICY_PACK_NO_SERVE !== "1") {
  new PolicyPack("fjord", {
    description:
      "fjord: residency (Norway by default), TLS, resources, availability and security of the platform.",
    enforcementLevel: "mandatory",
    policies,
  });
}
