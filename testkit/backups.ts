/** What the restore drills read off a backup runner, the same on Docker and Kubernetes. */

/** Run inside the runner's container: its metrics as Prometheus scrapes them. */
export const RUNNER_METRICS_COMMAND = [
  "busybox",
  "wget",
  "-qO-",
  "http://127.0.0.1:9188/metrics.txt",
];

/** The newest backup's end (epoch seconds) and stored size, from the runner's metrics text. */
export function backupMetrics(text: string): { lastSuccess: number; sizeBytes: number } {
  const value = (name: string) =>
    Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, "m").exec(text)?.[1]);
  return {
    lastSuccess: value("fjord_backup_last_success_timestamp_seconds"),
    sizeBytes: value("fjord_backup_last_size_bytes"),
  };
}

/** A step's wall time in seconds, recorded under `label` whether it succeeds or throws. */
export function timer(timings: Record<string, number>) {
  return async <T>(label: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await f();
    } finally {
      timings[label] = (Date.now() - t) / 1000;
    }
  };
}
