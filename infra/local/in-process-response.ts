import { type IncomingHttpHeaders, type IncomingMessage, STATUS_CODES } from 'node:http';
import { PassThrough, type TransformCallback } from 'node:stream';

type HeaderValue = number | string | readonly string[];

/**
 * The response of an origin served in the same process (the local CloudFront's S3 origins on the
 * embedded S3 emulator): the origin writes it as it writes a `ServerResponse` (`setHeader`,
 * `writeHead`, `write`/`end` or a pipe into it), and the distribution reads it as it reads an origin's
 * `IncomingMessage`: `statusCode`, `statusMessage` and `headers` once {@link head} settles, then the
 * body as a stream, with backpressure both ways. It spares each byte a loopback socket and a second
 * HTTP parse; the origin's handling is the one its port serves.
 */
export class InProcessResponse extends PassThrough {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  /** Settles once the status and headers are written; rejects if the origin cuts the response first. */
  readonly head: Promise<void>;
  private readonly fields = new Map<string, { name: string; value: HeaderValue }>();
  private sent: () => void = () => undefined;

  constructor(readonly req: IncomingMessage) {
    super();
    this.head = new Promise<void>((resolve, reject) => {
      this.sent = resolve;
      this.once('close', () => {
        if (!this.headersSent) reject(new Error('The origin closed the response before its headers'));
      });
    });
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw new Error(`Cannot set header ${name} after the headers were sent`);
    this.fields.set(name.toLowerCase(), { name, value });
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.fields.get(name.toLowerCase())?.value;
  }

  hasHeader(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.fields.delete(name.toLowerCase());
  }

  /** As `ServerResponse.writeHead`: the status, an optional message, headers that override those set. */
  writeHead(
    status: number,
    messageOrHeaders?: string | Record<string, HeaderValue>,
    headers?: Record<string, HeaderValue>,
  ): this {
    const given = typeof messageOrHeaders === 'object' ? messageOrHeaders : headers;
    if (typeof messageOrHeaders === 'string') this.statusMessage = messageOrHeaders;
    this.statusCode = status;
    for (const [name, value] of Object.entries(given ?? {})) this.setHeader(name, value);
    this.sendHead();
    return this;
  }

  /** The headers as an origin's `IncomingMessage` has them: lower-case names, string values. */
  get headers(): IncomingHttpHeaders {
    const out: IncomingHttpHeaders = {};
    for (const [name, { value }] of this.fields) {
      out[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    return out;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.sendHead();
    // A HEAD response has no body, whatever the origin writes (as `ServerResponse` drops it).
    done(null, this.req.method === 'HEAD' ? undefined : chunk);
  }

  override _flush(done: TransformCallback): void {
    this.sendHead();
    done();
  }

  private sendHead(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.statusMessage ||= STATUS_CODES[this.statusCode] ?? '';
    this.sent();
  }
}
