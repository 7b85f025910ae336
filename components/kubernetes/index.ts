/** The Kubernetes target: thin components that turn the plan into Kubernetes objects. */
export { Microservice, type MicroserviceArgs } from "./microservice";
export { type BackupKeys, ServiceDatabase, type ServiceDatabaseArgs } from "./database";
export { ApiGateway, type ApiGatewayArgs } from "./gateway";
export { Platform, type PlatformArgs } from "./platform";
export { Observability, type ObservabilityArgs } from "./observability";
export * as naming from "./naming";
export { checkClusterReachable, clusterEndpoint, type ClusterEndpoint } from "./cluster-check";
