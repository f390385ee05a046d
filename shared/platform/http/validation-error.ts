import type { z } from 'zod';
import { InvalidParameterError } from '../errors.ts';

/**
 * Turns a zod error into MLflow's wording: "Missing value for required parameter 'name'" or
 * "Invalid value 5 for parameter 'name' supplied: ...". Only the first problem is reported, as MLflow.
 */
export function validationError(error: z.ZodError, raw: Record<string, unknown>): InvalidParameterError {
  const issue = error.issues[0];
  if (!issue) return new InvalidParameterError('Invalid request parameters');
  const name = issue.path.map(String).join('.') || 'request';
  const value = valueAt(raw, issue.path);
  if (value === undefined) {
    return new InvalidParameterError(`Missing value for required parameter '${name}'.`);
  }
  return new InvalidParameterError(
    `Invalid value ${preview(value)} for parameter '${name}' supplied: ${issue.message}`,
  );
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
