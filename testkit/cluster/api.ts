/**
 * A small Kubernetes API client for the tests: what the harness needs to bootstrap the cluster and
 * what the tests need to read results back from the API server. Plain HTTPS with the admin's
 * client certificate; no client library, so nothing here can hide what is sent.
 */
import { readFileSync } from "fs";
import * as https from "https";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KubeList<T = KubeObject> {
  items: T[];
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status}: ${body.slice(0, 2000)}`);
  }
}

/** Core kinds live under /api/v1, the rest under /apis/<group>/<version>. */
export function resourcePath(
  apiVersion: string,
  plural: string,
  namespace?: string,
  name?: string,
): string {
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace ? `/namespaces/${namespace}` : "";
  return `${base}${ns}/${plural}${name ? `/${name}` : ""}`;
}

const PLURALS: Record<string, string> = {
  Endpoints: "endpoints",
  Ingress: "ingresses",
  NetworkPolicy: "networkpolicies",
  StorageClass: "storageclasses",
  PodSecurityPolicy: "podsecuritypolicies",
};
export const pluralOf = (kind: string): string =>
  PLURALS[kind] ?? `${kind.toLowerCase()}${kind.endsWith("s") ? "es" : "s"}`;

/** JSON bodies parsed; health endpoints (/readyz, /livez) answer plain text. */
function parseBody(data: string, type: string | undefined): unknown {
  if (!data) return {};
  return type?.includes("json") ? JSON.parse(data) : data;
}

export class KubeApi {
  private readonly agent: https.Agent;

  constructor(
    readonly server: string,
    creds: { ca: string; cert: string; key: string },
  ) {
    this.agent = new https.Agent({
      ca: readFileSync(creds.ca),
      cert: readFileSync(creds.cert),
      key: readFileSync(creds.key),
      keepAlive: true,
      maxSockets: 8,
    });
  }

  request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<T> {
    const url = new URL(path, this.server);
    const payload =
      body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            Accept: "application/json",
            ...(payload
              ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }
              : {}),
          },
          timeout: 30_000,
        },
        (res) => {
          let data = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (data += c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300)
              resolve(parseBody(data, res.headers["content-type"]) as T);
            else reject(new KubeApiError(status, data, `${method} ${path}`));
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** GET that answers undefined for a 404. */
  async find<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  list<T = KubeObject>(path: string): Promise<T[]> {
    return this.get<KubeList<T>>(path).then((l) => l.items);
  }

  /** Server-side apply, as the harness's own field manager. `dryRun` asks the server to validate only. */
  apply(obj: KubeObject, opts: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const path = resourcePath(
      obj.apiVersion,
      pluralOf(obj.kind),
      obj.metadata.namespace,
      obj.metadata.name,
    );
    const q = `?fieldManager=fjord-test-harness&force=true${opts.dryRun ? "&dryRun=All" : ""}`;
    return this.request<KubeObject>("PATCH", path + q, obj, "application/apply-patch+yaml");
  }

  /** Server-side dry-run create: admission (PodSecurity included) and validation, nothing stored. */
  dryRunCreate(obj: KubeObject): Promise<KubeObject> {
    const path = resourcePath(obj.apiVersion, pluralOf(obj.kind), obj.metadata.namespace);
    return this.request<KubeObject>("POST", `${path}?dryRun=All`, obj);
  }

  mergePatch(path: string, patch: unknown): Promise<KubeObject> {
    return this.request<KubeObject>("PATCH", path, patch, "application/merge-patch+json");
  }

  async delete(path: string): Promise<void> {
    try {
      await this.request("DELETE", path);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value (not undefined), or fails with `what` and the last error. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await sleep(everyMs);
  }
}
