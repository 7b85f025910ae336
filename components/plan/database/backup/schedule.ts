/**
 * The runner's "is a backup due this minute?" test. The schedule is parsed once, here in
 * TypeScript (lib/cron.ts); the shell only compares the current UTC minute with the expanded
 * lists, so there is one cron parser, and the property test can hold the two to the same answer.
 */
import { parseCron, type CronSchedule } from "../../../../lib/cron";

const list = (values: number[]) => `,${values.join(",")},`;

/** A parsed schedule; the config has already refused a bad one. */
export function schedule(text: string): CronSchedule {
  const parsed = parseCron(text);
  if (typeof parsed === "string") throw new Error(`backup schedule "${text}" ${parsed}`);
  return parsed;
}

/**
 * A POSIX sh function `due` that exits 0 when the schedule fires in the current UTC minute
 * (or in the minute given as "MM HH DD mm w", for tests).
 */
export function renderDueFunction(s: CronSchedule): string {
  const [min, hour, dom, month, dow] = s.fields.map(list);
  // crontab(5): when both day fields are restricted, either one matching is enough.
  const days = s.domRestricted && s.dowRestricted ? "(d || w)" : "(d && w)";
  return [
    // The text may span lines ("15\n2 * * *" parses): one comment line, or the script breaks.
    `# Schedule "${s.text.trim().replace(/\s+/g, " ")}" (UTC), expanded by fjord.`,
    "due() {",
    `  printf '%s\\n' "\${1:-$(date -u '+%M %H %d %m %w')}" | awk \\`,
    `    -v M='${min}' -v H='${hour}' -v D='${dom}' -v N='${month}' -v W='${dow}' '`,
    '    function has(set, v) { return index(set, "," (v + 0) ",") > 0 }',
    `    { d = has(D, $3); w = has(W, $5); exit !(has(M, $1) && has(H, $2) && has(N, $4) && ${days}) }'`,
    "}",
  ].join("\n");
}
