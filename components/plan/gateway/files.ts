/** The gateway's rendered files and process facts, identical on every target. */
import { createHash } from "crypto";
import type { GatewayPlan } from "./types";
import { renderNginxConf } from "./render/nginx";
import { renderTraefikDynamic, renderTraefikStatic } from "./render/traefik";
import { renderEndpointWatcher, watchesEndpoints } from "./render/endpoints";
import { assertNever } from "../../../lib/never";

const NGINX_EXPORTER_PORT = 9113;

/** Where both targets place the rendered files (a ConfigMap mount, or uploads on Docker). */
export const GATEWAY_CONFIG_DIR = "/etc/fjord";
/** The certificate and key, beside the config (a Secret mount, or uploads on Docker). */
export const GATEWAY_TLS_FILES = {
  certFile: `${GATEWAY_CONFIG_DIR}/tls/tls.crt`,
  keyFile: `${GATEWAY_CONFIG_DIR}/tls/tls.key`,
} as const;
/** The RSA fallback pair, in the same Secret / upload as the ECDSA one when fjord makes both. */
export const GATEWAY_RSA_FILES = {
  certFile: `${GATEWAY_CONFIG_DIR}/tls/rsa.crt`,
  keyFile: `${GATEWAY_CONFIG_DIR}/tls/rsa.key`,
} as const;
/** Session ticket keys (a Secret of their own), by file name, newest first. */
export const GATEWAY_TICKET_DIR = `${GATEWAY_CONFIG_DIR}/tickets`;
export const GATEWAY_TICKET_KEYS = ["current.key", "previous.key"] as const;
/** nginx takes 48- or 80-byte keys; 80 gives AES-256 tickets with a 256-bit HMAC key. */
export const GATEWAY_TICKET_KEY_BYTES = 80;

/**
 * Where the endpoint watcher writes the expanded configs: under /tmp, which both targets give the
 * gateway writable (an emptyDir, a tmpfs) while the root filesystem stays read-only.
 */
export const GATEWAY_RUNTIME_DIR = "/tmp/fjord";
const WATCHER = "endpoints.sh";

export interface GatewayFiles {
  /** File name → content, all placed in one directory. */
  files: Record<string, string>;
  /** Command that starts the proxy with those files. */
  command: string[];
  /** UID of the proxy in its official image (nginx: 101, Traefik: any non-root). */
  uid: number;
  /** Health path on the internal port (`plan.metrics.port`). */
  healthPath: string;
  /** Where Prometheus scrapes. nginx needs an exporter sidecar to turn stub_status into metrics. */
  metrics: { port: number; path: string; exporterArgs?: string[] };
  hash: string;
}

export function gatewayFiles(plan: GatewayPlan, dir: string): GatewayFiles {
  let files: Record<string, string>;
  let out: Omit<GatewayFiles, "files" | "hash">;
  // With endpoints, the files in `dir` are templates and the proxy reads the watcher's output.
  const watch = watchesEndpoints(plan);
  const live = watch ? GATEWAY_RUNTIME_DIR : dir;
  switch (plan.kind) {
    case "nginx":
      files = { "nginx.conf": renderNginxConf(plan) };
      out = {
        // -e: nginx opens its compiled-in error log before reading the config, which fails on a read-only root.
        command: ["nginx", "-e", "stderr", "-c", `${live}/nginx.conf`, "-g", "daemon off;"],
        uid: 101,
        healthPath: "/healthz",
        metrics: {
          port: NGINX_EXPORTER_PORT,
          path: "/metrics",
          exporterArgs: [
            `--nginx.scrape-uri=http://127.0.0.1:${plan.metrics.port}/stub_status`,
            `--web.listen-address=:${NGINX_EXPORTER_PORT}`,
          ],
        },
      };
      break;
    case "traefik":
      files = {
        "traefik.yml": renderTraefikStatic(plan, { dynamicFile: `${live}/dynamic.yml` }),
        "dynamic.yml": renderTraefikDynamic(plan),
      };
      out = {
        command: ["traefik", `--configFile=${dir}/traefik.yml`],
        uid: 65532,
        healthPath: "/ping",
        metrics: { port: plan.metrics.port, path: "/metrics" },
      };
      break;
    default:
      return assertNever(plan.kind, "gateway kind");
  }
  if (watch) {
    const templates = Object.keys(files).filter((f) => f !== "traefik.yml");
    files[WATCHER] = renderEndpointWatcher(plan, {
      configDir: dir,
      runtimeDir: GATEWAY_RUNTIME_DIR,
      templates,
    });
    out.command = ["sh", `${dir}/${WATCHER}`, ...out.command];
  }
  const hash = createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 16);
  return { files, hash, ...out };
}
