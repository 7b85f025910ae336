/** A readable account of the pods that are not Ready, for failure messages of cluster tests. */
import type { KubeApi, KubeObject } from "./api";

interface ContainerStatus {
  name: string;
  ready: boolean;
  restartCount: number;
  state?: Record<string, { reason?: string; message?: string; exitCode?: number }>;
  lastState?: Record<string, { reason?: string; message?: string; exitCode?: number }>;
}
interface PodObj extends KubeObject {
  spec: { nodeName?: string };
  status: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; message?: string }>;
    containerStatuses?: ContainerStatus[];
  };
}

const stateText = (s?: ContainerStatus["state"]) =>
  s
    ? Object.entries(s)
        .map(
          ([k, v]) =>
            `${k}${v.reason ? ` ${v.reason}` : ""}${v.exitCode !== undefined ? ` (exit ${v.exitCode})` : ""}${v.message ? `: ${v.message}` : ""}`,
        )
        .join(", ")
    : "";

export async function diagnose(
  api: KubeApi,
  kubectl: (args: string[]) => Promise<string>,
): Promise<string> {
  const pods = await api.list<PodObj>("/api/v1/pods");
  const out: string[] = [];
  for (const p of pods) {
    const ready = p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (ready || p.status.phase === "Succeeded") continue;
    const ns = p.metadata.namespace!;
    out.push(
      `pod ${ns}/${p.metadata.name} on ${p.spec.nodeName ?? "(unscheduled)"}: ${p.status.phase}`,
    );
    for (const c of p.status.conditions ?? [])
      if (c.status !== "True" && c.message) out.push(`  ${c.type}: ${c.message}`);
    for (const c of p.status.containerStatuses ?? []) {
      out.push(
        `  container ${c.name}: ${stateText(c.state)}; restarts ${c.restartCount}${c.lastState ? `; last ${stateText(c.lastState)}` : ""}`,
      );
      if (c.ready) continue;
      const logs = await kubectl([
        "logs",
        "-n",
        ns,
        p.metadata.name,
        "-c",
        c.name,
        "--tail=15",
        ...(c.restartCount > 0 ? ["--previous"] : []),
      ]).catch((e: Error) => `(no logs: ${e.message.split("\n")[0]})`);
      out.push(
        ...logs
          .trimEnd()
          .split("\n")
          .map((l) => `    | ${l}`),
      );
    }
  }
  return out.length ? out.join("\n") : "every pod is Ready";
}
