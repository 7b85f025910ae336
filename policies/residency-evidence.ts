/**
 * Residency evidence: a JSON record of where each resource in the stack runs and why the pack
 * believes so, written on every preview/update so a data controller can file it. It only
 * records; the residency-* policies are what block.
 */
import * as fs from "fs";
import * as path from "path";
import type { StackValidationPolicy } from "@pulumi/policy";
import { type Settings, type StackResource, describe, setting, stackPolicy } from "./lib/policy";
import { Jurisdictions, type ResidencyConfig, residencySettings } from "./lib/regions";
import { UNKNOWN, str, strMap } from "./lib/values";
import { kindOf } from "./lib/k8s";
import { nodesOf, placeNode } from "./residency";
import { type DatabaseBackup, databaseBackups } from "./backups";

interface EvidenceConfig extends ResidencyConfig {
  evidenceFile: string;
  localRegion: string | null;
  reportSummary: boolean;
}

const settings: Settings<EvidenceConfig> = {
  ...residencySettings,
  evidenceFile: {
    schema: {
      type: "string",
      description: "Where to write the evidence JSON, relative to the directory pulumi runs in.",
    },
    default: "out/residency-evidence.json",
  },
  localRegion: {
    schema: {
      type: ["string", "null"],
      description: "Region of the machine running local Docker (dev stacks); null when unknown.",
    },
    default: null,
  },
  reportSummary: setting.flag(
    "Also report the summary as an advisory finding (it is always logged to the preview output).",
  ),
};

export interface EvidenceEntry {
  urn: string;
  type: string;
  name: string;
  region: string | null;
  jurisdiction: string | null;
  /** Why the pack places it there ("label fjord.io/region on Namespace fjord-orders", ...). */
  basis: string;
}

export interface Evidence {
  generatedAt: string;
  stack: string | null;
  allowedJurisdictions: string[];
  compliant: boolean;
  summary: Record<string, number>;
  nodes: EvidenceEntry[];
  resources: EvidenceEntry[];
  /** One per database workload: where its backups are stored, or why it has none. */
  backups: EvidenceEntry[];
}

/** Where an entry is and why the pack believes so. */
type Placement = Omit<EvidenceEntry, "urn" | "type" | "name">;

const LOGICAL = /^(pulumi:|random:|tls:|fjord:)/;

/** Everything in the stack with its jurisdiction; pure, so tests read it directly. */
export function buildEvidence(
  resources: StackResource[],
  cfg: EvidenceConfig,
  now = new Date(),
): Evidence {
  const j = new Jurisdictions(cfg);
  const nodes = nodesOf(resources);
  const nodeEntries: EvidenceEntry[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const n of nodes) {
    const p = placeNode(n, nodes, j);
    const r = byUrn.get(n.urn)!;
    nodeEntries.push({
      urn: n.urn,
      type: r.type,
      name: r.name,
      region: p.kind === "ok" ? p.region : null,
      jurisdiction: p.kind === "ok" ? p.jurisdiction : null,
      basis:
        p.kind === "ok"
          ? `${p.basis}${typeof n.host === "string" ? ` (host ${n.host})` : ""}`
          : p.message,
    });
  }
  const clusterJuris = [
    ...new Set(
      nodeEntries.filter((e) => e.type === "command:remote:Command").map((e) => e.jurisdiction),
    ),
  ];
  const nsRegion = new Map<string, string>();
  for (const r of resources) {
    if (kindOf(r.type) !== "Namespace") continue;
    const n = str(r.props, "metadata.name");
    const labels = strMap(r.props, "metadata.labels");
    const reg = labels === UNKNOWN ? undefined : labels["fjord.io/region"];
    if (typeof n === "string" && typeof reg === "string") nsRegion.set(n, reg);
  }
  const dockerHost = nodeEntries.find((e) => e.type === "pulumi:providers:docker");
  const place = (region: string | null | undefined, basis: string): Placement => ({
    region: region ?? null,
    jurisdiction: region ? (j.of(region) ?? null) : null,
    basis,
  });
  const nowhere = (basis: string): Placement => ({ region: null, jurisdiction: null, basis });

  const locate = (r: StackResource): Placement => {
    if (LOGICAL.test(r.type)) return nowhere("logical resource (state only, no workload or data)");
    if (r.type.startsWith("kubernetes:")) {
      const labels = strMap(r.props, "metadata.labels");
      const own = labels === UNKNOWN ? undefined : labels["fjord.io/region"];
      const ns = str(r.props, "metadata.namespace");
      if (typeof own === "string")
        return place(own, `label fjord.io/region on ${describe(r.type, r.name, r.props)}`);
      if (typeof ns === "string" && nsRegion.has(ns))
        return place(nsRegion.get(ns), `label fjord.io/region on Namespace ${ns}`);
      if (clusterJuris.length === 1 && clusterJuris[0])
        return {
          region: null,
          jurisdiction: clusterJuris[0],
          basis: "every cluster node is in this jurisdiction",
        };
      return nowhere(
        "no region label and the cluster's nodes are not all in one known jurisdiction",
      );
    }
    if (r.type.startsWith("command:local:"))
      return place(
        cfg.localRegion,
        cfg.localRegion
          ? "runs on the machine running pulumi (policy config localRegion)"
          : "runs on the machine running pulumi; set localRegion to record its region",
      );
    if (r.type.startsWith("docker:")) {
      if (dockerHost)
        return {
          region: dockerHost.region,
          jurisdiction: dockerHost.jurisdiction,
          basis: `remote Docker host: ${dockerHost.basis}`,
        };
      return place(
        cfg.localRegion,
        cfg.localRegion
          ? "local Docker daemon (policy config localRegion)"
          : "local Docker daemon; set localRegion to record its region",
      );
    }
    return nowhere("no residency information for this resource type");
  };
  const entries: EvidenceEntry[] = resources
    .filter((r) => !nodeEntries.some((e) => e.urn === r.urn))
    .map((r) => ({ urn: r.urn, type: r.type, name: r.name, ...locate(r) }));

  const backups = databaseBackups(resources).databases.map((db) => ({
    urn: db.r.urn,
    type: db.r.type,
    name: db.r.name,
    ...backupPlacement(db, place, nowhere),
  }));

  const all = [...nodeEntries, ...entries];
  const summary: Record<string, number> = {};
  for (const e of all) {
    const key = e.jurisdiction ?? (e.basis.startsWith("logical") ? "logical" : "unknown");
    summary[key] = (summary[key] ?? 0) + 1;
  }
  const placed = all.filter((e) => e.jurisdiction !== null);
  // A database that is backed up must show where; one without backups stores no copy anywhere.
  const copies = backups.filter((e) => e.region !== null || e.basis.startsWith("FJORD_BACKUP"));
  const compliant =
    nodeEntries.every((e) => e.jurisdiction !== null) &&
    placed.every((e) => j.isAllowed(e.jurisdiction!)) &&
    copies.every((e) => e.jurisdiction !== null && j.isAllowed(e.jurisdiction));
  return {
    generatedAt: now.toISOString(),
    stack: process.env.PULUMI_STACK ?? null,
    allowedJurisdictions: [...j.allowed].sort(),
    compliant,
    summary,
    nodes: nodeEntries,
    resources: entries,
    backups,
  };
}

/** Where a database's backups are stored, by the FJORD_BACKUP_* facts of its runner. */
function backupPlacement(
  db: DatabaseBackup,
  place: (region: string | null | undefined, basis: string) => Placement,
  nowhere: (basis: string) => Placement,
): Placement {
  const b = db.backup;
  if (b.kind === "off") return nowhere(`no backups: fjord.io/backup-off "${b.reason}"`);
  if (b.kind === "none") return nowhere("no backups: no backup runner and no reason given");
  if (b.kind === "unknown") return nowhere(`backups not placed at preview: ${b.why}`);
  const region = b.get("FJORD_BACKUP_REGION");
  const bucket = b.get("FJORD_BACKUP_BUCKET");
  const endpoint = b.get("FJORD_BACKUP_ENDPOINT");
  const where =
    typeof bucket === "string" && typeof endpoint === "string"
      ? `, bucket ${bucket} at ${endpoint}`
      : "";
  if (typeof region !== "string")
    return nowhere(
      `FJORD_BACKUP_REGION of ${b.runner} is ${region === UNKNOWN ? "computed at preview" : "missing"}${where}`,
    );
  return place(region, `FJORD_BACKUP_REGION of ${b.runner} on ${db.label}${where}`);
}

export function summaryLine(e: Evidence, file: string): string {
  const counts = Object.entries(e.summary)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  const unplaced = e.summary.unknown
    ? `; ${e.summary.unknown} resource(s) have no recorded region`
    : "";
  const perJuris: Record<string, number> = {};
  for (const b of e.backups) {
    const key = b.jurisdiction ?? (b.basis.startsWith("no backups") ? "none" : "unknown");
    perJuris[key] = (perJuris[key] ?? 0) + 1;
  }
  const backups = e.backups.length
    ? `, backups of ${e.backups.length} database(s) (${Object.entries(perJuris)
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(", ")})`
    : "";
  return `Residency evidence written to ${file}: ${e.nodes.length} node(s) and ${e.resources.length} other resource(s) (${counts})${backups}; ${e.compliant ? "every placed resource is in" : "NOT every resource is shown to be in"} ${e.allowedJurisdictions.join(", ")}${unplaced}.`;
}

export const residencyEvidence: StackValidationPolicy = stackPolicy<EvidenceConfig>({
  name: "residency-evidence",
  description:
    "Records the jurisdiction of every resource in a JSON evidence file; it never blocks.",
  enforcementLevel: "advisory",
  severity: "low",
  config: settings,
  scope: (rs) =>
    rs.some((r) => !r.type.startsWith("pulumi:"))
      ? undefined
      : "The stack has no resources to place.",
  validate: (resources, ctx) => {
    const evidence = buildEvidence(resources, ctx.config);
    const file = path.resolve(
      process.env.PWD ?? process.cwd(),
      process.env.FJORD_RESIDENCY_EVIDENCE ?? ctx.config.evidenceFile,
    );
    const line = summaryLine(evidence, file);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, `${JSON.stringify(evidence, null, 2)}\n`);
      process.stderr.write(`${line}\n`);
      if (ctx.config.reportSummary) ctx.note(line);
    } catch (e) {
      ctx.note(
        `The residency evidence could not be written to ${file} (${(e as Error).message}); set evidenceFile to a writable path.`,
      );
    }
  },
});
