/**
 * EventBridge scheduled-rule expressions (`ScheduleExpression` of `AWS::Events::Rule`) for the local
 * runtime: parsing, validation, and the next time a rule fires.
 *
 * The grammar is the one the EventBridge User Guide documents ("Cron expressions reference", "Rate
 * expressions reference"). EventBridge's cron dialect descends from Quartz (the `?`, `L`, `W` and `#`
 * wildcards, day-of-week 1-7 with 1 = Sunday), so where the guide is silent this module follows Quartz
 * and says so next to the rule concerned: `6L` (last Friday), `LW`, steps and wrapping ranges such as
 * `FRI-MON`. Quartz's `L-n` is refused, as the guide defines `L` only as the last day.
 *
 * All times are UTC, as on EventBridge; the finest granularity is one minute.
 */

/** Thrown for an expression EventBridge would reject when the rule is created. */
export class InvalidScheduleExpressionError extends Error {
  override readonly name = 'InvalidScheduleExpressionError';

  constructor(
    /** The expression as given. */
    readonly expression: string,
    /** Why it is invalid, naming the offending field. */
    readonly reason: string,
  ) {
    super(`Invalid ScheduleExpression ${JSON.stringify(expression)}: ${reason}`);
  }
}

/**
 * Thrown by {@link nextFireTime} for a valid cron expression that never matches again after the given
 * instant: every year it allows is past, or the days it names do not exist (`cron(0 0 30 2 ? *)`).
 */
export class ScheduleExhaustedError extends Error {
  override readonly name = 'ScheduleExhaustedError';

  constructor(
    readonly expression: string,
    readonly after: Date,
  ) {
    super(`ScheduleExpression ${JSON.stringify(expression)} never fires after ${after.toISOString()}`);
  }
}

/**
 * Checks that `expression` is a `rate(...)` or `cron(...)` expression EventBridge accepts.
 *
 * @throws {InvalidScheduleExpressionError} naming the offending field: wrong field count, both or
 * neither of day-of-month and day-of-week `?`, values out of range, unknown month or day names, bad
 * steps, a rate of 0 or with a unit that does not agree with its value.
 */
export function validateScheduleExpression(expression: string): void {
  parseScheduleExpression(expression);
}

/**
 * When a scheduled rule next fires after `after`.
 *
 * - `cron(...)`: the first whole minute strictly after `after` (seconds and milliseconds zero) that the
 *   expression matches.
 * - `rate(...)`: `after` plus one period. EventBridge aligns a rate to the moment the rule was created;
 *   the local runtime has no creation time worth keeping, so it counts periods from when it asks (in
 *   practice: the first fire comes one period after the runtime starts, each next one a period after
 *   the previous).
 *
 * @throws {InvalidScheduleExpressionError} if the expression is invalid (see
 * {@link validateScheduleExpression}).
 * @throws {ScheduleExhaustedError} if a cron expression has no matching minute after `after` up to the
 * end of 2199, the last year EventBridge allows.
 * @throws {RangeError} if `after` is an invalid date.
 */
export function nextFireTime(expression: string, after: Date): Date {
  const schedule = parseScheduleExpression(expression);
  const afterMs = after.getTime();
  if (Number.isNaN(afterMs)) throw new RangeError('nextFireTime: `after` is an invalid Date');
  if (schedule.kind === 'rate') {
    const next = new Date(afterMs + schedule.periodMs);
    if (Number.isNaN(next.getTime())) throw new ScheduleExhaustedError(expression, after);
    return next;
  }
  const next = nextCronMinute(schedule, afterMs);
  if (next === undefined) throw new ScheduleExhaustedError(expression, after);
  return next;
}

// ---------------------------------------------------------------------------------------------------
// Parsed form

type Schedule = RateSchedule | CronSchedule;

interface RateSchedule {
  readonly kind: 'rate';
  readonly periodMs: number;
}

interface CronSchedule {
  readonly kind: 'cron';
  /** Ascending lists of the values each field allows. */
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: readonly number[];
  readonly years: readonly number[];
  readonly days: DayRule;
}

/**
 * Which days of a month match. Exactly one of day-of-month and day-of-week is `?`; the other decides,
 * so the two collapse into one rule.
 */
type DayRule =
  /** Day-of-month values: `*`, lists, ranges, steps. Index 1-31. */
  | { readonly kind: 'monthDays'; readonly allowed: readonly boolean[] }
  /** Day-of-month `L`. */
  | { readonly kind: 'lastDay' }
  /** Day-of-month `LW`. */
  | { readonly kind: 'lastWeekday' }
  /** Day-of-month `nW`. */
  | { readonly kind: 'nearestWeekday'; readonly day: number }
  /** Day-of-week values: `*`, lists, ranges, `L` alone (Saturday). Index 1-7, 1 = Sunday. */
  | { readonly kind: 'weekDays'; readonly allowed: readonly boolean[] }
  /** Day-of-week `dL`: the last such weekday of the month. */
  | { readonly kind: 'lastOfWeekday'; readonly weekday: number }
  /** Day-of-week `d#n`: the n-th such weekday of the month. */
  | { readonly kind: 'nthWeekday'; readonly weekday: number; readonly nth: number };

// ---------------------------------------------------------------------------------------------------
// Rate expressions

const RATE_UNIT_MS: Readonly<Record<string, number>> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

function parseRate(expression: string, body: string): RateSchedule {
  const fail = (reason: string) => new InvalidScheduleExpressionError(expression, reason);
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0] === '') {
    throw fail(`a rate expression has two fields, rate(value unit); got ${parts.filter(Boolean).length}`);
  }
  const [valueText = '', unit = ''] = parts;
  if (!/^\d+$/.test(valueText)) throw fail(`rate value "${valueText}" is not a positive integer`);
  const value = Number(valueText);
  if (value === 0) throw fail('rate value must be a positive integer; got 0');
  const unitMs = RATE_UNIT_MS[unit];
  if (unitMs === undefined) {
    throw fail(`rate unit "${unit}" is not one of minute, minutes, hour, hours, day, days`);
  }
  // The guide: "If the value is equal to 1, then the unit must be singular. If the value is greater
  // than 1, the unit must be plural."
  const plural = unit.endsWith('s');
  if (value === 1 && plural)
    throw fail(`rate unit must be singular for a value of 1: "${unit.slice(0, -1)}"`);
  if (value > 1 && !plural) throw fail(`rate unit must be plural for a value above 1: "${unit}s"`);
  const periodMs = value * unitMs;
  if (!Number.isSafeInteger(periodMs)) throw fail(`rate value ${valueText} is too large`);
  return { kind: 'rate', periodMs };
}

// ---------------------------------------------------------------------------------------------------
// Cron expressions

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

interface FieldSpec {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names standing for min, min + 1, ... (months, weekdays). */
  readonly names?: readonly string[];
  /**
   * Whether `a-b` with a > b wraps past the maximum (`FRI-MON`, `22-2`), as Quartz allows. Years do
   * not cycle, so a reversed year range is an error.
   */
  readonly cyclic: boolean;
  /** Largest step `/n` accepted; Quartz's limits (59 for minutes, 23 for hours, ...). */
  readonly maxStep: number;
}

const MINUTES: FieldSpec = { label: 'Minutes', min: 0, max: 59, cyclic: true, maxStep: 59 };
const HOURS: FieldSpec = { label: 'Hours', min: 0, max: 23, cyclic: true, maxStep: 23 };
const DAY_OF_MONTH: FieldSpec = { label: 'Day-of-month', min: 1, max: 31, cyclic: true, maxStep: 31 };
const MONTH: FieldSpec = {
  label: 'Month',
  min: 1,
  max: 12,
  names: MONTH_NAMES,
  cyclic: true,
  maxStep: 12,
};
// The guide's current table lists no "/" for Day-of-week, but its earlier versions did and Quartz
// takes it; refusing "MON/2" locally would stop a stack that deploys, so it is accepted.
const DAY_OF_WEEK: FieldSpec = {
  label: 'Day-of-week',
  min: 1,
  max: 7,
  names: WEEKDAY_NAMES,
  cyclic: true,
  maxStep: 7,
};
const YEAR: FieldSpec = {
  label: 'Year',
  min: MIN_YEAR,
  max: MAX_YEAR,
  cyclic: false,
  maxStep: MAX_YEAR - MIN_YEAR,
};

/** A field's problem, turned into an {@link InvalidScheduleExpressionError} by the caller. */
class FieldError extends Error {}

function parseScheduleExpression(expression: string): Schedule {
  if (typeof expression !== 'string') {
    throw new InvalidScheduleExpressionError(String(expression), 'the expression must be a string');
  }
  const match = /^(rate|cron)\((.*)\)$/s.exec(expression);
  if (!match) {
    throw new InvalidScheduleExpressionError(
      expression,
      'expected rate(value unit) or cron(Minutes Hours Day-of-month Month Day-of-week Year)',
    );
  }
  const [, kind, body = ''] = match;
  return kind === 'rate' ? parseRate(expression, body) : parseCron(expression, body);
}

function parseCron(expression: string, body: string): CronSchedule {
  const fail = (reason: string) => new InvalidScheduleExpressionError(expression, reason);
  const fields = body.trim() === '' ? [] : body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw fail(
      `a cron expression has 6 fields (Minutes Hours Day-of-month Month Day-of-week Year); got ${fields.length}`,
    );
  }
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  // "You can't specify the Day-of-month and Day-of-week fields in the same cron expression. If you
  // specify a value or a * (asterisk) in one of the fields, you must use a ? (question mark) in the
  // other."
  if (dayOfMonth === '?' && dayOfWeek === '?') {
    throw fail('Day-of-month and Day-of-week cannot both be "?"; one of them must name the days');
  }
  if (dayOfMonth !== '?' && dayOfWeek !== '?') {
    throw fail(
      `one of Day-of-month ("${dayOfMonth}") and Day-of-week ("${dayOfWeek}") must be "?"; ` +
        'EventBridge does not combine the two',
    );
  }
  const field = <T>(spec: FieldSpec, text: string, parse: (spec: FieldSpec, text: string) => T): T => {
    try {
      return parse(spec, text);
    } catch (error) {
      if (error instanceof FieldError) throw fail(`${spec.label} field "${text}": ${error.message}`);
      throw error;
    }
  };
  return {
    kind: 'cron',
    minutes: listOf(field(MINUTES, minutes, parseValues)),
    hours: listOf(field(HOURS, hours, parseValues)),
    months: listOf(field(MONTH, month, parseValues)),
    years: listOf(field(YEAR, year, parseValues)),
    days:
      dayOfWeek === '?'
        ? field(DAY_OF_MONTH, dayOfMonth, parseDayOfMonth)
        : field(DAY_OF_WEEK, dayOfWeek, parseDayOfWeek),
  };
}

function parseDayOfMonth(spec: FieldSpec, text: string): DayRule {
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'lastDay' };
  if (upper === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d+)W$/.exec(upper);
  if (weekday) return { kind: 'nearestWeekday', day: parseNumber(spec, weekday[1] ?? '') };
  if (upper.includes('W')) {
    throw new FieldError('W must follow a single day (15W) or L (LW), alone in the field');
  }
  if (upper.startsWith('L-')) {
    // Quartz's "L-n" (n days before the last) is not in the EventBridge guide, which documents L only
    // as "the last day of the month".
    throw new FieldError('"L-n" offsets are not part of the EventBridge syntax; use L alone');
  }
  if (upper.includes('L')) throw new FieldError('L must stand alone in the field (or as LW)');
  return { kind: 'monthDays', allowed: parseValues(spec, text) };
}

function parseDayOfWeek(spec: FieldSpec, text: string): DayRule {
  const upper = text.toUpperCase();
  // L alone is "the last day of the week": Saturday.
  if (upper === 'L') return { kind: 'weekDays', allowed: maskOf(spec, [7]) };
  if (upper.includes('#')) {
    // The guide: with #, "you can define only one expression in the day-of-week field"; "3#1,6#3" is
    // invalid.
    const nth = /^([^#,/-]+)#([^#]*)$/.exec(upper);
    if (!nth) throw new FieldError('a # expression must be alone in the field (3#2), not in a list or range');
    const weekday = parseValue(spec, nth[1] ?? '');
    const instance = nth[2] ?? '';
    if (!/^[1-5]$/.test(instance)) {
      throw new FieldError(`the instance after # must be 1 to 5; got "${instance}"`);
    }
    return { kind: 'nthWeekday', weekday, nth: Number(instance) };
  }
  const last = /^(.+)L$/.exec(upper);
  if (last && !upper.includes(',') && !upper.includes('-') && !upper.includes('/')) {
    // "6L" is the last Friday of the month: Quartz's form, which the guide's "L ... specifies the last
    // day of the week" does not spell out.
    return { kind: 'lastOfWeekday', weekday: parseValue(spec, last[1] ?? '') };
  }
  if (upper.includes('L'))
    throw new FieldError('L must stand alone in the field (L, or 6L for the last Friday)');
  return { kind: 'weekDays', allowed: parseValues(spec, text) };
}

/**
 * A field of `*`, values, `a-b` ranges, and `/n` steps (`*\/n`, `a/n`, `a-b/n`), joined by commas,
 * as a mask indexed by value.
 */
function parseValues(spec: FieldSpec, text: string): boolean[] {
  if (text === '') throw new FieldError('empty');
  if (text === '?') throw new FieldError('"?" is only allowed in Day-of-month or Day-of-week');
  const allowed: boolean[] = new Array<boolean>(spec.max + 1).fill(false);
  for (const item of text.split(',')) {
    if (item === '') throw new FieldError('empty item in the list');
    if (item.includes('?')) throw new FieldError('"?" must be the whole field');
    const stepMatch = /^([^/]*)\/(.*)$/.exec(item);
    const rangeText = stepMatch ? (stepMatch[1] ?? '') : item;
    let step = 1;
    if (stepMatch) {
      const stepText = stepMatch[2] ?? '';
      if (!/^\d+$/.test(stepText)) throw new FieldError(`step "/${stepText}" is not a positive integer`);
      step = Number(stepText);
      if (step === 0) throw new FieldError('step must be at least 1; got /0');
      if (step > spec.maxStep) throw new FieldError(`step /${step} is larger than ${spec.maxStep}`);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const dash = rangeText.indexOf('-');
      if (dash === -1) {
        from = parseValue(spec, rangeText);
        // Quartz: "a/n" runs from a to the end of the field.
        to = stepMatch ? spec.max : from;
      } else {
        from = parseValue(spec, rangeText.slice(0, dash));
        to = parseValue(spec, rangeText.slice(dash + 1));
        if (from > to && !spec.cyclic) {
          throw new FieldError(`range ${rangeText} runs backwards`);
        }
      }
    }
    // A reversed range on a cyclic field wraps: 22-2 in Hours is 22, 23, 0, 1, 2.
    const size = spec.max - spec.min + 1;
    const span = (to - from + size) % size;
    for (let offset = 0; offset <= span; offset += step) {
      allowed[((from - spec.min + offset) % size) + spec.min] = true;
    }
  }
  return allowed;
}

/** One value: a number in range, or (months, weekdays) a three-letter name. */
function parseValue(spec: FieldSpec, text: string): number {
  const upper = text.toUpperCase();
  if (spec.names && /^[A-Z]+$/.test(upper)) {
    const index = spec.names.indexOf(upper);
    if (index === -1) {
      throw new FieldError(`unknown name "${text}"; expected one of ${spec.names.join(', ')}`);
    }
    return spec.min + index;
  }
  return parseNumber(spec, text);
}

function parseNumber(spec: FieldSpec, text: string): number {
  const range = spec.names
    ? `${spec.min}-${spec.max} or ${spec.names[0]}-${spec.names[spec.names.length - 1]}`
    : `${spec.min}-${spec.max}`;
  if (!/^\d+$/.test(text)) throw new FieldError(`"${text}" is not a valid value (${range})`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) throw new FieldError(`${value} is out of range (${range})`);
  return value;
}

function maskOf(spec: FieldSpec, values: readonly number[]): boolean[] {
  const allowed: boolean[] = new Array<boolean>(spec.max + 1).fill(false);
  for (const value of values) allowed[value] = true;
  return allowed;
}

function listOf(allowed: readonly boolean[]): number[] {
  const values: number[] = [];
  allowed.forEach((on, value) => {
    if (on) values.push(value);
  });
  return values;
}

// ---------------------------------------------------------------------------------------------------
// Next fire time

/**
 * The first minute strictly after `afterMs` that `cron` matches, or undefined past 2199.
 *
 * Walks year, month, day, hour, minute in turn, each from the lower bound set by `afterMs` only while
 * every larger field still equals it, so the work is bounded by the number of candidate months
 * (at most 230 × 12), not by minutes.
 */
function nextCronMinute(cron: CronSchedule, afterMs: number): Date | undefined {
  const start = new Date((Math.floor(afterMs / 60_000) + 1) * 60_000);
  const startYear = start.getUTCFullYear();
  const startMonth = start.getUTCMonth() + 1;
  const startDay = start.getUTCDate();
  const startHour = start.getUTCHours();
  const startMinute = start.getUTCMinutes();
  for (const year of cron.years) {
    if (year < startYear) continue;
    const sameYear = year === startYear;
    for (const month of cron.months) {
      if (sameYear && month < startMonth) continue;
      const sameMonth = sameYear && month === startMonth;
      for (const day of matchingDays(cron.days, year, month)) {
        if (sameMonth && day < startDay) continue;
        const sameDay = sameMonth && day === startDay;
        for (const hour of cron.hours) {
          if (sameDay && hour < startHour) continue;
          const sameHour = sameDay && hour === startHour;
          for (const minute of cron.minutes) {
            if (sameHour && minute < startMinute) continue;
            return new Date(Date.UTC(year, month - 1, day, hour, minute));
          }
        }
      }
    }
  }
  return undefined;
}

/** The days of `month` (1-12) in `year` that `rule` matches, ascending. */
function matchingDays(rule: DayRule, year: number, month: number): number[] {
  const length = daysInMonth(year, month);
  // Weekday of day d, 1 = Sunday ... 7 = Saturday, as EventBridge numbers them.
  const firstWeekday = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  const weekdayOf = (day: number) => ((firstWeekday + day - 1) % 7) + 1;
  switch (rule.kind) {
    case 'monthDays': {
      const days: number[] = [];
      for (let day = 1; day <= length; day++) if (rule.allowed[day]) days.push(day);
      return days;
    }
    case 'lastDay':
      return [length];
    case 'lastWeekday': {
      const weekday = weekdayOf(length);
      return [weekday === 7 ? length - 1 : weekday === 1 ? length - 2 : length];
    }
    case 'nearestWeekday': {
      // A day the month lacks (31W in April) matches nothing that month, as a plain 31 does.
      if (rule.day > length) return [];
      // The nearest weekday never leaves the month: 1W on a Saturday is Monday the 3rd, and the last
      // day on a Sunday moves back to Friday.
      const weekday = weekdayOf(rule.day);
      if (weekday === 7) return [rule.day === 1 ? 3 : rule.day - 1];
      if (weekday === 1) return [rule.day === length ? rule.day - 2 : rule.day + 1];
      return [rule.day];
    }
    case 'weekDays': {
      const days: number[] = [];
      for (let day = 1; day <= length; day++) if (rule.allowed[weekdayOf(day)]) days.push(day);
      return days;
    }
    case 'lastOfWeekday': {
      const back = (weekdayOf(length) - rule.weekday + 7) % 7;
      return [length - back];
    }
    case 'nthWeekday': {
      const first = 1 + ((rule.weekday - weekdayOf(1) + 7) % 7);
      const day = first + 7 * (rule.nth - 1);
      // No fifth such weekday this month: skip to the next month that has one.
      return day <= length ? [day] : [];
    }
  }
}

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
