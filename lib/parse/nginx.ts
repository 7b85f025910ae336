/**
 * Minimal nginx.conf reader for tests and policy checks. It understands tokens, quotes,
 * comments and blocks — enough to ask "which directives, with which args, where" —
 * and deliberately nothing about directive semantics or includes.
 */

export interface NginxDirective {
  name: string;
  /** Arguments with quotes removed (`""` becomes an empty string). */
  args: string[];
  /** Present for block directives (`http`, `server`, `location`, ...). */
  children?: NginxDirective[];
}

type Token = { kind: "word"; value: string } | { kind: "punct"; value: ";" | "{" | "}" };

function tokenize(conf: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < conf.length) {
    const ch = conf[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "#") {
      while (i < conf.length && conf[i] !== "\n") i++;
    } else if (ch === ";" || ch === "{" || ch === "}") {
      out.push({ kind: "punct", value: ch });
      i++;
    } else if (ch === '"' || ch === "'") {
      let value = "";
      i++;
      while (i < conf.length && conf[i] !== ch) {
        if (conf[i] === "\\" && i + 1 < conf.length) i++;
        value += conf[i];
        i++;
      }
      if (i >= conf.length) throw new Error("nginx-parse: unterminated quoted string");
      i++;
      out.push({ kind: "word", value });
    } else {
      let value = "";
      while (i < conf.length && !/[\s;{}]/.test(conf[i]!)) value += conf[i++];
      out.push({ kind: "word", value });
    }
  }
  return out;
}

/** Parses a config into a directive tree; throws on unbalanced braces or a missing `;`. */
export function parseNginx(conf: string): NginxDirective[] {
  const tokens = tokenize(conf);
  let pos = 0;
  const parseBlock = (nested: boolean): NginxDirective[] => {
    const list: NginxDirective[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos]!;
      if (t.kind === "punct" && t.value === "}") {
        if (!nested) throw new Error("nginx-parse: unexpected }");
        pos++;
        return list;
      }
      if (t.kind !== "word") throw new Error(`nginx-parse: unexpected ${t.value}`);
      const words: string[] = [];
      while (pos < tokens.length && tokens[pos]!.kind === "word") words.push(tokens[pos++]!.value);
      const end = tokens[pos++];
      const [name, ...args] = words as [string, ...string[]];
      if (end?.value === ";") list.push({ name, args });
      else if (end?.value === "{") list.push({ name, args, children: parseBlock(true) });
      else throw new Error(`nginx-parse: directive ${name} is not terminated`);
    }
    if (nested) throw new Error("nginx-parse: missing }");
    return list;
  };
  return parseBlock(false);
}

/** Depth-first list of every directive in the tree (blocks included). */
export function flattenNginx(tree: NginxDirective[]): NginxDirective[] {
  return tree.flatMap((d) => [d, ...(d.children ? flattenNginx(d.children) : [])]);
}

/** Arguments of every occurrence of `name`, anywhere in the config, in document order. */
export function nginxDirectives(conf: string | NginxDirective[], name: string): string[][] {
  const tree = typeof conf === "string" ? parseNginx(conf) : conf;
  return flattenNginx(tree)
    .filter((d) => d.name === name)
    .map((d) => d.args);
}

/** Blocks named `name` (e.g. "server", "location") whose args satisfy `match`. */
export function nginxBlocks(
  conf: string | NginxDirective[],
  name: string,
  match: (args: string[]) => boolean = () => true,
): NginxDirective[] {
  const tree = typeof conf === "string" ? parseNginx(conf) : conf;
  return flattenNginx(tree).filter(
    (d) => d.name === name && d.children !== undefined && match(d.args),
  );
}
