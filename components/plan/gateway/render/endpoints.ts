/**
 * The endpoint watcher: the gateway's entry script when upstreams name their replicas through DNS
 * (a headless Service resolves to one address per ready pod).
 *
 * nginx 1.22 resolves a server name once, at load, and cannot re-resolve it; Traefik's file
 * provider has no DNS discovery. So the proxy's config is rendered as a template in which each
 * such upstream has one marker line, and this script writes the real config with that line
 * repeated once per address, starts the proxy, and keeps re-resolving in the background. A new
 * set of addresses is applied only once it has been seen on `settlePolls` polls in a row, so a
 * rolling update costs a few reloads, not one per DNS flap. nginx is told with SIGHUP (a graceful
 * reload: old workers finish their requests); Traefik watches the file itself.
 */
import type { GatewayPlan } from "../types";
import { assertNever } from "../../../../lib/never";

/** The line a renderer repeats once per address of upstream `name`, replaced by `address:port`. */
export const endpointsMarker = (name: string): string => `@@endpoints:${name}@@`;

export interface EndpointWatcherOptions {
  /** Where the templates are mounted (read-only). */
  configDir: string;
  /** Writable directory for the expanded configs (an emptyDir or tmpfs). */
  runtimeDir: string;
  /** Template file names in `configDir`, each expanded to the same name in `runtimeDir`. */
  templates: string[];
  /** Seconds between two resolutions. @default 2 */
  intervalSeconds?: number;
  /** Polls a new address set must be seen on before it is applied. @default 2 */
  settlePolls?: number;
}

/** Whether the plan needs the watcher at all. */
export const watchesEndpoints = (plan: GatewayPlan): boolean =>
  plan.upstreams.some((u) => u.endpoints !== undefined);

function reloadCommand(plan: GatewayPlan): string {
  switch (plan.kind) {
    case "nginx":
      // The proxy was exec'd by this script, so its PID is the script's.
      return 'kill -HUP "$PROXY"';
    case "traefik":
      // The file provider watches the expanded file and applies it without dropping connections.
      return ":";
    default:
      return assertNever(plan.kind, "gateway kind");
  }
}

/**
 * POSIX sh, using only what Debian's minbase and busybox both have (getent, awk, sort, tr). Run as
 * `sh endpoints.sh <proxy command...>`.
 */
export function renderEndpointWatcher(plan: GatewayPlan, opts: EndpointWatcherOptions): string {
  const table = plan.upstreams
    .filter((u) => u.endpoints !== undefined)
    .map((u) => {
      const fallback = u.servers[0]!;
      return `${u.name} ${u.endpoints!.host} ${u.endpoints!.port} ${fallback.host}:${fallback.port}`;
    });
  return `#!/bin/sh
# Rendered by fjord from the gateway plan; edit the plan, not this file.
# Runs the proxy with one upstream server per address of each upstream's endpoints name, and
# re-resolves every ${opts.intervalSeconds ?? 2} s; a changed set is applied once it is stable.
set -u
CONF_DIR=${opts.configDir}
RUN_DIR=${opts.runtimeDir}
INTERVAL=${opts.intervalSeconds ?? 2}
SETTLE=${opts.settlePolls ?? 2}
# upstream, endpoints name, port, fallback while the name resolves to nothing (no ready replica)
UPSTREAMS='${table.join("\n")}'

# IPv4 addresses of a name, sorted and space-separated; empty when it does not resolve.
addresses() {
  { getent ahostsv4 "$1" 2>/dev/null || getent hosts "$1" 2>/dev/null; } |
    awk '$1 ~ /^[0-9]+[.][0-9]+[.][0-9]+[.][0-9]+$/ { print $1 }' | sort -u | tr '\\n' ' '
}

# One line per upstream: name, the servers it gets (address:port, or the fallback).
snapshot() {
  echo "$UPSTREAMS" | while read -r name host port fallback; do
    servers=""
    for a in $(addresses "$host"); do servers="$servers $a:$port"; done
    printf '%s%s\\n' "$name" "\${servers:- $fallback}"
  done
}

# Writes every template into RUN_DIR with each marker line repeated once per server.
expand() {
  for f in ${opts.templates.join(" ")}; do
    awk -v snap="$RUN_DIR/endpoints" '
      BEGIN { while ((getline l < snap) > 0) { split(l, w, " "); servers[w[1]] = substr(l, length(w[1]) + 2) } }
      match($0, /@@endpoints:[a-z0-9_-]+@@/) {
        n = split(servers[substr($0, RSTART + 12, RLENGTH - 14)], s, " ")
        for (i = 1; i <= n; i++) { line = $0; sub(/@@endpoints:[a-z0-9_-]+@@/, s[i], line); print line }
        next
      }
      { print }
    ' "$CONF_DIR/$f" >"$RUN_DIR/$f.new" && mv "$RUN_DIR/$f.new" "$RUN_DIR/$f"
  done
}

watch() {
  applied=$(cat "$RUN_DIR/endpoints")
  pending=""
  seen=0
  while sleep "$INTERVAL"; do
    now=$(snapshot)
    if [ "$now" = "$applied" ]; then pending=""; seen=0; continue; fi
    if [ "$now" = "$pending" ]; then seen=$((seen + 1)); else pending=$now; seen=1; fi
    [ "$seen" -ge "$SETTLE" ] || continue
    printf '%s\\n' "$now" >"$RUN_DIR/endpoints"
    expand
    applied=$now
    pending=""
    seen=0
    echo "fjord-endpoints: applied $(echo "$now" | tr '\\n' ';')" >&2
    ${reloadCommand(plan)}
  done
}

mkdir -p "$RUN_DIR"
snapshot >"$RUN_DIR/endpoints"
expand
echo "fjord-endpoints: started with $(tr '\\n' ';' <"$RUN_DIR/endpoints")" >&2
PROXY=$$
watch &
exec "$@"
`;
}
