/**
 * Config files a resource carries: ConfigMap/Secret data, and files uploaded into Docker
 * containers. Policies recognise a file by its name first and its content second, so a renamed
 * nginx.conf in someone else's program is still read.
 */
import * as fs from "fs";
import * as path from "path";
import { type Obj, type Unknown, UNKNOWN, isUnknown, list, obj, str } from "./values";
import { kindOf } from "./k8s";

export interface ConfigFile {
  /** Base name ("nginx.conf"); the ConfigMap key or the upload's file name. */
  name: string;
  /** Text, or UNKNOWN when computed at preview (or unreadable). */
  content: string | Unknown;
  /** Where it was found, for messages: "data key 'nginx.conf'", "upload /etc/nginx/nginx.conf". */
  where: string;
}

const b64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");

/** Every file-like entry of a ConfigMap, Secret or Docker container (empty for other types). */
export function filesOf(type: string, props: Obj): ConfigFile[] {
  const kind = kindOf(type);
  if (kind === "ConfigMap" || kind === "Secret") {
    const out: ConfigFile[] = [];
    const plain = kind === "ConfigMap" ? ["data"] : ["stringData"];
    for (const key of plain) {
      const data = obj(props, key);
      if (data === UNKNOWN)
        out.push({ name: `(${key})`, content: UNKNOWN, where: `${key} (computed)` });
      for (const [k, v] of Object.entries(data === UNKNOWN ? {} : (data ?? {}))) {
        out.push({
          name: k,
          content: isUnknown(v) ? UNKNOWN : String(v),
          where: `${key} key '${k}'`,
        });
      }
    }
    const encoded = obj(props, kind === "ConfigMap" ? "binaryData" : "data");
    for (const [k, v] of Object.entries(encoded === UNKNOWN || !encoded ? {} : encoded)) {
      if (kind === "ConfigMap") continue; // binary payloads are not config text
      out.push({
        name: k,
        content: isUnknown(v) ? UNKNOWN : b64(String(v)),
        where: `data key '${k}'`,
      });
    }
    return out;
  }
  if (type === "docker:index/container:Container") {
    const uploads = list(props, "uploads");
    if (uploads === UNKNOWN)
      return [{ name: "(uploads)", content: UNKNOWN, where: "uploads (computed)" }];
    return uploads.map((u, i) => {
      const file = str(u, "file");
      const name = typeof file === "string" ? path.posix.basename(file) : `(upload #${i})`;
      const where = `upload ${typeof file === "string" ? file : `#${i}`}`;
      const content = str(u, "content");
      if (content !== undefined) return { name, content, where };
      const encoded = str(u, "contentBase64");
      if (encoded !== undefined)
        return { name, content: encoded === UNKNOWN ? UNKNOWN : b64(encoded), where };
      const source = str(u, "source");
      return { name, content: typeof source === "string" ? readLocal(source) : UNKNOWN, where };
    });
  }
  return [];
}

/** Uploads from a local `source` file, resolved against the directory pulumi was run from. */
function readLocal(source: string): string | Unknown {
  try {
    return fs.readFileSync(path.resolve(process.env.PWD ?? process.cwd(), source), "utf8");
  } catch {
    return UNKNOWN;
  }
}

/** Lower-cased base name without a trailing ".tmpl"/".tpl". */
export const baseName = (f: ConfigFile): string =>
  f.name.toLowerCase().replace(/\.(tmpl|tpl)$/, "");

export type FileKind =
  | "nginx"
  | "traefik-static"
  | "traefik-dynamic"
  | "prometheus"
  | "alertmanager"
  | "grafana-datasources"
  | "promtail"
  | "alloy"
  | "fluent-bit"
  | "otel-collector"
  | "vector"
  | "mysql"
  | "postgres"
  | "other";

/** What kind of config a file is, from its name and (for ambiguous names) its content. */
export function classify(f: ConfigFile): FileKind {
  const n = baseName(f);
  const text = typeof f.content === "string" ? f.content : "";
  const yaml = /\.ya?ml$/.test(n);
  if (n === "postgresql.conf" || (/\.conf$/.test(n) && /^\s*shared_buffers\s*=/m.test(text)))
    return "postgres";
  if (/\.cnf$/.test(n) || n === "my.cnf") return "mysql";
  if (/^prometheus\.ya?ml$/.test(n) || (yaml && /^(remote_write|scrape_configs):/m.test(text)))
    return "prometheus";
  if (
    /^alertmanager\.ya?ml$/.test(n) ||
    (yaml && /^receivers:/m.test(text) && /^route:/m.test(text))
  ) {
    return "alertmanager";
  }
  if (/^traefik\.ya?ml$/.test(n) || (yaml && /^entryPoints:/m.test(text))) return "traefik-static";
  if (
    /^(dynamic|traefik-dynamic)\.ya?ml$/.test(n) ||
    (yaml && /^(http|tls):/m.test(text) && /^\s+(routers|middlewares|options):/m.test(text))
  ) {
    return "traefik-dynamic";
  }
  if (yaml && /^datasources:/m.test(text)) return "grafana-datasources";
  if (/^promtail.*\.ya?ml$/.test(n) || (yaml && /^clients:/m.test(text))) return "promtail";
  if (/\.(alloy|river)$/.test(n)) return "alloy";
  if (/fluent-?bit/.test(n) || /^\s*\[OUTPUT\]/im.test(text)) return "fluent-bit";
  if (/otel|collector/.test(n) && yaml) return "otel-collector";
  if (/^vector\.ya?ml$/.test(n) || (yaml && /^sinks:/m.test(text))) return "vector";
  if (/nginx|\.conf$/.test(n) && /\b(server|http|events|ssl_protocols|listen)\b/.test(text))
    return "nginx";
  return "other";
}
