/**
 * Cron expressions as OpenClaw's scheduler reads them: 5 fields (minute hour day-of-month month
 * day-of-week) or 6 with seconds first; `*`, `?` (the day fields), lists, ranges and steps, month and
 * weekday names, `7` for Sunday, and the `@hourly`…`@yearly` macros. When both day fields are restricted a
 * day matches either one (Vixie cron's rule, which the reference's parser keeps). Next-run times are found
 * in an IANA time zone's wall clock, so `0 9 * * *` stays at 09:00 across daylight-saving changes; a wall
 * time a change skips does not fire that day.
 *
 * @module
 */

/** A parsed expression: the allowed values of each field. */
export interface CronExpression {
  /** The expression as given. */
  readonly source: string;
  /** 0 to 59; only 0 for a 5-field expression. */
  readonly seconds: ReadonlySet<number>;
  /** 0 to 59. */
  readonly minutes: ReadonlySet<number>;
  /** 0 to 23. */
  readonly hours: ReadonlySet<number>;
  /** 1 to 31. */
  readonly daysOfMonth: ReadonlySet<number>;
  /** 1 (January) to 12. */
  readonly months: ReadonlySet<number>;
  /** 0 (Sunday) to 6. */
  readonly daysOfWeek: ReadonlySet<number>;
  /** Both day fields are restricted, so a day matches either (otherwise both must match). */
  readonly eitherDay: boolean;
}

/** Why an expression or time zone was refused, in words for the person who wrote it. */
export class CronExpressionError extends Error {
  /** Always `CronExpressionError`. */
  override name = "CronExpressionError";
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

const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** Names for values, starting at `min`. */
  names?: string[];
  /** `?` means "any" in this field. */
  question?: boolean;
}

const SECOND: FieldRule = { name: "second", min: 0, max: 59 };
const MINUTE: FieldRule = { name: "minute", min: 0, max: 59 };
const HOUR: FieldRule = { name: "hour", min: 0, max: 23 };
const DAY_OF_MONTH: FieldRule = { name: "day-of-month", min: 1, max: 31, question: true };
const MONTH: FieldRule = { name: "month", min: 1, max: 12, names: MONTH_NAMES };
// 7 is Sunday too; folded to 0 after parsing.
const DAY_OF_WEEK: FieldRule = { name: "day-of-week", min: 0, max: 7, names: DAY_NAMES, question: true };

/**
 * Parses `source`, or throws a {@link CronExpressionError} naming the field and what is wrong with it.
 *
 * @example
 * ```ts
 * import { parseCronExpression } from "./cron-expr.ts";
 *
 * const weekdays = parseCronExpression("30 9 * * mon-fri");
 * if (!weekdays.daysOfWeek.has(1) || weekdays.daysOfWeek.has(0)) throw new Error("mon-fri");
 * ```
 */
export function parseCronExpression(source: string): CronExpression {
  const trimmed = source.trim();
  const expanded = MACROS[trimmed.toLowerCase()] ?? trimmed;
  const fields = expanded.split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronExpressionError(
      `invalid cron expression "${source}": expected 5 fields (minute hour day-of-month month day-of-week) ` +
        `or 6 with seconds first, got ${fields.length}`,
    );
  }
  const [second, rest] = fields.length === 6 ? [fields[0], fields.slice(1)] : ["0", fields];
  const field = (text: string, rule: FieldRule) => parseField(source, text, rule);
  const daysOfWeek = new Set([...field(rest[4], DAY_OF_WEEK)].map((day) => day % 7));
  return {
    source,
    seconds: field(second, SECOND),
    minutes: field(rest[0], MINUTE),
    hours: field(rest[1], HOUR),
    daysOfMonth: field(rest[2], DAY_OF_MONTH),
    months: field(rest[3], MONTH),
    daysOfWeek,
    eitherDay: !isWildcard(rest[2]) && !isWildcard(rest[4]),
  };
}

function isWildcard(text: string): boolean {
  return text.startsWith("*") || text.startsWith("?");
}

function parseField(source: string, text: string, rule: FieldRule): Set<number> {
  const fail = (reason: string) =>
    new CronExpressionError(`invalid cron expression "${source}": ${rule.name} field "${text}" ${reason}`);
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^([^/]+)(?:\/(\d+))?$/.exec(part);
    if (!match) throw fail(`has a malformed part "${part}"`);
    const step = match[2] === undefined ? 1 : Number(match[2]);
    if (step < 1) throw fail("has a step of 0");
    let [from, to] = [rule.min, rule.max];
    if (match[1] === "*" || (match[1] === "?" && rule.question)) {
      // `*` and `*/n` cover the whole range.
    } else {
      const bounds = match[1].split("-");
      if (bounds.length > 2) throw fail(`has a malformed range "${match[1]}"`);
      from = value(bounds[0], rule, fail);
      // `a/n` runs from a to the end of the range, as in Vixie cron.
      to = bounds.length === 2 ? value(bounds[1], rule, fail) : match[2] === undefined ? from : rule.max;
      if (to < from) throw fail(`has a range that runs backwards (${from}-${to})`);
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

function value(text: string, rule: FieldRule, fail: (reason: string) => Error): number {
  const named = rule.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + rule.min;
  if (!/^\d+$/.test(text)) throw fail(`has "${text}", which is neither a number nor a known name`);
  const n = Number(text);
  if (n < rule.min || n > rule.max) throw fail(`has ${n}, outside ${rule.min}-${rule.max}`);
  return n;
}

/** The host's own time zone, which expressions without `tz` run in (as the reference's do). */
export function hostTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Throws a {@link CronExpressionError} unless `timeZone` is an IANA zone this runtime knows. */
export function checkTimeZone(timeZone: string): void {
  zone(timeZone);
}

const zones = new Map<string, Intl.DateTimeFormat>();

function zone(timeZone: string): Intl.DateTimeFormat {
  let format = zones.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new CronExpressionError(
        `invalid time zone "${timeZone}": expected an IANA zone such as Europe/Vienna`,
      );
    }
    zones.set(timeZone, format);
  }
  return format;
}

/** The wall-clock time at `instant` in the zone, as ms of a UTC date with the same fields. */
function wallClock(format: Intl.DateTimeFormat, instant: number): number {
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(instant)) parts[part.type] = Number(part.value);
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/** The instant a wall-clock time names: the earlier one when it occurs twice, none when it is skipped. */
function instantOf(format: Intl.DateTimeFormat, wall: number): number | undefined {
  const DAY = 86_400_000;
  // Offsets a day either side cover both sides of any one daylight-saving change.
  const candidates = [wall - DAY, wall + DAY]
    .map((probe) => wall - (wallClock(format, probe) - probe))
    .sort((a, b) => a - b);
  return candidates.find((instant) => wallClock(format, instant) === wall);
}

/** How far ahead the search gives up (an expression such as `0 0 30 2 *` never fires). */
const HORIZON_MS = 8 * 366 * 86_400_000;

/**
 * The first time after `afterMs` that `cron` fires in `timeZone`, or `undefined` when it never does.
 *
 * @example
 * ```ts
 * import { nextCronTime, parseCronExpression } from "./cron-expr.ts";
 *
 * const at = nextCronTime(parseCronExpression("0 9 * * *"), Date.UTC(2026, 0, 1, 10), "UTC");
 * if (at !== Date.UTC(2026, 0, 2, 9)) throw new Error(String(at));
 * ```
 */
export function nextCronTime(cron: CronExpression, afterMs: number, timeZone: string): number | undefined {
  const format = zone(timeZone);
  let wall = wallClock(format, Math.floor(afterMs / 1000) * 1000) + 1000;
  const limit = wall + HORIZON_MS;
  while (wall <= limit) {
    const d = new Date(wall);
    const [year, month, day, hour, minute] = [
      d.getUTCFullYear(),
      d.getUTCMonth(),
      d.getUTCDate(),
      d.getUTCHours(),
      d.getUTCMinutes(),
    ];
    if (!cron.months.has(month + 1)) {
      wall = Date.UTC(year, month + 1, 1);
    } else if (!dayMatches(cron, d)) {
      wall = Date.UTC(year, month, day + 1);
    } else if (!cron.hours.has(hour)) {
      wall = Date.UTC(year, month, day, hour + 1);
    } else if (!cron.minutes.has(minute)) {
      wall = Date.UTC(year, month, day, hour, minute + 1);
    } else if (!cron.seconds.has(d.getUTCSeconds())) {
      wall += 1000;
    } else {
      const instant = instantOf(format, wall);
      if (instant !== undefined && instant > afterMs) return instant;
      wall += 1000;
    }
  }
  return undefined;
}

function dayMatches(cron: CronExpression, d: Date): boolean {
  const byMonth = cron.daysOfMonth.has(d.getUTCDate());
  const byWeek = cron.daysOfWeek.has(d.getUTCDay());
  return cron.eitherDay ? byMonth || byWeek : byMonth && byWeek;
}
