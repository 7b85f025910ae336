/** The gateway's rendered files and process facts, identical on every target. */
import { createHash } from "crypto";
import type { GatewayPlan } from "./types";
import { renderNginxConf } from "./render/nginx";
import { renderTraefikDynamic, renderTraefikStatic } from "./render/traefik";
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
  switch (plan.kind) {
    case "nginx":
      files = { "nginx.conf": renderNginxConf(plan) };
      out = {
        // -e: nginx opens its compiled-in error log before reading the config, which fails on a read-only root.
        command: ["nginx", "-e", "stderr", "-c", `${dir}/nginx.conf`, "-g", "daemon off;"],
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
        "traefik.yml": renderTraefikStatic(plan, { dynamicFile: `${dir}/dynamic.yml` }),
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
  const hash = createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 16);
  return { files, hash, ...out };
}
