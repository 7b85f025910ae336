/** Building blocks shared by the observability files: one place for names, labels and services. */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { filesHash } from "../plan/observability";
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

export type Resources = {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
};

export const opts = (s: Scope): pulumi.CustomResourceOptions => ({
  parent: s.parent,
  ...(s.dependsOn ? { dependsOn: s.dependsOn } : {}),
});

export const labelsFor = (s: Scope, app: string) => workloadLabels(app, "observability", s.region);

/** Scrape annotations read by the `kubernetes-pods` job. */
export const scrapeAnnotations = (port: number, path = "/metrics") => ({
  "prometheus.io/scrape": "true",
  "prometheus.io/port": String(port),
  "prometheus.io/path": path,
});

/** A ConfigMap of rendered files, and the hash that restarts its readers when they change. */
export function configMap(
  s: Scope,
  role: string,
  meta: { name: string; namespace: pulumi.Input<string>; labels: Record<string, string> },
  data: Record<string, string>,
): { map: k8s.core.v1.ConfigMap; hash: string } {
  const map = new k8s.core.v1.ConfigMap(`${s.name}-${role}`, { metadata: meta, data }, opts(s));
  return { map, hash: filesHash(data) };
}

/** A ClusterIP Service in front of `app` on one port: nothing here is exposed outside. */
export function clusterService(
  s: Scope,
  app: string,
  namespace: pulumi.Input<string>,
  port: number,
): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    `${s.name}-${app}-service`,
    {
      metadata: { name: app, namespace, labels: labelsFor(s, app) },
      spec: {
        type: "ClusterIP",
        selector: { app },
        ports: [{ name: "http", port, targetPort: "http" }],
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

export const httpProbe = (path: string, initialDelaySeconds = 10) => ({
  httpGet: { path, port: "http" },
  initialDelaySeconds,
  periodSeconds: 10,
  timeoutSeconds: 3,
  failureThreshold: 6,
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
