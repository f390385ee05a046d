/**
 * Structured JSON logs, one line per entry, with the request id of the invocation being served.
 * Secrets never reach a log line: keys that look like credentials are redacted wherever they appear.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /authorization|password|secret|token|credential|cookie|signature|api[-_]?key/i;
const REDACTED = '[redacted]';

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

/** Copies `value` with every credential-like key's value replaced; errors become plain objects. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack };
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) ? REDACTED : redact(inner, depth + 1);
    }
    return out;
  }
  return value;
}

/** The module-wide logger: one per Lambda container, as Powertools recommends. */
export const logger = new Logger();
