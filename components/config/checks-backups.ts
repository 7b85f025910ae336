/**
 * Backups: every database in prod has a way off the node, a stated reason where it has none,
 * a bucket in an allowed jurisdiction, and restore points its engine can reach.
 */
import { DEFAULT_REGIONS, expandJurisdictions } from "../../lib/regions";
import { problem as p, type Check } from "./check";
import type { SpecProblem } from "./errors";

const databases = (spec: Parameters<Check>[0]) =>
  spec.services.flatMap((s, i) => (s.database ? [{ s, i, db: s.database }] : []));

/** Turning backups off is a decision someone has to own, so it needs words. */
export const backupReasons: Check = (spec) => {
  const out: SpecProblem[] = [];
  if (!spec.backups.enabled && !spec.backups.reason) {
    out.push(
      p(
        ["backups", "reason"],
        "is required when backups.enabled is false: say why these databases need no backups (at least 10 characters)",
      ),
    );
  }
  for (const { i, db } of databases(spec)) {
    if (db.backup && !db.backup.enabled && !db.backup.reason) {
      out.push(
        p(
          ["services", i, "database", "backup", "reason"],
          "is required when backup.enabled is false: say why this database needs no backups",
        ),
      );
    }
  }
  return out;
};

/** Prod keeps a copy of every database off its node; dev may run without one. */
export const backupTarget: Check = (spec) => {
  if (!spec.backups.enabled || spec.backups.target) return [];
  const backedUp = databases(spec).filter(({ db }) => db.backup?.enabled !== false);
  if (backedUp.length === 0) return [];
  const names = backedUp.map(({ s }) => s.name).join(", ");
  const fix = `set fjord:backups.target to an S3-compatible bucket in Norway ({endpoint, bucket, region}), or set backups.enabled: false with backups.reason`;
  return [
    {
      ...p(
        ["backups", "target"],
        `is not set, so the databases of ${names} have no backups; ${fix}`,
      ),
      advisory: spec.environment !== "prod",
    },
  ];
};

/** Backups are personal data too: the bucket's region must be allowed like a node's. */
export const backupResidency: Check = (spec) => {
  const t = spec.backups.target;
  if (!t) return [];
  const known = { ...DEFAULT_REGIONS, ...spec.regions };
  const region = known[t.region];
  if (!region) {
    return [
      p(
        ["backups", "target", "region"],
        `"${t.region}" is not a known region; use one of ${Object.keys(known).join(", ")}, or add it under fjord:regions with its jurisdiction`,
      ),
    ];
  }
  if (expandJurisdictions(spec.allowedJurisdictions).has(region.jurisdiction)) return [];
  return [
    p(
      ["backups", "target", "region"],
      `"${t.region}" is in ${region.jurisdiction}, outside fjord:allowedJurisdictions (${spec.allowedJurisdictions.join(", ")}); backups hold the same personal data as the databases, so use a bucket in an allowed jurisdiction`,
    ),
  ];
};

/** A restore needs backups to read, and MariaDB has no point-in-time recovery in fjord. */
export const restoreSources: Check = (spec) =>
  databases(spec).flatMap(({ i, db }) => {
    if (!db.restore) return [];
    const key = ["services", i, "database", "restore", "from"];
    if (!spec.backups.target) {
      return [
        p(key, "needs fjord:backups.target, the bucket that holds the backups to restore from"),
      ];
    }
    if (!spec.backups.enabled || db.backup?.enabled === false) {
      return [
        p(
          key,
          "restores from this database's backups, but its backups are off (backups.enabled or database.backup.enabled is false); turn them on, or remove restore",
        ),
      ];
    }
    if (db.engine === "mysql" && db.restore.from !== "latest") {
      return [
        p(
          key,
          'must be "latest" for MariaDB: fjord restores its newest full backup (no binlog replay, so no point in time); see docs/backups.md',
        ),
      ];
    }
    return [];
  });
