/** Building blocks shared by the observability files: one place for names, labels and services. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import {
  CHECK_TIMING,
  filesHash,
  PART_NAMES,
  PART_SIZING,
  PORTS,
  type HttpCheck,
  type ObservabilityPart,
  type PartResources,
} from "../plan/observability";
import { restrictedSecurityContext, workloadLabels } from "./naming";

/** Where one part of the stack is created: names, parent and labels come from here. */
export interface Scope {
  /** Name prefix of every child resource (the component's name). */
  name: string;
  parent: pulumi.ComponentResource;
  region: string;
  /** Extra resources children must wait for (their namespaces). */
  dependsOn?: pulumi.Resource[];
}

export type Resources = PartResources;

export const opts = (s: Scope): pulumi.CustomResourceOptions => ({
  parent: s.parent,
  ...(s.dependsOn ? { dependsOn: s.dependsOn } : {}),
});

export const labelsFor = (s: Scope, app: string) => workloadLabels(app, "observability", s.region);

/** Who a part is: its workload, ConfigMaps and pods share the name, namespace and labels. */
export interface Part {
  key: ObservabilityPart;
  app: string;
  namespace: pulumi.Input<string>;
  labels: Record<string, string>;
}

export const partOf = (
  s: Scope,
  key: ObservabilityPart,
  namespace: pulumi.Input<string>,
  extraLabels: Record<string, string> = {},
): Part => ({
  key,
  app: PART_NAMES[key],
  namespace,
  labels: { ...labelsFor(s, PART_NAMES[key]), ...extraLabels },
});

/** Scrape annotations read by the `kubernetes-pods` job: the part's port, and its metrics path. */
export const scrapeAnnotations = (p: Part, path = "/metrics") => ({
  "prometheus.io/scrape": "true",
  "prometheus.io/port": String(PORTS[p.key]),
  "prometheus.io/path": path,
});

/** What every part is given: where it runs and which image. */
export interface PartArgs {
  namespace: pulumi.Input<string>;
  image: string;
}

/**
 * Rendered files as a ConfigMap named `role`, with the volume and read-only mount that put them
 * at `mountPath`, and the hash that restarts the pods when they change.
 */
export function configVolume(
  s: Scope,
  p: Part,
  mountPath: string,
  files: Record<string, string>,
  { volume, role }: { volume: string; role: string } = {
    volume: "config",
    role: `${p.app}-config`,
  },
) {
  const map = new k8s.core.v1.ConfigMap(
    `${s.name}-${role}`,
    { metadata: { name: role, namespace: p.namespace, labels: p.labels }, data: files },
    opts(s),
  );
  return {
    hash: filesHash(files),
    volume: { name: volume, configMap: { name: map.metadata.name } },
    mount: { name: volume, mountPath, readOnly: true },
  };
}

type PodSpec = k8s.types.input.core.v1.PodSpec;

interface Workload {
  /** On the workload itself: the policy exemptions a part needs, with their reasons. */
  annotations?: Record<string, string>;
  /** On the pod template. */
  podAnnotations?: Record<string, string>;
  pod: PodSpec;
}

const workloadMeta = (p: Part, w: Workload) => ({
  name: p.app,
  namespace: p.namespace,
  labels: p.labels,
  ...(w.annotations ? { annotations: w.annotations } : {}),
});

const template = (p: Part, w: Workload) => ({
  metadata: { labels: p.labels, ...(w.podAnnotations ? { annotations: w.podAnnotations } : {}) },
  spec: w.pod,
});

/** One replica: the parts keep no state that a second copy could share. */
export function deployment(s: Scope, p: Part, w: Workload): k8s.apps.v1.Deployment {
  return new k8s.apps.v1.Deployment(
    `${s.name}-${p.app}`,
    {
      metadata: workloadMeta(p, w),
      spec: { replicas: 1, selector: { matchLabels: { app: p.app } }, template: template(p, w) },
    },
    opts(s),
  );
}

/** One replica with one claimed volume that outlives the pod. */
export function statefulSet(
  s: Scope,
  p: Part,
  w: Workload & { claim: ReturnType<typeof dataClaim> },
): k8s.apps.v1.StatefulSet {
  return new k8s.apps.v1.StatefulSet(
    `${s.name}-${p.app}`,
    {
      metadata: workloadMeta(p, w),
      spec: {
        serviceName: p.app,
        replicas: 1,
        selector: { matchLabels: { app: p.app } },
        template: template(p, w),
        volumeClaimTemplates: [w.claim],
      },
    },
    opts(s),
  );
}

/** One pod per node, replaced a node at a time. */
export function daemonSet(s: Scope, p: Part, w: Workload): k8s.apps.v1.DaemonSet {
  return new k8s.apps.v1.DaemonSet(
    `${s.name}-${p.app}`,
    {
      metadata: workloadMeta(p, w),
      spec: {
        selector: { matchLabels: { app: p.app } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: template(p, w),
      },
    },
    opts(s),
  );
}

const httpProbe = (c: HttpCheck) => ({
  httpGet: { path: c.path, port: "http" },
  initialDelaySeconds: c.initialDelaySeconds,
  ...CHECK_TIMING,
});

/** The plan's requests, limits and probes of a part, for a container serving on port `http`. */
export function planned(key: ObservabilityPart) {
  const { resources, ready, live } = PART_SIZING[key];
  return {
    ports: [{ name: "http", containerPort: PORTS[key] }],
    resources,
    ...(ready ? { readinessProbe: httpProbe(ready) } : {}),
    livenessProbe: httpProbe(live),
  };
}

type ContainerArgs = Omit<
  k8s.types.input.core.v1.Container,
  "name" | "ports" | "securityContext" | "readinessProbe" | "livenessProbe"
>;

/**
 * The part's one container: named after it, as its image's own user, sized and probed as the plan
 * says (`resources` may override the plan's), serving on port `http`.
 */
export const partContainer = (p: Part, uid: number, c: ContainerArgs) => ({
  name: p.app,
  ...planned(p.key),
  ...c,
  securityContext: containerSecurity(uid),
});

/** A ClusterIP Service in front of the part on its port: nothing here is exposed outside. */
export function clusterService(s: Scope, p: Part): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    `${s.name}-${p.app}-service`,
    {
      metadata: { name: p.app, namespace: p.namespace, labels: labelsFor(s, p.app) },
      spec: {
        type: "ClusterIP",
        selector: { app: p.app },
        ports: [{ name: "http", port: PORTS[p.key], targetPort: "http" }],
      },
    },
    opts(s),
  );
}

/** The restricted container context with the image's own UID. */
export const containerSecurity = (uid: number) => restrictedSecurityContext(uid);

/** Pod-level context: non-root, and volumes group-owned by the process so it can write them. */
export const podSecurity = (uid: number) => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: "RuntimeDefault" },
});

/** A persistent volume claim template for a single-replica StatefulSet. */
export const dataClaim = (size: string, storageClassName?: string) => ({
  metadata: { name: "data" },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: size } },
    ...(storageClassName ? { storageClassName } : {}),
  },
});
