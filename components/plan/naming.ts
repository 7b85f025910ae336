/**
 * Namespaces, decided once for both targets: Kubernetes namespaces on prod, and the namespace
 * label of every log stream on Docker, so queries and dashboards read the same on both.
 * Changing one renames live objects (and so replaces them): treat them as a public API.
 */

/** Namespace of one service and its database. */
export const serviceNamespace = (service: string): string => `fjord-${service}`;
/** Namespace of the gateway and the observability stack. */
export const SYSTEM_NAMESPACE = "fjord-system";
/** A service's database: its Kubernetes workload and Service name, and its component's name. */
export const databaseApp = (service: string): string => `${service}-db`;
/**
 * A service's headless Service: its DNS name resolves to one address per ready replica, which is
 * how the gateway reaches each pod on its own (see gateway/render/endpoints.ts).
 */
export const serviceEndpointsName = (service: string): string => `${service}-pods`;
