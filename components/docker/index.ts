/** The Docker (dev) target: the Kubernetes roles as containers on one Docker host. */
export { Microservice, type MicroserviceArgs } from "./microservice";
export { ServiceDatabase, type ServiceDatabaseArgs, type BackupKeys } from "./database";
export { ApiGateway, type ApiGatewayArgs } from "./gateway";
export { Observability, type ObservabilityArgs } from "./observability";
export { Platform, type PlatformArgs } from "./platform";
export {
  dockerTopology,
  netKey,
  labels,
  LABEL,
  RESERVED_NAMES,
  type Topology,
  type Role,
} from "./topology";
export { dockerScrapeJobs } from "./scrape";
export { checkDockerDaemon, dockerHost } from "./daemon";
export { logConfig, logShipping, logTag, type LogConfig, type LogShipping } from "./logging";
