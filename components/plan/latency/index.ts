/**
 * Latency budgets over the synchronous call graph: the model, its worst-case analysis, and the
 * annotations that carry it to the policy pack. The report (./report) is not re-exported: it reads
 * files and loads WebAssembly, which nothing on the deploy path should pull in.
 */
export * from "./rtt";
export * from "./model";
export * from "./analyze";
export * from "./annotations";
