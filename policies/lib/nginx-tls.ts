/**
 * TLS facts of an nginx.conf: protocols, ciphers, HSTS and what plain-HTTP servers do. Pure;
 * each function returns sentence fragments the policies wrap with the resource and the fix.
 */
import { type NginxDirective, parseNginx } from "../../lib/parse/nginx";
import { WEAK_PROTOCOLS, opensslCipherProblems } from "./ciphers";
import { memoByText } from "./memo";

const kids = (d: NginxDirective): NginxDirective[] => d.children ?? [];
const named = (ds: NginxDirective[], name: string): NginxDirective[] =>
  ds.filter((d) => d.name === name);

/** The parse tree, or the parser's error message. */
export const parseConf = memoByText((text: string): NginxDirective[] | string => {
  try {
    return parseNginx(text);
  } catch (e) {
    return (e as Error).message;
  }
});

/** One `server` block of the http context and how it listens. */
export interface Server {
  block: NginxDirective;
  /** `listen` argument lists; a server without `listen` listens on port 80. */
  listens: string[][];
  ssl: boolean;
  plain: boolean;
}

export function servers(tree: NginxDirective[]): Server[] {
  const out: Server[] = [];
  const visit = (ds: NginxDirective[]) => {
    for (const d of ds) {
      if (d.name === "server" && d.children) {
        const listens = named(d.children, "listen").map((l) => l.args);
        const sslOn = named(d.children, "ssl").some((s) => s.args[0] === "on");
        const effective = listens.length > 0 ? listens : [["80"]];
        out.push({
          block: d,
          listens: effective,
          ssl: sslOn || effective.some((a) => a.includes("ssl") || a.includes("quic")),
          plain: !sslOn && effective.some((a) => !a.includes("ssl") && !a.includes("quic")),
        });
      } else if (d.name !== "stream" && d.name !== "mail" && d.children) visit(d.children);
    }
  };
  visit(tree);
  return out;
}

/** Port of a `listen` address ("80", "[::]:8080", "127.0.0.1:9100"); undefined for unix sockets. */
export function listenPort(args: string[]): { port: number; loopback: boolean } | undefined {
  const a = args[0] ?? "80";
  if (a.startsWith("unix:")) return undefined;
  const m = /^(?:(.*):)?(\d+)$/.exec(a);
  if (!m) return { port: 80, loopback: /^(127\.|localhost|\[::1\])/.test(a) };
  return { port: Number(m[2]), loopback: /^(127\.|localhost|\[::1\])/.test(m[1] ?? "") };
}

/** Whether the config terminates TLS at all (no ssl server: the TLS checks do not apply). */
export const hasTls = (tree: NginxDirective[]): boolean => servers(tree).some((s) => s.ssl);

export function protocolProblems(
  tree: NginxDirective[],
  weakProtocols: readonly string[] = WEAK_PROTOCOLS,
): string[] {
  const problems: string[] = [];
  const http = named(tree, "http")[0];
  const httpLevel = http ? named(kids(http), "ssl_protocols") : [];
  const all = flat(tree).filter((d) => d.name === "ssl_protocols");
  for (const d of all) {
    const weak = d.args.filter((a) => weakProtocols.includes(a));
    if (weak.length > 0) problems.push(`ssl_protocols enables ${weak.join(" and ")}`);
  }
  if (httpLevel.length === 0) {
    for (const s of servers(tree).filter((x) => x.ssl)) {
      if (named(kids(s.block), "ssl_protocols").length === 0) {
        problems.push(
          `the TLS server ${serverName(s)} sets no ssl_protocols, and nginx before 1.23.4 then also accepts TLSv1 and TLSv1.1`,
        );
      }
    }
  }
  return problems;
}

export function cipherProblems(tree: NginxDirective[]): string[] {
  const problems: string[] = [];
  for (const d of flat(tree).filter((x) => x.name === "ssl_ciphers"))
    problems.push(...opensslCipherProblems(d.args.join(":")));
  const http = named(tree, "http")[0];
  const httpLevel = http ? named(kids(http), "ssl_ciphers").length > 0 : false;
  if (!httpLevel) {
    for (const s of servers(tree).filter((x) => x.ssl && !rejectsAll(x))) {
      if (named(kids(s.block), "ssl_ciphers").length === 0) {
        problems.push(
          `the TLS server ${serverName(s)} sets no ssl_ciphers, so nginx's default HIGH:!aNULL:!MD5 allows CBC-mode SHA-1 suites`,
        );
      }
    }
  }
  return problems;
}

function flat(ds: NginxDirective[]): NginxDirective[] {
  return ds.flatMap((d) => [d, ...flat(kids(d))]);
}

function serverName(s: Server): string {
  const n = named(kids(s.block), "server_name")[0]?.args.join(" ");
  return `'${n ?? "_"}' (listen ${s.listens.map((l) => l[0]).join(", ")})`;
}

/** A server that accepts nothing: `ssl_reject_handshake on` or an unconditional `return 444`. */
function rejectsAll(s: Server): boolean {
  const ds = kids(s.block);
  return (
    named(ds, "ssl_reject_handshake").some((d) => d.args[0] === "on") ||
    named(ds, "return").some((d) => d.args[0] === "444")
  );
}

function hstsMaxAge(headers: NginxDirective[]): number | undefined {
  const h = headers.find((d) => d.args[0]?.toLowerCase() === "strict-transport-security");
  if (!h) return undefined;
  const m = /max-age=(\d+)/i.exec(h.args[1] ?? "");
  return m ? Number(m[1]) : 0;
}

/** HSTS problems: every TLS server serving content sends Strict-Transport-Security with max-age ≥ min. */
export function hstsProblems(tree: NginxDirective[], minMaxAge: number): string[] {
  const problems: string[] = [];
  const http = named(tree, "http")[0];
  const httpHeaders = http ? named(kids(http), "add_header") : [];
  for (const s of servers(tree).filter((x) => x.ssl && !rejectsAll(x))) {
    const own = named(kids(s.block), "add_header");
    // add_header is inherited only when the inner level declares none of its own.
    const serverHeaders = own.length > 0 ? own : httpHeaders;
    const check = (headers: NginxDirective[], where: string) => {
      const age = hstsMaxAge(headers);
      if (age === undefined) problems.push(`${where} sends no Strict-Transport-Security header`);
      else if (age < minMaxAge)
        problems.push(
          `${where} sends Strict-Transport-Security with max-age=${age}, below ${minMaxAge}`,
        );
    };
    check(serverHeaders, `the TLS server ${serverName(s)}`);
    for (const loc of flat(kids(s.block)).filter((d) => d.name === "location")) {
      const locHeaders = named(kids(loc), "add_header");
      if (locHeaders.length > 0 && hstsMaxAge(serverHeaders) !== undefined) {
        check(
          locHeaders,
          `location ${loc.args.join(" ")} in ${serverName(s)} (its own add_header drops the inherited one)`,
        );
      }
    }
  }
  return problems;
}

const REDIRECT_CODES = ["301", "308"];
const CONTENT = [
  "proxy_pass",
  "root",
  "alias",
  "fastcgi_pass",
  "uwsgi_pass",
  "scgi_pass",
  "grpc_pass",
  "try_files",
  "index",
];

function isRedirect(d: NginxDirective): boolean {
  const code = d.args[0] ?? "";
  if (d.name === "return")
    return REDIRECT_CODES.includes(code) || code === "444" || /^https:\/\//.test(code);
  if (d.name === "rewrite") return d.args.includes("permanent") && /^https:/.test(d.args[1] ?? "");
  return false;
}

const refuses = (d: NginxDirective): boolean =>
  d.name === "return" && /^4\d\d$/.test(d.args[0] ?? "");
const servesContent = (ds: NginxDirective[]): boolean => ds.some((d) => CONTENT.includes(d.name));
const acme = (l: NginxDirective): boolean =>
  l.args.some((a) => a.startsWith("/.well-known/acme-challenge"));
const locationRedirects = (l: NginxDirective): boolean =>
  kids(l).some(isRedirect) && !servesContent(kids(l));

/**
 * Plain-HTTP servers: on a public port they may only redirect (301/308), close (444) or serve
 * ACME challenges; on other ports only health/metrics locations and 4xx answers are allowed.
 */
export function plainHttpProblems(
  tree: NginxDirective[],
  publicPorts: number[],
  internalPaths: string[],
): string[] {
  const problems: string[] = [];
  for (const s of servers(tree).filter((x) => x.plain)) {
    const ports = s.listens
      .filter((a) => !a.includes("ssl"))
      .map(listenPort)
      .filter((p) => p !== undefined);
    const isPublic = ports.some((p) => !p.loopback && publicPorts.includes(p.port));
    const ds = kids(s.block);
    const locations = named(ds, "location");
    // A server-level return runs before any location is chosen, so it covers them all.
    if (ds.some(isRedirect)) continue;
    if (isPublic) {
      if (s.ssl) {
        problems.push(
          `${serverName(s)} serves the same content on plain HTTP and TLS; move the plain-HTTP listen into a redirect-only server`,
        );
      } else if (locations.length === 0) {
        problems.push(`the plain-HTTP server ${serverName(s)} does not redirect to HTTPS`);
      } else {
        for (const l of locations.filter((x) => !acme(x) && !locationRedirects(x))) {
          problems.push(
            `the plain-HTTP server ${serverName(s)} serves location ${l.args.join(" ")} instead of redirecting to HTTPS`,
          );
        }
      }
      continue;
    }
    for (const l of locations) {
      const path = l.args[l.args.length - 1] ?? "";
      if (internalPaths.includes(path) || acme(l) || locationRedirects(l)) continue;
      if (kids(l).some(refuses) && !servesContent(kids(l))) continue;
      problems.push(
        `the plain-HTTP server ${serverName(s)} serves location ${l.args.join(" ")}, which is not a health or metrics path`,
      );
    }
    if (locations.length === 0 && !ds.some(refuses)) {
      problems.push(
        `the plain-HTTP server ${serverName(s)} serves content without redirecting to HTTPS`,
      );
    }
  }
  return problems;
}
