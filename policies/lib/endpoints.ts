/**
 * Where observability data goes: endpoint extraction from the usual config files, and the
 * verdict on each endpoint (in-platform, in an allowed jurisdiction, or not).
 */
import { parse as parseYaml } from "yaml";
import type { FileKind } from "./files";
import { memoByText } from "./memo";
import type { Jurisdictions } from "./regions";
import { type Obj, isObj } from "./values";

export interface Endpoint {
  /** The URL or address as written. */
  url: string;
  /** Where in the file: "remote_write[0].url". */
  at: string;
}

/** Host suffix → operator; all are outside the EEA's legal reach (US providers). */
export const NON_EEA_SAAS: Readonly<Record<string, string>> = {
  "datadoghq.com": "Datadog",
  "datadoghq.eu": "Datadog (US provider)",
  "ddog-gov.com": "Datadog",
  "newrelic.com": "New Relic",
  "nr-data.net": "New Relic",
  "grafana.net": "Grafana Cloud",
  "logz.io": "Logz.io",
  "splunkcloud.com": "Splunk Cloud",
  "amazonaws.com": "AWS",
  "googleapis.com": "Google Cloud",
  "azure.com": "Microsoft Azure",
  "hooks.slack.com": "Slack",
  "slack.com": "Slack",
  "pagerduty.com": "PagerDuty",
  "opsgenie.com": "Opsgenie",
  "sentry.io": "Sentry",
  "honeycomb.io": "Honeycomb",
  "elastic-cloud.com": "Elastic Cloud",
  "cloud.es.io": "Elastic Cloud",
  "loggly.com": "Loggly",
  "papertrailapp.com": "Papertrail",
  "sumologic.com": "Sumo Logic",
  "logentries.com": "Logentries",
  "dynatrace.com": "Dynatrace",
  "signalfx.com": "Splunk Observability",
  "lightstep.com": "Lightstep",
  "victorops.com": "VictorOps",
  "pushover.net": "Pushover",
  "telegram.org": "Telegram",
  "webexapis.com": "Webex",
  "discord.com": "Discord",
  "office.com": "Microsoft 365",
};

/** Alertmanager integrations and the endpoint each uses when the config names none. */
const RECEIVER_DEFAULTS: Readonly<Record<string, string>> = {
  slack: "https://hooks.slack.com",
  pagerduty: "https://events.pagerduty.com/v2/enqueue",
  opsgenie: "https://api.opsgenie.com/",
  victorops: "https://alert.victorops.com/integrations/generic/20131114/alert/",
  pushover: "https://api.pushover.net/1/messages.json",
  sns: "https://sns.us-east-1.amazonaws.com",
  telegram: "https://api.telegram.org",
  webex: "https://webexapis.com/v1/messages",
  wechat: "https://qyapi.weixin.qq.com/cgi-bin/",
};

export type Verdict =
  | { kind: "ok"; basis: string; jurisdiction?: string }
  | { kind: "violation"; why: string }
  | { kind: "unknown"; why: string };

const TEMPLATE = /\$\{|\$\(|\{\{|%\{|<no value>/;

/** Host of a URL or host[:port] string; undefined when it is a template or unparseable. */
export function hostOf(address: string): string | undefined {
  let s = address.trim();
  if (!s || TEMPLATE.test(s)) return undefined;
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  s = s.replace(/^[^@/]*@/, "");
  if (s.startsWith("[")) return s.slice(1, s.indexOf("]")).toLowerCase();
  s = s.split(/[/?#]/)[0]!;
  if ((s.match(/:/g) ?? []).length > 1) return s.toLowerCase(); // bare IPv6
  return s.split(":")[0]!.toLowerCase() || undefined;
}

function ipv4(h: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m ? m.slice(1).map(Number) : undefined;
}

/** Loopback, RFC 1918, IPv6 ULA, cluster DNS, bare service names and the Docker host. */
export function inPlatform(host: string): string | undefined {
  const ip = ipv4(host);
  if (ip) {
    const [a, b] = ip as [number, number];
    if (a === 127) return "loopback";
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168))
      return "private network (RFC 1918)";
    return undefined;
  }
  if (host.includes(":")) {
    if (host === "::1") return "loopback";
    return /^f[cd][0-9a-f]{2}:/.test(host) ? "private network (IPv6 ULA)" : undefined;
  }
  if (host === "localhost" || host === "host.docker.internal") return "local host";
  if (/\.svc(\.cluster\.local)?$/.test(host) || host.endsWith(".cluster.local"))
    return "cluster DNS";
  if (!host.includes(".")) return "in-platform service name";
  return undefined;
}

const suffixMatch = (host: string, suffix: string): boolean => {
  const s = suffix.replace(/^\./, "").toLowerCase();
  return host === s || host.endsWith(`.${s}`);
};

export function judgeEndpoint(
  address: string,
  j: Jurisdictions,
  allowedEndpoints: Record<string, string>,
): Verdict {
  const host = hostOf(address);
  if (host === undefined)
    return { kind: "unknown", why: `'${address}' is a template or not an address` };
  const local = inPlatform(host);
  if (local) return { kind: "ok", basis: local };
  const allowed = Object.entries(allowedEndpoints)
    .filter(([s]) => suffixMatch(host, s))
    .sort((a, b) => b[0].length - a[0].length)[0];
  if (allowed) {
    const juris = allowed[1].toUpperCase();
    return j.isAllowed(juris)
      ? { kind: "ok", basis: `allowedEndpoints '${allowed[0]}'`, jurisdiction: juris }
      : {
          kind: "violation",
          why: `'${host}' is listed in allowedEndpoints as ${juris}, which is not an allowed jurisdiction (${j.allowedText()})`,
        };
  }
  const saas = Object.entries(NON_EEA_SAAS).find(([s]) => suffixMatch(host, s));
  if (saas)
    return {
      kind: "violation",
      why: `'${host}' is ${saas[1]}, a SaaS operated outside the allowed jurisdictions`,
    };
  const region = j.regionOfHost(host);
  if (region) {
    const juris = j.of(region);
    if (juris && j.isAllowed(juris))
      return { kind: "ok", basis: `hostRegions '${region}'`, jurisdiction: juris };
    return {
      kind: "violation",
      why: `'${host}' is in region '${region}' (${juris ?? "unknown jurisdiction"}), outside ${j.allowedText()}`,
    };
  }
  return {
    kind: "violation",
    why: `'${host}' cannot be shown to be in-platform or in ${j.allowedText()}`,
  };
}

const yamlOf = memoByText((text: string): unknown => {
  try {
    return parseYaml(text);
  } catch {
    return undefined;
  }
});

const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const o = (v: unknown): Obj => (isObj(v) ? v : {});
const s = (v: unknown): string | undefined => (typeof v === "string" && v.trim() ? v : undefined);

function alertmanager(doc: Obj, receiversKey: "receivers", camel: boolean): Endpoint[] {
  const out: Endpoint[] = [];
  const global = o(doc.global);
  arr(doc[receiversKey]).forEach((r, ri) => {
    for (const [key, configs] of Object.entries(o(r))) {
      const m = /^(.*?)(_configs|Configs)$/.exec(key);
      if (!m) continue;
      const type = m[1]!.toLowerCase();
      arr(configs).forEach((c, ci) => {
        const at = `receivers[${ri}].${key}[${ci}]`;
        const cc = o(c);
        const explicit = camel
          ? (s(cc.url) ?? s(cc.apiURL) ?? s(cc.webhookURL))
          : (s(cc.url) ?? s(cc.api_url) ?? s(cc.webhook_url) ?? s(cc.smarthost));
        const url =
          explicit ??
          s(global[`${type}_api_url`]) ??
          s(global[`${type}_url`]) ??
          (type === "email" ? s(global.smtp_smarthost) : RECEIVER_DEFAULTS[type]);
        if (url) out.push({ url, at });
      });
    }
  });
  return out;
}

function fluentBitClassic(text: string): Endpoint[] {
  const out: Endpoint[] = [];
  const sections = text.split(/^\s*\[/m).slice(1);
  sections.forEach((sec, i) => {
    const [head, ...lines] = sec.split("\n");
    if (!/^OUTPUT\]/i.test(head ?? "")) return;
    const kv: Record<string, string> = {};
    for (const l of lines) {
      const m = /^\s*([A-Za-z_.]+)\s+(.+?)\s*$/.exec(l);
      if (m && !l.trim().startsWith("#")) kv[m[1]!.toLowerCase()] = m[2]!;
    }
    const url = fluentBitTarget(kv.name ?? "", kv.host);
    if (url) out.push({ url, at: `[OUTPUT] #${i + 1} (${kv.name ?? "?"})` });
  });
  return out;
}

/** A Fluent Bit output's destination: its Host, or the plugin's fixed SaaS endpoint. */
function fluentBitTarget(name: string, host: string | undefined): string | undefined {
  const n = name.toLowerCase();
  if (["stdout", "null", "file", "counter", "flowcounter", "exit"].includes(n)) return undefined;
  if (host) return host;
  if (n === "datadog") return "http-intake.logs.datadoghq.com";
  if (n === "stackdriver") return "logging.googleapis.com";
  if (n === "newrelic" || n === "nrlogs") return "log-api.newrelic.com";
  if (/^(cloudwatch|kinesis|s3|firehose)/.test(n)) return "logs.amazonaws.com";
  if (n.startsWith("azure")) return "ods.opinsights.azure.com";
  return "127.0.0.1"; // every other output defaults to the local host
}

function urlsUnder(node: unknown, at: string, keys: RegExp, out: Endpoint[]): void {
  if (Array.isArray(node)) node.forEach((v, i) => urlsUnder(v, `${at}[${i}]`, keys, out));
  else if (isObj(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (keys.test(k) && typeof v === "string") out.push({ url: v, at: `${at}.${k}` });
      else if (keys.test(k) && Array.isArray(v))
        v.forEach((e, i) => typeof e === "string" && out.push({ url: e, at: `${at}.${k}[${i}]` }));
      else urlsUnder(v, `${at}.${k}`, keys, out);
    }
  }
}

/** Export destinations in one file; `undefined` when the file cannot be parsed. */
export function endpointsOf(kind: FileKind, text: string): Endpoint[] | undefined {
  if (kind === "alloy") {
    return [...text.matchAll(/\b(url|endpoint|address)\s*=\s*"([^"]+)"/g)].map((m) => ({
      url: m[2]!,
      at: m[1]!,
    }));
  }
  if (kind === "fluent-bit" && /^\s*\[/m.test(text)) return fluentBitClassic(text);
  const doc = yamlOf(text);
  if (!isObj(doc)) return kind === "other" ? [] : undefined;
  const out: Endpoint[] = [];
  switch (kind) {
    case "prometheus":
      arr(doc.remote_write).forEach(
        (w, i) =>
          s(o(w).url) && out.push({ url: o(w).url as string, at: `remote_write[${i}].url` }),
      );
      arr(o(doc.alerting).alertmanagers).forEach((a, i) =>
        arr(o(a).static_configs).forEach((sc, j) =>
          arr(o(sc).targets).forEach(
            (t, k) =>
              s(t) &&
              out.push({
                url: t as string,
                at: `alerting.alertmanagers[${i}].static_configs[${j}].targets[${k}]`,
              }),
          ),
        ),
      );
      break;
    case "alertmanager":
      out.push(...alertmanager(doc, "receivers", false));
      break;
    case "grafana-datasources":
      arr(doc.datasources).forEach(
        (d, i) => s(o(d).url) && out.push({ url: o(d).url as string, at: `datasources[${i}].url` }),
      );
      break;
    case "promtail":
      arr(doc.clients).forEach(
        (c, i) => s(o(c).url) && out.push({ url: o(c).url as string, at: `clients[${i}].url` }),
      );
      break;
    case "otel-collector":
      urlsUnder(doc.exporters, "exporters", /^(endpoint|url|\w+_endpoint)$/, out);
      break;
    case "vector":
      for (const [name, sink] of Object.entries(o(doc.sinks))) {
        const before = out.length;
        urlsUnder(sink, `sinks.${name}`, /^(endpoint|endpoints|uri|address)$/, out);
        const type = String(o(sink).type ?? "");
        if (out.length === before && /^(datadog|new_relic|aws_|gcp_|azure_|honeycomb)/.test(type)) {
          out.push({
            url: type.startsWith("datadog")
              ? "datadoghq.com"
              : type.startsWith("new_relic")
                ? "newrelic.com"
                : type.startsWith("aws_")
                  ? "amazonaws.com"
                  : type.startsWith("gcp_")
                    ? "googleapis.com"
                    : type.startsWith("azure_")
                      ? "azure.com"
                      : "honeycomb.io",
            at: `sinks.${name}.type`,
          });
        }
      }
      break;
    case "fluent-bit":
      arr(o(doc.pipeline).outputs).forEach((p, i) => {
        const url = fluentBitTarget(String(o(p).name ?? ""), s(o(p).host));
        if (url) out.push({ url, at: `pipeline.outputs[${i}]` });
      });
      break;
    default:
      break;
  }
  return out;
}

/** Alertmanager receivers of an AlertmanagerConfig CRD (camelCase keys). */
export const alertmanagerCrdEndpoints = (spec: Obj): Endpoint[] =>
  alertmanager(spec, "receivers", true);
