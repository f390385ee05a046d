import { describe, expect, it } from 'vitest';
import {
  InvalidScheduleExpressionError,
  nextFireTime,
  ScheduleExhaustedError,
  validateScheduleExpression,
} from '../../infra/local/events/schedule.ts';

/**
 * Rows marked "guide" quote the Amazon EventBridge User Guide ("Cron expressions reference" examples
 * and wildcard descriptions, "Rate expressions reference"). The others test the calendar edges the
 * guide leaves implicit: month ends, leap years, W at month borders, #5, year limits.
 *
 * Each `fires` row starts from `after` and calls nextFireTime again from every result, so a row of
 * three instants checks a sequence. Calendar notes: 2026-01-01 is a Thursday, 2028 is a leap year.
 */
interface FireRow {
  readonly name: string;
  readonly expression: string;
  readonly after: string;
  readonly fires: readonly string[];
}

const CRON_GUIDE_ROWS: readonly FireRow[] = [
  {
    name: 'guide: 10:00 every day',
    expression: 'cron(0 10 * * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-07T10:00:00Z', '2026-01-08T10:00:00Z', '2026-01-09T10:00:00Z'],
  },
  {
    name: 'guide: 12:15 every day, starting exactly on a fire time (strictly after)',
    expression: 'cron(15 12 * * ? *)',
    after: '2026-01-07T12:15:00Z',
    fires: ['2026-01-08T12:15:00Z', '2026-01-09T12:15:00Z', '2026-01-10T12:15:00Z'],
  },
  {
    name: 'guide: 18:00 Monday to Friday, over a weekend',
    expression: 'cron(0 18 ? * MON-FRI *)',
    after: '2026-01-09T18:00:30Z',
    fires: ['2026-01-12T18:00:00Z', '2026-01-13T18:00:00Z', '2026-01-14T18:00:00Z'],
  },
  {
    name: 'guide: 08:00 on the first day of every month',
    expression: 'cron(0 8 1 * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-02-01T08:00:00Z', '2026-03-01T08:00:00Z', '2026-04-01T08:00:00Z'],
  },
  {
    name: 'guide: every 15 minutes',
    expression: 'cron(0/15 * * * ? *)',
    after: '2026-01-07T09:59:59.999Z',
    fires: ['2026-01-07T10:00:00Z', '2026-01-07T10:15:00Z', '2026-01-07T10:30:00Z'],
  },
  {
    name: 'guide: every 10 minutes Monday to Friday, Friday night to Monday',
    expression: 'cron(0/10 * ? * MON-FRI *)',
    after: '2026-01-09T23:55:00Z',
    fires: ['2026-01-12T00:00:00Z', '2026-01-12T00:10:00Z', '2026-01-12T00:20:00Z'],
  },
  {
    name: 'guide: every 5 minutes 08:00-17:55 Monday to Friday, end of the window',
    expression: 'cron(0/5 8-17 ? * MON-FRI *)',
    after: '2026-01-09T17:52:00Z',
    fires: ['2026-01-09T17:55:00Z', '2026-01-12T08:00:00Z', '2026-01-12T08:05:00Z'],
  },
  {
    name: 'guide: 09:00 on the first Monday of every month',
    expression: 'cron(0 9 ? * 2#1 *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-02-02T09:00:00Z', '2026-03-02T09:00:00Z', '2026-04-06T09:00:00Z'],
  },
  {
    name: 'guide: 20:00 every day (the API reference example)',
    expression: 'cron(0 20 * * ? *)',
    after: '2026-01-07T20:00:00.001Z',
    fires: ['2026-01-08T20:00:00Z', '2026-01-09T20:00:00Z', '2026-01-10T20:00:00Z'],
  },
  {
    name: 'guide: 1/10 is the 1st, 11th, 21st... minute',
    expression: 'cron(1/10 * * * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-07T09:31:00Z', '2026-01-07T09:41:00Z', '2026-01-07T09:51:00Z'],
  },
  {
    name: 'guide: JAN,FEB,MAR months, jumping the rest of the year',
    expression: 'cron(0 0 1 JAN,FEB,MAR ? *)',
    after: '2026-02-15T00:00:00Z',
    fires: ['2026-03-01T00:00:00Z', '2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z'],
  },
  {
    name: 'guide: days 1-15',
    expression: 'cron(0 6 1-15 * ? *)',
    after: '2026-01-14T07:00:00Z',
    fires: ['2026-01-15T06:00:00Z', '2026-02-01T06:00:00Z', '2026-02-02T06:00:00Z'],
  },
  {
    name: 'guide: 3#2 is the second Tuesday',
    expression: 'cron(0 9 ? * 3#2 *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-13T09:00:00Z', '2026-02-10T09:00:00Z', '2026-03-10T09:00:00Z'],
  },
  {
    name: 'guide: 3W is the weekday closest to the 3rd (Saturday 3 January: Friday the 2nd)',
    expression: 'cron(0 9 3W * ? *)',
    after: '2026-01-01T00:00:00Z',
    fires: ['2026-01-02T09:00:00Z', '2026-02-03T09:00:00Z', '2026-03-03T09:00:00Z'],
  },
];

const CRON_FIELD_ROWS: readonly FireRow[] = [
  {
    name: 'every minute: seconds and milliseconds of `after` are dropped',
    expression: 'cron(* * * * ? *)',
    after: '2026-01-07T09:30:45.500Z',
    fires: ['2026-01-07T09:31:00Z', '2026-01-07T09:32:00Z', '2026-01-07T09:33:00Z'],
  },
  {
    name: 'every minute across midnight on New Year',
    expression: 'cron(* * * * ? *)',
    after: '2026-12-31T23:58:59Z',
    fires: ['2026-12-31T23:59:00Z', '2027-01-01T00:00:00Z', '2027-01-01T00:01:00Z'],
  },
  {
    name: 'every 4 hours',
    expression: 'cron(0 0/4 * * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-07T12:00:00Z', '2026-01-07T16:00:00Z', '2026-01-07T20:00:00Z'],
  },
  {
    name: '*/20 starts at the field minimum',
    expression: 'cron(*/20 * * * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-07T09:40:00Z', '2026-01-07T10:00:00Z', '2026-01-07T10:20:00Z'],
  },
  {
    name: 'a stepped range, 10-40/15',
    expression: 'cron(10-40/15 * * * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-07T09:40:00Z', '2026-01-07T10:10:00Z', '2026-01-07T10:25:00Z'],
  },
  {
    name: 'a list mixing values and a range in Day-of-month',
    expression: 'cron(0 0 1,15-16 * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-15T00:00:00Z', '2026-01-16T00:00:00Z', '2026-02-01T00:00:00Z'],
  },
  {
    name: 'a month step: quarterly on the 1st',
    expression: 'cron(0 0 1 1/3 ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-04-01T00:00:00Z', '2026-07-01T00:00:00Z', '2026-10-01T00:00:00Z'],
  },
  {
    name: 'Sundays of the first quarter, from the last one to the next year',
    expression: 'cron(30 6 ? JAN-MAR SUN *)',
    after: '2026-03-29T06:30:00Z',
    fires: ['2027-01-03T06:30:00Z', '2027-01-10T06:30:00Z', '2027-01-17T06:30:00Z'],
  },
  {
    name: 'numeric weekdays, 1 = Sunday and 7 = Saturday',
    expression: 'cron(0 12 ? * 1,7 *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-10T12:00:00Z', '2026-01-11T12:00:00Z', '2026-01-17T12:00:00Z'],
  },
  {
    name: 'hours range wrapping midnight, 22-2',
    expression: 'cron(0 22-2 * * ? *)',
    after: '2026-01-07T21:00:00Z',
    fires: ['2026-01-07T22:00:00Z', '2026-01-07T23:00:00Z', '2026-01-08T00:00:00Z'],
  },
  {
    name: 'weekday range wrapping the week, FRI-MON',
    expression: 'cron(0 0 ? * FRI-MON *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-09T00:00:00Z', '2026-01-10T00:00:00Z', '2026-01-11T00:00:00Z'],
  },
  {
    name: 'a Day-of-week step, 2/2: Monday, Wednesday, Friday',
    expression: 'cron(0 0 ? * 2/2 *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-09T00:00:00Z', '2026-01-12T00:00:00Z', '2026-01-14T00:00:00Z'],
  },
  {
    name: 'L in Day-of-week alone is Saturday',
    expression: 'cron(0 0 ? * L *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-10T00:00:00Z', '2026-01-17T00:00:00Z', '2026-01-24T00:00:00Z'],
  },
  {
    name: '6L is the last Friday of the month',
    expression: 'cron(0 0 ? * 6L *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-30T00:00:00Z', '2026-02-27T00:00:00Z', '2026-03-27T00:00:00Z'],
  },
  {
    name: 'the last Sunday by name, SUNL',
    expression: 'cron(0 0 ? * SUNL *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-25T00:00:00Z', '2026-02-22T00:00:00Z', '2026-03-29T00:00:00Z'],
  },
  {
    name: 'the second Monday by name, MON#2',
    expression: 'cron(0 0 ? * MON#2 *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-12T00:00:00Z', '2026-02-09T00:00:00Z', '2026-03-09T00:00:00Z'],
  },
  {
    name: '#5 skips the months without a fifth Friday',
    expression: 'cron(0 0 ? * FRI#5 *)',
    after: '2026-01-31T00:00:00Z',
    fires: ['2026-05-29T00:00:00Z', '2026-07-31T00:00:00Z', '2026-10-30T00:00:00Z'],
  },
  {
    name: '#5 on a day a 29-day February has (Tuesday 29 February 2028)',
    expression: 'cron(0 0 ? FEB 3#5 *)',
    after: '2026-01-01T00:00:00Z',
    fires: ['2028-02-29T00:00:00Z', '2056-02-29T00:00:00Z', '2084-02-29T00:00:00Z'],
  },
];

const MONTH_END_ROWS: readonly FireRow[] = [
  {
    name: 'L is the last day, 29 in February 2028',
    expression: 'cron(0 0 L * ? *)',
    after: '2028-01-31T00:00:00Z',
    fires: ['2028-02-29T00:00:00Z', '2028-03-31T00:00:00Z', '2028-04-30T00:00:00Z'],
  },
  {
    name: 'L in February only, through a leap year',
    expression: 'cron(0 0 L 2 ? *)',
    after: '2026-03-01T00:00:00Z',
    fires: ['2027-02-28T00:00:00Z', '2028-02-29T00:00:00Z', '2029-02-28T00:00:00Z'],
  },
  {
    name: '29 February fires only in leap years',
    expression: 'cron(0 12 29 2 ? *)',
    after: '2026-01-01T00:00:00Z',
    fires: ['2028-02-29T12:00:00Z', '2032-02-29T12:00:00Z', '2036-02-29T12:00:00Z'],
  },
  {
    name: '29 February skips 2100, which is not a leap year',
    expression: 'cron(0 0 29 2 ? *)',
    after: '2096-03-01T00:00:00Z',
    fires: ['2104-02-29T00:00:00Z', '2108-02-29T00:00:00Z', '2112-02-29T00:00:00Z'],
  },
  {
    name: 'the 31st skips the 30-day months and February',
    expression: 'cron(0 0 31 * ? *)',
    after: '2026-01-31T00:00:00Z',
    fires: ['2026-03-31T00:00:00Z', '2026-05-31T00:00:00Z', '2026-07-31T00:00:00Z'],
  },
  {
    name: 'LW: the last weekday (Saturday 31 January, Saturday 28 February 2026)',
    expression: 'cron(0 9 LW * ? *)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2026-01-30T09:00:00Z', '2026-02-27T09:00:00Z', '2026-03-31T09:00:00Z'],
  },
  {
    name: 'LW when the month ends on a Sunday (31 May 2026)',
    expression: 'cron(0 9 LW 5 ? *)',
    after: '2026-01-01T00:00:00Z',
    fires: ['2026-05-29T09:00:00Z', '2027-05-31T09:00:00Z', '2028-05-31T09:00:00Z'],
  },
  {
    name: '1W on a Saturday stays in the month: Monday 3 August 2026',
    expression: 'cron(0 9 1W * ? *)',
    after: '2026-07-15T00:00:00Z',
    fires: ['2026-08-03T09:00:00Z', '2026-09-01T09:00:00Z', '2026-10-01T09:00:00Z'],
  },
  {
    name: '1W on a Sunday: Monday 2 February 2026',
    expression: 'cron(0 9 1W 2 ? 2026)',
    after: '2026-01-15T00:00:00Z',
    fires: ['2026-02-02T09:00:00Z'],
  },
  {
    name: '31W on the last day, a Sunday, stays in the month: Friday 29 May 2026; June has no 31st',
    expression: 'cron(0 9 31W * ? *)',
    after: '2026-05-01T00:00:00Z',
    fires: ['2026-05-29T09:00:00Z', '2026-07-31T09:00:00Z', '2026-08-31T09:00:00Z'],
  },
  {
    name: '15W on a Sunday moves to Monday the 16th',
    expression: 'cron(0 9 15W * ? *)',
    after: '2026-11-01T00:00:00Z',
    fires: ['2026-11-16T09:00:00Z', '2026-12-15T09:00:00Z', '2027-01-15T09:00:00Z'],
  },
];

const YEAR_ROWS: readonly FireRow[] = [
  {
    name: 'a year range ends',
    expression: 'cron(0 0 1 1 ? 2027-2028)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2027-01-01T00:00:00Z', '2028-01-01T00:00:00Z'],
  },
  {
    name: 'a year step, 2030/10',
    expression: 'cron(0 0 1 1 ? 2030/10)',
    after: '2026-01-07T09:30:00Z',
    fires: ['2030-01-01T00:00:00Z', '2040-01-01T00:00:00Z', '2050-01-01T00:00:00Z'],
  },
  {
    name: 'the first minute EventBridge allows, 1970',
    expression: 'cron(0 0 1 1 ? 1970)',
    after: '1969-12-31T23:59:59Z',
    fires: ['1970-01-01T00:00:00Z'],
  },
  {
    name: 'the last minute EventBridge allows, 2199',
    expression: 'cron(59 23 31 12 ? 2199)',
    after: '2199-12-31T23:58:00Z',
    fires: ['2199-12-31T23:59:00Z'],
  },
  {
    name: 'a * year stops after 2199',
    expression: 'cron(0 0 1 1 ? *)',
    after: '2198-01-01T00:00:00Z',
    fires: ['2199-01-01T00:00:00Z'],
  },
];

describe('nextFireTime (cron)', () => {
  it.each([...CRON_GUIDE_ROWS, ...CRON_FIELD_ROWS, ...MONTH_END_ROWS, ...YEAR_ROWS])(
    '$name: $expression',
    ({ expression, after, fires }) => {
      let from = new Date(after);
      const actual: string[] = [];
      for (let i = 0; i < fires.length; i++) {
        from = nextFireTime(expression, from);
        actual.push(from.toISOString());
      }
      expect(actual).toEqual(fires.map((fire) => new Date(fire).toISOString()));
    },
  );
});

describe('nextFireTime when no minute is left', () => {
  it.each([
    { name: 'a past year', expression: 'cron(0 0 1 1 ? 2020)', after: '2026-01-07T09:30:00Z' },
    {
      name: 'after the last year of a range',
      expression: 'cron(0 0 1 1 ? 2027-2028)',
      after: '2028-01-01T00:00:00Z',
    },
    { name: 'on its last minute', expression: 'cron(59 23 31 12 ? 2199)', after: '2199-12-31T23:59:00Z' },
    { name: 'beyond 2199', expression: 'cron(0 0 1 1 ? *)', after: '2199-06-01T00:00:00Z' },
    {
      name: 'a date that never exists, 30 February',
      expression: 'cron(0 0 30 2 ? *)',
      after: '2026-01-01T00:00:00Z',
    },
    {
      name: 'a fifth Friday in a year without one in February',
      expression: 'cron(0 0 ? 2 6#5 2026)',
      after: '2026-01-01T00:00:00Z',
    },
  ])('$name: $expression', ({ expression, after }) => {
    expect(() => validateScheduleExpression(expression)).not.toThrow();
    expect(() => nextFireTime(expression, new Date(after))).toThrow(ScheduleExhaustedError);
  });
});

describe('nextFireTime (rate)', () => {
  // Locally a rate counts from `after`: EventBridge counts from the rule's creation, which the local
  // runtime does not keep, so the first fire comes one period after the runtime starts.
  it.each([
    {
      expression: 'rate(1 minute)',
      after: '2026-01-07T09:30:15.250Z',
      fires: ['2026-01-07T09:31:15.250Z', '2026-01-07T09:32:15.250Z', '2026-01-07T09:33:15.250Z'],
    },
    {
      expression: 'rate(5 minutes)',
      after: '2026-01-07T09:58:00Z',
      fires: ['2026-01-07T10:03:00Z', '2026-01-07T10:08:00Z', '2026-01-07T10:13:00Z'],
    },
    {
      expression: 'rate(1 hour)',
      after: '2026-01-07T23:30:00Z',
      fires: ['2026-01-08T00:30:00Z', '2026-01-08T01:30:00Z', '2026-01-08T02:30:00Z'],
    },
    {
      expression: 'rate(12 hours)',
      after: '2026-01-07T09:30:00Z',
      fires: ['2026-01-07T21:30:00Z', '2026-01-08T09:30:00Z', '2026-01-08T21:30:00Z'],
    },
    {
      expression: 'rate(1 day)',
      after: '2028-02-28T06:00:00Z',
      fires: ['2028-02-29T06:00:00Z', '2028-03-01T06:00:00Z', '2028-03-02T06:00:00Z'],
    },
    {
      expression: 'rate(7 days)',
      after: '2026-12-30T00:00:00Z',
      fires: ['2027-01-06T00:00:00Z', '2027-01-13T00:00:00Z', '2027-01-20T00:00:00Z'],
    },
  ])('$expression', ({ expression, after, fires }) => {
    let from = new Date(after);
    const actual: string[] = [];
    for (let i = 0; i < fires.length; i++) {
      from = nextFireTime(expression, from);
      actual.push(from.toISOString());
    }
    expect(actual).toEqual(fires.map((fire) => new Date(fire).toISOString()));
  });
});

describe('validateScheduleExpression accepts', () => {
  it.each([
    'cron(0 10 * * ? *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 9 ? * 2#1 *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 15W * ? *)',
    'cron(0 0 ? * 6L 2026-2030)',
    'cron(0 0 ? * L *)',
    'cron(0/59 0/23 1/31 1/12 ? 1970/229)',
    'cron(0 22-2 * * ? *)',
    'rate(1 minute)',
    'rate(10 minutes)',
    'rate(1 hour)',
    'rate(2 hours)',
    'rate(1 day)',
    'rate(365 days)',
  ])('%s', (expression) => {
    expect(() => validateScheduleExpression(expression)).not.toThrow();
  });
});

/** Each row: an expression EventBridge rejects, and what the message must say (the field, the cause). */
const INVALID_ROWS: ReadonlyArray<{ readonly expression: string; readonly message: RegExp }> = [
  { expression: '', message: /expected rate\(value unit\) or cron\(/ },
  { expression: 'every 5 minutes', message: /expected rate\(value unit\) or cron\(/ },
  { expression: 'cron 0 10 * * ? *', message: /expected rate\(value unit\) or cron\(/ },
  { expression: 'cron()', message: /6 fields .* got 0/ },
  { expression: 'cron(0 10 * * ?)', message: /6 fields .* got 5/ },
  { expression: 'cron(0 0 10 * * ? *)', message: /6 fields .* got 7/ },
  {
    expression: 'cron(0 10 * * * *)',
    message: /one of Day-of-month \("\*"\) and Day-of-week \("\*"\) must be "\?"/,
  },
  { expression: 'cron(0 10 1 * MON *)', message: /one of Day-of-month .* must be "\?"/ },
  { expression: 'cron(0 10 ? * ? *)', message: /cannot both be "\?"/ },
  { expression: 'cron(60 10 * * ? *)', message: /Minutes field "60": 60 is out of range \(0-59\)/ },
  { expression: 'cron(0 24 * * ? *)', message: /Hours field "24": 24 is out of range \(0-23\)/ },
  { expression: 'cron(0 10 32 * ? *)', message: /Day-of-month field "32": 32 is out of range \(1-31\)/ },
  { expression: 'cron(0 10 0 * ? *)', message: /Day-of-month field "0": 0 is out of range/ },
  { expression: 'cron(0 10 * 13 ? *)', message: /Month field "13": 13 is out of range \(1-12 or JAN-DEC\)/ },
  { expression: 'cron(0 10 * 0 ? *)', message: /Month field "0": 0 is out of range/ },
  {
    expression: 'cron(0 10 ? * 0 *)',
    message: /Day-of-week field "0": 0 is out of range \(1-7 or SUN-SAT\)/,
  },
  { expression: 'cron(0 10 ? * 8 *)', message: /Day-of-week field "8": 8 is out of range/ },
  { expression: 'cron(0 10 * * ? 1969)', message: /Year field "1969": 1969 is out of range \(1970-2199\)/ },
  { expression: 'cron(0 10 * * ? 2200)', message: /Year field "2200": 2200 is out of range/ },
  { expression: 'cron(0 10 * JANUARY ? *)', message: /Month field "JANUARY": unknown name "JANUARY"/ },
  { expression: 'cron(0 10 ? * MOM *)', message: /Day-of-week field "MOM": unknown name "MOM"/ },
  { expression: 'cron(JAN 10 * * ? *)', message: /Minutes field "JAN": "JAN" is not a valid value/ },
  { expression: 'cron(0/0 * * * ? *)', message: /Minutes field "0\/0": step must be at least 1/ },
  { expression: 'cron(0/60 * * * ? *)', message: /Minutes field "0\/60": step \/60 is larger than 59/ },
  {
    expression: 'cron(0/x * * * ? *)',
    message: /Minutes field "0\/x": step "\/x" is not a positive integer/,
  },
  { expression: 'cron(0,,30 * * * ? *)', message: /Minutes field "0,,30": empty item/ },
  { expression: 'cron(-5 * * * ? *)', message: /Minutes field "-5": "" is not a valid value/ },
  {
    expression: 'cron(0 ? * * ? *)',
    message: /Hours field "\?": "\?" is only allowed in Day-of-month or Day-of-week/,
  },
  {
    expression: 'cron(0 10 * * ? 2030-2026)',
    message: /Year field "2030-2026": range 2030-2026 runs backwards/,
  },
  {
    expression: 'cron(0 10 L-2 * ? *)',
    message: /Day-of-month field "L-2": "L-n" offsets are not part of the EventBridge syntax/,
  },
  { expression: 'cron(0 10 L,15 * ? *)', message: /Day-of-month field "L,15": L must stand alone/ },
  { expression: 'cron(0 10 1W,15 * ? *)', message: /Day-of-month field "1W,15": W must follow a single day/ },
  { expression: 'cron(0 10 32W * ? *)', message: /Day-of-month field "32W": 32 is out of range/ },
  {
    expression: 'cron(0 10 ? * 3#6 *)',
    message: /Day-of-week field "3#6": the instance after # must be 1 to 5/,
  },
  {
    expression: 'cron(0 10 ? * 3#0 *)',
    message: /Day-of-week field "3#0": the instance after # must be 1 to 5/,
  },
  { expression: 'cron(0 10 ? * 8#1 *)', message: /Day-of-week field "8#1": 8 is out of range/ },
  {
    expression: 'cron(0 10 ? * 3#1,6#3 *)',
    message: /Day-of-week field "3#1,6#3": a # expression must be alone/,
  },
  { expression: 'cron(0 10 ? * MON,6L *)', message: /Day-of-week field "MON,6L": L must stand alone/ },
  { expression: 'rate()', message: /rate expression has two fields/ },
  { expression: 'rate(5)', message: /rate expression has two fields, rate\(value unit\); got 1/ },
  { expression: 'rate(5 minutes extra)', message: /rate expression has two fields/ },
  { expression: 'rate(0 minutes)', message: /rate value must be a positive integer; got 0/ },
  { expression: 'rate(-5 minutes)', message: /rate value "-5" is not a positive integer/ },
  { expression: 'rate(1.5 hours)', message: /rate value "1.5" is not a positive integer/ },
  { expression: 'rate(five minutes)', message: /rate value "five" is not a positive integer/ },
  { expression: 'rate(1 minutes)', message: /rate unit must be singular for a value of 1: "minute"/ },
  { expression: 'rate(5 hour)', message: /rate unit must be plural for a value above 1: "hours"/ },
  { expression: 'rate(5 seconds)', message: /rate unit "seconds" is not one of minute, minutes/ },
  { expression: 'rate(2 weeks)', message: /rate unit "weeks" is not one of/ },
];

describe('invalid expressions', () => {
  it.each(INVALID_ROWS)('$expression', ({ expression, message }) => {
    let thrown: unknown;
    try {
      validateScheduleExpression(expression);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidScheduleExpressionError);
    const error = thrown as InvalidScheduleExpressionError;
    expect(error.message).toMatch(message);
    expect(error.message).toContain(JSON.stringify(expression));
    expect(error.expression).toBe(expression);
    // nextFireTime validates as well.
    expect(() => nextFireTime(expression, new Date('2026-01-07T09:30:00Z'))).toThrow(
      InvalidScheduleExpressionError,
    );
  });
});

describe('nextFireTime input', () => {
  it('rejects an invalid Date', () => {
    expect(() => nextFireTime('rate(1 minute)', new Date(Number.NaN))).toThrow(RangeError);
  });

  it('does not change `after`', () => {
    const after = new Date('2026-01-07T09:30:00Z');
    nextFireTime('cron(0 10 * * ? *)', after);
    expect(after.toISOString()).toBe('2026-01-07T09:30:00.000Z');
  });

  it('walks fields, not minutes: a rare schedule two centuries away answers at once', () => {
    const started = performance.now();
    expect(nextFireTime('cron(59 23 31 12 ? 2199)', new Date('1970-01-01T00:00:00Z')).toISOString()).toBe(
      '2199-12-31T23:59:00.000Z',
    );
    expect(performance.now() - started).toBeLessThan(200);
  });
});
