/**
 * HTTPS requests through a stack's gateway, as the e2e tests make them: SNI and Host are the
 * stack's domain, the certificate is the stack's own (self-signed or test CA), and a 429 from the
 * rate limiter can be waited out for the functional checks.
 */
import * as https from "https";

export interface Reply {
  status: number;
  body: string;
  /** The replica that answered (the sample service's X-Served-By). */
  servedBy?: string;
}

export interface GatewayAddress {
  host: string;
  port: number;
  /** Server name and Host header. */
  domain: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function gatewayGet(
  at: GatewayAddress,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: at.host,
        port: at.port,
        path: urlPath,
        servername: at.domain,
        headers: { Host: at.domain, ...headers },
        rejectUnauthorized: false,
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            servedBy: res.headers["x-served-by"] as string | undefined,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
  });
}

/** A GET that waits out the rate limiter (up to 20 tries, 0.5 s apart). */
export async function gatewayGetOk(
  at: GatewayAddress,
  urlPath: string,
  headers?: Record<string, string>,
): Promise<Reply> {
  for (let i = 0; ; i++) {
    const r = await gatewayGet(at, urlPath, headers);
    if (r.status !== 429 || i >= 20) return r;
    await sleep(500);
  }
}
