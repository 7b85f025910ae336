/**
 * The latency model of a stack, built from its config, and the annotations that carry it to the
 * policy pack. The builder and the arithmetic are the shared library's (lib/latency), re-exported
 * here; the config checks route budgets with the same builder before anything is planned.
 */
export * from "../../../lib/latency";
export { latencyAnnotations, type LatencyAnnotations } from "./annotations";
