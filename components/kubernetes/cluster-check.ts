/**
 * A cheap "does the kubeconfig's cluster answer?" check for `kubeconfig` mode. Without it, `up`
 * against a stopped or mistyped cluster fails once per resource with the provider's "configured
 * Kubernetes cluster is unreachable", after the stack and its components were already recorded.
 * With it, the program stops before any resource with one line naming `fjord:kubeconfig`.
 */
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { parse } from "yaml";

/** Where the kubeconfig's current context points, and how to trust it. */
export interface ClusterEndpoint {
  context: string;
  server: string;
  /** PEM of the cluster CA; absent means the system's CAs. */
  ca?: string;
  insecure: boolean;
}

type Named<T> = Array<{ name?: string } & T> | undefined;
interface Kubeconfig {
  "current-context"?: string;
  contexts?: Named<{ context?: { cluster?: string } }>;
  clusters?: Named<{
    cluster?: {
      server?: string;
      "certificate-authority-data"?: string;
      "certificate-authority"?: string;
      "insecure-skip-tls-verify"?: boolean;
    };
  }>;
}

const KEY = "fjord:kubeconfig";
const RESET = "then store it again: pulumi config set --secret kubeconfig < ~/.kube/config";

/** The current context's endpoint, or a one-line message saying what is wrong with the file. */
export function clusterEndpoint(kubeconfig: string): ClusterEndpoint | string {
  let doc: Kubeconfig | null;
  try {
    doc = parse(kubeconfig) as Kubeconfig | null;
  } catch (err) {
    return `${KEY} is not a kubeconfig (YAML: ${(err as Error).message.split("\n")[0]}); ${RESET}`;
  }
  if (!doc || typeof doc !== "object") return `${KEY} is empty or not a kubeconfig; ${RESET}`;
  const context = doc["current-context"];
  if (!context)
    return `${KEY} has no current-context: run \`kubectl config use-context <name>\`, ${RESET}`;
  const ctx = doc.contexts?.find((c) => c.name === context)?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  if (!cluster?.server)
    return `${KEY}: context "${context}" names no cluster with a server address; fix the kubeconfig, ${RESET}`;
  let ca: string | undefined;
  if (cluster["certificate-authority-data"])
    ca = Buffer.from(cluster["certificate-authority-data"], "base64").toString();
  else if (cluster["certificate-authority"]) {
    try {
      ca = readFileSync(cluster["certificate-authority"], "utf8");
    } catch {
      return `${KEY}: context "${context}" names a CA file that cannot be read (${cluster["certificate-authority"]}); inline it with \`kubectl config view --flatten --minify\`, ${RESET}`;
    }
  }
  return {
    context,
    server: cluster.server,
    ...(ca ? { ca } : {}),
    insecure: cluster["insecure-skip-tls-verify"] === true,
  };
}

// Runs in a child process so the check stays synchronous (the program builds resources
// synchronously) and can time out. The endpoint comes on stdin: a CA is not secret, but the
// kubeconfig it came from is, and argv is visible to every user of the machine.
const PROBE = `
const https = require("https"), http = require("http");
const e = JSON.parse(require("fs").readFileSync(0, "utf8"));
const done = (why) => { process.stdout.write(why); process.exit(why === "ok" ? 0 : 1); };
setTimeout(() => done("no answer within 5s"), 5000).unref();
const u = new URL(e.server);
const lib = u.protocol === "http:" ? http : https;
// /version is readable without credentials on every conformant cluster: any HTTP answer means
// the API server is there and its certificate is trusted.
lib.get(new URL("/version", u), { ca: e.ca, rejectUnauthorized: !e.insecure }, (r) => { r.resume(); done("ok"); })
  .on("error", (err) => done(err.code || err.message));`;

/**
 * Undefined when the current context's API server answers, else one line naming
 * `fjord:kubeconfig`, the server, what went wrong and what to do.
 */
export function checkClusterReachable(kubeconfig: string): string | undefined {
  const endpoint = clusterEndpoint(kubeconfig);
  if (typeof endpoint === "string") return endpoint;
  const r = spawnSync(process.execPath, ["-e", PROBE], {
    input: JSON.stringify(endpoint),
    encoding: "utf8",
    timeout: 15_000,
  });
  if (r.status === 0) return undefined;
  const why = (r.stdout || r.error?.message || "no answer").trim();
  const hint = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|unable to verify/i.test(why)
    ? "the server's certificate is not the one the kubeconfig trusts: fetch a current kubeconfig"
    : "start the cluster or fix the server address (or connect the VPN/tunnel it needs)";
  return `${KEY}: the cluster of context "${endpoint.context}" at ${endpoint.server} does not answer (${why}): ${hint}, ${RESET}`;
}
