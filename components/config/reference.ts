/**
 * The config reference table in docs/configuration.md, generated from the schema's JSON Schema so
 * it cannot drift: every leaf key with its type, default and allowed values, and the description
 * its `.meta()` gives.
 */
import { z } from "zod";
import { platformSchema } from "./schema";

interface Row {
  key: string;
  type: string;
  default: string;
  doc: string;
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  required?: string[];
};

function typeOf(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" \\| ");
  if (s.anyOf) return s.anyOf.map(typeOf).join(" or ");
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "any"}`;
  if (s.type === "object" && s.properties) return "object";
  if (s.type === "object") return "map";
  return String(s.type ?? "any");
}

function walk(
  s: JsonSchema,
  key: string,
  required: boolean,
  rows: Row[],
  inherited?: unknown,
): void {
  const objectItems = s.type === "array" && s.items?.properties;
  const objectBranch = s.anyOf?.find((b) => b.properties);
  // A child of a defaulted object takes its default from the parent's default value.
  const value = s.default ?? inherited;
  const def = value === undefined ? (required ? "required" : "") : JSON.stringify(value);
  if (s.properties || objectItems || objectBranch) {
    // A container's keys are documented one by one; it gets a row of its own only if described.
    if (s.description) rows.push({ key, type: typeOf(s), default: def, doc: s.description });
    const inner = s.properties ? s : objectItems ? s.items! : objectBranch!;
    const prefix = s.properties ? key : `${key}[]`;
    const parentValue =
      s.properties && value && typeof value === "object"
        ? (value as Record<string, unknown>)
        : undefined;
    for (const [k, v] of Object.entries(inner.properties!)) {
      walk(v, `${prefix}.${k}`, inner.required?.includes(k) ?? false, rows, parentValue?.[k]);
    }
    return;
  }
  if (
    s.type === "object" &&
    typeof s.additionalProperties === "object" &&
    s.additionalProperties.properties
  ) {
    rows.push({ key, type: "map", default: def, doc: s.description ?? "" });
    walk(s.additionalProperties, `${key}.<name>`, false, rows);
    return;
  }
  rows.push({ key, type: typeOf(s), default: def, doc: s.description ?? "" });
}

/** Every documented key, `fjord:` prefix included. */
export function configRows(): Row[] {
  const schema = z.toJSONSchema(platformSchema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  const rows: Row[] = [];
  for (const [k, v] of Object.entries(schema.properties!)) {
    walk(v, `fjord:${k}`, schema.required?.includes(k) ?? false, rows);
  }
  // Secrets are checked apart from the schema (SECRET_KEYS in ./index.ts), so their rows are
  // written out here.
  rows.push(
    {
      key: "fjord:sshPrivateKey",
      type: "secret string",
      default: "required for cluster.mode k3s",
      doc: "Private key for SSH to the nodes: `pulumi config set --secret sshPrivateKey < key`.",
    },
    {
      key: "fjord:kubeconfig",
      type: "secret string",
      default: "required for cluster.mode kubeconfig",
      doc: "Kubeconfig of an existing cluster: `pulumi config set --secret kubeconfig < file`.",
    },
  );
  return rows;
}

export function configReferenceMarkdown(): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\\\\\|/g, "\\|");
  const lines = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"];
  for (const r of configRows()) {
    lines.push(
      `| \`${r.key.replace(/^fjord:/, "")}\` | ${r.type} | ${r.default ? `\`${r.default.replace(/\|/g, "\\|")}\`` : ""} | ${esc(r.doc)} |`,
    );
  }
  return lines.join("\n");
}
