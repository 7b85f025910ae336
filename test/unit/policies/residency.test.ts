import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { type Fixture, edit, runResource, runStack, unknown } from "./harness";
import { T, deployment, dockerContainer, namespace, prodStack, vpsCommand } from "./fixtures";
import {
  residencyEndpoints,
  residencyNodes,
  residencyWorkloads,
} from "../../../policies/residency";
import { residencyEvidence } from "../../../policies/residency-evidence";
import { judgeEndpoint } from "../../../policies/lib/endpoints";
import { Jurisdictions } from "../../../policies/lib/regions";

const stack = prodStack();
const cmd = (name: string, props: Record<string, unknown>): Fixture => ({
  type: T.command,
  name,
  props,
});

describe("residency-nodes", () => {
  it("GIVEN nodes in Oslo WHEN judged THEN they pass", async () => {
    expect((await runStack(residencyNodes, stack)).violations).toEqual([]);
  });
  it("GIVEN a node in us-east1 WHEN judged THEN it is refused", async () => {
    const r = await runStack(residencyNodes, [
      ...stack,
      cmd("iad-1-facts", vpsCommand("iad-1", "198.51.100.7", "us-east1")),
    ]);
    expect(r.mandatory).toEqual([
      "remote command 'iad-1-facts' runs in region 'us-east1' (US), outside the allowed jurisdictions (NO); move the node to an allowed region.",
    ]);
  });
  it("GIVEN a node in de-fra1 WHEN judged with NO only THEN it is refused, and WHEN the config allows the EEA THEN it passes", async () => {
    const s = [...stack, cmd("fra-1-facts", vpsCommand("fra-1", "198.51.100.8", "de-fra1"))];
    expect((await runStack(residencyNodes, s)).mandatory).toHaveLength(1);
    expect(
      (await runStack(residencyNodes, s, { config: { allowedJurisdictions: ["EEA"] } })).violations,
    ).toEqual([]);
  });
  it("GIVEN a remote command without a region WHEN judged THEN it is refused as unprovable, and WHEN its host is listed in hostRegions THEN it passes", async () => {
    const bare = cmd("backup", { connection: { host: "203.0.113.9" }, create: "tar c /data" });
    expect((await runStack(residencyNodes, [bare])).mandatory).toEqual([
      "remote command 'backup' connects to host '203.0.113.9' but declares no region, so it cannot be proven resident; set environment.FJORD_REGION on the command or list the host in the policy config hostRegions.",
    ]);
    expect(
      (
        await runStack(residencyNodes, [bare], {
          config: { hostRegions: { "203.0.113.9": "no-svg1" } },
        })
      ).violations,
    ).toEqual([]);
  });
  it("GIVEN a CopyToRemote to a host a regioned node uses WHEN judged THEN it is placed by that node and passes", async () => {
    const copy: Fixture = {
      type: T.copy,
      name: "osl-1-airgap-k3s",
      props: { connection: { host: "192.0.2.11" }, remotePath: "/opt/k3s" },
    };
    expect((await runStack(residencyNodes, [...stack, copy])).violations).toEqual([]);
  });
  it("GIVEN a region missing from the catalog WHEN judged THEN it is refused by name, and WHEN the config adds it THEN it passes", async () => {
    const r = await runStack(residencyNodes, [cmd("x", vpsCommand("x", "192.0.2.99", "no-trd1"))]);
    expect(r.mandatory).toEqual([
      "remote command 'x' runs in region 'no-trd1', which is not in the region catalog; add it to the policy config regions with its jurisdiction.",
    ]);
    expect(
      (
        await runStack(residencyNodes, [cmd("x", vpsCommand("x", "192.0.2.99", "no-trd1"))], {
          config: { regions: { "no-trd1": "NO" } },
        })
      ).violations,
    ).toEqual([]);
  });
  it("GIVEN a computed FJORD_REGION WHEN judged THEN it is advised as unverifiable at preview", async () => {
    const r = await runStack(residencyNodes, [
      cmd("x", { connection: { host: "192.0.2.11" }, environment: { FJORD_REGION: unknown() } }),
    ]);
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toEqual([
      "Cannot verify the region of remote command 'x' at preview: environment.FJORD_REGION is computed.",
    ]);
  });
  it("GIVEN a Docker provider on a remote ssh host without a region WHEN judged THEN it is refused like a node", async () => {
    const p: Fixture = {
      type: T.dockerProvider,
      name: "remote",
      props: { host: "ssh://deploy@203.0.113.20" },
    };
    expect((await runStack(residencyNodes, [p])).mandatory).toEqual([
      "Docker provider 'remote' connects to host '203.0.113.20' but declares no region, so it cannot be proven resident; set environment.FJORD_REGION on the command or list the host in the policy config hostRegions.",
    ]);
  });
  it("GIVEN a local-only stack WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runStack(residencyNodes, [{ type: T.docker, name: "c", props: dockerContainer() }]))
        .notApplicable,
    ).toEqual(["The stack has no remote commands or remote Docker hosts."]);
  });
});

describe("residency-workloads", () => {
  it("GIVEN fjord's Namespace and Deployment labels WHEN judged THEN both pass", async () => {
    expect(
      (
        await runResource(residencyWorkloads, {
          type: T.namespace,
          props: namespace("fjord-orders"),
        })
      ).violations,
    ).toEqual([]);
    expect(
      (await runResource(residencyWorkloads, { type: T.deployment, props: deployment() }))
        .violations,
    ).toEqual([]);
  });
  it("GIVEN a Namespace labelled with region us-east1 and jurisdiction US WHEN judged THEN both labels are refused", async () => {
    const ns = edit(namespace("fjord-x"), (n) =>
      Object.assign(n.metadata.labels, {
        "fjord.io/region": "us-east1",
        "fjord.io/jurisdiction": "US",
      }),
    );
    expect(
      (await runResource(residencyWorkloads, { type: T.namespace, props: ns })).mandatory,
    ).toEqual([
      "Namespace fjord-x has label fjord.io/region 'us-east1' (US), outside the allowed jurisdictions (NO); use a region in NO.",
      "Namespace fjord-x has label fjord.io/jurisdiction=US, outside the allowed jurisdictions (NO); place it in an allowed jurisdiction.",
    ]);
  });
  it("GIVEN a node affinity allowing de-fra1 WHEN judged THEN the foreign region is refused", async () => {
    const d = edit(deployment(), (x) => {
      x.spec.template.spec.affinity.nodeAffinity = {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                {
                  key: "topology.kubernetes.io/region",
                  operator: "In",
                  values: ["no-osl1", "de-fra1"],
                },
              ],
            },
          ],
        },
      };
    });
    expect(
      (await runResource(residencyWorkloads, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders has a node selector on region 'de-fra1' (DE), outside the allowed jurisdictions (NO); use a region in NO.",
    ]);
  });
  it("GIVEN a computed region label WHEN judged THEN it is advised as unverifiable", async () => {
    const ns = edit(
      namespace("fjord-x"),
      (n) => (n.metadata.labels["fjord.io/region"] = unknown()),
    );
    expect(
      (await runResource(residencyWorkloads, { type: T.namespace, props: ns })).advisory,
    ).toEqual([
      "Cannot verify the region of Namespace fjord-x at preview: its fjord.io/region label is computed.",
    ]);
  });
  it("GIVEN a Docker container WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(residencyWorkloads, { type: T.docker, props: dockerContainer() }))
        .notApplicable,
    ).toEqual(["Only Kubernetes objects carry region labels."]);
  });
});

describe("judgeEndpoint", () => {
  const j = new Jurisdictions({
    allowedJurisdictions: ["NO"],
    regions: {},
    hostRegions: { "192.0.2.11": "no-osl1" },
  });
  it.each([
    ["http://prometheus.fjord-system.svc.cluster.local:9090/api/v1/write", "ok"],
    ["http://loki:3100/loki/api/v1/push", "ok"],
    ["10.43.0.10:9093", "ok"],
    ["http://[::1]:9090", "ok"],
    ["https://192.0.2.11:3100", "ok"],
    ["https://logs.example.no/push", "violation"],
    ["https://prometheus-prod-01-eu-west-0.grafana.net/api/prom/push", "violation"],
    ["https://${LOKI_HOST}/push", "unknown"],
  ])("GIVEN the endpoint %s WHEN judged for NO THEN it is %s", (url, kind) =>
    expect(judgeEndpoint(url, j, {}).kind).toBe(kind),
  );
  it("GIVEN an allowed endpoint suffix WHEN it is in NO THEN it is accepted, and WHEN it is in DE THEN it is refused", () => {
    expect(judgeEndpoint("https://logs.example.no/push", j, { "example.no": "NO" })).toEqual({
      kind: "ok",
      basis: "allowedEndpoints 'example.no'",
      jurisdiction: "NO",
    });
    expect(judgeEndpoint("https://logs.example.de/push", j, { "example.de": "DE" }).kind).toBe(
      "violation",
    );
  });
});

const cm = (files: Record<string, string>) => ({
  type: T.configMap,
  props: { metadata: { name: "obs", namespace: "fjord-system" }, data: files },
});

describe("residency-endpoints", () => {
  it("GIVEN Prometheus and Grafana configs with in-cluster endpoints WHEN judged THEN they pass", async () => {
    const prom =
      "global: {}\nremote_write:\n  - url: http://mimir.fjord-system.svc:9009/api/v1/push\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [alertmanager:9093]\n";
    const grafana =
      "apiVersion: 1\ndatasources:\n  - name: Prometheus\n    url: http://prometheus:9090\n";
    expect(
      (
        await runResource(
          residencyEndpoints,
          cm({ "prometheus.yml": prom, "datasources.yaml": grafana }),
        )
      ).violations,
    ).toEqual([]);
  });
  it("GIVEN a remote_write to Grafana Cloud in the US WHEN judged THEN it is refused", async () => {
    const prom =
      "remote_write:\n  - url: https://prometheus-us-central1.grafana.net/api/prom/push\n";
    expect(
      (await runResource(residencyEndpoints, cm({ "prometheus.yml": prom }))).mandatory,
    ).toEqual([
      "ConfigMap fjord-system/obs sends data to https://prometheus-us-central1.grafana.net/api/prom/push (data key 'prometheus.yml' remote_write[0].url): 'prometheus-us-central1.grafana.net' is Grafana Cloud, a SaaS operated outside the allowed jurisdictions; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
  });
  it("GIVEN a remote_write to example.no WHEN allowedEndpoints lists it in NO THEN it passes", async () => {
    const prom = "remote_write:\n  - url: https://metrics.example.no/push\n";
    expect(
      (
        await runResource(residencyEndpoints, cm({ "prometheus.yml": prom }), {
          config: { allowedEndpoints: { "example.no": "NO" } },
        })
      ).violations,
    ).toEqual([]);
  });
  it("GIVEN an Alertmanager with a Slack receiver and an in-cluster webhook WHEN judged THEN only Slack's default URL is refused", async () => {
    const am =
      "route: { receiver: team }\nreceivers:\n  - name: team\n    slack_configs:\n      - channel: '#ops'\n    webhook_configs:\n      - url: http://relay.fjord-system.svc:8080/\n";
    expect(
      (await runResource(residencyEndpoints, cm({ "alertmanager.yml": am }))).mandatory,
    ).toEqual([
      "ConfigMap fjord-system/obs sends data to https://hooks.slack.com (data key 'alertmanager.yml' receivers[0].slack_configs[0]): 'hooks.slack.com' is Slack, a SaaS operated outside the allowed jurisdictions; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
  });
  it("GIVEN Fluent Bit outputs to in-cluster Loki and to Datadog WHEN judged THEN only Datadog's fixed SaaS endpoint is refused", async () => {
    const fb =
      "[INPUT]\n    Name tail\n[OUTPUT]\n    Name loki\n    Host loki.fjord-system.svc\n[OUTPUT]\n    Name datadog\n    Match *\n";
    expect(
      (await runResource(residencyEndpoints, cm({ "fluent-bit.conf": fb }))).mandatory,
    ).toEqual([
      "ConfigMap fjord-system/obs sends data to http-intake.logs.datadoghq.com (data key 'fluent-bit.conf' [OUTPUT] #3 (datadog)): 'http-intake.logs.datadoghq.com' is Datadog, a SaaS operated outside the allowed jurisdictions; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
  });
  it("GIVEN Docker log drivers WHEN the default is used THEN it passes, and WHEN awslogs or a remote syslog THEN each is refused", async () => {
    expect(
      (await runResource(residencyEndpoints, { type: T.docker, props: dockerContainer() }))
        .violations,
    ).toEqual([]);
    const aws = dockerContainer({
      logDriver: "awslogs",
      logOpts: { "awslogs-region": "eu-north-1", "awslogs-group": "fjord" },
    });
    expect(
      (await runResource(residencyEndpoints, { type: T.docker, props: aws })).mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' sends data to logs.eu-north-1.amazonaws.com (log driver awslogs logDriver): 'logs.eu-north-1.amazonaws.com' is AWS, a SaaS operated outside the allowed jurisdictions; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
    const syslog = dockerContainer({
      logDriver: "syslog",
      logOpts: { "syslog-address": "udp://203.0.113.50:514" },
    });
    expect(
      (await runResource(residencyEndpoints, { type: T.docker, props: syslog })).mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' sends data to udp://203.0.113.50:514 (log driver syslog logOpts.syslog-address): '203.0.113.50' cannot be shown to be in-platform or in NO; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
  });
  it("GIVEN the fluentd log driver WHEN it ships to loopback THEN it passes, and WHEN to a remote agent THEN it is refused", async () => {
    const fluentd = (address: string) =>
      dockerContainer({
        logDriver: "fluentd",
        logOpts: {
          "fluentd-address": `tcp://${address}`,
          "fluentd-async": "true",
          tag: "docker.fjord-orders.fjord-dev-orders-1.orders",
        },
      });
    const local = await runResource(residencyEndpoints, {
      type: T.docker,
      props: fluentd("127.0.0.1:24224"),
    });
    expect(local.violations).toEqual([]);
    expect(
      (
        await runResource(residencyEndpoints, {
          type: T.docker,
          props: fluentd("198.51.100.7:24224"),
        })
      ).mandatory,
    ).toEqual([
      "Docker container 'fjord-dev-orders-1' sends data to tcp://198.51.100.7:24224 (log driver fluentd logOpts.fluentd-address): '198.51.100.7' cannot be shown to be in-platform or in NO; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
  });
  it("GIVEN OTEL_EXPORTER_OTLP_ENDPOINT set to Honeycomb in a pod spec WHEN judged THEN it is refused", async () => {
    const d = edit(deployment(), (x) =>
      x.spec.template.spec.containers[0].env.push({
        name: "OTEL_EXPORTER_OTLP_ENDPOINT",
        value: "https://api.honeycomb.io",
      }),
    );
    expect(
      (await runResource(residencyEndpoints, { type: T.deployment, props: d })).mandatory,
    ).toEqual([
      "Deployment fjord-orders/orders sends data to https://api.honeycomb.io (environment container 'orders' env OTEL_EXPORTER_OTLP_ENDPOINT): 'api.honeycomb.io' is Honeycomb, a SaaS operated outside the allowed jurisdictions; use an in-platform endpoint or list the host in allowedEndpoints with its jurisdiction.",
    ]);
  });
  it("GIVEN a computed prometheus.yml WHEN judged THEN it is advised as unverifiable", async () => {
    const r = await runResource(residencyEndpoints, cm({ "prometheus.yml": unknown() }));
    expect(r.advisory).toEqual([
      "Cannot verify the prometheus config in ConfigMap fjord-system/obs (data key 'prometheus.yml') at preview: its content is computed.",
    ]);
  });
  it("GIVEN a Service WHEN judged THEN the policy is not applicable", async () => {
    expect(
      (await runResource(residencyEndpoints, { type: T.service, props: {} })).notApplicable,
    ).toHaveLength(1);
  });
});

describe("residency-evidence", () => {
  it("GIVEN the prod fixture stack and an evidence file WHEN the evidence is built THEN each resource's jurisdiction is written and a single advisory summary reported", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fjord-ev-")), "evidence.json");
    const r = await runStack(
      residencyEvidence,
      [{ type: T.stack, name: "fjord-prod", props: {} }, ...stack],
      { config: { evidenceFile: file, reportSummary: true } },
    );
    expect(r.mandatory).toEqual([]);
    expect(r.advisory).toHaveLength(1);
    expect(r.advisory[0]).toMatch(
      /^Residency evidence written to .*evidence\.json: 3 node\(s\) and 8 other resource\(s\) \(NO: 10, logical: 1\), backups of 1 database\(s\) \(NO: 1\); every placed resource is in NO\.$/,
    );
    const ev = JSON.parse(fs.readFileSync(file, "utf8"));
    expect(ev.compliant).toBe(true);
    expect(ev.nodes[0]).toMatchObject({
      name: "osl-1-facts",
      region: "no-osl1",
      jurisdiction: "NO",
      basis: "environment.FJORD_REGION (host 192.0.2.11)",
    });
    expect(
      ev.resources.find((e: { name: string }) => e.name === "orders-deployment"),
    ).toMatchObject({
      jurisdiction: "NO",
      basis: "label fjord.io/region on Deployment fjord-orders/orders",
    });
  });
  it("GIVEN a stack with no resources to place WHEN the evidence is built THEN the policy is not applicable", async () => {
    expect(
      (await runStack(residencyEvidence, [{ type: T.stack, name: "fjord-prod", props: {} }]))
        .notApplicable,
    ).toEqual(["The stack has no resources to place."]);
  });
});
