/**
 * Structured JSON logs, one line per entry, with the request id of the invocation being served.
 * Secrets never reach a log line: keys that look like credentials are redacted wherever they appear,
 * and so are credentials inside any string (a message quoting a client's value, an error's stack):
 * Runway tokens, `Bearer`/`Basic` credentials, SigV4 signatures and session tokens. Code should not
 * log credentials in the first place; this is the second line of defence.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /authorization|password|secret|token|credential|cookie|signature|api[-_]?key/i;
/** A token's public id (listings and revocation name it) is logged for support, never its secret. */
const PUBLIC_KEY = /^token_?ids?$/i;
const REDACTED = '[redacted]';

/** Credentials found inside strings, with what replaces them (the part before the secret is kept). */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  // An Authorization header's value, wherever it was quoted.
  [/\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/-]+=*/gi, `$1$2${REDACTED}`],
  // A Runway token `rwy_<id>_<secret>`: the id stays, for support; anything else after `rwy_` goes.
  [/rwy_([0-9a-f]{16})_[A-Za-z0-9_-]+/g, `rwy_$1_${REDACTED}`],
  [/rwy_(?![0-9a-f]{16}_\[redacted\])[A-Za-z0-9_-]{8,}/g, `rwy_${REDACTED}`],
  // SigV4: `Signature=<hex>` in a header, `X-Amz-Signature=<hex>` in a presigned URL, and the session token.
  [/(Signature=)[0-9a-f]{16,}/gi, `$1${REDACTED}`],
  [/(X-Amz-Security-Token=)[^&\s"']+/gi, `$1${REDACTED}`],
  [
    /(aws_secret_access_key|AWS_SECRET_ACCESS_KEY|SecretAccessKey)(["']?\s*[=:]\s*["']?)[A-Za-z0-9/+=]{20,}/g,
    `$1$2${REDACTED}`,
  ],
];
/** A long base64 run, which may be a `Basic` credential quoted without its scheme. */
const BASE64_RUN = /[A-Za-z0-9+/]{24,}={0,2}/g;
/**
 * What every pattern above needs somewhere in the text (a scheme, a prefix, a key name, or a long
 * base64 run): text without any of them is returned as it is after this one scan, which is most text
 * (a request line's path and message). Case-insensitive, so it admits more than the patterns do.
 */
const MAY_HOLD_SECRET = /bearer|basic|rwy_|signature=|x-amz-security-token=|secret|[A-Za-z0-9+/]{24}/i;

/** Where lines go; the default writes to stdout as Lambda and the local runtime expect. */
export type LogSink = (line: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  service?: string;
  sink?: LogSink;
}

/** A small structured logger in the spirit of Powertools' Logger, without its weight at cold start. */
export class Logger {
  private readonly level: LogLevel;
  private readonly service: string;
  private readonly sink: LogSink;
  private context: Record<string, unknown> = {};

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? parseLevel(process.env.LOG_LEVEL);
    this.service = options.service ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'runway';
    this.sink = options.sink ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /** Sets the keys added to every entry until the next call (the request id, the route). */
  setContext(context: Record<string, unknown>): void {
    this.context = context;
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.write('error', message, fields);
  }

  private write(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.level]) return;
    const entry = {
      level,
      time: new Date().toISOString(),
      service: this.service,
      message,
      ...this.context,
      ...fields,
    };
    this.sink(JSON.stringify(redact(entry)));
  }
}

function parseLevel(value: string | undefined): LogLevel {
  return value === 'debug' || value === 'warn' || value === 'error' ? value : 'info';
}

/**
 * Copies `value` with every credential-like key's value replaced and every credential inside a string
 * redacted (`redactString`); errors become plain objects.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (typeof value === 'string') return redactString(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactString(value.message),
      ...(value.stack === undefined ? {} : { stack: redactString(value.stack) }),
    };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && !PUBLIC_KEY.test(key) ? REDACTED : redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

/** `text` with Runway tokens, `Bearer`/`Basic` credentials and SigV4 secrets in it replaced. */
export function redactString(text: string): string {
  if (!MAY_HOLD_SECRET.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out.replace(BASE64_RUN, (run) => (carriesToken(run) ? REDACTED : run));
}

/** Whether a base64 run decodes to text holding a Runway token (`user:rwy_...`, a Basic credential). */
function carriesToken(run: string): boolean {
  // The run may start before the credential (letters run into it): try each base64 alignment.
  for (let offset = 0; offset < 4; offset++) {
    if (Buffer.from(run.slice(offset), 'base64').toString('latin1').includes('rwy_')) return true;
  }
  return false;
}

/** The module-wide logger: one per Lambda container, as Powertools recommends. */
export const logger = new Logger();
