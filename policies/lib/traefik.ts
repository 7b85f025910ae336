/**
 * Traefik static and dynamic configuration, from YAML files or CLI flags, with keys lower-cased
 * because Traefik's own flag and env parsers are case-insensitive.
 */
import { parse as parseYaml } from "yaml";
import { memoByText } from "./memo";
import { type Obj, isObj } from "./values";
import { WEAK_GO_VERSIONS, goCipherProblems } from "./ciphers";

export function lowerKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(lowerKeys);
  if (isObj(v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), lowerKeys(x)]));
  return v;
}

export const parseYamlDoc = memoByText((text: string): Obj | string => {
  try {
    const doc = parseYaml(text) as unknown;
    return isObj(doc) ? (lowerKeys(doc) as Obj) : {};
  } catch (e) {
    return (e as Error).message;
  }
});

/** `--entrypoints.web.address=:80` style flags (and TRAEFIK_* env) as a lower-cased static config. */
export function flagsToConfig(flags: string[], env: Record<string, string> = {}): Obj {
  const root: Obj = {};
  const set = (path: string[], value: string) => {
    let cur = root;
    for (const p of path.slice(0, -1)) {
      if (!isObj(cur[p])) cur[p] = {};
      cur = cur[p] as Obj;
    }
    cur[path[path.length - 1]!] = value;
  };
  for (const f of flags) {
    const m = /^--([A-Za-z0-9_.\-[\]]+)(?:=(.*))?$/.exec(f);
    if (m) set(m[1]!.toLowerCase().split("."), m[2] ?? "true");
  }
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith("TRAEFIK_")) set(k.slice(8).toLowerCase().split("_"), v);
  }
  return root;
}

const truthy = (v: unknown): boolean =>
  v === true || (typeof v === "string" && v.toLowerCase() === "true");
const o = (v: unknown): Obj => (isObj(v) ? v : {});

export const apiInsecure = (stat: Obj): boolean => truthy(o(stat.api).insecure);
export const apiDashboard = (stat: Obj): boolean =>
  isObj(stat.api) && o(stat.api).dashboard !== false && o(stat.api).dashboard !== "false";

/** Whether flags/static config configure Traefik entry points or its API at all. */
export const isTraefikStatic = (stat: Obj): boolean => isObj(stat.entrypoints) || isObj(stat.api);

function port(address: unknown): number | undefined {
  const m = /:(\d+)(\/\w+)?$/.exec(String(address ?? ""));
  return m ? Number(m[1]) : undefined;
}

/** Public plain-HTTP entry points that do not redirect to HTTPS. */
export function entrypointRedirectProblems(stat: Obj, publicPorts: number[]): string[] {
  const eps = o(stat.entrypoints);
  const internal = new Set(
    [o(stat.ping).entrypoint, o(o(stat.metrics).prometheus).entrypoint, "traefik"].filter(
      (x): x is string => typeof x === "string",
    ),
  );
  const problems: string[] = [];
  for (const [name, ep] of Object.entries(eps)) {
    const http = o(o(ep).http);
    const tls = http.tls !== undefined && http.tls !== false && http.tls !== "false";
    const p = port(o(ep).address);
    if (tls || internal.has(name) || p === undefined || !publicPorts.includes(p)) continue;
    const to = o(o(http.redirections).entrypoint).to;
    if (typeof to !== "string" || !to) {
      problems.push(
        `entry point '${name}' (${String(o(ep).address)}) serves plain HTTP without http.redirections.entryPoint.to`,
      );
    }
  }
  return problems;
}

/** TLS version and cipher problems in a dynamic config's tls.options. */
export function tlsOptionProblems(
  dyn: Obj,
  weakVersions: readonly string[] = WEAK_GO_VERSIONS,
): { version: string[]; ciphers: string[] } {
  const version: string[] = [];
  const ciphers: string[] = [];
  for (const [name, opt] of Object.entries(o(o(dyn.tls).options))) {
    const min = o(opt).minversion;
    if (typeof min === "string" && weakVersions.includes(min))
      version.push(`tls.options.${name}.minVersion is ${min}`);
    const suites = o(opt).ciphersuites;
    if (Array.isArray(suites)) {
      ciphers.push(
        ...goCipherProblems(suites.filter((s): s is string => typeof s === "string")).map(
          (p) => `tls.options.${name}: ${p}`,
        ),
      );
    }
  }
  return { version, ciphers };
}

const bare = (m: string): string => m.replace(/@.*$/, "").toLowerCase();

/** Headers middlewares with stsSeconds > 0 (or ≥ min) in a dynamic config. */
function hstsMiddlewares(dyn: Obj, min: number): { good: Set<string>; weak: string[] } {
  const good = new Set<string>();
  const weak: string[] = [];
  for (const [name, mw] of Object.entries(o(o(dyn.http).middlewares))) {
    const h = o(o(mw).headers);
    if (h.stsseconds === undefined) continue;
    const secs = Number(h.stsseconds);
    if (secs >= Math.max(min, 1)) good.add(name);
    else weak.push(`middleware '${name}' sets stsSeconds to ${String(h.stsseconds)}`);
  }
  return { good, weak };
}

/**
 * HSTS in a dynamic config: every TLS router uses a headers middleware with stsSeconds ≥ min,
 * directly or through its entry point's middlewares (when the static config is at hand).
 */
export function hstsProblems(dyn: Obj, stat: Obj | undefined, min: number): string[] {
  const { good, weak } = hstsMiddlewares(dyn, min);
  const problems = [...weak];
  const epMiddlewares = (ep: string): string[] => {
    const list = o(o(o(o(stat ?? {}).entrypoints)[ep]).http).middlewares;
    return Array.isArray(list) ? list.map(String).map(bare) : [];
  };
  for (const [name, r] of Object.entries(o(o(dyn.http).routers))) {
    const router = o(r);
    const entrypoints = Array.isArray(router.entrypoints)
      ? router.entrypoints.map((e) => String(e).toLowerCase())
      : [];
    const tls =
      router.tls !== undefined ||
      entrypoints.some((ep) => o(o(o(o(stat ?? {}).entrypoints)[ep]).http).tls !== undefined);
    if (!tls) continue;
    const mws = [
      ...(Array.isArray(router.middlewares) ? router.middlewares.map(String).map(bare) : []),
      ...entrypoints.flatMap(epMiddlewares),
    ];
    if (!mws.some((m) => good.has(m)))
      problems.push(
        `TLS router '${name}' uses no headers middleware with stsSeconds of at least ${Math.max(min, 1)}`,
      );
  }
  return problems;
}
