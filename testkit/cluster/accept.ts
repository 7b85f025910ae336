/**
 * Does the API server accept every manifest a stack rendered? Namespaces and ServiceAccounts are
 * created for real (admission looks them up), everything else is sent with dryRun=All: schema
 * validation and every admission plugin run, nothing is stored. PodSecurity only warns about a
 * Deployment, so each workload's pod template is also dry-run created as a Pod, where a namespace
 * that enforces "restricted" refuses it.
 */
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { KubeApiError, type KubeApi, type KubeObject } from "./api";

export interface Rejection {
  object: string;
  reason: string;
}

const WORKLOADS: Record<string, (o: Loose) => Loose | undefined> = {
  Deployment: (o) => o.spec?.template,
  StatefulSet: (o) => o.spec?.template,
  DaemonSet: (o) => o.spec?.template,
  ReplicaSet: (o) => o.spec?.template,
  Job: (o) => o.spec?.template,
  CronJob: (o) => o.spec?.jobTemplate?.spec?.template,
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** Every object in the YAML files under `dir` (recursively), in file order. */
export function readManifests(dir: string): KubeObject[] {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && /\.ya?ml$/.test(d.name))
    .map((d) => path.join(d.parentPath, d.name))
    .sort();
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(f, "utf8"))
      .map((d) => d.toJS() as KubeObject | null)
      .filter((o): o is KubeObject => !!o?.kind),
  );
}

const describeObj = (o: KubeObject) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

function reasonOf(err: unknown): string {
  if (err instanceof KubeApiError) {
    try {
      return (JSON.parse(err.body) as { message: string }).message;
    } catch {
      return err.body;
    }
  }
  return String(err);
}

/**
 * A Pod made from a workload's template, as its controller would create it. A StatefulSet's
 * controller adds a volume per claim template (named after it, bound to the pod's own claim); the
 * claim does not exist at dry-run time, so it stands in as an emptyDir of the same name.
 */
export function podFromTemplate(owner: KubeObject, template: Loose): KubeObject {
  const claims = ((owner.spec as Loose | undefined)?.volumeClaimTemplates ?? []) as Array<{
    metadata: { name: string };
  }>;
  const spec = template.spec as Loose;
  const volumes = [
    ...((spec.volumes ?? []) as Loose[]),
    ...claims.map((c) => ({ name: c.metadata.name, emptyDir: {} })),
  ];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...template.metadata,
      name: `${owner.metadata.name}-acceptance`.slice(0, 63),
      namespace: owner.metadata.namespace,
    },
    spec: { ...spec, ...(volumes.length > 0 ? { volumes } : {}) },
  };
}

/**
 * Sends every object; answers the rejections (empty when all are accepted) and how many objects
 * and pod templates were checked. Namespaces it created are left for the caller to delete.
 */
export async function acceptManifests(
  api: KubeApi,
  objects: KubeObject[],
): Promise<{ rejected: Rejection[]; checked: number; pods: number }> {
  const rejected: Rejection[] = [];
  const first = (k: string) => objects.filter((o) => o.kind === k);
  for (const o of [...first("Namespace"), ...first("ServiceAccount")]) {
    try {
      await api.apply(o);
    } catch (err) {
      rejected.push({ object: describeObj(o), reason: reasonOf(err) });
    }
  }
  let pods = 0;
  for (const o of objects) {
    if (o.kind === "Namespace" || o.kind === "ServiceAccount") continue;
    try {
      await api.dryRunCreate(o);
    } catch (err) {
      rejected.push({ object: describeObj(o), reason: reasonOf(err) });
    }
    const template = WORKLOADS[o.kind]?.(o);
    if (!template) continue;
    pods++;
    try {
      await api.dryRunCreate(podFromTemplate(o, template));
    } catch (err) {
      rejected.push({ object: `${describeObj(o)} (its pod template)`, reason: reasonOf(err) });
    }
  }
  return { rejected, checked: objects.length, pods };
}
