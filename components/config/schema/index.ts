/**
 * The one schema for a fjord stack's config (`fjord:*` keys), split by domain. Defaults and the
 * docs of the config reference live here and only here; cross-field rules (references, sizes,
 * cycles) are in ../checks.ts.
 */
import { z } from "zod";
import { backups } from "./backups";
import { gateway } from "./gateway";
import { images } from "./images";
import { nodes, ssh } from "./nodes";
import { observability } from "./observability";
import { allowedJurisdictions, region, regions } from "./regions";
import { latency, services } from "./services";
import { cluster, docker } from "./targets";

export { DISK_CLASSES, VIRTUALIZATIONS, type DiskClass } from "./nodes";

export const platformSchema = z.strictObject({
  environment: z.enum(["dev", "prod"], { error: 'must be "dev" or "prod"' }).meta({
    description:
      "Environment; picks the policy config (availability is mandatory in prod, advisory in dev).",
  }),
  target: z.enum(["kubernetes", "docker"], { error: 'must be "kubernetes" or "docker"' }).meta({
    description: "Where the platform runs: Docker on this machine (dev) or Kubernetes (prod).",
  }),
  region,
  allowedJurisdictions,
  regions,
  ssh,
  nodes,
  cluster,
  docker,
  gateway,
  services,
  observability,
  backups,
  latency,
  images,
});

/** Top-level config keys, each read as `fjord:<key>`. */
export const CONFIG_KEYS = Object.keys(
  platformSchema.shape,
) as (keyof typeof platformSchema.shape)[];

export type PlatformSpec = z.output<typeof platformSchema>;
export type ServiceSpec = PlatformSpec["services"][number];
export type DatabaseSpec = NonNullable<ServiceSpec["database"]>;
export type NodeSpec = PlatformSpec["nodes"][number];
export type GatewaySpec = PlatformSpec["gateway"];
export type ObservabilitySpec = PlatformSpec["observability"];
export type { BackupsSpec, DatabaseBackupSpec } from "./backups";
