/**
 * The latency model of a stack, built from its config, and the annotations that carry it to the
 * policy pack. The arithmetic is the shared library's (lib/latency), re-exported here.
 */
export * from "../../../lib/latency";
export { latencyModelFromSpec } from "./model";
export { latencyAnnotations, type LatencyAnnotations } from "./annotations";
