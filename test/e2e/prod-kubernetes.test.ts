/**
 * The prod program through the real engine and the real pulumi-kubernetes provider, in kubeconfig
 * mode, against a real API server with real pods (testkit/cluster: three kubelet nodes).
 * Every Deployment and StatefulSet rolls out through the provider's own await; nothing skips it.
 *
 * Needs root and `bash testkit/tools/kube.sh` (see testkit/cluster/index.ts for the rest).
 */
import { upOrExplain } from "../../testkit/cluster/up";
import * as path from "path";
import * as tls from "tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLokiBinary } from "../../testkit/images";
import { NET, startTestCluster, type KubeObject, type TestCluster } from "../../testkit/cluster";
import { waitFor } from "../../testkit/cluster/api";
import { acceptManifests, readManifests } from "../../testkit/cluster/accept";
import { DOMAIN, prodClusterConfig } from "../../testkit/cluster/stack-config";
import { plaintextLeaks, withEphemeralStack, type Ephemeral } from "../../testkit/stack";
import {
  gatewayGet,
  gatewayGetOk,
  type GatewayAddress,
  type Reply,
} from "../../testkit/gateway-client";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timings: Record<string, number> = {};

const at = (ip: string): GatewayAddress => ({ host: ip, port: 443, domain: DOMAIN });
const get = (ip: string, path: string, headers: Record<string, string> = {}): Promise<Reply> =>
  gatewayGet(at(ip), path, headers);
const getOk = (ip: string, path: string, headers?: Record<string, string>): Promise<Reply> =>
  gatewayGetOk(at(ip), path, headers);

/** The TLS version a handshake settles on, or the error when the server refuses it. */
function handshake(ip: string, version: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: ip,
      port: 443,
      servername: DOMAIN,
      minVersion: version,
      maxVersion: version,
      rejectUnauthorized: false,
      // TLS 1.0/1.1 need the legacy security level to even be offered by this client.
      ciphers: version < "TLSv1.2" ? "DEFAULT@SECLEVEL=0" : undefined,
    });
    s.once("secureConnect", () => {
      resolve(s.getProtocol() ?? "?");
      s.end();
    });
    s.once("error", (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
  });
}

let cluster: TestCluster;

beforeAll(async () => {
  const t0 = Date.now();
  cluster = await startTestCluster({ nodes: 3, binaries: { loki: findLokiBinary() } });
  timings.clusterStartSeconds = (Date.now() - t0) / 1000;
  console.log(`[prod-k8s] test cluster ready in ${timings.clusterStartSeconds}s`, cluster.phases);
});

afterAll(async () => {
  await cluster?.stop();
  console.log("[prod-k8s] timings", timings);
});

interface Pod extends KubeObject {
  spec: { nodeName?: string; containers: Array<{ image: string }> };
  status: { podIP?: string; phase?: string };
}

const pods = (ns: string, app: string) =>
  cluster.api.list<Pod>(`/api/v1/namespaces/${ns}/pods?labelSelector=app%3D${app}`);

/** The node addresses the gateway answers on (externalTrafficPolicy Local: where its pods run). */
async function gatewayIps(): Promise<string[]> {
  const gw = await pods("fjord-system", "gateway");
  return gw.map((p) => NET.nodeIp(cluster.nodes.indexOf(p.spec.nodeName!)));
}

async function checkRunningPlatform(): Promise<void> {
  // GIVEN the platform is up: replicas are spread by the required anti-affinity
  for (const [ns, app, n] of [
    ["fjord-orders", "orders", 3],
    ["fjord-inventory", "inventory", 3],
    ["fjord-payment", "payment", 3],
    ["fjord-system", "gateway", 2],
  ] as const) {
    const running = (await pods(ns, app)).filter((p) => p.status.phase === "Running");
    expect(running.length, `${app} replicas`).toBe(n);
    expect(new Set(running.map((p) => p.spec.nodeName)).size, `${app} spread over nodes`).toBe(n);
  }
  const [ip] = await gatewayIps();

  // WHEN a client calls through the gateway THEN each service reaches its own database
  expect(JSON.parse((await getOk(ip!, "/orders/db")).body)).toMatchObject({
    engine: "postgres",
    select1: 1,
  });
  expect(JSON.parse((await getOk(ip!, "/inventory/db")).body)).toMatchObject({
    engine: "mysql",
    select1: 1,
  });

  // ... and TLS is 1.2/1.3 only
  expect(await handshake(ip!, "TLSv1.3")).toBe("TLSv1.3");
  expect(await handshake(ip!, "TLSv1.2")).toBe("TLSv1.2");
  expect(await handshake(ip!, "TLSv1.1")).toMatch(/^refused/);

  // ... and the PII headers never reach the service
  const seen = JSON.parse(
    (await getOk(ip!, "/orders/headers", { "X-User-Email": "kari@example.no", "X-Trace": "t1" }))
      .body,
  ).headers;
  expect(seen["x-trace"]).toBe("t1");
  expect(seen["x-user-email"]).toBeUndefined();

  // ... and a declared call passes the NetworkPolicies while an undeclared one is refused
  expect(
    JSON.parse((await getOk(ip!, "/orders/call/inventory.fjord-inventory")).body),
  ).toMatchObject({ status: 200 });
  const undeclared = JSON.parse((await getOk(ip!, "/inventory/call/payment.fjord-payment")).body);
  expect(undeclared.status, JSON.stringify(undeclared)).toBeUndefined();

  // ... and a service is refused at another service's database, by name and by address
  const probe = async (host: string, port: number) =>
    JSON.parse(
      (await getOk(ip!, `/orders/probe?host=${encodeURIComponent(host)}&port=${port}`)).body,
    );
  expect(await probe("orders-db.fjord-orders", 5432)).toMatchObject({ reachable: true });
  expect(await probe("inventory-db.fjord-inventory", 3306)).toMatchObject({ reachable: false });
  const [invDb] = await pods("fjord-inventory", "inventory-db");
  expect(await probe(invDb!.status.podIP!, 3306)).toMatchObject({ reachable: false });

  // ... and past the burst the gateway answers 429
  await sleep(2000);
  const burst = await Promise.all(Array.from({ length: 60 }, () => get(ip!, "/orders/")));
  const codes = burst.map((r) => r.status);
  expect(codes.filter((c) => c === 429).length, codes.join(",")).toBeGreaterThan(0);
  expect(codes.filter((c) => c === 200).length, codes.join(",")).toBeGreaterThan(0);

  // ... and Prometheus finds every service pod through kubernetes_sd_configs and scrapes it
  const fwd = await cluster.portForward("fjord-system", "prometheus-0", 9090);
  const t = Date.now();
  let targets: Loose[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const r = (await (
        await fetch(`http://127.0.0.1:${fwd.port}/api/v1/targets?state=active`)
      ).json()) as Loose;
      targets = r.data.activeTargets;
      const podTargets = targets.filter((x) => x.discoveredLabels?.__meta_kubernetes_pod_name);
      if (podTargets.length >= 9 && podTargets.every((x) => x.health === "up")) break;
      await sleep(2000);
    }
  } finally {
    await fwd.stop();
  }
  timings.prometheusPodsUpSeconds = (Date.now() - t) / 1000;
  const servicePods = targets.filter((x) =>
    ["orders", "inventory", "payment"].includes(
      x.discoveredLabels?.__meta_kubernetes_pod_label_app,
    ),
  );
  // On a miss, say what Prometheus did see (every active target, and its discovery errors).
  const active = targets.map(
    (x) => `${x.labels?.job} ${x.scrapeUrl} ${x.health} ${x.lastError ?? ""}`,
  );
  expect(servicePods.length, `active targets:\n${active.join("\n")}`).toBe(9);
  expect(
    servicePods.filter((x) => x.health !== "up").map((x) => `${x.scrapeUrl}: ${x.lastError}`),
  ).toEqual([]);
}

/** Requests /orders/ every `everyMs` until stopped; counts what was not a 200. */
function steadyLoad(ip: string, everyMs: number) {
  let stop = false;
  const failures: string[] = [];
  let sent = 0;
  const done = (async () => {
    while (!stop) {
      sent++;
      try {
        const r = await get(ip, "/orders/");
        if (r.status !== 200) failures.push(`${r.status} ${r.body.slice(0, 80)}`);
      } catch (e) {
        failures.push(String(e));
      }
      await sleep(everyMs);
    }
  })();
  return {
    async finish() {
      stop = true;
      await done;
      return { sent, failures };
    },
  };
}

/** Every optional feature on, in one of two shapes, so that each manifest kind is rendered. */
function everyFeature(kind: "nginx" | "traefik"): Record<string, unknown> {
  const base = prodClusterConfig(cluster);
  return {
    ...base,
    cluster: { mode: "render", renderDir: "out/manifests" },
    gateway: {
      ...(base.gateway as object),
      kind,
      ...(kind === "traefik"
        ? { tls: { certificate: "secret", secretName: "api-example-no-tls" } }
        : {}),
    },
    observability: {
      ...(base.observability as object),
      components: { alertmanager: true, grafana: true, loki: true, logShipper: true },
      remoteWrite: [{ name: "osl-archive", url: "https://metrics.example.no/api/v1/write" }],
      alertWebhooks: [{ name: "oncall", url: "https://alerts.example.no/hook" }],
    },
  };
}

describe("prod on a real Kubernetes cluster", () => {
  it.each(["nginx", "traefik"] as const)(
    "GIVEN every manifest the prod program renders with every feature on (%s gateway) WHEN the API server is asked to admit each THEN none is refused, restricted pods included",
    async (kind) => {
      await withEphemeralStack(
        { name: `prod-accept-${kind}`, baseStack: "prod", config: everyFeature(kind) },
        async (e) => {
          // GIVEN every manifest the prod program makes with every feature on
          const up = await e.up();
          expect(up.summary.result).toBe("succeeded");
          const objects = readManifests(path.join(e.workDir, "out/manifests"));
          const kinds = new Set(objects.map((o) => o.kind));
          for (const k of [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Secret",
          ])
            expect(kinds, k).toContain(k);
          try {
            // WHEN the API server is asked to admit each one THEN none is refused
            const {
              rejected,
              checked,
              pods: templates,
            } = await acceptManifests(cluster.api, objects);
            expect(rejected).toEqual([]);
            expect(checked).toBe(objects.length);
            expect(templates).toBeGreaterThan(8);
          } finally {
            for (const ns of objects.filter((o) => o.kind === "Namespace")) {
              const p = `/api/v1/namespaces/${ns.metadata.name}`;
              await cluster.api.delete(p);
              await waitFor(`${p} to be deleted`, async () =>
                (await cluster.api.find(p)) ? undefined : true,
              );
            }
          }
        },
      );
    },
  );

  it("GIVEN a real cluster WHEN the prod program goes up in kubeconfig mode, its image changes under load, and it is destroyed THEN every rollout was awaited, no credential is plaintext in the state, it serves, a second preview changes nothing, no request fails during the update, and nothing is left", async () => {
    const baseConfig = prodClusterConfig(cluster);
    let stackName = "";
    await withEphemeralStack(
      {
        name: "prod-k8s",
        baseStack: "prod",
        config: baseConfig,
        secrets: { kubeconfig: cluster.kubeconfig },
      },
      async (e: Ephemeral) => {
        stackName = e.stack.name;
        // WHEN the prod program goes up in kubeconfig mode
        let t = Date.now();
        const up = await upOrExplain(cluster, e);
        timings.upSeconds = (Date.now() - t) / 1000;
        expect(up.summary.result).toBe("succeeded");
        const state = JSON.stringify(await e.stack.exportStack());
        expect(state).not.toContain("pulumi.com/skipAwait");
        // ... and no credential the cluster now holds is readable in the state
        const credentials: Array<[string, string]> = [];
        for (const [ns, app] of [
          ["fjord-orders", "orders-db"],
          ["fjord-inventory", "inventory-db"],
          ["fjord-payment", "payment-db"],
        ]) {
          const sec = await cluster.api.get<KubeObject & { data: Record<string, string> }>(
            `/api/v1/namespaces/${ns}/secrets/${app}-credentials`,
          );
          for (const k of ["password", "root-password"])
            if (sec.data[k])
              credentials.push([`${app} ${k}`, Buffer.from(sec.data[k], "base64").toString()]);
        }
        expect(credentials.length).toBeGreaterThanOrEqual(4);
        const clientKey = /client-key-data: (\S+)/.exec(cluster.kubeconfig)?.[1];
        expect(clientKey, "the admin kubeconfig carries its key inline").toBeDefined();
        credentials.push(["the kubeconfig's client key", clientKey!]);
        // The state as stored, secrets encrypted: the provider's kubeconfig, the passwords, the Secrets.
        const stored = (
          JSON.parse(e.exportState()) as { deployment: { resources: Array<{ urn: string }> } }
        ).deployment.resources;
        const leaks = credentials.flatMap(([what, value]) =>
          stored
            .filter((r) => plaintextLeaks(JSON.stringify(r), [value]).length)
            .map((r) => `${what} in ${r.urn}`),
        );
        expect(leaks, "credentials in plaintext in the state").toEqual([]);

        await checkRunningPlatform();

        // THEN a second preview proposes nothing
        t = Date.now();
        await e.expectNoChanges();
        timings.noChangePreviewSeconds = (Date.now() - t) / 1000;

        // WHEN the services' image changes under a steady load THEN every request still succeeds
        const newRef = `${cluster.images.local.sampleService}-next`;
        await cluster.retag(cluster.images.local.sampleService, newRef);
        await e.stack.setConfig("fjord:services", {
          value: JSON.stringify(prodClusterConfig(cluster, { sampleImage: newRef }).services),
        });
        const [ip] = await gatewayIps();
        const load = steadyLoad(ip!, 100);
        t = Date.now();
        const update = await upOrExplain(cluster, e);
        timings.rollingUpdateSeconds = (Date.now() - t) / 1000;
        await sleep(3000);
        const { sent, failures } = await load.finish();
        expect(update.summary.result).toBe("succeeded");
        expect(
          failures,
          `${failures.length} of ${sent} requests failed during the rollout`,
        ).toEqual([]);
        const orders = await pods("fjord-orders", "orders");
        expect(orders.map((p) => p.spec.containers[0]!.image)).toEqual(Array(3).fill(newRef));
      },
    );
    // THEN destroy leaves no object behind in fjord's namespaces
    const left = await cluster.api.list<KubeObject>(
      "/api/v1/namespaces?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dfjord",
    );
    expect(
      left.map((n) => n.metadata.name),
      `after destroying ${stackName}`,
    ).toEqual([]);
  });
});
