/**
 * One database per service: no two services point at the same database, no service uses a
 * database another service owns, and no service owns two. Kubernetes via env + owner labels,
 * Docker via env + fjord.service labels.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { type StackResource, describe, setting, stackPolicy } from "./lib/policy";
import { DOCKER, dockerEnv, knownContainers, literalEnv } from "./lib/containers";
import { COMPONENT, kindOf, podOf, namespaceIn } from "./lib/k8s";
import { hostOf } from "./lib/endpoints";
import { UNKNOWN, list, str, strMap } from "./lib/values";

const OWNER = "fjord.io/owner-service";

interface DbConfig {
  hostEnvNames: string[];
  urlEnvNames: string[];
}

/** Canonical database address: "name.namespace" for cluster DNS, the bare host otherwise. */
export function canonicalDbHost(
  value: string,
  isUrl: boolean,
  namespace: string,
): string | undefined {
  const host = isUrl ? hostOf(value) : value.trim().replace(/:\d+$/, "").toLowerCase();
  if (!host) return undefined;
  const short = host.replace(/\.svc(\.cluster\.local)?$/, "");
  if (short !== host || /^[a-z0-9-]+\.[a-z0-9-]+$/.test(short)) return short;
  return /^[a-z0-9-]+$/.test(short) && namespace ? `${short}.${namespace}` : short;
}

interface Claim {
  service: string;
  r: StackResource;
  host: string;
  env: string;
}

/** The service a workload or container belongs to. */
function serviceOf(
  r: StackResource,
  labels: Record<string, string | typeof UNKNOWN> | typeof UNKNOWN,
): string {
  const l = labels === UNKNOWN ? {} : labels;
  for (const k of ["fjord.service", "app.kubernetes.io/name", "app"])
    if (typeof l[k] === "string") return l[k] as string;
  const n = r.type === DOCKER ? str(r.props, "name") : str(r.props, "metadata.name");
  return (typeof n === "string" ? n : r.name).replace(/-\d+$/, "");
}

export const oneDatabasePerService: StackValidationPolicy = stackPolicy<DbConfig>({
  name: "one-database-per-service",
  description:
    "Each service has its own database: no database is shared by two services or claimed twice.",
  severity: "high",
  config: {
    hostEnvNames: setting.strings("Env vars holding a database host.", [
      "DB_HOST",
      "DATABASE_HOST",
      "PGHOST",
      "POSTGRES_HOST",
      "MYSQL_HOST",
      "MARIADB_HOST",
    ]),
    urlEnvNames: setting.strings("Env vars holding a database URL.", ["DATABASE_URL"]),
  },
  scope: (rs) =>
    rs.some((r) => podOf(r.type, r.props) || r.type === DOCKER)
      ? undefined
      : "The stack runs no workloads.",
  validate: (resources, ctx, byUrn) => {
    const claims: Claim[] = [];
    const hidden: string[] = [];
    const { hostEnvNames, urlEnvNames } = ctx.config;
    const claim = (r: StackResource, service: string, ns: string, k: string, v: string) => {
      const isUrl = urlEnvNames.includes(k);
      if (!isUrl && !hostEnvNames.includes(k)) return;
      const host = canonicalDbHost(v, isUrl, ns);
      if (host) claims.push({ service, r, host, env: k });
    };
    for (const r of resources) {
      if (r.type === DOCKER) {
        const labels = list(r.props, "labels");
        const marks: Record<string, string> = {};
        for (const l of labels === UNKNOWN ? [] : labels) {
          const k = str(l, "label");
          const v = str(l, "value");
          if (typeof k === "string" && typeof v === "string") marks[k] = v;
        }
        if (marks["fjord.role"] === "database" || marks[COMPONENT] === "database") continue;
        const env = dockerEnv(r.props);
        if (env === UNKNOWN) {
          hidden.push(describe(r.type, r.name, r.props));
          continue;
        }
        for (const [k, v] of env) claim(r, serviceOf(r, marks), "", k, v);
        continue;
      }
      const pod = podOf(r.type, r.props);
      if (!pod || (pod.labels !== UNKNOWN && pod.labels[COMPONENT] === "database")) continue;
      const ns = namespaceIn(r, byUrn);
      for (const c of knownContainers(r.type, r.props))
        for (const [k, v] of literalEnv(c))
          if (ns === UNKNOWN && /^[a-z0-9-]+(:\d+)?$/.test(v) && hostEnvNames.includes(k)) {
            ctx.cannotVerify(
              `Cannot verify which database ${describe(r.type, r.name, r.props)} uses at preview: ${k} is a bare name and its namespace is computed.`,
              r.urn,
            );
          } else claim(r, serviceOf(r, pod.labels), typeof ns === "string" ? ns : "", k, v);
    }

    // Docker env lists carrying a generated password are computed as a whole at preview: one
    // note for all of them (they are checked with real values at `up`).
    if (hidden.length > 0) {
      ctx.cannotVerify(
        `Cannot verify which database ${hidden.length} Docker container(s) use at preview, because their environments are computed: ${hidden.join(", ")}.`,
      );
    }
    const byHost = new Map<string, Claim[]>();
    const shared = new Set<string>();
    for (const c of claims) byHost.set(c.host, [...(byHost.get(c.host) ?? []), c]);
    for (const [host, cs] of byHost) {
      const services = [...new Set(cs.map((c) => c.service))].sort();
      if (services.length > 1) {
        shared.add(host);
        const who = cs
          .filter((c, i) => cs.findIndex((x) => x.service === c.service) === i)
          .map((c) => `${describe(c.r.type, c.r.name, c.r.props)} (${c.env})`);
        ctx.violation(
          `Services ${services.join(" and ")} share the database at ${host}: ${who.join(", ")}; give each service its own database.`,
          cs[0]!.r.urn,
        );
      }
    }

    // Databases whose objects name their owner: a claim by another service, or an owner twice.
    const owned = new Map<string, string>();
    const dbSets = new Map<string, StackResource[]>();
    for (const r of resources) {
      const kind = kindOf(r.type);
      const labels = strMap(r.props, "metadata.labels");
      const owner = labels === UNKNOWN ? undefined : labels[OWNER];
      if (typeof owner !== "string") continue;
      const name = str(r.props, "metadata.name");
      const ns = namespaceIn(r, byUrn);
      if (kind === "Service" && typeof name === "string" && typeof ns === "string")
        owned.set(`${name}.${ns}`, owner);
      if (kind === "StatefulSet") dbSets.set(owner, [...(dbSets.get(owner) ?? []), r]);
    }
    for (const c of claims) {
      const owner = owned.get(c.host);
      if (owner && owner !== c.service && !shared.has(c.host)) {
        ctx.violation(
          `${describe(c.r.type, c.r.name, c.r.props)} (service ${c.service}) uses the database at ${c.host}, which belongs to service ${owner} (${OWNER}); give ${c.service} its own database.`,
          c.r.urn,
        );
      }
    }
    for (const [owner, sets] of dbSets) {
      if (sets.length > 1) {
        ctx.violation(
          `Service ${owner} is claimed as owner (${OWNER}) by ${sets.length} database StatefulSets (${sets.map((s) => describe(s.type, s.name, s.props)).join(", ")}); each service owns exactly one database.`,
          sets[1]!.urn,
        );
      }
    }
  },
});
