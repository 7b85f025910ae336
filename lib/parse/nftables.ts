/**
 * What an nftables ruleset admits on the input hook, read line by line: enough to ask "is UDP 443
 * open, and to whom" of fjord's own rulesets (components/nodes/firewall.ts) or anyone's written
 * in the same one-rule-per-line style. Sets, maps and jumps are not followed.
 */

export interface NftAccept {
  protocol: "tcp" | "udp";
  /** Each port a rule names; a range "2379-2380" gives both ends and every port between. */
  ports: number[];
  /** The source restriction (`ip saddr @peers4`), or undefined when anyone is admitted. */
  from?: string;
}

const RULE =
  /^(?:(?:ip|ip6) saddr (\S+) )?(tcp|udp) dport (\{[^}]*\}|[0-9][0-9-]*) (?:counter )?accept$/;

function ports(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.replace(/[{}]/g, "").split(",")) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    for (let p = lo; p <= hi && p <= 65535; p++) out.push(p);
  }
  return out;
}

/** The `tcp|udp dport ... accept` rules inside `chain input { ... }` blocks of `text`. */
export function nftInputAccepts(text: string): NftAccept[] {
  const out: NftAccept[] = [];
  let inInput = false;
  let depth = 0;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    if (!inInput && /^chain input\s*\{$/.test(line)) {
      inInput = true;
      depth = 1;
      continue;
    }
    if (!inInput) continue;
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (depth <= 0) {
      inInput = false;
      continue;
    }
    const m = RULE.exec(line);
    if (m) {
      out.push({
        protocol: m[2] as "tcp" | "udp",
        ports: ports(m[3]!),
        ...(m[1] ? { from: m[1] } : {}),
      });
    }
  }
  return out;
}

/** Whether `protocol` port `port` is admitted from anywhere. */
export const nftOpenToAll = (rules: NftAccept[], protocol: "tcp" | "udp", port: number): boolean =>
  rules.some((r) => r.protocol === protocol && !r.from && r.ports.includes(port));
