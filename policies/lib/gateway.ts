/**
 * Gateway configuration carried by one resource: nginx.conf and Traefik files (ConfigMaps,
 * Secrets, Docker uploads) and Traefik flags/env on containers (k8s workloads, Docker).
 */
import type { NginxDirective } from "../../lib/parse/nginx";
import { type ConfigFile, baseName, classify, filesOf } from "./files";
import { DOCKER, dockerEnv, knownContainers } from "./containers";
import { groupOf, isWorkload, kindOf } from "./k8s";
import type { Ctx } from "./policy";
import { parseConf } from "./nginx-tls";
import { flagsToConfig, isTraefikStatic, parseYamlDoc } from "./traefik";
import { type Obj, type Unknown, UNKNOWN, isUnknown, list, str, strMap } from "./values";

export class ParseError {
  constructor(readonly message: string) {}
}

export interface Found<T> {
  /** Where it came from, for messages: "data key 'nginx.conf'", "container 'traefik' args". */
  where: string;
  /** Parsed config, UNKNOWN when computed at preview, or the parse error. */
  value: T | Unknown | ParseError;
}

export interface GatewayConfig {
  nginx: Found<NginxDirective[]>[];
  traefikStatic: Found<Obj>[];
  traefikDynamic: Found<Obj>[];
}

/** The kind a file's name alone suggests, for content that is unknown at preview. */
function kindByName(f: ConfigFile): "nginx" | "traefik-static" | "traefik-dynamic" | undefined {
  const n = baseName(f);
  if (/^traefik\.ya?ml$/.test(n)) return "traefik-static";
  if (/^(dynamic|traefik-dynamic)\.ya?ml$/.test(n)) return "traefik-dynamic";
  if (/nginx/.test(n) || (/\.conf$/.test(n) && n !== "postgresql.conf" && !/fluent/.test(n)))
    return "nginx";
  return undefined;
}

function flagsOf(
  c: Obj,
  cmdKeys: string[],
  env: Record<string, string>,
): { flags: string[]; unknown: boolean } {
  const flags: string[] = [];
  let unknown = false;
  for (const k of cmdKeys) {
    const l = list(c, k);
    if (l === UNKNOWN) unknown = true;
    else
      for (const a of l)
        if (typeof a === "string") flags.push(a);
        else if (isUnknown(a)) unknown = true;
  }
  return { flags, unknown: unknown || Object.values(env).some(isUnknown) };
}

/**
 * Traefik static config from a container's flags and env. When they are partly computed, the
 * container counts as a possible Traefik only if something known points that way (image, name,
 * or a Traefik-style flag); a computed image alone is not enough, since every Docker container
 * whose image comes from a RemoteImage has one at preview. Values are checked again at `up`.
 */
function traefikFromFlags(
  where: string,
  hints: unknown[],
  f: { flags: string[]; unknown: boolean },
  env: Record<string, string>,
): Found<Obj> | undefined {
  const cfg = flagsToConfig(f.flags, env);
  if (isTraefikStatic(cfg)) return { where, value: cfg };
  const looksTraefik =
    hints.some((h) => typeof h === "string" && !isUnknown(h) && /traefik/i.test(h)) ||
    f.flags.some((a) => /^--(entrypoints|api|providers)\./i.test(a));
  return f.unknown && looksTraefik ? { where, value: UNKNOWN } : undefined;
}

export function gatewayConfigOf(type: string, props: Obj): GatewayConfig {
  const out: GatewayConfig = { nginx: [], traefikStatic: [], traefikDynamic: [] };
  for (const f of filesOf(type, props)) {
    const kind = f.content === UNKNOWN ? kindByName(f) : classify(f);
    if (kind === "nginx") {
      const tree = f.content === UNKNOWN ? UNKNOWN : parseConf(f.content);
      out.nginx.push({
        where: f.where,
        value: typeof tree === "string" ? new ParseError(tree) : tree,
      });
    } else if (kind === "traefik-static" || kind === "traefik-dynamic") {
      const doc = f.content === UNKNOWN ? UNKNOWN : parseYamlDoc(f.content);
      const found: Found<Obj> = {
        where: f.where,
        value: typeof doc === "string" ? new ParseError(doc) : doc,
      };
      (kind === "traefik-static" ? out.traefikStatic : out.traefikDynamic).push(found);
    }
  }
  if (type === DOCKER) {
    const envs = dockerEnv(props);
    const env = Object.fromEntries(envs === UNKNOWN ? [] : envs);
    const f = flagsOf(props, ["entrypoints", "command"], env);
    const t = traefikFromFlags(
      "command",
      [str(props, "image"), str(props, "name")],
      { ...f, unknown: f.unknown || envs === UNKNOWN },
      env,
    );
    if (t) out.traefikStatic.push(t);
  }
  for (const c of knownContainers(type, props)) {
    if (c.c === UNKNOWN) continue;
    const env: Record<string, string> = {};
    const el = list(c.c, "env");
    for (const e of el === UNKNOWN ? [] : el) {
      const k = str(e, "name");
      const v = str(e, "value");
      if (typeof k === "string" && k.startsWith("TRAEFIK_") && v !== undefined)
        env[k] = v as string;
    }
    const f = flagsOf(c.c, ["command", "args"], env);
    const t = traefikFromFlags(
      `container '${c.name}' command/args`,
      [str(c.c, "image"), c.name],
      f,
      env,
    );
    if (t) out.traefikStatic.push(t);
  }
  return out;
}

export const INGRESS_NGINX = "nginx.ingress.kubernetes.io/";
export const TRAEFIK_GROUPS = ["traefik.io", "traefik.containo.us"];

/** The Kind of a Traefik CRD (either API group), undefined for any other type. */
export const traefikKind = (type: string): string | undefined =>
  TRAEFIK_GROUPS.includes(groupOf(type) ?? "") ? kindOf(type) : undefined;

/** An Ingress's ingress-nginx annotation `key` (without the prefix); undefined on other kinds. */
export function ingressNginxAnnotation(
  type: string,
  props: Obj,
  key: string,
): string | Unknown | undefined {
  if (kindOf(type) !== "Ingress") return undefined;
  const annotations = strMap(props, "metadata.annotations");
  return annotations === UNKNOWN ? undefined : annotations[`${INGRESS_NGINX}${key}`];
}

/** Which resources can carry gateway TLS settings (the TLS policies' shared scope). */
export function gatewayScope(type: string): string | undefined {
  const kind = kindOf(type) ?? "";
  if (["ConfigMap", "Secret", "Ingress"].includes(kind) || isWorkload(type)) return undefined;
  if (type === DOCKER || traefikKind(type) !== undefined) return undefined;
  return "Only gateway configs (ConfigMaps, Secrets, containers, Ingresses, Traefik CRDs) carry TLS settings.";
}

/** Runs `check` on every parsed config; computed configs are "cannot verify", unparseable ones a note. */
export function eachConfig<T, C>(
  items: Found<T>[],
  label: string,
  what: string,
  ctx: Ctx<C>,
  check: (v: T, where: string) => void,
): void {
  for (const it of items) {
    if (it.value === UNKNOWN)
      ctx.cannotVerify(
        `Cannot verify the ${what} of ${label} (${it.where}) at preview: the config is computed.`,
      );
    else if (it.value instanceof ParseError)
      ctx.note(
        `The config of ${label} (${it.where}) could not be parsed (${it.value.message}), so its ${what} is unverified.`,
      );
    else check(it.value as T, it.where);
  }
}

/** ingress-nginx controller settings, when the ConfigMap is one (keys like ssl-protocols). */
export function ingressNginxSettings(type: string, props: Obj): Record<string, string> | undefined {
  if (kindOf(type) !== "ConfigMap") return undefined;
  const data = strMap(props, "data");
  if (data === UNKNOWN || !["ssl-protocols", "ssl-ciphers", "hsts"].some((k) => k in data))
    return undefined;
  return Object.fromEntries(
    Object.entries(data).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}
