/**
 * Containers as the policies read them: a Docker container, or those of a Kubernetes workload's
 * pod, with the ways their lists can be computed at preview handled once.
 */
import { type Container, containersOf, isWorkload, podOf } from "./k8s";
import type { Ctx, JudgedResource } from "./policy";
import { type Obj, type Unknown, UNKNOWN, list, str } from "./values";

export const DOCKER = "docker:index/container:Container";

/** The scope of the policies that judge every container, Kubernetes or Docker. */
export const containerScope = (type: string): string | undefined =>
  isWorkload(type) || type === DOCKER
    ? undefined
    : "Only Kubernetes workloads and Docker containers run containers.";

/**
 * A workload's containers (init containers included; none when it has no pod spec), or undefined
 * after reporting that `what` cannot be verified because they are computed.
 */
export function workloadContainers(
  r: JudgedResource,
  what: string,
  ctx: Pick<Ctx<unknown>, "cannotVerify">,
): Container[] | undefined {
  const pod = podOf(r.type, r.props)!;
  const cs = pod.spec === UNKNOWN ? UNKNOWN : pod.spec ? containersOf(pod.spec) : [];
  if (cs !== UNKNOWN) return cs;
  ctx.cannotVerify(`Cannot verify ${what} of ${r.label} at preview: its containers are computed.`);
  return undefined;
}

/**
 * A workload's app containers (no init containers) and the name of its main one, or undefined
 * after reporting as `workloadContainers` does.
 */
export function appContainers(
  r: JudgedResource,
  what: string,
  ctx: Pick<Ctx<unknown>, "cannotVerify">,
): { cs: Container[]; main: string | undefined } | undefined {
  const cs = workloadContainers(r, what, ctx);
  if (!cs) return undefined;
  const app = cs.filter((c) => !c.init);
  // The main container: kubectl's default-container annotation, else the first one.
  const annotations = podOf(r.type, r.props)!.annotations;
  const named =
    annotations !== UNKNOWN ? annotations["kubectl.kubernetes.io/default-container"] : undefined;
  return { cs: app, main: typeof named === "string" ? named : app[0]?.name };
}

/** The containers that can be read, for checks to which a computed list simply adds nothing. */
export function knownContainers(type: string, props: Obj): Container[] {
  const pod = podOf(type, props);
  if (!pod || !pod.spec || pod.spec === UNKNOWN) return [];
  const cs = containersOf(pod.spec);
  return cs === UNKNOWN ? [] : cs;
}

/** A container's env entries written as literal values (not valueFrom, not computed). */
export function literalEnv(c: Container): [name: string, value: string][] {
  const env = c.c === UNKNOWN ? [] : list(c.c, "env");
  return (env === UNKNOWN ? [] : env).flatMap((e): [string, string][] => {
    const k = str(e, "name");
    const v = str(e, "value");
    return typeof k === "string" && typeof v === "string" ? [[k, v]] : [];
  });
}

/** A Docker container's `envs` as name/value pairs (entries without "=" set nothing). */
export function dockerEnv(props: Obj): [name: string, value: string][] | Unknown {
  const envs = list(props, "envs");
  if (envs === UNKNOWN) return UNKNOWN;
  return envs.flatMap((e): [string, string][] =>
    typeof e === "string" && e.includes("=")
      ? [[e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]]
      : [],
  );
}
