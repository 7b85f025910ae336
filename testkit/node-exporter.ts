/**
 * The one node exporter launcher for real tests: Debian's prometheus-node-exporter on a free
 * loopback port, always stopped again. It reads this machine's /proc and /sys, exactly what the
 * DaemonSet reads on a VPS through its hostPath mounts.
 */
import * as path from "path";
import { ensurePackages, findBinary } from "./apt";
import { makeTempDir, removeDir, startProcess, waitUntilReady, withPortRetry } from "./proc";

export function ensureNodeExporter(): string {
  ensurePackages({ "prometheus-node-exporter": "prometheus-node-exporter" });
  return findBinary("prometheus-node-exporter")!;
}

export interface NodeExporterInstance {
  port: number;
  /** "127.0.0.1:<port>", as a scrape target. */
  target: string;
  /** The exporter's current /metrics text. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartNodeExporterOptions {
  /** @default 15000 */
  readyTimeoutMs?: number;
}

export async function startNodeExporter(
  opts: StartNodeExporterOptions = {},
): Promise<NodeExporterInstance> {
  const bin = ensureNodeExporter();
  return withPortRetry(async (port) => {
    const dir = makeTempDir("fjord-node-exporter-");
    const target = `127.0.0.1:${port}`;
    const proc = startProcess(bin, [`--web.listen-address=${target}`], {
      logPath: path.join(dir, "node-exporter.log"),
    });
    const stop = async () => {
      await proc.stop("SIGTERM", 5_000);
      removeDir(dir);
    };
    const metrics = async () => {
      const res = await fetch(`http://${target}/metrics`);
      if (!res.ok) throw new Error(`node exporter /metrics answered ${res.status}`);
      return res.text();
    };
    try {
      await waitUntilReady(
        proc,
        async () => (await metrics()).length > 0,
        "node exporter",
        opts.readyTimeoutMs ?? 15_000,
      );
    } catch (err) {
      await stop();
      throw err;
    }
    return { port, target, metrics, stop };
  });
}
