import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  restrictedSecurityContext,
  serviceDns,
  serviceEndpointsName,
  spreadAcrossNodes,
  workloadLabels,
} from "./naming";

export interface MicroserviceArgs {
  /** Namespace to deploy into (one per service). */
  namespace: pulumi.Input<string>;
  /** Pinned container image. */
  image: string;
  /** Container port serving HTTP, health and metrics. */
  port: number;
  replicas: number;
  resources: { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
  healthPath: string;
  metricsPath: string;
  /** The `fjord.io/region` label. */
  region: string;
  /** Plain environment. */
  env?: Record<string, pulumi.Input<string>>;
  /** Environment read from Secrets, so no secret value is ever in the pod spec. */
  secretEnv?: Record<string, { secretName: pulumi.Input<string>; key: string }>;
  /** UID the container runs as. @default 10001 */
  runAsUser?: number;
  /** Extra Deployment annotations (e.g. the latency model the policy pack reads). @default {} */
  annotations?: Record<string, string>;
}

/** A stateless service: Deployment spread across nodes, Service, and PodDisruptionBudget. */
export class Microservice extends pulumi.ComponentResource {
  public readonly deploymentName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  /** host:port other workloads dial. */
  public readonly endpoint: pulumi.Output<string>;
  /** Headless Service whose name resolves to one address per ready pod (the gateway's upstreams). */
  public readonly podsServiceName: pulumi.Output<string>;

  constructor(name: string, args: MicroserviceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:kubernetes:Microservice", name, {}, opts);
    const { replicas, healthPath, metricsPath, region } = args;
    const runAsUser = args.runAsUser ?? 10001;
    const annotations = args.annotations ?? {};

    const labels = workloadLabels(name, "service", region);
    const selector = { app: name };
    const probe = (initialDelaySeconds: number, failureThreshold: number) => ({
      httpGet: { path: healthPath, port: "http" },
      initialDelaySeconds,
      periodSeconds: 10,
      timeoutSeconds: 2,
      failureThreshold,
    });
    const env = [
      ...Object.entries(args.env ?? {}).map(([k, value]) => ({ name: k, value })),
      ...Object.entries(args.secretEnv ?? {}).map(([k, ref]) => ({
        name: k,
        valueFrom: { secretKeyRef: { name: ref.secretName, key: ref.key } },
      })),
    ];

    // The Kubernetes names below are the service's DNS identity: renaming replaces them.
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: { name, namespace: args.namespace, labels, annotations },
        spec: {
          replicas,
          selector: { matchLabels: selector },
          // With one replica per node, a surge pod has nowhere to go: replace in place instead.
          strategy:
            replicas > 1
              ? { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } }
              : { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: {
            metadata: {
              labels,
              annotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(args.port),
                "prometheus.io/path": metricsPath,
              },
            },
            spec: {
              automountServiceAccountToken: false,
              ...(replicas > 1 ? { affinity: spreadAcrossNodes(name) } : {}),
              securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name,
                  image: args.image,
                  ports: [{ name: "http", containerPort: args.port }],
                  env,
                  resources: args.resources,
                  readinessProbe: probe(5, 3),
                  livenessProbe: probe(15, 6),
                  securityContext: restrictedSecurityContext(runAsUser),
                  volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
                },
              ],
              volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
            },
          },
        },
      },
      { parent: this },
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          type: "ClusterIP",
          selector,
          ports: [{ name: "http", port: args.port, targetPort: "http" }],
        },
      },
      { parent: this },
    );

    // Headless, ready pods only: the gateway makes each address its own upstream server, so its
    // passive health checks, retries and keepalive pools act per pod. The ClusterIP Service above
    // stays for every other caller. The name is the gateway's upstream: it must never change.
    const pods = new k8s.core.v1.Service(
      `${name}-pods`,
      {
        metadata: { name: serviceEndpointsName(name), namespace: args.namespace, labels },
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: false,
          selector,
          ports: [{ name: "http", port: args.port, targetPort: "http" }],
        },
      },
      { parent: this },
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name, namespace: args.namespace, labels },
        // One at a time: a node drain never takes more than one replica down.
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
      },
      { parent: this },
    );

    this.deploymentName = deployment.metadata.name;
    this.serviceName = service.metadata.name;
    this.podsServiceName = pods.metadata.name;
    this.endpoint = pulumi
      .all([service.metadata.name, service.metadata.namespace])
      .apply(([n, ns]) => `${serviceDns(n, ns)}:${args.port}`);
    this.registerOutputs({
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      endpoint: this.endpoint,
      podsServiceName: this.podsServiceName,
    });
  }
}
