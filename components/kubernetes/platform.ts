import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Service, Spec } from "../config";
import { gatewayPlanFromSpec } from "../plan/gateway/from-config";
import { gatewayFiles } from "../plan/gateway/files";
import { planDatabase } from "../plan/database";
import { latencyAnnotations } from "../plan/latency/annotations";
import { SelfSignedCertificate } from "../tls";
import { Microservice } from "./microservice";
import { ServiceDatabase } from "./database";
import { ApiGateway } from "./gateway";
import { Observability } from "./observability";
import { MANAGED_BY, SYSTEM_NAMESPACE, serviceDns, serviceNamespace } from "./naming";
import { allowDns, allowEgress, allowIngress, allowScrape, defaultDeny } from "./network";

export interface PlatformArgs {
  /** The validated stack spec. */
  spec: Spec;
}

/**
 * The whole topology on Kubernetes: a namespace per service (default-deny), each service with its
 * own database, and the gateway in the system namespace. Pass the cluster's provider in `opts`.
 */
export class Platform extends pulumi.ComponentResource {
  public readonly namespaces: pulumi.Output<string[]>;
  public readonly gatewayService: pulumi.Output<string>;
  /** Service name → in-cluster endpoint of its database. */
  public readonly databases: pulumi.Output<Record<string, string>>;
  /** The generated Grafana admin password (secret); undefined when Grafana is off. */
  public readonly grafanaAdminPassword: pulumi.Output<string | undefined>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:kubernetes:Platform", name, {}, opts);
    const spec = args.spec;
    const jurisdiction = spec.regions[spec.region].jurisdiction;
    const child = { parent: this };

    const namespace = (ns: string) =>
      new k8s.core.v1.Namespace(
        `${name}-ns-${ns}`,
        {
          metadata: {
            name: ns,
            labels: {
              ...MANAGED_BY,
              "fjord.io/region": spec.region,
              "fjord.io/jurisdiction": jurisdiction,
              // The API server itself rejects privileged or root pods here.
              "pod-security.kubernetes.io/enforce": "restricted",
            },
          },
        },
        child,
      );
    const systemNs = namespace(SYSTEM_NAMESPACE);
    const namespaces = new Map<string, k8s.core.v1.Namespace>([[SYSTEM_NAMESPACE, systemNs]]);
    for (const s of spec.services)
      namespaces.set(serviceNamespace(s.name), namespace(serviceNamespace(s.name)));
    for (const [ns, res] of namespaces) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${ns}-default-deny`,
        {
          metadata: { name: "default-deny", namespace: res.metadata.name, labels: MANAGED_BY },
          spec: defaultDeny(),
        },
        child,
      );
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${ns}-allow-dns`,
        {
          metadata: { name: "allow-dns", namespace: res.metadata.name, labels: MANAGED_BY },
          spec: allowDns(),
        },
        child,
      );
    }

    const callersOf = (svc: Service) =>
      spec.services.filter((s) => s.calls.some((c) => c.service === svc.name));
    const databases: Record<string, pulumi.Output<string>> = {};
    // The latency model, on the workloads, for the policy pack (policies/latency.ts).
    const latency = latencyAnnotations(spec);
    for (const s of spec.services) {
      const ns = namespaces.get(serviceNamespace(s.name))!;
      const nsName = ns.metadata.name;
      const svcOpts = { parent: this, dependsOn: [ns] };
      let db: ServiceDatabase | undefined;
      if (s.database) {
        db = new ServiceDatabase(
          `${s.name}-db`,
          {
            namespace: nsName,
            owner: s.name,
            database: s.database,
            exporterImage:
              s.database.engine === "postgres"
                ? spec.images.postgresExporter
                : spec.images.mysqlExporter,
            region: s.region,
          },
          svcOpts,
        );
        databases[s.name] = db.endpoint;
      }
      const dbPlan = s.database ? planDatabase(s.database) : undefined;
      new Microservice(
        s.name,
        {
          namespace: nsName,
          image: s.image,
          port: s.port,
          replicas: s.replicas,
          resources: s.resources,
          healthPath: s.healthPath,
          metricsPath: s.metricsPath,
          region: s.region,
          annotations: latency.services[s.name],
          env: {
            ...s.env,
            ...(s.database && dbPlan
              ? {
                  DB_ENGINE: s.database.engine,
                  DB_HOST: serviceDns(`${s.name}-db`, serviceNamespace(s.name)),
                  DB_PORT: String(dbPlan.port),
                  DB_NAME: s.database.name,
                  DB_USER: s.database.name,
                }
              : {}),
          },
          ...(db
            ? { secretEnv: { DB_PASSWORD: { secretName: db.secretName, key: "password" } } }
            : {}),
        },
        svcOpts,
      );

      const from = [
        ...(s.route ? [{ namespace: SYSTEM_NAMESPACE, app: "gateway" }] : []),
        ...callersOf(s).map((c) => ({ namespace: serviceNamespace(c.name), app: c.name })),
      ];
      const allow = (role: string, body: k8s.types.input.networking.v1.NetworkPolicySpec) =>
        new k8s.networking.v1.NetworkPolicy(
          `${s.name}-np-${role}`,
          {
            metadata: { name: `${s.name}-${role}`, namespace: nsName, labels: MANAGED_BY },
            spec: body,
          },
          svcOpts,
        );
      if (from.length > 0) allow("ingress", allowIngress(s.name, s.port, from));
      allow("scrape", allowScrape(s.name, s.port));
      const egress = [
        ...(dbPlan
          ? [{ namespace: serviceNamespace(s.name), app: `${s.name}-db`, port: dbPlan.port }]
          : []),
        ...s.calls.map((c) => {
          const callee = spec.services.find((x) => x.name === c.service)!;
          return { namespace: serviceNamespace(callee.name), app: callee.name, port: callee.port };
        }),
      ];
      if (egress.length > 0) allow("egress", allowEgress(s.name, egress));
    }

    const cert =
      spec.gateway.tls.certificate === "self-signed"
        ? new SelfSignedCertificate(
            `${name}-gateway-cert`,
            { domains: spec.gateway.domains },
            child,
          )
        : undefined;
    const plan = gatewayPlanFromSpec(spec, {
      servers: (s) => [{ host: serviceDns(s.name, serviceNamespace(s.name)), port: s.port }],
      certFile: "/etc/fjord/tls/tls.crt",
      keyFile: "/etc/fjord/tls/tls.key",
      publicHttpsPort: 443,
    });
    const gateway = new ApiGateway(
      `${name}-gateway`,
      {
        namespace: systemNs.metadata.name,
        plan,
        image: spec.gateway.kind === "nginx" ? spec.images.nginx : spec.images.traefik,
        exporterImage: spec.images.nginxExporter,
        replicas: spec.gateway.replicas,
        resources: spec.gateway.resources,
        region: spec.region,
        annotations: latency.gateway,
        ...(cert ? { certificate: { certPem: cert.certPem, keyPem: cert.keyPem } } : {}),
        ...(spec.gateway.tls.secretName ? { tlsSecretName: spec.gateway.tls.secretName } : {}),
      },
      { parent: this, dependsOn: [systemNs] },
    );
    const gwPolicy = (role: string, body: k8s.types.input.networking.v1.NetworkPolicySpec) =>
      new k8s.networking.v1.NetworkPolicy(
        `${name}-gateway-np-${role}`,
        {
          metadata: {
            name: `gateway-${role}`,
            namespace: systemNs.metadata.name,
            labels: MANAGED_BY,
          },
          spec: body,
        },
        { parent: this, dependsOn: [systemNs] },
      );
    // The gateway is the one workload that accepts traffic from anywhere.
    gwPolicy("ingress", {
      podSelector: { matchLabels: { app: "gateway" } },
      policyTypes: ["Ingress"],
      ingress: [
        { ports: [plan.listen.http, plan.listen.https].map((port) => ({ protocol: "TCP", port })) },
      ],
    });
    gwPolicy(
      "egress",
      allowEgress(
        "gateway",
        spec.services
          .filter((s) => s.route)
          .map((s) => ({ namespace: serviceNamespace(s.name), app: s.name, port: s.port })),
      ),
    );

    const observability = spec.observability.enabled
      ? new Observability(
          `${name}-observability`,
          {
            spec,
            namespace: systemNs.metadata.name,
            gatewayMetricsPort: gatewayFiles(plan, "/etc/fjord").metrics.port,
          },
          { parent: this, dependsOn: [systemNs] },
        )
      : undefined;

    this.namespaces = pulumi.all([...namespaces.values()].map((n) => n.metadata.name));
    this.gatewayService = gateway.serviceName;
    this.databases = pulumi.all(databases);
    this.grafanaAdminPassword = observability?.grafanaAdminPassword ?? pulumi.output(undefined);
    this.registerOutputs({
      namespaces: this.namespaces,
      gatewayService: this.gatewayService,
      databases: this.databases,
      grafanaAdminPassword: this.grafanaAdminPassword,
    });
  }
}
