/**
 * The region catalogue, one for fjord's config and its policy pack: each region with the
 * jurisdiction whose law applies to data stored there. Stack config may add regions
 * (`fjord:regions`), the pack's config too; residency checks only ever compare jurisdictions,
 * so a new region is allowed exactly when its jurisdiction is.
 */
export interface RegionInfo {
  /** ISO 3166-1 alpha-2 code of the jurisdiction (e.g. "NO"). */
  jurisdiction: string;
  /** Whether the jurisdiction is in the EEA (GDPR applies without a transfer mechanism). */
  eea: boolean;
  /** Human name, used in reports. */
  city: string;
}

export const DEFAULT_REGIONS: Readonly<Record<string, RegionInfo>> = {
  "no-osl1": { jurisdiction: "NO", eea: true, city: "Oslo" },
  "no-osl2": { jurisdiction: "NO", eea: true, city: "Oslo" },
  "no-svg1": { jurisdiction: "NO", eea: true, city: "Stavanger" },
  "se-sto1": { jurisdiction: "SE", eea: true, city: "Stockholm" },
  "fi-hel1": { jurisdiction: "FI", eea: true, city: "Helsinki" },
  "de-fra1": { jurisdiction: "DE", eea: true, city: "Frankfurt" },
  "nl-ams1": { jurisdiction: "NL", eea: true, city: "Amsterdam" },
  "us-east1": { jurisdiction: "US", eea: false, city: "US East (Virginia)" },
};

export const DEFAULT_REGION = "no-osl1";

/** Region → jurisdiction, as the policy pack's residency checks read it. */
export const DEFAULT_REGION_CATALOG: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(DEFAULT_REGIONS).map(([r, i]) => [r, i.jurisdiction]),
);

/** EU member states plus Iceland, Liechtenstein and Norway. */
export const EEA: readonly string[] = [
  "AT",
  "BE",
  "BG",
  "HR",
  "CY",
  "CZ",
  "DK",
  "EE",
  "FI",
  "FR",
  "DE",
  "GR",
  "HU",
  "IE",
  "IT",
  "LV",
  "LT",
  "LU",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SK",
  "SI",
  "ES",
  "SE",
  "IS",
  "LI",
  "NO",
];

/** The jurisdictions a list allows, upper-cased, with "EEA" standing for every EEA state. */
export function expandJurisdictions(codes: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const code of codes) {
    if (code.toUpperCase() === "EEA") EEA.forEach((c) => out.add(c));
    else out.add(code.toUpperCase());
  }
  return out;
}
