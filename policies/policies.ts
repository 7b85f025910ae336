/**
 * Every policy of fjord's pack, listed by hand, so what runs in CI is exactly what this file
 * says (no registry, no import side effects). index.ts serves them as the pack; tests and the
 * policy bench import this list without starting a server.
 */
import type { Policies } from "@pulumi/policy";
import { residencyEndpoints, residencyNodes, residencyWorkloads } from "./residency";
import { residencyEvidence } from "./residency-evidence";
import {
  tlsHsts,
  tlsHttpRedirectOnly,
  tlsMinVersion,
  tlsStrongCiphers,
  traefikApiSecure,
} from "./tls";
import { gatewayHttp3Udp } from "./http3";
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
import { backupRequired, backupResidency, backupRetention } from "./backups";

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
  gatewayHttp3Udp,
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
  // Backups
  backupResidency,
  backupRequired,
  backupRetention,
];
