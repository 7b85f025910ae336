/**
 * Kubernetes names and labels. Changing any of these renames live objects (and so replaces them),
 * and Services' DNS names are what callers and the gateway dial: treat them as a public API.
 */

import { SYSTEM_NAMESPACE, serviceEndpointsName, serviceNamespace } from "../plan/naming";

export { SYSTEM_NAMESPACE, serviceEndpointsName, serviceNamespace };

export const MANAGED_BY = {
  "app.kubernetes.io/managed-by": "fjord",
  "app.kubernetes.io/part-of": "fjord",
};

export type Component = "service" | "database" | "gateway" | "observability";

/** Labels for every object of one workload; `app` is what selectors and anti-affinity match. */
export function workloadLabels(
  app: string,
  component: Component,
  region: string,
): Record<string, string> {
  return {
    app,
    "app.kubernetes.io/name": app,
    "app.kubernetes.io/component": component,
    "fjord.io/region": region,
    ...MANAGED_BY,
  };
}

/** In-cluster DNS name of a Service. */
export const serviceDns = (name: string, namespace: string): string =>
  `${name}.${namespace}.svc.cluster.local`;

/** Restricted pod-security settings shared by every container fjord runs. */
export function restrictedSecurityContext(uid: number, readOnlyRoot = true) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: readOnlyRoot,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Required anti-affinity on the node hostname: no two replicas share a VPS. */
export function spreadAcrossNodes(app: string) {
  return {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        {
          labelSelector: { matchExpressions: [{ key: "app", operator: "In", values: [app] }] },
          topologyKey: "kubernetes.io/hostname",
        },
      ],
    },
  };
}
