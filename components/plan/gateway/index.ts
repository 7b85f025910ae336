export * from "./types";
export { defaultGatewaySettings, makeGatewayPlan } from "./defaults";
export { validateGatewayPlan, assertValidGatewayPlan, MANAGED_REQUEST_HEADERS } from "./validate";
