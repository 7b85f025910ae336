/**
 * The platform plan: every decision about a stack that does not depend on where it runs, made
 * once from the parsed Spec. The Kubernetes and Docker targets consume the same plan and only
 * turn it into resources; what differs per target (how a host is named, where the gateway finds
 * a service) comes in as a small binding, never as a second copy of a rule.
 */
import type { Database, Service, Spec } from "../config";
import { assertNever } from "../../lib/never";
import { databaseEnv, planDatabase, type CredentialKey, type DatabasePlan } from "./database";
import {
  gatewayFiles,
  gatewayPlanFromSpec,
  GATEWAY_CONFIG_DIR,
  GATEWAY_RSA_FILES,
  GATEWAY_TICKET_DIR,
  GATEWAY_TICKET_KEYS,
  GATEWAY_TLS_FILES,
  type GatewayFiles,
  type GatewayKind,
  type GatewayPlan,
  type GatewayTargetBinding,
} from "./gateway";
import { latencyAnnotations } from "./latency";
import { observabilityModel, type ObservabilityModel } from "./observability";
import { databaseApp, serviceNamespace } from "./naming";

export { databaseApp, serviceEndpointsName, serviceNamespace, SYSTEM_NAMESPACE } from "./naming";
export type { CredentialKey, DatabasePlan, EnvVar } from "./database";
export type { GatewayFiles, GatewayPlan } from "./gateway";
export type { ObservabilityModel } from "./observability";

type Resources = Service["resources"];

/** One service's private database. */
export interface ServiceDatabasePlan {
  /** The one service that may connect. */
  owner: string;
  /** Workload name on Kubernetes (`<owner>-db`), and the database component's name on both. */
  app: string;
  /** The resolved database spec: image, memory, cpu, storage. */
  spec: Database;
  /** Tuning, config file, paths, ports, credentials and env (see planDatabase). */
  plan: DatabasePlan;
  /** Metrics exporter image for this engine. */
  exporterImage: string;
}

export interface ServicePlan {
  /** The resolved service spec (schema defaults already filled in). */
  spec: Service;
  /** Kubernetes namespace, and the namespace label of its log streams on Docker. */
  namespace: string;
  database?: ServiceDatabasePlan;
  /** Services that call this one, in spec order: the only ones its network lets in. */
  callers: string[];
  /** The latency model the policy pack reads, for the service's workload. */
  annotations: Record<string, string>;
}

export interface GatewayPlatformPlan {
  kind: GatewayKind;
  /** Pinned nginx or Traefik image, matching `kind`. */
  image: string;
  /** nginx-prometheus-exporter (nginx only: stub_status is not Prometheus format). */
  exporterImage?: string;
  replicas: number;
  resources: Resources;
  /** Route budgets and region facts the policy pack reads. */
  annotations: Record<string, string>;
}

export interface PlatformPlan {
  /** The parsed spec, for settings a target passes through unchanged (images, ports). */
  spec: Spec;
  stack: string;
  region: string;
  /** Jurisdiction of the stack's region. */
  jurisdiction: string;
  services: ServicePlan[];
  gateway: GatewayPlatformPlan;
  observability: ObservabilityModel;
}

/** What a target says about where the gateway reaches services; paths come from the plan. */
export type GatewayBinding = Omit<
  GatewayTargetBinding,
  "certFile" | "keyFile" | "rsaFallback" | "sessionTicketKeyFiles"
> & {
  /** The target mounts an RSA pair beside the ECDSA one (fjord made both). */
  rsaFallback: boolean;
};

/** The gateway's config plan and rendered files, bound to one target's addresses. */
export interface BoundGateway {
  plan: GatewayPlan;
  files: GatewayFiles;
  /** Where the files are placed; the TLS pair sits in `<configDir>/tls`. */
  configDir: string;
}

function exporterImage(spec: Spec, db: Database): string {
  switch (db.engine) {
    case "postgres":
      return spec.images.postgresExporter;
    case "mysql":
      return spec.images.mysqlExporter;
    default:
      return assertNever(db.engine, "database engine");
  }
}

function gatewayImages(spec: Spec): Pick<GatewayPlatformPlan, "image" | "exporterImage"> {
  const kind = spec.gateway.kind;
  switch (kind) {
    case "nginx":
      return { image: spec.images.nginx, exporterImage: spec.images.nginxExporter };
    case "traefik":
      return { image: spec.images.traefik };
    default:
      return assertNever(kind, "gateway kind");
  }
}

/** The plan for a parsed spec: pure, so both targets (and the tests) get the same one. */
export function planPlatform(spec: Spec): PlatformPlan {
  const region = spec.regions[spec.region];
  // parseSpec refuses an unknown region; this guards a Spec assembled by hand.
  if (!region) throw new Error(`fjord:region: "${spec.region}" is not in the region catalogue`);
  const latency = latencyAnnotations(spec);
  const services = spec.services.map((s): ServicePlan => {
    const database: ServiceDatabasePlan | undefined = s.database && {
      owner: s.name,
      app: databaseApp(s.name),
      spec: s.database,
      plan: planDatabase(s.database),
      exporterImage: exporterImage(spec, s.database),
    };
    return {
      spec: s,
      namespace: serviceNamespace(s.name),
      ...(database ? { database } : {}),
      callers: callersOf(spec.services, s.name),
      annotations: latency.services[s.name] ?? {},
    };
  });
  return {
    spec,
    stack: spec.stack,
    region: spec.region,
    jurisdiction: region.jurisdiction,
    services,
    gateway: {
      kind: spec.gateway.kind,
      ...gatewayImages(spec),
      replicas: spec.gateway.replicas,
      resources: spec.gateway.resources,
      annotations: latency.gateway,
    },
    observability: observabilityModel(spec),
  };
}

/**
 * A service's environment: its own plain env, then the DB_* variables when it has a database.
 * `databaseHost` is the target's naming rule for the database (a Service DNS name on Kubernetes,
 * a container name on Docker). Secret variables name a credential; each target turns that into
 * its own secret reference.
 */
export function serviceEnv(
  svc: ServicePlan,
  databaseHost: (db: ServiceDatabasePlan) => string,
): { env: Record<string, string>; secretEnv: Record<string, CredentialKey> } {
  const db = svc.database && databaseEnv(svc.database.plan, databaseHost(svc.database));
  return { env: { ...svc.spec.env, ...db?.env }, secretEnv: { ...db?.secretEnv } };
}

/** The gateway plan for one target: the spec's settings, the target's upstream addresses. */
export function bindGateway(platform: PlatformPlan, bind: GatewayBinding): BoundGateway {
  const { rsaFallback, ...rest } = bind;
  const plan = gatewayPlanFromSpec(platform.spec, {
    ...rest,
    ...GATEWAY_TLS_FILES,
    ...(rsaFallback ? { rsaFallback: GATEWAY_RSA_FILES } : {}),
    // Both targets mount the ticket Secret: resumption survives a restart or a change of replica.
    sessionTicketKeyFiles: GATEWAY_TICKET_KEYS.map((k) => `${GATEWAY_TICKET_DIR}/${k}`),
  });
  return { plan, files: gatewayFiles(plan, GATEWAY_CONFIG_DIR), configDir: GATEWAY_CONFIG_DIR };
}

/** Services that call `name` synchronously: who may reach it, on every target. */
export function callersOf(services: readonly Service[], name: string): string[] {
  return services.filter((c) => c.calls.some((call) => call.service === name)).map((c) => c.name);
}
