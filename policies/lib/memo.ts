/**
 * Several policies read the same configuration file (five TLS policies parse one nginx.conf, the
 * residency policies one prometheus.yml), and the SDK hands each policy its own copy of the
 * resource, so nothing is shared unless the parse is. Parsers wrapped here return the same tree
 * for the same text; callers treat parse results as read-only.
 */
export function memoByText<T>(parse: (text: string) => T, size = 32): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    const hit = cache.get(text);
    if (hit !== undefined || cache.has(text)) return hit as T;
    const value = parse(text);
    cache.set(text, value);
    // Oldest first: Maps iterate in insertion order.
    if (cache.size > size) cache.delete(cache.keys().next().value!);
    return value;
  };
}
