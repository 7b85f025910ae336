/**
 * Latency budgets over a synchronous call graph: the model, its worst-case analysis, and the
 * annotation codec that carries it from fjord's workloads to the policy pack.
 */
export * from "./rtt";
export * from "./model";
export * from "./analyze";
export * from "./from-spec";
export * from "./annotations";
