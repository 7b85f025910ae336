import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { BoundGateway } from "../plan";
import { GATEWAY_TICKET_DIR, GATEWAY_TICKET_KEYS } from "../plan/gateway";
import { restrictedSecurityContext, spreadAcrossNodes, workloadLabels } from "./naming";

export interface ApiGatewayArgs {
  namespace: pulumi.Input<string>;
  /** The config plan and its rendered files; upstreams already point at Service DNS names. */
  gateway: BoundGateway;
  /** Pinned nginx or Traefik image, matching `plan.kind`. */
  image: string;
  /** Pinned nginx-prometheus-exporter image; required for nginx (stub_status is not Prometheus format). */
  exporterImage?: string;
  replicas: number;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  /**
   * PEM certificate and key (ECDSA), and optionally an RSA fallback pair, stored in one TLS Secret;
   * omit when `tlsSecretName` names an existing one.
   */
  certificate?: {
    certPem: pulumi.Input<string>;
    keyPem: pulumi.Input<string>;
    rsa?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
  };
  /** Base64 session ticket keys (SessionTicketKeys), kept in a Secret of their own. */
  ticketKeys: { current: pulumi.Input<string>; previous: pulumi.Input<string> };
  /** Existing `kubernetes.io/tls` Secret (for example from cert-manager). */
  tlsSecretName?: string;
  /** The `fjord.io/region` label. */
  region: string;
  /** Extra Deployment annotations (e.g. route budgets the policy pack reads). @default {} */
  annotations?: Record<string, string>;
}

/** The single public entry point: nginx or Traefik v3 with fjord's rendered config. */
export class ApiGateway extends pulumi.ComponentResource {
  public readonly serviceName: pulumi.Output<string>;
  /** The rendered config files, by file name. */
  public readonly config: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ApiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:kubernetes:ApiGateway", name, {}, opts);
    const { replicas, region } = args;
    const { plan, files, configDir } = args.gateway;
    const annotations = args.annotations ?? {};
    if (!args.certificate && !args.tlsSecretName) {
      throw new pulumi.ResourceError(
        `fjord: gateway '${name}' needs a certificate or an existing TLS Secret (fjord:gateway.tls)`,
        this,
      );
    }
    if (files.metrics.exporterArgs && !args.exporterImage) {
      throw new pulumi.ResourceError(
        `fjord: gateway '${name}' runs nginx and needs an exporter image (fjord:images.nginxExporter)`,
        this,
      );
    }
    const app = "gateway";
    const labels = {
      ...workloadLabels(app, "gateway", region),
      "fjord.io/gateway-kind": plan.kind,
    };

    const tlsSecretName: pulumi.Input<string> = args.certificate
      ? new k8s.core.v1.Secret(
          `${name}-tls`,
          {
            metadata: { name: "gateway-tls", namespace: args.namespace, labels },
            type: "kubernetes.io/tls",
            stringData: {
              "tls.crt": args.certificate.certPem,
              "tls.key": pulumi.secret(args.certificate.keyPem),
              ...(args.certificate.rsa
                ? {
                    "rsa.crt": args.certificate.rsa.certPem,
                    "rsa.key": pulumi.secret(args.certificate.rsa.keyPem),
                  }
                : {}),
            },
          },
          { parent: this },
        ).metadata.name
      : args.tlsSecretName!;

    if (plan.tls.rsaFallback && !args.certificate?.rsa) {
      throw new pulumi.ResourceError(
        `fjord: gateway '${name}' renders an RSA fallback certificate but was given no RSA pair`,
        this,
      );
    }
    // Every replica mounts the same keys, so a ticket resumes on any replica and after a restart.
    const [currentKey, previousKey] = GATEWAY_TICKET_KEYS;
    const tickets = new k8s.core.v1.Secret(
      `${name}-tickets`,
      {
        metadata: { name: "gateway-tls-tickets", namespace: args.namespace, labels },
        type: "Opaque",
        data: {
          [currentKey]: pulumi.secret(args.ticketKeys.current),
          [previousKey]: pulumi.secret(args.ticketKeys.previous),
        },
      },
      { parent: this },
    );

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: "gateway-config", namespace: args.namespace, labels },
        data: files.files,
      },
      { parent: this },
    );

    const { http, https } = plan.listen;
    const internalPort = plan.metrics.port;
    const exporter = files.metrics.exporterArgs
      ? [
          {
            name: "exporter",
            image: args.exporterImage,
            args: files.metrics.exporterArgs,
            ports: [{ name: "metrics", containerPort: files.metrics.port }],
            resources: {
              requests: { cpu: "10m", memory: "16Mi" },
              limits: { cpu: "100m", memory: "32Mi" },
            },
            securityContext: restrictedSecurityContext(65534),
          },
        ]
      : [];
    const probe = {
      httpGet: { path: files.healthPath, port: "internal" },
      periodSeconds: 5,
      timeoutSeconds: 2,
    };
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name: app, namespace: args.namespace, labels, annotations },
        spec: {
          replicas,
          selector: { matchLabels: { app } },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
          template: {
            metadata: {
              labels,
              annotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(files.metrics.port),
                "prometheus.io/path": files.metrics.path,
                "fjord.io/config-hash": files.hash,
              },
            },
            spec: {
              automountServiceAccountToken: false,
              ...(replicas > 1 ? { affinity: spreadAcrossNodes(app) } : {}),
              securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: plan.kind,
                  image: args.image,
                  command: files.command,
                  ports: [
                    { name: "http", containerPort: http },
                    { name: "https", containerPort: https },
                    ...(plan.http3
                      ? [{ name: "http3", containerPort: https, protocol: "UDP" }]
                      : []),
                    { name: "internal", containerPort: internalPort },
                  ],
                  resources: args.resources,
                  readinessProbe: probe,
                  livenessProbe: { ...probe, initialDelaySeconds: 10, failureThreshold: 6 },
                  securityContext: restrictedSecurityContext(files.uid),
                  volumeMounts: [
                    { name: "config", mountPath: configDir, readOnly: true },
                    { name: "tls", mountPath: `${configDir}/tls`, readOnly: true },
                    { name: "tickets", mountPath: GATEWAY_TICKET_DIR, readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
                ...exporter,
              ],
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                { name: "tls", secret: { secretName: tlsSecretName } },
                { name: "tickets", secret: { secretName: tickets.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
              ],
            },
          },
        },
      },
      { parent: this },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name: app, namespace: args.namespace, labels },
        spec: {
          type: "LoadBalancer",
          // Keep the client's address: rate limiting and X-Real-IP are per client IP.
          externalTrafficPolicy: "Local",
          selector: { app },
          ports: [
            { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
            { name: "https", port: 443, targetPort: "https", protocol: "TCP" },
            ...(plan.http3
              ? [{ name: "http3", port: 443, targetPort: "http3", protocol: "UDP" }]
              : []),
          ],
        },
      },
      { parent: this },
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name: app, namespace: args.namespace, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app } } },
      },
      { parent: this },
    );

    this.serviceName = service.metadata.name;
    this.config = pulumi.output(files.files);
    this.registerOutputs({ serviceName: this.serviceName, config: this.config });
  }
}
