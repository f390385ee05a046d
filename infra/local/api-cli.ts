import { type ParseArgsConfig, parseArgs } from 'node:util';
import { signSigV4 } from './sigv4.ts';

/**
 * What the resource commands of the CLI (`runway endpoints`, `runway monitors`) share: the
 * connection (the local runtime by default, `--url` and `--sigv4` for AWS, a Runway token from the
 * environment), the request, and the answer printed as the API's JSON with the exit code.
 */

/** Bad usage: the command prints it with a pointer to its help and exits 2. */
export class UsageError extends Error {}

export const CONNECTION_HELP = `Connection:
  --url URL               Runway's URL (default RUNWAY_URL, else http://127.0.0.1:<PORT or 5000>)
  --sigv4                 Sign requests with AWS SigV4 and the default credential chain (a Runway
                          on AWS requires it); the region is AWS_REGION (default us-east-1)
  Without --sigv4, RUNWAY_TOKEN (else MLFLOW_TRACKING_TOKEN), when set, is sent as a Bearer token:
  for 'runway start --auth' and a deployment's TokenApiUrl.

Output is the API's JSON answer. Exit codes: 0 done, 1 the API refused (its error on stderr), 2 bad usage.
`;

export interface Connection {
  url?: string | undefined;
  sigv4?: boolean | undefined;
}

export function baseUrl(connection: Connection): string {
  return (
    connection.url ??
    process.env.RUNWAY_URL ??
    `http://127.0.0.1:${process.env.PORT ?? '5000'}`
  ).replace(/\/+$/, '');
}

export interface ApiAnswer {
  status: number;
  ok: boolean;
  text: string;
  json: unknown;
}

/** One request to the API at `path` (below the base URL, e.g. `/api/2.0/runway/monitors`). */
export async function callApi(
  connection: Connection,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const url = new URL(`${baseUrl(connection)}${path}`);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = text === undefined ? {} : { 'content-type': 'application/json' };
  const token = (process.env.RUNWAY_TOKEN || process.env.MLFLOW_TRACKING_TOKEN)?.trim();
  const signed = connection.sigv4
    ? await signSigV4(url, method, headers, text)
    : { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  const response = await fetch(url, {
    method,
    headers: signed,
    body: text,
    signal: AbortSignal.timeout(60_000),
  });
  const answer = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(answer);
  } catch {
    json = undefined;
  }
  return { status: response.status, ok: response.ok, text: answer, json };
}

/** Prints the JSON answer (0), or the API's error on stderr (1). */
export function printAnswer(label: string, answer: ApiAnswer): number {
  if (!answer.ok) {
    const error = answer.json as { error_code?: string; message?: string } | undefined;
    const detail = error?.error_code
      ? `${error.error_code}: ${error.message ?? ''}`
      : answer.text.slice(0, 500);
    process.stderr.write(`${label}: HTTP ${answer.status} ${detail}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(answer.json ?? {}, null, 2)}\n`);
  return 0;
}

/** `?max_results=...&page_token=...` and the given extras, leaving out what is undefined. */
export function query(values: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined) params.set(key, value);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function number(option: string, text: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value))
    throw new UsageError(`--${option} must be a number, got '${text}'`);
  return value;
}

/** What a resource command takes: whether it names a resource, and which options besides the connection's. */
export type CommandSpecs = Record<string, { name: boolean; options: readonly string[] }>;

/**
 * Parses `<command> [name] [options]` of a resource CLI: unknown commands, options that do not apply
 * to the command, and a missing or extra name are usage errors.
 */
export function parseCommand(
  command: string,
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  commands: CommandSpecs,
  noun: string,
): { values: Record<string, unknown>; name: string; help: boolean } {
  const spec = commands[command];
  if (!spec) throw new UsageError(`unknown command '${command}'`);
  const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  const values = parsed.values as Record<string, unknown>;
  if (values.help) return { values, name: '', help: true };
  const allowed = new Set<string>([...spec.options, 'url', 'sigv4', 'help']);
  const misplaced = Object.keys(values).find((option) => !allowed.has(option));
  if (misplaced) throw new UsageError(`--${misplaced} does not apply to '${command}'`);
  if (spec.name && parsed.positionals.length !== 1)
    throw new UsageError(`'${command}' takes one ${noun} name`);
  if (!spec.name && parsed.positionals.length > 0) throw new UsageError(`'${command}' takes no name`);
  return { values, name: parsed.positionals[0] ?? '', help: false };
}
