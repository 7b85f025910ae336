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
