/** The one YAML emitter for observability files: never string-concatenated YAML. */
import { stringify } from "yaml";

/** YAML text with a leading comment; long expressions stay on one line, no &anchors. */
export function toYaml(doc: unknown, header?: string): string {
  const body = stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
  return header ? `${header.replace(/^/gm, "# ")}\n${body}` : body;
}
