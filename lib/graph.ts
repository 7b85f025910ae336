/** Directed-graph helpers for the synchronous call graph. */

/** The first cycle found, as a closed path [a, b, …, a], or undefined if the graph is acyclic. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "active" | "done">();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "active") return [...path.slice(path.indexOf(n)), n];
    state.set(n, "active");
    path.push(n);
    for (const m of edges.get(n) ?? []) {
      const found = edges.has(m) ? visit(m) : undefined;
      if (found) return found;
    }
    path.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const n of edges.keys()) {
    const found = visit(n);
    if (found) return found;
  }
  return undefined;
}
