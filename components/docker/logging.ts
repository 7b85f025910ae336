/**
 * How fjord's containers on Docker get their logs to the log shipper. Pure (no Pulumi).
 *
 * The daemon's fluentd log driver sends each line over the forward protocol. It dials from the
 * daemon's own network namespace, so the shipper's forward input is published on the daemon's
 * loopback. Every container is tagged `docker.<namespace>.<pod>.<container>`, with the namespace
 * and container name the same process has on Kubernetes, so pii-mask.lua gives Loki the same
 * labels on both targets and one query (the gateway's `{container="nginx"}` rules) serves both.
 */
import type { Spec } from "../config";
import { serviceNamespace, SYSTEM_NAMESPACE } from "../plan/naming";
import { DOCKER_LOG_TAG_PREFIX } from "../plan/observability";

/** Where the daemon sends container logs. */
export interface LogShipping {
  /** "host:port" of a forward-protocol input, as the daemon dials it. */
  address: string;
}

/**
 * The stack's log destination: the user's own agent (`docker.logForward`), or fjord's Fluent Bit
 * on the daemon's loopback, or none (the json-file driver alone) when neither runs.
 */
export function logShipping(spec: Spec): LogShipping | undefined {
  if (spec.docker.logForward !== undefined) return { address: spec.docker.logForward };
  const o = spec.observability;
  if (o.enabled && o.components.logShipper) {
    return { address: `127.0.0.1:${spec.docker.logForwardPort}` };
  }
  return undefined;
}

/** `docker.<namespace>.<pod>.<container>`; Docker and DNS names hold no dots, so it splits cleanly. */
export function logTag(pod: string, process: string, service?: string): string {
  const namespace = service ? serviceNamespace(service) : SYSTEM_NAMESPACE;
  return [DOCKER_LOG_TAG_PREFIX, namespace, pod, process].join(".");
}

export interface LogConfig {
  logDriver: string;
  logOpts: Record<string, string>;
}

/**
 * The container's log driver. Shipping never holds a container back: `fluentd-async` lets it start
 * and run while the shipper is down (lines are buffered and retried), and `non-blocking` mode means
 * a slow shipper drops lines past the buffer instead of stalling the process' writes to stdout.
 * `docker logs` keeps working through the daemon's local cache (dual logging, Docker 20.10+).
 */
export function logConfig(ship: LogShipping | undefined, tag: string): LogConfig {
  if (!ship) {
    return { logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "3" } };
  }
  return {
    logDriver: "fluentd",
    logOpts: {
      "fluentd-address": `tcp://${ship.address}`,
      "fluentd-async": "true",
      "fluentd-sub-second-precision": "true",
      mode: "non-blocking",
      "max-buffer-size": "4m",
      tag,
    },
  };
}
