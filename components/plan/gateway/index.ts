export * from "./types";
export { defaultGatewaySettings, makeGatewayPlan } from "./defaults";
export { validateGatewayPlan, assertValidGatewayPlan, MANAGED_REQUEST_HEADERS } from "./validate";
export { gatewayPlanFromSpec, type GatewayTargetBinding } from "./from-config";
export {
  gatewayFiles,
  GATEWAY_CONFIG_DIR,
  GATEWAY_RSA_FILES,
  GATEWAY_RUNTIME_DIR,
  GATEWAY_TICKET_DIR,
  GATEWAY_TICKET_KEYS,
  GATEWAY_TICKET_KEY_BYTES,
  GATEWAY_TLS_FILES,
  type GatewayFiles,
} from "./files";
export * from "./render/endpoints";
export * from "./render/nginx";
export * from "./render/traefik";
