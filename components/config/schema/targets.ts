/** How each target is reached: a Kubernetes cluster (`cluster`) or a Docker daemon (`docker`). */
import { z } from "zod";
import { hostPort, port } from "../fields";
import { PORTS } from "../ports";

export const cluster = z
  .strictObject({
    mode: z.enum(["k3s", "kubeconfig", "render"]).default("k3s").meta({
      description:
        "k3s: install on the nodes over SSH; kubeconfig: use an existing cluster; render: write manifests only.",
    }),
    renderDir: z.string().default("out/manifests").meta({
      description: "Where render mode writes manifests (relative to the project).",
    }),
    k3sVersion: z
      .string()
      .regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, { error: 'must be a k3s release such as "v1.31.4+k3s1"' })
      .default("v1.31.4+k3s1")
      .meta({ description: "Pinned k3s release." }),
    airgap: z
      .strictObject({
        k3sBinary: z.string().meta({
          description: "Local path of the k3s binary to copy instead of downloading.",
        }),
        imagesTarball: z
          .string()
          .meta({ description: "Local path of the k3s airgap images tarball." }),
        installScript: z.string().meta({ description: "Local path of the k3s install script." }),
      })
      .optional(),
  })
  .prefault({});

export const docker = z
  .strictObject({
    host: z.string().optional().meta({
      description: "Docker daemon to use (dev); defaults to DOCKER_HOST or the local socket.",
    }),
    publishAddress: z
      .string()
      .default("127.0.0.1")
      .meta({ description: "Host address published ports bind to." }),
    httpPort: port
      .default(8080)
      .meta({ description: "Host port of the gateway's HTTP listener (redirects only)." }),
    httpsPort: port
      .default(8443)
      .meta({ description: "Host port of the gateway's HTTPS listener." }),
    prometheusPort: port.default(9090).meta({ description: "Host port of Prometheus." }),
    grafanaPort: port.default(3000).meta({
      description: "Host port of Grafana (when observability.components.grafana).",
    }),
    // Loopback only: the daemon's fluentd log driver connects from there, and nobody else may
    // inject log lines.
    logForwardPort: port.default(PORTS.logForward).meta({
      description:
        "Port of Fluent Bit's forward input, published on the daemon's 127.0.0.1 only; every container's logs go there.",
    }),
    backupNetwork: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { error: "must be a Docker network name" })
      .optional()
      .meta({
        description:
          "Existing Docker network the backup runners join to reach fjord:backups.target (e.g. where your S3 store runs). @default a network fjord creates",
      }),
    // An address as the daemon dials it; checks.ts refuses it while fjord's own shipper runs.
    logForward: hostPort.optional().meta({
      description:
        "host:port of your own forward-protocol log agent to ship container logs to instead of fjord's Fluent Bit.",
    }),
  })
  .prefault({});
