/**
 * What a bare cluster lacks and every real one has, applied through the API before a stack runs:
 * cluster DNS (CoreDNS, as the pod fjord's NetworkPolicies expect: k8s-app=kube-dns in kube-system),
 * a default StorageClass with pre-made local volumes on every node (static provisioning), and the
 * load-balancer status that k3s's servicelb would write (a Service of type LoadBalancer gets the
 * node addresses; kube-proxy then routes them).
 */
import { chmodSync, mkdirSync, rmSync } from "fs";
import * as path from "path";
import type { KubeApi, KubeObject } from "./api";
import { NET } from "./net";

export const STORAGE_CLASS = "fjord-test-local";
/** Local volumes per node, and each one's size: bigger than any claim fjord makes by default. */
export const VOLUMES_PER_NODE = 12;
const VOLUME_SIZE = "200Gi";

const meta = (name: string, namespace?: string, labels?: Record<string, string>) => ({
  name,
  ...(namespace ? { namespace } : {}),
  ...(labels ? { labels } : {}),
});

export function coreDnsObjects(image: string): KubeObject[] {
  const labels = { "k8s-app": "kube-dns" };
  const ns = "kube-system";
  const corefile = `.:53 {
    errors
    health :8080
    ready :8181
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
`;
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("coredns", ns) },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: meta("fjord-test:coredns"),
      rules: [
        {
          apiGroups: [""],
          resources: ["endpoints", "services", "pods", "namespaces"],
          verbs: ["list", "watch"],
        },
        {
          apiGroups: ["discovery.k8s.io"],
          resources: ["endpointslices"],
          verbs: ["list", "watch"],
        },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: meta("fjord-test:coredns"),
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "fjord-test:coredns",
      },
      subjects: [{ kind: "ServiceAccount", name: "coredns", namespace: ns }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta("coredns", ns),
      data: { Corefile: corefile },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("coredns", ns, labels),
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: "coredns",
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              seccompProfile: { type: "RuntimeDefault" },
              // Port 53 without root or capabilities: a namespaced, "safe" sysctl.
              sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "53" }],
            },
            containers: [
              {
                name: "coredns",
                image,
                args: ["-conf", "/etc/coredns/Corefile"],
                ports: [
                  { name: "dns", containerPort: 53, protocol: "UDP" },
                  { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                ],
                readinessProbe: { httpGet: { path: "/ready", port: 8181 }, periodSeconds: 2 },
                livenessProbe: { httpGet: { path: "/health", port: 8080 } },
                resources: {
                  requests: { cpu: "50m", memory: "32Mi" },
                  limits: { memory: "128Mi" },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [{ name: "config", mountPath: "/etc/coredns" }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: "coredns" } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("kube-dns", ns, labels),
      spec: {
        clusterIP: NET.dnsIp,
        selector: labels,
        ports: [
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
          { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        ],
      },
    },
  ];
}

/** The default StorageClass and every node's local volumes (directories under the node's dir). */
export function storageObjects(nodeDirs: string[]): KubeObject[] {
  const objects: KubeObject[] = [
    {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: STORAGE_CLASS,
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
      reclaimPolicy: "Retain",
    },
  ];
  nodeDirs.forEach((dir, i) => {
    for (let v = 0; v < VOLUMES_PER_NODE; v++) {
      const name = `${NET.nodeName(i)}-vol${v}`;
      objects.push(volumeObject(name, i, path.join(dir, "volumes", name)));
    }
  });
  return objects;
}

function volumeObject(name: string, node: number, dir: string): KubeObject {
  mkdirSync(dir, { recursive: true });
  // Pods write as their own uid; fsGroup is not applied to local volumes by every runtime.
  chmodSync(dir, 0o777);
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, labels: { "fjord-test/node": NET.nodeName(node) } },
    spec: {
      capacity: { storage: VOLUME_SIZE },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: STORAGE_CLASS,
      local: { path: dir },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "kubernetes.io/hostname", operator: "In", values: [NET.nodeName(node)] },
              ],
            },
          ],
        },
      },
    },
  };
}

interface ServiceObj extends KubeObject {
  spec: { type?: string };
  status?: { loadBalancer?: { ingress?: Array<{ ip: string }> } };
}
interface VolumeObj extends KubeObject {
  spec: { local?: { path: string } };
  status?: { phase?: string };
}

/**
 * One pass of the harness's two controllers: LoadBalancer Services without an address get the node
 * addresses, and Released volumes are wiped and made Available again (what a local-volume
 * provisioner does), so destroyed stacks give their disks back.
 */
export async function reconcileOnce(api: KubeApi, nodes: number): Promise<void> {
  const services = await api.list<ServiceObj>("/api/v1/services");
  for (const s of services) {
    if (s.spec.type !== "LoadBalancer" || s.status?.loadBalancer?.ingress?.length) continue;
    const ingress = Array.from({ length: nodes }, (_, i) => ({ ip: NET.nodeIp(i), ipMode: "VIP" }));
    await api.mergePatch(
      `/api/v1/namespaces/${s.metadata.namespace}/services/${s.metadata.name}/status`,
      { status: { loadBalancer: { ingress } } },
    );
  }
  const volumes = await api.list<VolumeObj>("/api/v1/persistentvolumes");
  for (const v of volumes) {
    if (v.status?.phase !== "Released" || !v.spec.local) continue;
    const dir = v.spec.local.path;
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o777);
    await api.mergePatch(`/api/v1/persistentvolumes/${v.metadata.name}`, {
      spec: { claimRef: null },
    });
  }
}
