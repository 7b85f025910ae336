/**
 * Regions and jurisdictions as the residency policies see them: the shared catalogue
 * (lib/regions, the same one fjord's config uses), extended by the pack's config.
 */
import { DEFAULT_REGION_CATALOG, expandJurisdictions } from "../../lib/regions";
import { type Settings, setting } from "./policy";

export interface ResidencyConfig {
  allowedJurisdictions: string[];
  regions: Record<string, string>;
  hostRegions: Record<string, string>;
}

export const residencySettings: Settings<ResidencyConfig> = {
  allowedJurisdictions: setting.strings(
    'ISO 3166-1 alpha-2 codes where data may be processed; "EEA" stands for all EEA states.',
    ["NO"],
  ),
  regions: {
    schema: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Region name → jurisdiction, added to (and overriding) the built-in catalog.",
    },
    default: {},
  },
  hostRegions: {
    schema: {
      type: "object",
      additionalProperties: { type: "string" },
      description: "Host (IP or name) → region, for hosts whose region no resource declares.",
    },
    default: {},
  },
};

export class Jurisdictions {
  readonly allowed: ReadonlySet<string>;
  readonly catalog: Readonly<Record<string, string>>;

  constructor(readonly cfg: ResidencyConfig) {
    this.allowed = expandJurisdictions(cfg.allowedJurisdictions);
    this.catalog = { ...DEFAULT_REGION_CATALOG, ...cfg.regions };
  }

  /** Jurisdiction of a region, undefined when the catalog does not know it. */
  of(region: string): string | undefined {
    const j = this.catalog[region] ?? this.catalog[region.toLowerCase()];
    return j?.toUpperCase();
  }

  isAllowed(jurisdiction: string): boolean {
    return this.allowed.has(jurisdiction.toUpperCase());
  }

  /** The configured region of a host, if any. */
  regionOfHost(host: string): string | undefined {
    return this.cfg.hostRegions[host] ?? this.cfg.hostRegions[host.toLowerCase()];
  }

  allowedText(): string {
    return [...this.allowed].sort().join(", ");
  }
}
