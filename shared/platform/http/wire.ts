import * as z from 'zod';

/**
 * zod building blocks for MLflow's wire format: protobuf JSON, where int64 fields may arrive as JSON
 * numbers or as strings ("1"), and query-string arguments are always strings.
 */

/** An int64 as MLflow's protobuf JSON accepts it: a number or a string of digits. */
export const int64 = () =>
  z.union([
    z.number().int(),
    z
      .string()
      .trim()
      .regex(/^-?\d+$/, 'must be an integer')
      .transform((value) => Number(value)),
  ]);

/** An id that MLflow sends as a string but some clients send as a number. */
export const idString = () =>
  z
    .union([
      z.string(),
      z
        .number()
        .int()
        .transform((value) => String(value)),
    ])
    .pipe(z.string());

/**
 * A repeated field in a query string: repeated arguments, where one argument is a list of one (the
 * query has no other way to say it). For JSON bodies use {@link bodyList}.
 */
export const repeated = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(item));

/**
 * A repeated field in a JSON body: a JSON array only. A bare value (`"experiment_ids": "1"`) is 400
 * INVALID_PARAMETER_VALUE, as MLflow 3.11 answers it (protobuf refuses it, then `_assert_array`).
 */
export const bodyList = <T extends z.ZodType>(item: T) => z.array(item);

/** `repeated` for a query string, `bodyList` for a body: for schemas shared by a GET and a POST route. */
export type ListOf = typeof repeated | typeof bodyList;

/** MLflow's `ViewType` enum, also given as its number. */
export const viewType = () =>
  z.preprocess(
    (value) =>
      value === 1 || value === '1'
        ? 'ACTIVE_ONLY'
        : value === 2 || value === '2'
          ? 'DELETED_ONLY'
          : value === 3 || value === '3'
            ? 'ALL'
            : value,
    z.enum(['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']),
  );

/**
 * A protobuf enum as protobuf JSON accepts it: by name, or by number (as a number or a string of
 * digits); `first` is the number of `values[0]` (1 for enums without an UNSPECIFIED value 0).
 */
export const protoEnum = <T extends readonly [string, ...string[]]>(values: T, first = 0) =>
  z.preprocess((value) => {
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\d+$/.test(value)
          ? Number(value)
          : undefined;
    return number === undefined ? value : (values[number - first] ?? value);
  }, z.enum(values));

/** A key/value tag as MLflow sends it. */
export const tagInput = () => z.object({ key: z.string(), value: z.string().default('') });
