/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week, UTC), as crontab(5)
 * reads them: `*`, lists, ranges and steps, names for months and days, `@hourly` and friends.
 * One parser for the config's validation, the plan's interval figures (alerts, retention checks)
 * and the policy pack; the backup runner matches the same fields with awk (see
 * components/plan/database/backup/schedule.ts), and a property test holds the two together.
 */

export interface CronSchedule {
  /** The expression as written. */
  text: string;
  /** Allowed values per field, in field order; day-of-week uses 0-6 (7 is folded to 0). */
  fields: [number[], number[], number[], number[], number[]];
  /** Whether day-of-month / day-of-week was restricted (crontab ORs the two when both are). */
  domRestricted: boolean;
  dowRestricted: boolean;
}

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS, base: 1 },
  { name: "day of week", min: 0, max: 7, names: DAYS, base: 0 },
] as const;

/** Parses a schedule; returns a message saying what is wrong instead of throwing. */
export function parseCron(text: string): CronSchedule | string {
  const expanded = MACROS[text.trim().toLowerCase()] ?? text.trim();
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) {
    return `has ${parts.length} field${parts.length === 1 ? "" : "s"}; a schedule has five (minute hour day-of-month month day-of-week), such as "30 2 * * *", or is one of ${Object.keys(MACROS).join(", ")}`;
  }
  const fields: number[][] = [];
  for (let i = 0; i < 5; i++) {
    const f = FIELDS[i];
    const values = parseField(parts[i], f);
    if (typeof values === "string") return `${f.name} field "${parts[i]}": ${values}`;
    fields.push(i === 4 ? [...new Set(values.map((d) => d % 7))].sort((a, b) => a - b) : values);
  }
  const schedule: CronSchedule = {
    text,
    fields: fields as CronSchedule["fields"],
    domRestricted: parts[2] !== "*" && !parts[2].startsWith("*/"),
    dowRestricted: parts[4] !== "*" && !parts[4].startsWith("*/"),
  };
  // "0 0 30 2 *" parses, but never fires: refuse it rather than plan a backup that never runs.
  const [, , dom, month] = schedule.fields;
  const anyDayOfWeek = schedule.domRestricted && schedule.dowRestricted;
  if (!anyDayOfWeek && !month.some((m) => dom.some((d) => d <= DAYS_IN_MONTH[m - 1]))) {
    return `day of month field "${parts[2]}": no such day in month "${parts[3]}", so the schedule never fires`;
  }
  return schedule;
}

/** The most days each month can have (February in a leap year). */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function parseField(
  text: string,
  f: { min: number; max: number; names?: readonly string[]; base?: number },
): number[] | string {
  const out = new Set<number>();
  const value = (s: string): number | undefined => {
    const named = f.names?.indexOf(s.toLowerCase()) ?? -1;
    if (named >= 0) return named + (f.base ?? 0);
    return /^\d+$/.test(s) ? Number(s) : undefined;
  };
  for (const item of text.split(",")) {
    const m = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(item);
    if (!m) return `"${item}" is not a value, range (a-b), step (*/n) or list`;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) return `step "${m[2]}" must be at least 1`;
    let lo = f.min;
    let hi = f.max;
    if (m[1] !== "*") {
      const [a, b] = m[1].split("-");
      const va = value(a);
      const vb = b === undefined ? (m[2] === undefined ? va : f.max) : value(b);
      if (va === undefined || vb === undefined) return `"${m[1]}" is not a number or name`;
      lo = va;
      hi = vb;
    }
    if (lo < f.min || hi > f.max) return `"${item}" is outside ${f.min}-${f.max}`;
    if (lo > hi) return `range "${m[1]}" runs backwards`;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether the schedule fires in the minute starting at `t` (UTC). */
export function cronMatches(s: CronSchedule, t: Date): boolean {
  const [min, hour, dom, month, dow] = s.fields;
  if (!min.includes(t.getUTCMinutes()) || !hour.includes(t.getUTCHours())) return false;
  if (!month.includes(t.getUTCMonth() + 1)) return false;
  const domOk = dom.includes(t.getUTCDate());
  const dowOk = dow.includes(t.getUTCDay());
  if (s.domRestricted && s.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

/**
 * The next minute at or after `from` in which the schedule fires, or undefined if it does not
 * within 8 years and a day (a leap-day schedule waits 8 years around 2100).
 */
export function nextRun(s: CronSchedule, from: Date): Date | undefined {
  const t = new Date(Math.ceil(from.getTime() / 60_000) * 60_000);
  const end = t.getTime() + (8 * 366 + 1) * 86_400_000;
  const [, hours, dom, months, dow] = s.fields;
  while (t.getTime() <= end) {
    // Skip whole days and hours that cannot match, so the search stays cheap.
    const domOk = dom.includes(t.getUTCDate());
    const dowOk = dow.includes(t.getUTCDay());
    const dayOk = s.domRestricted && s.dowRestricted ? domOk || dowOk : domOk && dowOk;
    if (!months.includes(t.getUTCMonth() + 1) || !dayOk) {
      t.setUTCHours(24, 0, 0, 0);
      continue;
    }
    if (!hours.includes(t.getUTCHours())) {
      t.setUTCMinutes(60, 0, 0);
      continue;
    }
    if (cronMatches(s, t)) return t;
    t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
  }
  return undefined;
}

/**
 * The longest gap between two runs, in seconds, over the coming `horizonDays` from `from`: the
 * age a healthy schedule's newest backup can reach, which the backup-age alert allows for.
 */
export function longestGapSeconds(s: CronSchedule, from: Date, horizonDays = 400): number {
  const end = from.getTime() + horizonDays * 86_400_000;
  let prev = nextRun(s, from);
  if (!prev) return Infinity;
  let longest = 0;
  // At least one gap, even when the first run is past the horizon (a leap-day schedule).
  do {
    const next = nextRun(s, new Date(prev.getTime() + 60_000));
    if (!next) return Infinity;
    longest = Math.max(longest, (next.getTime() - prev.getTime()) / 1000);
    prev = next;
  } while (prev.getTime() < end);
  return longest;
}
