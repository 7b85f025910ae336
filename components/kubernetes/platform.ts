import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { Spec } from "../config";
import { bindGateway, planPlatform, serviceEnv } from "../plan";
import { SelfSignedCertificate, SessionTicketKeys } from "../tls";
import { Microservice } from "./microservice";
import { type BackupKeys, ServiceDatabase } from "./database";
import { ApiGateway } from "./gateway";
import { Observability } from "./observability";
import {
  MANAGED_BY,
  SYSTEM_NAMESPACE,
  serviceDns,
  serviceEndpointsName,
  serviceNamespace,
} from "./naming";
import { allowDns, allowEgress, allowIngress, allowScrape, defaultDeny } from "./network";

export interface PlatformArgs {
  /** The validated stack spec. */
  spec: Spec;
  /** The object store's keys (secret config), when fjord:backups.target is set. */
  backupKeys?: BackupKeys;
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
    const platform = planPlatform(spec);
    const { region, jurisdiction } = platform;
    const child = { parent: this };

    const namespace = (ns: string) =>
      new k8s.core.v1.Namespace(
        `${name}-ns-${ns}`,
        {
          metadata: {
            name: ns,
            labels: {
              ...MANAGED_BY,
              "fjord.io/region": region,
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
    for (const s of platform.services) namespaces.set(s.namespace, namespace(s.namespace));
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

    const byName = new Map(platform.services.map((s) => [s.spec.name, s]));
    const databases: Record<string, pulumi.Output<string>> = {};
    for (const svc of platform.services) {
      const s = svc.spec;
      const ns = namespaces.get(svc.namespace)!;
      const nsName = ns.metadata.name;
      const svcOpts = { parent: this, dependsOn: [ns] };
      const database = svc.database;
      const db = database
        ? new ServiceDatabase(
            database.app,
            {
              namespace: nsName,
              database,
              region: s.region,
              ...(database.plan.backup && args.backupKeys ? { backupKeys: args.backupKeys } : {}),
            },
            svcOpts,
          )
        : undefined;
      if (db) databases[s.name] = db.endpoint;
      const env = serviceEnv(svc, (d) => serviceDns(d.app, svc.namespace));
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
          // The latency model, on the workloads, for the policy pack (policies/latency.ts).
          annotations: svc.annotations,
          env: env.env,
          ...(db
            ? {
                secretEnv: Object.fromEntries(
                  Object.entries(env.secretEnv).map(([k, key]) => [
                    k,
                    { secretName: db.secretName, key },
                  ]),
                ),
              }
            : {}),
        },
        svcOpts,
      );

      const from = [
        ...(s.route ? [{ namespace: SYSTEM_NAMESPACE, app: "gateway" }] : []),
        ...svc.callers.map((c) => ({ namespace: byName.get(c)!.namespace, app: c })),
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
        ...(database
          ? [{ namespace: svc.namespace, app: database.app, port: database.plan.port }]
          : []),
        ...s.calls.map((c) => {
          const callee = byName.get(c.service)!;
          return { namespace: callee.namespace, app: callee.spec.name, port: callee.spec.port };
        }),
      ];
      if (egress.length > 0) allow("egress", allowEgress(s.name, egress));
    }

    const cert =
      spec.gateway.tls.certificate === "self-signed"
        ? new SelfSignedCertificate(
            `${name}-gateway-cert`,
            { domains: spec.gateway.domains, rsaFallback: true },
            child,
          )
        : undefined;
    const ticketKeys = new SessionTicketKeys(
      `${name}-gateway-tickets`,
      { generation: spec.gateway.tls.ticketKeyGeneration },
      child,
    );
    const gw = bindGateway(platform, {
      // The ClusterIP name only while no pod is ready; otherwise one server per ready pod.
      servers: (s) => [{ host: serviceDns(s.name, serviceNamespace(s.name)), port: s.port }],
      endpoints: (s) => ({
        host: serviceDns(serviceEndpointsName(s.name), serviceNamespace(s.name)),
        port: s.port,
      }),
      publicHttpsPort: 443,
      rsaFallback: cert?.rsa !== undefined,
    });
    const gateway = new ApiGateway(
      `${name}-gateway`,
      {
        namespace: systemNs.metadata.name,
        gateway: gw,
        image: platform.gateway.image,
        ...(platform.gateway.exporterImage
          ? { exporterImage: platform.gateway.exporterImage }
          : {}),
        replicas: platform.gateway.replicas,
        resources: platform.gateway.resources,
        region,
        annotations: platform.gateway.annotations,
        ...(cert
          ? { certificate: { certPem: cert.certPem, keyPem: cert.keyPem, rsa: cert.rsa } }
          : {}),
        ticketKeys: { current: ticketKeys.current, previous: ticketKeys.previous },
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
        {
          ports: [
            ...[gw.plan.listen.http, gw.plan.listen.https].map((port) => ({
              protocol: "TCP",
              port,
            })),
            // HTTP/3 arrives on UDP at the HTTPS container port (the Service's "http3" port).
            ...(gw.plan.http3 ? [{ protocol: "UDP", port: gw.plan.listen.https }] : []),
          ],
        },
      ],
    });
    gwPolicy(
      "egress",
      allowEgress(
        "gateway",
        platform.services
          .filter((s) => s.spec.route)
          .map((s) => ({ namespace: s.namespace, app: s.spec.name, port: s.spec.port })),
      ),
    );

    const observability = spec.observability.enabled
      ? new Observability(
          `${name}-observability`,
          {
            platform,
            namespace: systemNs.metadata.name,
            gatewayMetricsPort: gw.files.metrics.port,
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
