/**
 * NetworkPolicy bodies. Every fjord namespace starts at default-deny (ingress and egress);
 * each allowance below names exactly one peer and one port.
 */
import type * as pulumi from "@pulumi/pulumi";
import { SYSTEM_NAMESPACE } from "./naming";

const NS_NAME = "kubernetes.io/metadata.name";

export interface Peer {
  namespace: pulumi.Input<string>;
  app?: string;
}

function peer(p: Peer) {
  return {
    namespaceSelector: { matchLabels: { [NS_NAME]: p.namespace } },
    ...(p.app ? { podSelector: { matchLabels: { app: p.app } } } : {}),
  };
}

export const defaultDeny = () => ({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });

/** Every pod may resolve names through the cluster DNS, and nothing else by default. */
export const allowDns = () => ({
  podSelector: {},
  policyTypes: ["Egress"],
  egress: [
    {
      to: [
        {
          namespaceSelector: { matchLabels: { [NS_NAME]: "kube-system" } },
          podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        },
      ],
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    },
  ],
});

/** `app` pods accept `port` only from the given peers. */
export function allowIngress(app: string, port: number, from: Peer[]) {
  return {
    podSelector: { matchLabels: { app } },
    policyTypes: ["Ingress"],
    ingress: [{ from: from.map(peer), ports: [{ protocol: "TCP", port }] }],
  };
}

/** `app` pods may open connections to each target on its port. */
export function allowEgress(app: string, to: Array<Peer & { port: number }>) {
  return {
    podSelector: { matchLabels: { app } },
    policyTypes: ["Egress"],
    egress: to.map((t) => ({ to: [peer(t)], ports: [{ protocol: "TCP", port: t.port }] })),
  };
}

/** Prometheus (in the system namespace) may scrape `app` on its metrics port. */
export const allowScrape = (app: string, port: number) =>
  allowIngress(app, port, [{ namespace: SYSTEM_NAMESPACE, app: "prometheus" }]);
