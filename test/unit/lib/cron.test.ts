/**
 * lib/cron.ts reads five-field schedules as crontab(5) does, and the backup runner's rendered
 * `due` sh function gives the same answer as `cronMatches` for every minute (the property below).
 */
import { execFileSync } from "child_process";
import * as fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cronMatches,
  longestGapSeconds,
  nextRun,
  parseCron,
  type CronSchedule,
} from "../../../lib/cron";
import { renderDueFunction } from "../../../components/plan/database";

const parsed = (text: string): CronSchedule => {
  const s = parseCron(text);
  if (typeof s === "string") throw new Error(`"${text}" ${s}`);
  return s;
};

const utc = (iso: string) => new Date(`${iso}Z`);
const DAY = 86_400;
/** A Monday, as the plan's own figures start from. */
const MONDAY = utc("2026-01-05T00:00:00");

describe("parseCron errors name the field", () => {
  it.each([
    ["61 * * * *", /^minute field "61": "61" is outside 0-59$/],
    ["* 24 * * *", /^hour field "24": "24" is outside 0-23$/],
    ["* * 0 * *", /^day of month field "0": "0" is outside 1-31$/],
    ["* * * 13 *", /^month field "13": "13" is outside 1-12$/],
    ["* * * * 8", /^day of week field "8": "8" is outside 0-7$/],
    ["30-10 * * * *", /^minute field "30-10": range "30-10" runs backwards$/],
    ["*/0 * * * *", /^minute field "\*\/0": step "0" must be at least 1$/],
    ["* * * foo *", /^month field "foo": "foo" is not a number or name$/],
    ["* mon * * *", /^hour field "mon": "mon" is not a number or name$/],
    ["1,,2 * * * *", /^minute field "1,,2": "" is not a value/],
    ["*-5 * * * *", /^minute field "\*-5": "\*-5" is not a value/],
    ["* * * *", /^has 4 fields; a schedule has five/],
    ["@fortnightly", /^has 1 field; a schedule has five/],
    [
      "0 0 30 2 *",
      /^day of month field "30": no such day in month "2", so the schedule never fires$/,
    ],
    ["0 0 31 apr,jun *", /^day of month field "31": no such day in month "apr,jun"/],
  ])("GIVEN %j WHEN parsed THEN the message is %s", (text, message) => {
    expect(parseCron(text)).toMatch(message);
  });

  it("GIVEN February 29th or the 31st of any month WHEN parsed THEN it is a schedule (it fires in some years or months)", () => {
    expect(typeof parseCron("0 0 29 2 *")).toBe("object");
    expect(typeof parseCron("0 0 31 * *")).toBe("object");
    // Both day fields restricted: the day of week alone makes it fire.
    expect(typeof parseCron("0 0 30 2 mon")).toBe("object");
  });
});

describe("parseCron fields", () => {
  it.each([
    ["@hourly", "0 * * * *"],
    ["@daily", "0 0 * * *"],
    ["@midnight", "0 0 * * *"],
    ["@weekly", "0 0 * * 0"],
    ["@monthly", "0 0 1 * *"],
    ["@yearly", "0 0 1 1 *"],
    ["@annually", "0 0 1 1 *"],
    [" @DAILY ", "0 0 * * *"],
  ])("GIVEN the macro %j WHEN parsed THEN it is %j, and keeps its own text", (macro, five) => {
    const s = parsed(macro);
    const { text: _text, ...same } = parsed(five);
    void _text;
    expect(s).toMatchObject(same);
    expect(s.text).toBe(macro);
  });

  it("GIVEN month and day names in any case WHEN parsed THEN they are the numbers crontab uses", () => {
    const s = parsed("0 0 * JAN-mar,Dec Mon-FRI");
    expect(s.fields[3]).toEqual([1, 2, 3, 12]);
    expect(s.fields[4]).toEqual([1, 2, 3, 4, 5]);
    expect(parsed("0 0 * * sun").fields[4]).toEqual([0]);
  });

  it("GIVEN Sunday as 7, as 0 and in a range ending at 7 WHEN parsed THEN it is day 0 once", () => {
    expect(parsed("0 0 * * 7").fields[4]).toEqual([0]);
    expect(parsed("0 0 * * 0,7").fields[4]).toEqual([0]);
    expect(parsed("0 0 * * 5-7").fields[4]).toEqual([0, 5, 6]);
  });

  it.each([
    ["*/15 * * * *", 0, [0, 15, 30, 45]],
    ["10-30/10 * * * *", 0, [10, 20, 30]],
    ["5/20 * * * *", 0, [5, 25, 45]],
    ["0 */7 * * *", 1, [0, 7, 14, 21]],
    ["0 0 */10 * *", 2, [1, 11, 21, 31]],
    ["0 0 * */4 *", 3, [1, 5, 9]],
    ["1,3,2,3 * * * *", 0, [1, 2, 3]],
  ])("GIVEN %j WHEN parsed THEN field %i holds %j", (text, field, values) => {
    expect(parsed(text).fields[field]).toEqual(values);
  });

  it("GIVEN day fields written as *, */n or a value WHEN parsed THEN only a value or list restricts them", () => {
    expect(parsed("0 0 * * *")).toMatchObject({ domRestricted: false, dowRestricted: false });
    expect(parsed("0 0 */2 * */2")).toMatchObject({ domRestricted: false, dowRestricted: false });
    expect(parsed("0 0 1,15 * mon")).toMatchObject({ domRestricted: true, dowRestricted: true });
  });
});

describe("cronMatches: crontab's day-of-month / day-of-week rule", () => {
  // 2026-03-13 is a Friday; 2026-03-20 a Friday; 2026-03-16 a Monday.
  it("GIVEN both day fields restricted WHEN matched THEN either day is enough", () => {
    const s = parsed("0 0 13 * fri");
    expect(cronMatches(s, utc("2026-03-13T00:00:00"))).toBe(true);
    expect(cronMatches(s, utc("2026-03-20T00:00:00"))).toBe(true);
    expect(cronMatches(s, utc("2026-04-13T00:00:00"))).toBe(true); // a Monday, the 13th
    expect(cronMatches(s, utc("2026-03-16T00:00:00"))).toBe(false);
  });

  it("GIVEN only the day of month restricted WHEN matched THEN the weekday does not matter", () => {
    const s = parsed("0 0 13 * *");
    expect(cronMatches(s, utc("2026-04-13T00:00:00"))).toBe(true);
    expect(cronMatches(s, utc("2026-03-20T00:00:00"))).toBe(false);
  });

  it("GIVEN a stepped day of month (*/2) and a weekday WHEN matched THEN both must hold", () => {
    const s = parsed("0 0 */2 * mon");
    expect(cronMatches(s, utc("2026-03-09T00:00:00"))).toBe(true); // Monday the 9th: odd
    expect(cronMatches(s, utc("2026-03-16T00:00:00"))).toBe(false); // Monday the 16th: even
    expect(cronMatches(s, utc("2026-03-11T00:00:00"))).toBe(false); // Wednesday the 11th
  });

  it("GIVEN a time WHEN matched THEN minute, hour and month must all hold, in UTC", () => {
    const s = parsed("15 2 * mar *");
    expect(cronMatches(s, utc("2026-03-01T02:15:00"))).toBe(true);
    expect(cronMatches(s, utc("2026-03-01T02:15:59"))).toBe(true);
    expect(cronMatches(s, utc("2026-03-01T02:16:00"))).toBe(false);
    expect(cronMatches(s, utc("2026-03-01T03:15:00"))).toBe(false);
    expect(cronMatches(s, utc("2026-04-01T02:15:00"))).toBe(false);
    expect(cronMatches(s, new Date("2026-03-01T03:15:00+01:00"))).toBe(true);
  });
});

describe("nextRun", () => {
  it.each([
    ["15 2 * * *", "2026-01-05T00:00:00", "2026-01-05T02:15:00"],
    ["15 2 * * *", "2026-01-05T02:15:00", "2026-01-05T02:15:00"],
    ["15 2 * * *", "2026-01-05T02:15:01", "2026-01-06T02:15:00"],
    ["15 2 * * *", "2026-12-31T23:59:00", "2027-01-01T02:15:00"],
    ["0 0 * * sun", "2026-01-05T00:00:00", "2026-01-11T00:00:00"],
    ["0 0 1 * *", "2026-01-05T00:00:00", "2026-02-01T00:00:00"],
    ["0 0 31 * *", "2026-02-01T00:00:00", "2026-03-31T00:00:00"],
    ["0 0 29 2 *", "2026-01-05T00:00:00", "2028-02-29T00:00:00"],
    ["0 0 29 2 *", "2096-03-01T00:00:00", "2104-02-29T00:00:00"],
    ["*/20 * * * *", "2026-01-05T10:41:00", "2026-01-05T11:00:00"],
  ])("GIVEN %j from %s WHEN the next run is asked THEN it is %s", (text, from, next) => {
    expect(nextRun(parsed(text), utc(from))?.toISOString()).toBe(`${next}.000Z`);
  });
});

describe("longestGapSeconds", () => {
  it.each([
    ["daily", "15 2 * * *", DAY],
    ["hourly", "@hourly", 3600],
    ["twice a day, unevenly", "0 1,5 * * *", 20 * 3600],
    ["weekly", "0 3 * * sun", 7 * DAY],
    ["on weekdays (over the weekend)", "0 3 * * mon-fri", 3 * DAY],
    ["monthly (January to February, 31 days)", "0 0 1 * *", 31 * DAY],
    ["on the 31st (from 31 March to 31 May)", "0 0 31 * *", 61 * DAY],
    ["on leap days only (the first run is past the horizon)", "0 0 29 2 *", 1461 * DAY],
  ])(
    "GIVEN a schedule that runs %s (%j) WHEN the longest gap is asked THEN it is %i s",
    (_l, text, gap) => {
      expect(longestGapSeconds(parsed(text), MONDAY)).toBe(gap);
    },
  );
});

/** "MM HH DD mm w" as `date -u '+%M %H %d %m %w'` prints it. */
const shMinute = (t: Date) =>
  [t.getUTCMinutes(), t.getUTCHours(), t.getUTCDate(), t.getUTCMonth() + 1]
    .map((n) => String(n).padStart(2, "0"))
    .concat(String(t.getUTCDay()))
    .join(" ");

/** Runs `due` once per minute in one sh process: "1" where it exits 0, else "0". */
function dueInSh(s: CronSchedule, minutes: Date[]): boolean[] {
  const script = [
    renderDueFunction(s),
    'for m in "$@"; do if due "$m"; then echo 1; else echo 0; fi; done',
  ].join("\n");
  const out = execFileSync("sh", ["-c", script, "sh", ...minutes.map(shMinute)], {
    encoding: "utf8",
  });
  return out
    .trim()
    .split("\n")
    .map((l) => l === "1");
}

const MONTH_NAMES = [
  "jan",
  "feb",
  "mar",
  "apr",
  "may",
  "jun",
  "jul",
  "aug",
  "sep",
  "oct",
  "nov",
  "dec",
];
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** One field: a star, a stepped star, a value, a range, a stepped range or a list of those; names sometimes. */
function field(min: number, max: number, names?: string[], base = 0): fc.Arbitrary<string> {
  const value = fc
    .integer({ min, max })
    .chain((v) =>
      names && v - base >= 0 && v - base < names.length
        ? fc.constantFrom(String(v), names[v - base], names[v - base].toUpperCase())
        : fc.constant(String(v)),
    );
  const range = fc
    .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
    .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
  const step = fc.integer({ min: 1, max: max - min + 1 });
  const item = fc.oneof(
    value,
    range,
    fc.tuple(range, step).map(([r, n]) => `${r}/${n}`),
    step.map((n) => `*/${n}`),
  );
  return fc.oneof(
    { arbitrary: fc.constant("*"), weight: 3 },
    { arbitrary: item, weight: 3 },
    {
      arbitrary: fc.array(item, { minLength: 2, maxLength: 4 }).map((l) => l.join(",")),
      weight: 1,
    },
  );
}

const expression = fc.oneof(
  {
    arbitrary: fc
      .tuple(
        field(0, 59),
        field(0, 23),
        field(1, 31),
        field(1, 12, MONTH_NAMES, 1),
        field(0, 7, DAY_NAMES),
      )
      .map((f) => f.join(" ")),
    weight: 12,
  },
  {
    arbitrary: fc.constantFrom("@hourly", "@daily", "@weekly", "@monthly", "@yearly"),
    weight: 1,
  },
);

const minute = fc
  .integer({ min: Date.UTC(2024, 0, 1) / 60_000, max: Date.UTC(2032, 11, 31) / 60_000 })
  .map((m) => new Date(m * 60_000));

/** Each run spawns one sh and an awk per minute, about 25: ~1500 processes in all. */
const RUNS = 60;

describe("the runner's sh `due` function", () => {
  it("GIVEN random valid schedules and minutes WHEN the rendered `due` runs in sh THEN it answers as cronMatches does", () => {
    let fired = 0;
    let checked = 0;
    fc.assert(
      fc.property(
        expression.filter((e) => typeof parseCron(e) !== "string"),
        fc.array(minute, { minLength: 12, maxLength: 24 }),
        (text, random) => {
          const s = parsed(text);
          // Random minutes rarely fire, so add each one's next run and the minute before it.
          const near = random.slice(0, 4).flatMap((t) => {
            const next = nextRun(s, t);
            return next ? [next, new Date(next.getTime() - 60_000)] : [];
          });
          const minutes = [...random, ...near];
          const expected = minutes.map((t) => cronMatches(s, t));
          expect(dueInSh(s, minutes)).toEqual(expected);
          fired += expected.filter(Boolean).length;
          checked += minutes.length;
        },
      ),
      { numRuns: RUNS },
    );
    // Both answers were exercised, so agreeing means something.
    expect(fired).toBeGreaterThan(RUNS);
    expect(checked - fired).toBeGreaterThan(RUNS * 12);
  });

  it("GIVEN a schedule written across lines WHEN its `due` is rendered THEN the comment stays one line and sh parses it", () => {
    const s = parsed("15\n2 * * *");
    const fn = renderDueFunction(s);
    expect(fn.split("\n")[0]).toBe('# Schedule "15 2 * * *" (UTC), expanded by fjord.');
    expect(dueInSh(s, [utc("2026-01-05T02:15:00"), utc("2026-01-05T02:16:00")])).toEqual([
      true,
      false,
    ]);
  });

  it("GIVEN no argument WHEN `due` runs THEN it reads the current UTC minute from date", () => {
    const run = (text: string) =>
      execFileSync(
        "sh",
        ["-c", `${renderDueFunction(parsed(text))}\nif due; then echo yes; else echo no; fi`],
        { encoding: "utf8" },
      ).trim();
    // Half an hour away from now: the test would have to take 30 minutes to see it fire.
    const away = (new Date().getUTCMinutes() + 30) % 60;
    expect(run("* * * * *")).toBe("yes");
    expect(run(`${away} * * * *`)).toBe("no");
  });
});
