import * as z from 'zod';

/**
 * Thrown at start when the environment lacks a variable or holds a bad one. The message names every
 * offending variable, so a misconfigured function fails on its first (cold) start with one clear line.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/**
 * Parses `env` against a zod object schema whose keys are environment variable names. Call it once at
 * module scope: configuration is read at cold start, never per request.
 */
export function parseConfig<T extends z.ZodRawShape>(
  shape: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<z.ZodObject<T>> {
  const result = z.object(shape).safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const value = env[name];
    return value === undefined ? `${name} is not set` : `${name} is invalid (${issue.message})`;
  });
  throw new ConfigurationError(`Invalid configuration: ${problems.join('; ')}`);
}

/** Reusable variable schemas. */
export const envVar = {
  /** A required non-empty string such as a table or bucket name. */
  name: () => z.string().trim().min(1, 'must not be empty'),
  logLevel: () => z.enum(['debug', 'info', 'warn', 'error']).default('info'),
};
