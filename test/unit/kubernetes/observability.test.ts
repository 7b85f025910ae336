import { beforeAll, describe, expect, it } from "vitest";
import { isSecret, secretInput, setupMocks, valueOf } from "../../../testkit/mocks";
import { stackSpec } from "../plan/observability-fixtures";
import { planPlatform } from "../../../components/plan";

/* eslint-disable @typescript-eslint/no-explicit-any */
const rec = await setupMocks({ stack: "prod" });
const { Observability } = await import("../../../components/kubernetes");
const { PART_NAMES, PART_SIZING } = await import("../../../components/plan/observability");

const T = {
  ns: "kubernetes:core/v1:Namespace",
  cm: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  svc: "kubernetes:core/v1:Service",
  sts: "kubernetes:apps/v1:StatefulSet",
  deploy: "kubernetes:apps/v1:Deployment",
  ds: "kubernetes:apps/v1:DaemonSet",
  role: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
  binding: "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
  np: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
};

const spec = stackSpec("prod", {
  observability: {
    retentionTime: "15d",
    retentionSize: "40GB",
    storage: "50Gi",
    alertWebhooks: [{ name: "oncall", url: "https://hooks.example.no/fjord" }],
  },
});
let obs: InstanceType<typeof Observability>;

beforeAll(async () => {
  obs = new Observability("obs", {
    platform: planPlatform(spec),
    namespace: "fjord-system",
    gatewayMetricsPort: 9113,
  });
  await rec.settle();
});

const podSpec = (r: { inputs: any }) => r.inputs.spec.template.spec;
const container = (r: { inputs: any }) => podSpec(r).containers[0];

describe("Observability (prod stack, mocked)", () => {
  it("GIVEN the prod stack with Prometheus retention and storage set WHEN Observability is built THEN Prometheus and Loki run as StatefulSets with their volumes, the rest as Deployments and DaemonSets, behind ClusterIP Services", () => {
    const sts = rec.ofType(T.sts).map((r) => r.inputs.metadata.name);
    expect(sts.sort()).toEqual(["loki", "prometheus"]);
    const prom = rec.get(T.sts, "obs-prometheus");
    expect(prom.inputs.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe("50Gi");
    expect(container(prom).args).toEqual(
      expect.arrayContaining([
        "--storage.tsdb.retention.time=15d",
        "--storage.tsdb.retention.size=40GB",
        // nginx gateway: the Loki ruler writes the per-route series into Prometheus.
        "--web.enable-remote-write-receiver",
      ]),
    );
    expect(
      rec.get(T.sts, "obs-loki").inputs.spec.volumeClaimTemplates[0].spec.resources.requests
        .storage,
    ).toBe("10Gi");
    expect(
      rec
        .ofType(T.deploy)
        .map((r) => r.inputs.metadata.name)
        .sort(),
    ).toEqual(["alertmanager", "grafana"]);
    expect(
      rec
        .ofType(T.ds)
        .map((r) => `${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`)
        .sort(),
    ).toEqual(["fjord-log-shipper/log-shipper", "fjord-node-exporter/node-exporter"]);
    for (const svc of rec.ofType(T.svc)) expect(svc.inputs.spec.type, svc.name).toBe("ClusterIP");
  });

  it("GIVEN the prod stack's spec.images WHEN Observability is built THEN every workload's image is taken from it", () => {
    const images = [...rec.ofType(T.sts), ...rec.ofType(T.deploy), ...rec.ofType(T.ds)].map(
      (r) => container(r).image,
    );
    const i = spec.images;
    expect(images.sort()).toEqual(
      [i.prometheus, i.loki, i.alertmanager, i.grafana, i.nodeExporter, i.logShipper].sort(),
    );
  });

  it("GIVEN the prod stack WHEN Observability is built THEN Prometheus' one ClusterRole may only read pods, and no other workload gets an API token", () => {
    const roles = rec.ofType(T.role);
    expect(roles).toHaveLength(1);
    expect(roles[0].inputs.rules).toEqual([
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] },
    ]);
    const binding = rec.ofType(T.binding)[0].inputs;
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "prometheus", namespace: "fjord-system" },
    ]);
    expect(JSON.stringify(roles)).not.toMatch(/secrets|configmaps|\*/);
    // No other workload gets an API token.
    for (const r of [...rec.ofType(T.deploy), ...rec.ofType(T.ds), rec.get(T.sts, "obs-loki")]) {
      expect(podSpec(r).automountServiceAccountToken, r.name).toBe(false);
    }
  });

  it("GIVEN the prod stack with an alert webhook WHEN Observability is built THEN every config file and dashboard is in a ConfigMap under the key the policy pack scans, with the webhook in alertmanager.yml", () => {
    const keys = rec.ofType(T.cm).flatMap((r) => Object.keys(r.inputs.data));
    for (const k of [
      "prometheus.yml",
      "alerts.yml",
      "alertmanager.yml",
      "datasources.yaml",
      "dashboards.yaml",
      "loki.yaml",
      "fluent-bit.yaml",
    ]) {
      expect(keys, k).toContain(k);
    }
    for (const d of [
      "fjord-nodes.json",
      "fjord-gateway.json",
      "fjord-services.json",
      "fjord-databases.json",
    ]) {
      expect(keys, d).toContain(d);
    }
    const am = rec.get(T.cm, "obs-alertmanager-config").inputs.data["alertmanager.yml"];
    expect(am).toContain("https://hooks.example.no/fjord");
  });

  it("GIVEN the prod stack WHEN Observability is built THEN the Grafana admin password is in a Secret, passed by secretKeyRef and a secret output, with no anonymous access", async () => {
    const secret = rec.get(T.secret, "obs-grafana-admin").inputs;
    expect(secretInput(secret.stringData)["admin-password"]).toMatch(/^mock-password-/);
    expect(await isSecret(obs.grafanaAdminPassword)).toBe(true);
    const env = Object.fromEntries(
      container(rec.get(T.deploy, "obs-grafana")).env.map((e: any) => [
        e.name,
        e.value ?? e.valueFrom,
      ]),
    );
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toEqual({
      secretKeyRef: { name: "grafana-admin", key: "admin-password" },
    });
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe("false");
    expect(env.GF_AUTH_DISABLE_LOGIN_FORM).toBeUndefined();
    expect(env.GF_ANALYTICS_REPORTING_ENABLED).toBe("false");
    expect(JSON.stringify(env)).not.toContain("mock-password");
  });

  it("GIVEN the prod stack WHEN Observability is built THEN every workload runs without capabilities, host network or PID, non-root except the log shipper, with host mounts read-only", () => {
    for (const r of [...rec.ofType(T.sts), ...rec.ofType(T.deploy), ...rec.ofType(T.ds)]) {
      const sc = container(r).securityContext;
      expect(sc.allowPrivilegeEscalation, r.name).toBe(false);
      expect(sc.capabilities, r.name).toEqual({ drop: ["ALL"] });
      expect(sc.readOnlyRootFilesystem, r.name).toBe(true);
      expect(podSpec(r).hostNetwork ?? false, r.name).toBe(false);
      expect(podSpec(r).hostPID ?? false, r.name).toBe(false);
      if (r.inputs.metadata.name !== "log-shipper") expect(sc.runAsNonRoot, r.name).toBe(true);
    }
    const hostMounts = (name: string) =>
      container(rec.get(T.ds, name)).volumeMounts.filter(
        (m: any) => m.name !== "config" && m.name !== "state",
      );
    for (const m of [...hostMounts("obs-node-exporter"), ...hostMounts("obs-log-shipper")])
      expect(m.readOnly, m.name).toBe(true);
  });

  it("GIVEN the hostPath agents WHEN Observability is built THEN they are in their own privileged namespaces, labelled NO and default-deny like the rest", () => {
    const ns = rec.ofType(T.ns).map((r) => r.inputs.metadata);
    expect(ns.map((n) => n.name).sort()).toEqual(["fjord-log-shipper", "fjord-node-exporter"]);
    for (const n of ns) {
      expect(n.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
      expect(n.labels["pod-security.kubernetes.io/warn"]).toBe("restricted");
      expect(n.labels["fjord.io/jurisdiction"]).toBe("NO");
      const deny = rec
        .ofType(T.np)
        .find(
          (p) =>
            p.inputs.metadata.namespace === n.name && p.inputs.metadata.name === "default-deny",
        );
      expect(deny?.inputs.spec, n.name).toEqual({
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
      });
    }
  });

  it("GIVEN the prod stack with a webhook WHEN Observability is built THEN Prometheus gets out to fjord namespaces and the nodes' API only, the gateway is scraped on its port, Alertmanager gets out on 443 only and Loki admits only its three peers", () => {
    const policy = (name: string) =>
      rec
        .ofType(T.np)
        .find(
          (p) => p.inputs.metadata.name === name && p.inputs.metadata.namespace === "fjord-system",
        )?.inputs.spec;
    const egress = policy("prometheus-egress");
    expect(egress.egress[0]).toEqual({
      to: [
        {
          namespaceSelector: {
            matchLabels: expect.objectContaining({ "app.kubernetes.io/managed-by": "fjord" }),
          },
        },
      ],
    });
    // The API server, on the nodes' own addresses only.
    expect(egress.egress[1].to).toEqual(
      spec.nodes.map((n) => ({ ipBlock: { cidr: `${n.host}/32` } })),
    );
    expect(policy("gateway-scrape").ingress[0].ports).toEqual([{ protocol: "TCP", port: 9113 }]);
    // The configured webhook is the only way out for Alertmanager.
    expect(policy("alertmanager-egress").egress).toEqual([
      { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ]);
    expect(
      policy("loki-ingress")
        .ingress[0].from.map((f: any) => f.podSelector.matchLabels.app)
        .sort(),
    ).toEqual(["grafana", "log-shipper", "prometheus"]);
  });

  it("GIVEN the prod stack WHEN Observability is built THEN the Grafana and Prometheus URL outputs are in-cluster addresses", async () => {
    expect(await valueOf(obs.grafanaUrl)).toBe(
      "http://grafana.fjord-system.svc.cluster.local:3000",
    );
    expect(await valueOf(obs.prometheusUrl)).toBe(
      "http://prometheus.fjord-system.svc.cluster.local:9090",
    );
  });

  it("GIVEN the plan's part table WHEN the stack is built THEN every part has its requests, limits and probe paths", () => {
    for (const [part, sizing] of Object.entries(PART_SIZING)) {
      const name = PART_NAMES[part as keyof typeof PART_NAMES];
      const workload = [T.sts, T.deploy, T.ds]
        .flatMap((t) => rec.ofType(t))
        .find((r) => r.name === `obs-${name}`);
      expect(workload, part).toBeDefined();
      const c = container(workload!);
      expect(c.resources, part).toEqual(sizing.resources);
      expect(c.livenessProbe.httpGet.path, part).toBe(sizing.live.path);
      expect(c.livenessProbe.initialDelaySeconds, part).toBe(sizing.live.initialDelaySeconds);
      expect(c.readinessProbe?.httpGet.path, part).toBe(sizing.ready?.path);
    }
  });
});

describe("Observability with observability.components switched off (mocked)", () => {
  const off = stackSpec("prod", {
    observability: {
      components: { alertmanager: false, grafana: false, loki: false, logShipper: false },
    },
  });
  let lean: InstanceType<typeof Observability>;
  // Created after the suite above has checked its own resources; everything here is "lean-".
  const mine = (type: string) => rec.ofType(type).filter((r) => r.name.startsWith("lean-"));

  beforeAll(async () => {
    lean = new Observability("lean", { platform: planPlatform(off), namespace: "fjord-system" });
    await rec.settle();
  });

  it("GIVEN every optional part off WHEN Observability is built THEN only Prometheus and the node exporter run, with no Secret, no generated password and no Grafana outputs", async () => {
    const workloads = [...mine(T.sts), ...mine(T.deploy), ...mine(T.ds)].map(
      (r) => r.inputs.metadata.name,
    );
    expect(workloads.sort()).toEqual(["node-exporter", "prometheus"]);
    expect(mine(T.secret)).toEqual([]);
    expect(
      rec
        .ofType("random:index/randomPassword:RandomPassword")
        .filter((r) => r.name.startsWith("lean-")),
    ).toEqual([]);
    expect(await valueOf(lean.grafanaUrl)).toBeUndefined();
    expect(await valueOf(lean.grafanaAdminPassword)).toBeUndefined();
  });

  it("GIVEN every optional part off WHEN Observability is built THEN only the node exporter's namespace exists and no policy names an absent part or admits Prometheus from no peer", () => {
    expect(mine(T.ns).map((r) => r.inputs.metadata.name)).toEqual(["fjord-node-exporter"]);
    const policies = mine(T.np).map(
      (p) => `${p.inputs.metadata.namespace}/${p.inputs.metadata.name}`,
    );
    expect(policies).toContain("fjord-node-exporter/default-deny");
    expect(policies.filter((p) => /log-shipper|grafana|loki|alertmanager/.test(p))).toEqual([]);
    // With no peer, no `from: []` rule that would admit everyone.
    expect(policies).not.toContain("fjord-system/prometheus-ingress");
  });

  it("GIVEN every optional part off WHEN Observability is built THEN Prometheus' config names no Alertmanager or log shipper and it takes no remote write", () => {
    const prom = mine(T.cm).find((r) => r.inputs.metadata.name === "prometheus-config")!;
    expect(prom.inputs.data["prometheus.yml"]).not.toMatch(
      /alerting:|alertmanager|fjord-log-shipper/,
    );
    const args = container(mine(T.sts).find((r) => r.inputs.metadata.name === "prometheus")!).args;
    expect(args).not.toContain("--web.enable-remote-write-receiver");
  });
});
