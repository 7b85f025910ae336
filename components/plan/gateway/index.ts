export * from "./types";
export { defaultGatewaySettings, makeGatewayPlan } from "./defaults";
export { validateGatewayPlan, assertValidGatewayPlan, MANAGED_REQUEST_HEADERS } from "./validate";
export { gatewayPlanFromSpec, type GatewayTargetBinding } from "./from-config";
export { gatewayFiles, type GatewayFiles } from "./files";
export * from "./render/nginx";
export * from "./render/traefik";
