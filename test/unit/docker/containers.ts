/** Reading recorded docker.Container inputs, shared by the Docker component tests. */
import { secretInput, type Recorded } from "../../../testkit/mocks";

export const CONTAINER = "docker:index/container:Container";

/** The recorded container with Docker name `n`; throws listing the names there are. */
export function containerNamed(rec: { ofType(t: string): Recorded[] }, n: string): Recorded {
  const all = rec.ofType(CONTAINER);
  const c = all.find((r) => r.inputs.name === n);
  if (!c) throw new Error(`no container ${n}; have ${all.map((r) => r.inputs.name).join(", ")}`);
  return c;
}

export const labelMap = (r: Recorded): Record<string, string> =>
  Object.fromEntries(
    (r.inputs.labels as Array<{ label: string; value: string }>).map((l) => [l.label, l.value]),
  );

/** Network mode first, then the other networks. */
export const networksOf = (r: Recorded): string[] => [
  r.inputs.networkMode,
  ...((r.inputs.networksAdvanced ?? []) as Array<{ name: string }>).map((n) => n.name),
];

/** Env as a map; with `secret`, the list must be secret and is unwrapped. */
export function envOf(r: Recorded, secret = false): Record<string, string> {
  const list: string[] = secret ? secretInput(r.inputs.envs) : r.inputs.envs;
  return Object.fromEntries(
    list.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
  );
}

export type Upload = { file: string; content: unknown; permissions: string };
/** Uploads; with `secret`, the list must be secret (the gateway's carries the TLS key). */
export const uploads = (r: Recorded, secret = false): Upload[] =>
  secret ? secretInput(r.inputs.uploads) : r.inputs.uploads;
