/**
 * Export destinations outside config files: where a Docker log driver ships logs, and the
 * exporter endpoints services read from their environment (OTLP, Sentry, Datadog, Loki).
 */
import { DOCKER, knownContainers, literalEnv } from "./containers";
import type { Endpoint } from "./endpoints";
import { type Obj, UNKNOWN, list } from "./values";

const LOCAL_LOG_DRIVERS = ["json-file", "local", "none", "journald", "etwlogs"];

/** Where a Docker log driver ships logs. */
export function logDriverTargets(
  driver: string,
  opts: Record<string, string | typeof UNKNOWN>,
): Endpoint[] | typeof UNKNOWN {
  if (LOCAL_LOG_DRIVERS.includes(driver)) return [];
  const urlish = Object.entries(opts).filter(([k]) =>
    /(-url|-address|-endpoint|^endpoint)$/.test(k),
  );
  if (urlish.some(([, v]) => v === UNKNOWN)) return UNKNOWN;
  const out: Endpoint[] = urlish.map(([k, v]) => ({ url: v as string, at: `logOpts.${k}` }));
  if (out.length > 0) return out;
  const region = typeof opts["awslogs-region"] === "string" ? opts["awslogs-region"] : "us-east-1";
  const fixed: Record<string, string> = {
    awslogs: `logs.${region}.amazonaws.com`,
    gcplogs: "logging.googleapis.com",
    logentries: "data.logentries.com",
    fluentd: "localhost", // fluentd-address defaults to the local forwarder
    syslog: "localhost", // the local syslog socket
  };
  return [{ url: fixed[driver] ?? `unknown log driver '${driver}'`, at: "logDriver" }];
}

export const ENV_ENDPOINT =
  /^(OTEL_EXPORTER_OTLP(_TRACES|_METRICS|_LOGS)?_ENDPOINT|SENTRY_DSN|DD_SITE|DD_URL|LOKI_URL|LOKI_PUSH_URL)$/;

export function envEndpoints(type: string, props: Obj): Endpoint[] {
  const out: Endpoint[] = [];
  if (type === DOCKER) {
    const envs = list(props, "envs");
    for (const e of envs === UNKNOWN ? [] : envs) {
      if (typeof e !== "string") continue;
      const [k, ...v] = e.split("=");
      if (ENV_ENDPOINT.test(k!))
        out.push({ url: k === "DD_SITE" ? `x.${v.join("=")}` : v.join("="), at: `envs ${k}` });
    }
    return out;
  }
  for (const c of knownContainers(type, props))
    for (const [k, v] of literalEnv(c))
      if (ENV_ENDPOINT.test(k))
        out.push({ url: k === "DD_SITE" ? `x.${v}` : v, at: `container '${c.name}' env ${k}` });
  return out;
}
