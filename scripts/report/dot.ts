/**
 * The stack's topology as Graphviz DOT: one box per region with its VPS nodes, the gateway,
 * services and databases; synchronous calls labelled with their worst-case RTT. Each route's
 * worst-case chain is drawn heavy, and red when it is over budget, so the picture answers
 * "which path is slow" without the table.
 */
import type { Spec } from "../../components/config";
import {
  GATEWAY,
  callResidency,
  ms,
  rttBetween,
  type LatencyModel,
  type RouteLatency,
} from "../../components/plan/latency";

const INK = "#2b3a4a";
const MUTED = "#6b7b8c";
const RED = "#c62828";
const CHAIN = "#1f5fa8";

/** Quoted DOT id or string. */
const esc = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
const q = (s: string): string => `"${esc(s)}"`;
/** A multi-line DOT label (each line centred). */
const lines = (parts: readonly string[]): string => `"${parts.map(esc).join("\\n")}"`;
/** Text inside an HTML-like label. */
const h = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const svcId = (name: string) => q(`svc:${name}`);
const dbId = (name: string) => q(`db:${name}`);
const GW_ID = q("gateway");

/** Edge key "from>to" → the routes whose worst-case chain uses it. */
function chainEdges(routes: readonly RouteLatency[]): Map<string, RouteLatency[]> {
  const out = new Map<string, RouteLatency[]>();
  for (const r of routes) {
    for (const hop of r.hops) {
      const k = `${hop.from}>${hop.to}`;
      out.set(k, [...(out.get(k) ?? []), r]);
    }
  }
  return out;
}

function table(title: string, rows: string[], opts: { bg: string; border: string }): string {
  const body = rows.map((r) => `<TR><TD ALIGN="LEFT">${r}</TD></TR>`).join("");
  return (
    `<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" BGCOLOR="${opts.bg}" COLOR="${opts.border}">` +
    `<TR><TD ALIGN="LEFT"><B>${h(title)}</B></TD></TR>${body}</TABLE>>`
  );
}

const small = (s: string) => `<FONT POINT-SIZE="12" COLOR="${MUTED}">${h(s)}</FONT>`;

export interface DotOptions {
  /** Font family every label uses (the one the PNG renderer loads). */
  fontFamily: string;
}

export function topologyDot(
  spec: Spec,
  model: LatencyModel,
  routes: readonly RouteLatency[],
  opts: DotOptions,
): string {
  const font = q(opts.fontFamily);
  const onChain = chainEdges(routes);
  const out: string[] = [];
  const emit = (l: string) => out.push(l);

  const over = routes.filter((r) => r.overBudget).length;
  const title =
    `fjord · ${spec.stack} (${spec.environment}, ${spec.target}) · worst-case synchronous latency` +
    (over > 0
      ? ` · ${over} route${over === 1 ? "" : "s"} over budget`
      : " · all routes within budget");
  const legend = [
    `<FONT COLOR="${CHAIN}">━━ worst-case chain of a route</FONT>`,
    `<FONT COLOR="${RED}">━━ chain over its budget</FONT>`,
    `<FONT COLOR="${MUTED}">RTT = worst-case round trip of the hop · - - - own database</FONT>`,
  ].join("     ");
  const graphLabel =
    `<<TABLE BORDER="0" CELLPADDING="2"><TR><TD ALIGN="LEFT"><FONT POINT-SIZE="18">${h(title)}</FONT></TD></TR>` +
    `<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="13">${legend}</FONT></TD></TR></TABLE>>`;
  emit("digraph topology {");
  emit(
    `  graph [rankdir=LR, fontname=${font}, fontcolor="${INK}", labelloc=t, labeljust=l, ` +
      `label=${graphLabel}, nodesep=0.45, ranksep=1.1, pad=0.4, bgcolor="white", newrank=true];`,
  );
  emit(
    `  node [fontname=${font}, fontsize=14, fontcolor="${INK}", shape=box, style="rounded,filled", ` +
      `fillcolor="#f4f7fb", color="#8aa0b8", penwidth=1.2, margin="0.25,0.12"];`,
  );
  emit(
    `  edge [fontname=${font}, fontsize=13, fontcolor="${MUTED}", color="#9aa8b8", penwidth=1.2, arrowsize=0.8];`,
  );

  const regions = new Map<string, string[]>();
  const put = (region: string, line: string) =>
    regions.set(region, [...(regions.get(region) ?? []), line]);

  const domains = spec.gateway.domains.join(", ");
  emit(
    `  clients [shape=plaintext, style="", label=${table("clients", [small(domains)], { bg: "white", border: "white" })}];`,
  );

  put(
    model.gateway.region,
    `${GW_ID} [fillcolor="#e8eef7", label=${table(`gateway (${spec.gateway.kind} × ${spec.gateway.replicas})`, [small("TLS, routes, rate limit")], { bg: "#e8eef7", border: "#e8eef7" })}];`,
  );

  for (const s of spec.services) {
    const rows = [
      small(`processing ≤ ${ms(s.processingBudgetMs)} ms`),
      small(`${s.replicas} replica${s.replicas === 1 ? "" : "s"}`),
    ];
    if (s.route) rows.unshift(small(`route ${s.route.path}`));
    put(
      s.region,
      `${svcId(s.name)} [label=${table(s.name, rows, { bg: "#f4f7fb", border: "#f4f7fb" })}];`,
    );
    if (s.database) {
      const d = s.database;
      const dbLabel = table(
        `${s.name}-db`,
        [small(`${d.engine} ${d.version}`), small(`${d.memory} · ${d.disk}`)],
        {
          bg: "#fbf6ea",
          border: "#fbf6ea",
        },
      );
      put(
        s.region,
        `${dbId(s.name)} [shape=cylinder, style=filled, fillcolor="#fbf6ea", color="#c9b27c", label=${dbLabel}];`,
      );
    }
  }

  const nodesByRegion = new Map<string, typeof spec.nodes>();
  for (const n of spec.nodes)
    nodesByRegion.set(n.region, [...(nodesByRegion.get(n.region) ?? []), n]);
  // The VPS nodes go in the region's label, not the graph: the scheduler places services, so an
  // edge from a node to a service would claim a placement nobody chose.
  const nodesRow = (region: string): string => {
    const nodes = nodesByRegion.get(region) ?? [];
    if (nodes.length === 0) return "";
    const cells = nodes
      .map((n) => {
        const role = [n.role, ...(n.gateway ? ["gateway"] : [])].join(" · ");
        const cls = `${n.class.vcpu} vCPU · ${n.class.memory} · ${n.class.disk} · ${n.class.virtualization}`;
        return (
          `<TD BGCOLOR="white" CELLPADDING="4"><TABLE BORDER="0" CELLPADDING="2" CELLSPACING="0">` +
          `<TR><TD ALIGN="LEFT"><B>${h(n.name)}</B>  ${small(role)}</TD></TR>` +
          `<TR><TD ALIGN="LEFT">${small(cls)}</TD></TR></TABLE></TD>`
        );
      })
      .join("");
    return (
      `<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="1" CELLSPACING="6" COLOR="#b8c4d2">` +
      `<TR><TD BORDER="0" ALIGN="LEFT" VALIGN="MIDDLE"><FONT POINT-SIZE="13" COLOR="${MUTED}">VPS nodes (k3s)</FONT></TD>${cells}</TR></TABLE></TD></TR>`
    );
  };

  for (const region of nodesByRegion.keys()) if (!regions.has(region)) regions.set(region, []);
  const regionNames = [...regions.keys()].sort((a, b) =>
    a === model.gateway.region ? -1 : b === model.gateway.region ? 1 : a.localeCompare(b),
  );
  for (const region of regionNames) {
    const info = spec.regions[region];
    const where = info ? `${region} · ${info.city || "?"} · ${info.jurisdiction}` : region;
    const host = spec.target === "docker" ? " · Docker on this machine" : "";
    const label =
      `<<TABLE BORDER="0" CELLPADDING="2"><TR><TD ALIGN="LEFT"><FONT POINT-SIZE="16"><B>${h(where + host)}</B></FONT></TD></TR>` +
      `${nodesRow(region)}</TABLE>>`;
    emit(`  subgraph ${q(`cluster_${region}`)} {`);
    emit(
      `    label=${label}; labeljust=l; style="rounded,dashed"; color="#8aa0b8"; fontcolor="${INK}"; margin=18;`,
    );
    const members = regions.get(region)!;
    // Graphviz drops a cluster with no members; keep a region that only has nodes visible.
    if (members.length === 0) members.push(`${q(`empty:${region}`)} [shape=point, style=invis];`);
    for (const l of members) emit(`    ${l}`);
    emit("  }");
  }

  emit(`  clients -> ${GW_ID} [color="${INK}", penwidth=1.5];`);

  const foreign = new Map(
    callResidency(model, spec.allowedJurisdictions).map((f) => [`${f.from}>${f.to}`, f]),
  );
  const residency = (key: string): string[] => {
    const f = foreign.get(key);
    return f ? [`⚠ ${f.jurisdiction ?? "unknown jurisdiction"} not allowed`] : [];
  };

  const edgeStyle = (key: string): string => {
    const users = onChain.get(key) ?? [];
    if (users.some((r) => r.overBudget)) return `color="${RED}", fontcolor="${RED}", penwidth=3`;
    if (users.length > 0) return `color="${CHAIN}", fontcolor="${CHAIN}", penwidth=2.2`;
    return "";
  };

  for (const r of routes) {
    const svc = spec.services.find((s) => s.name === r.service)!;
    const first = r.hops[0];
    const verdict = r.overBudget ? "OVER BUDGET" : "within budget";
    const label = lines([
      `${r.path}  RTT ${ms(first.rttMs)} ms`,
      `worst ${ms(r.worstCaseMs)} of ${ms(r.budgetMs)} ms (${r.percent.toFixed(0)}%)`,
      verdict,
      ...residency(`${GATEWAY}>${svc.name}`),
    ]);
    emit(
      `  ${GW_ID} -> ${svcId(svc.name)} [label=${label}, ${edgeStyle(`${GATEWAY}>${svc.name}`)}];`,
    );
  }

  for (const s of spec.services) {
    for (const c of s.calls) {
      const callee = spec.services.find((x) => x.name === c.service);
      if (!callee) continue;
      const rtt = rttBetween(model.rtt, s.region, callee.region);
      const parts = [`RTT ${ms(rtt.ms)} ms${rtt.source === "unknown-pair" ? " (unmeasured)" : ""}`];
      if (c.fanOut > 1) parts.push(`× ${c.fanOut} ${c.mode}`);
      parts.push(...residency(`${s.name}>${callee.name}`));
      emit(
        `  ${svcId(s.name)} -> ${svcId(callee.name)} [label=${lines(parts)}, ${edgeStyle(`${s.name}>${callee.name}`)}];`,
      );
    }
    if (s.database) {
      emit(
        `  ${svcId(s.name)} -> ${dbId(s.name)} [style=dashed, arrowhead=none, color="#c9b27c"];`,
      );
    }
  }

  emit("}");
  return out.join("\n");
}
