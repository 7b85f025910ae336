/**
 * What every fjord container on Docker has in common: limits, restart policy, log rotation,
 * dropped capabilities, labels, and networks attached the way the provider reads them back (so a
 * second `up` proposes no change).
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { parseCpu, parseMemory, MiB } from "../config/units";
import { logConfig, logTag, type LogShipping } from "./logging";
import { labelList, labels, type Role } from "./topology";

/** One uploaded file: text, or base64 for binary content (keys), never both. */
export type UploadFile = (
  | { content: pulumi.Input<string>; contentBase64?: never }
  | { contentBase64: pulumi.Input<string>; content?: never }
) & { mode?: string; owner?: number };

export interface Limits {
  cpu: string;
  memory: string;
}

export interface FjordContainerArgs {
  /** Docker container name, also its host name on every network it joins. */
  name: string;
  stack: string;
  role: Role;
  /** Owning service, for the `fjord.service` label. @default none */
  service?: string;
  /** Image ID (from a RemoteImage), so a re-tagged image replaces the container. */
  image: pulumi.Input<string>;
  /**
   * Networks to join. The first is the container's network mode and cannot carry aliases (Docker
   * ignores aliases on the network a container was created in). Ignored with `shareNetworkWith`.
   */
  networks: Array<pulumi.Input<string> | { name: pulumi.Input<string>; aliases: string[] }>;
  /** Container ID whose network namespace to join (a pod-style sidecar). @default its own */
  shareNetworkWith?: pulumi.Input<string>;
  limits: Limits;
  /** Soft memory reservation (the Kubernetes request). @default none */
  reservation?: string;
  /** Health command, `CMD` or `CMD-SHELL` form. @default none */
  health?: string[];
  /** @default "10s" (keep under a minute: the provider reads durations back as Go strings) */
  healthInterval?: string;
  /** Ports published on the host, bound to `address`. Protocol @default "tcp"; ports @default none */
  publish?: {
    address: string;
    ports: Array<{ internal: number; external: number; protocol?: "tcp" | "udp" }>;
  };
  /** Capabilities kept after dropping all. @default [] */
  capAdd?: string[];
  /** Labels besides fjord's own (stack, role, service). @default {} */
  extraLabels?: Record<string, string>;
  /** Numeric user, as in the Kubernetes securityContext. @default the image's */
  user?: number;
  /** Non-secret env; secrets go in `secretEnv`. @default {} */
  env?: Record<string, pulumi.Input<string>>;
  /** Env whose values are secret; the whole env list is then stored encrypted. @default {} */
  secretEnv?: Record<string, pulumi.Input<string>>;
  /** Read-only files, path → content. Secret contents keep the uploads secret. @default {} */
  files?: Record<string, UploadFile>;
  /** Named volumes, container path → volume name. @default {} */
  volumes?: Record<string, pulumi.Input<string>>;
  /** Writable scratch paths (tmpfs). @default {} */
  tmpfs?: Record<string, string>;
  /** Root filesystem read-only. Off when `files` are set: Docker refuses uploads into it. @default true */
  readOnly?: boolean;
  /** Replaces the image's entrypoint, like a Kubernetes `command`. @default the image's */
  entrypoint?: string[];
  /** Arguments, like a Kubernetes `args`. @default the image's CMD */
  command?: pulumi.Input<string>[];
  /** Seconds the process gets to stop before SIGKILL (databases need to flush). @default 10 */
  stopGraceSeconds?: number;
  /** Block `up` until the health check passes. @default true when `health` is set */
  waitHealthy?: boolean;
  /** @default 120 */
  waitTimeoutSeconds?: number;
  /** Ship logs to this forward-protocol agent (see ./logging.ts). @default json-file only */
  logShipping?: LogShipping;
  /**
   * The Kubernetes container name of this process (`nginx`, `postgres`, `exporter`, the service
   * name): the `container` label of its lines in Loki, so log queries work on both targets.
   */
  process: string;
}

/** Exactly how many MiB the provider will read back (it works in whole MiB). */
export const mib = (q: string): number => Math.max(6, Math.ceil(parseMemory(q) / MiB));
export const cpus = (q: string): string => String(parseCpu(q) / 1000);

function envList(env: Record<string, pulumi.Input<string>>): pulumi.Output<string[]> {
  return pulumi
    .all(Object.entries(env).map(([k, v]) => pulumi.output(v).apply((x) => `${k}=${x}`)))
    .apply((l) => [...l].sort());
}

export function fjordContainer(
  resourceName: string,
  a: FjordContainerArgs,
  opts: pulumi.CustomResourceOptions,
): docker.Container {
  const files = a.files ?? {};
  const hasFiles = Object.keys(files).length > 0;
  const readOnly = hasFiles ? false : (a.readOnly ?? true);
  const health = a.health;
  const waitHealthy = a.waitHealthy ?? health !== undefined;
  const plainEnv = envList(a.env ?? {});
  const secretEnv = a.secretEnv ?? {};
  const envs =
    Object.keys(secretEnv).length > 0
      ? pulumi.secret(pulumi.all([plainEnv, envList(secretEnv)]).apply(([p, s]) => [...p, ...s]))
      : plainEnv;
  const [primary, ...others] = a.networks.map((n) =>
    typeof n === "object" && "aliases" in n ? n : { name: n, aliases: [] as string[] },
  );
  if (primary && primary.aliases.length > 0) {
    throw new pulumi.ResourceError(
      `fjord: ${a.name}: the first network cannot carry aliases; list it later`,
      opts.parent,
    );
  }
  const memory = mib(a.limits.memory);

  return new docker.Container(
    resourceName,
    {
      name: a.name,
      image: a.image,
      hostname: a.shareNetworkWith ? undefined : a.name,
      labels: labelList({ ...labels(a.stack, a.role, a.service), ...a.extraLabels }),
      ...(a.shareNetworkWith
        ? { networkMode: pulumi.interpolate`container:${a.shareNetworkWith}` }
        : {
            // Set explicitly: the daemon's default ("bridge") may not exist, and the provider
            // reads the mode back, so leaving it unset shows as a change on every preview.
            networkMode: primary?.name,
            networksAdvanced: others.map((n) => ({
              name: n.name,
              ...(n.aliases.length ? { aliases: n.aliases } : {}),
            })),
          }),
      ports: (a.publish?.ports ?? []).map((p) => ({
        internal: p.internal,
        external: p.external,
        ip: a.publish!.address,
        protocol: p.protocol ?? "tcp",
      })),
      memory,
      // Same as memory: no swap, so the limit behaves like the Kubernetes one.
      memorySwap: memory,
      ...(a.reservation ? { memoryReservation: mib(a.reservation) } : {}),
      cpus: cpus(a.limits.cpu),
      restart: "unless-stopped",
      ...logConfig(a.logShipping, logTag(a.name, a.process, a.service)),
      securityOpts: ["no-new-privileges:true"],
      capabilities: { drops: ["ALL"], adds: a.capAdd ?? [] },
      ...(a.user !== undefined ? { user: `${a.user}:${a.user}` } : {}),
      readOnly,
      ...(a.tmpfs ? { tmpfs: a.tmpfs } : {}),
      envs,
      ...(a.entrypoint ? { entrypoints: a.entrypoint } : {}),
      ...(a.command ? { command: a.command } : {}),
      uploads: Object.entries(files).map(([file, f]) => ({
        file,
        ...(f.contentBase64 !== undefined
          ? { contentBase64: f.contentBase64 }
          : { content: f.content }),
        // Owned by root and not writable by the (non-root) process: effectively a read-only mount.
        permissions: f.mode ?? "0444",
        ...(f.owner !== undefined ? { owner: String(f.owner), group: String(f.owner) } : {}),
      })),
      volumes: Object.entries(a.volumes ?? {}).map(([containerPath, volumeName]) => ({
        containerPath,
        volumeName,
      })),
      ...(health
        ? {
            healthcheck: {
              tests: health,
              interval: a.healthInterval ?? "10s",
              timeout: "5s",
              startPeriod: "5s",
              retries: 6,
            },
          }
        : {}),
      destroyGraceSeconds: a.stopGraceSeconds ?? 10,
      ...(waitHealthy ? { wait: true, waitTimeout: a.waitTimeoutSeconds ?? 120 } : {}),
    },
    {
      ...opts,
      // Secret inputs already make these secret; this also covers values the provider echoes back.
      // Uploads are left alone: they are secret only when a file is (the TLS key), so policies
      // can still read a plain nginx.conf.
      additionalSecretOutputs: ["envs"],
      deleteBeforeReplace: true,
    },
  );
}
