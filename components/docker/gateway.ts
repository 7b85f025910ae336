import * as pulumi from "@pulumi/pulumi";
import type { BoundGateway } from "../plan";
import { GATEWAY_RSA_FILES, GATEWAY_TICKET_DIR, GATEWAY_TICKET_KEYS } from "../plan/gateway";
import { fjordContainer, type Limits, type UploadFile } from "./container";
import type { LogShipping } from "./logging";

export interface ApiGatewayArgs {
  stack: string;
  /** Container name; Prometheus scrapes it by this name. */
  containerName: string;
  /** The config plan and its rendered files; upstreams already name the replicas' containers. */
  gateway: BoundGateway;
  /** Image ID of nginx or Traefik, matching `plan.kind`. */
  image: pulumi.Input<string>;
  /** Image ID of nginx-prometheus-exporter; required for nginx. @default none */
  exporterImage?: pulumi.Input<string>;
  /** Networks: `front` first (it publishes the ports), then each routed service's network. */
  networks: pulumi.Input<string>[];
  resources: { requests: Limits; limits: Limits };
  /**
   * PEM certificate and key (ECDSA), and optionally an RSA fallback pair; keys are uploaded
   * readable by the proxy's user only.
   */
  certificate: {
    certPem: pulumi.Input<string>;
    keyPem: pulumi.Input<string>;
    rsa?: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
  };
  /** Base64 session ticket keys (SessionTicketKeys), uploaded readable by the proxy's user only. */
  ticketKeys: { current: pulumi.Input<string>; previous: pulumi.Input<string> };
  /** Host ports for plain HTTP (redirect only) and HTTPS. */
  publish: { http: number; https: number };
  /** Host address the ports are published on. */
  publishAddress: string;
  /** Ship logs to this forward-protocol agent (see ./logging.ts). @default json-file only */
  logShipping?: LogShipping;
}

/** The single entry point on Docker: nginx or Traefik with the same rendered files as Kubernetes. */
export class ApiGateway extends pulumi.ComponentResource {
  public readonly containerName: pulumi.Output<string>;
  /** Where Prometheus scrapes the gateway's metrics. */
  public readonly metricsEndpoint: pulumi.Output<string>;
  /** https://<address>:<port>/ on the host. */
  public readonly url: pulumi.Output<string>;
  /** The rendered config files, by file name. */
  public readonly config: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: ApiGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fjord:docker:ApiGateway", name, {}, opts);
    const address = args.publishAddress;
    const { plan, files, configDir } = args.gateway;
    const { http, https } = plan.listen;
    if (files.metrics.exporterArgs && !args.exporterImage) {
      throw new pulumi.ResourceError(
        `fjord: gateway '${name}' runs nginx and needs an exporter image (fjord:images.nginxExporter)`,
        this,
      );
    }

    if (plan.tls.rsaFallback && !args.certificate.rsa) {
      throw new pulumi.ResourceError(
        `fjord: gateway '${name}' renders an RSA fallback certificate but was given no RSA pair`,
        this,
      );
    }
    const secretFile = (content: pulumi.Input<string>): UploadFile => ({
      content: pulumi.secret(content),
      mode: "0400",
      owner: files.uid,
    });
    const secretBinary = (base64: pulumi.Input<string>): UploadFile => ({
      contentBase64: pulumi.secret(base64),
      mode: "0400",
      owner: files.uid,
    });
    const rsa = args.certificate.rsa;
    const [currentKey, previousKey] = GATEWAY_TICKET_KEYS;
    const uploads: Record<string, UploadFile> = {
      ...Object.fromEntries(
        Object.entries(files.files).map(([f, content]) => [`${configDir}/${f}`, { content }]),
      ),
      [`${configDir}/tls/tls.crt`]: { content: args.certificate.certPem },
      [`${configDir}/tls/tls.key`]: secretFile(args.certificate.keyPem),
      ...(rsa
        ? {
            [GATEWAY_RSA_FILES.certFile]: { content: rsa.certPem },
            [GATEWAY_RSA_FILES.keyFile]: secretFile(rsa.keyPem),
          }
        : {}),
      // Binary keys: uploaded from base64, so no byte is lost to a text encoding.
      [`${GATEWAY_TICKET_DIR}/${currentKey}`]: secretBinary(args.ticketKeys.current),
      [`${GATEWAY_TICKET_DIR}/${previousKey}`]: secretBinary(args.ticketKeys.previous),
    };
    // The rendered temp paths sit directly in /tmp, so nginx needs no directory made for it.
    const entrypoint = files.command;
    const health = `http://127.0.0.1:${plan.metrics.port}${files.healthPath}`;

    const proxy = fjordContainer(
      `${name}-proxy`,
      {
        name: args.containerName,
        stack: args.stack,
        role: "gateway",
        process: plan.kind,
        logShipping: args.logShipping,
        image: args.image,
        networks: args.networks,
        limits: args.resources.limits,
        reservation: args.resources.requests.memory,
        user: files.uid,
        entrypoint,
        files: uploads,
        tmpfs: { "/tmp": `rw,nosuid,nodev,size=256m,uid=${files.uid},gid=${files.uid},mode=1777` },
        publish: {
          address,
          ports: [
            { internal: http, external: args.publish.http },
            { internal: https, external: args.publish.https },
            // HTTP/3: Traefik's websecure entry point listens on UDP at the same port.
            ...(plan.http3
              ? [{ internal: https, external: args.publish.https, protocol: "udp" as const }]
              : []),
          ],
        },
        health: ["CMD", "wget", "-q", "-O", "/dev/null", health],
        healthInterval: "5s",
      },
      { parent: this },
    );

    if (files.metrics.exporterArgs) {
      // Shares the proxy's network namespace, like the Kubernetes sidecar: it reads stub_status on
      // 127.0.0.1 and is scraped at the proxy's name.
      fjordContainer(
        `${name}-exporter`,
        {
          name: `${args.containerName}-exporter`,
          stack: args.stack,
          role: "gateway-exporter",
          process: "exporter",
          logShipping: args.logShipping,
          image: args.exporterImage!,
          networks: [],
          shareNetworkWith: proxy.id,
          limits: { cpu: "100m", memory: "32Mi" },
          user: 65534,
          command: files.metrics.exporterArgs,
          readOnly: true,
        },
        { parent: this, dependsOn: [proxy] },
      );
    }

    this.containerName = proxy.name;
    // nginx: the exporter listens in the proxy's namespace; Traefik serves metrics itself.
    this.metricsEndpoint = pulumi.output(`${args.containerName}:${files.metrics.port}`);
    this.url = pulumi.output(`https://${address}:${args.publish.https}/`);
    this.config = pulumi.output(files.files);
    this.registerOutputs({
      containerName: this.containerName,
      metricsEndpoint: this.metricsEndpoint,
      url: this.url,
      config: this.config,
    });
  }
}
