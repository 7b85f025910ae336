/** Loopback ports for servers started by tests. */
import { createServer } from "net";

/**
 * A port that was free on 127.0.0.1 a moment ago. Another process can still take it before the
 * caller binds, so launchers retry on "address in use" instead of trusting this blindly.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("could not read the bound port"));
        return;
      }
      srv.close(() => resolve(addr.port));
    });
  });
}

/**
 * A free port below the kernel's ephemeral range, for a port a container publishes: the engine's
 * and the providers' own outbound connections take ephemeral ports, and one grabbed a freePort()
 * between check and publish.
 */
export async function publishPort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer().once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
