import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { SendOutcome, WebhookRequest, WebhookSender } from '../ports.ts';
import { type TargetGuard, UnsafeWebhookUrlError, type WebhookTarget } from '../ssrf/target-guard.ts';

export interface HttpWebhookSenderOptions {
  /** The most of a response body kept (the test endpoint shows it; deliveries discard it). @default 64 KiB */
  maxResponseBytes?: number;
  /** @default 'runway-webhooks' */
  userAgent?: string;
}

/**
 * POSTs webhook requests with Node's HTTP client, through the SSRF guard: each attempt resolves the
 * host once, checks every address, and connects to the checked address (a `lookup` that answers with
 * it), so no second resolution can swap in another. TLS still verifies the certificate against the
 * hostname. Redirects are answers, never followed: following one would reach a URL nobody checked
 * (MLflow's GHSA-7gwp-5pfp-969j). No connection is reused (`agent: false`), so every request goes
 * through the check.
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly maxResponseBytes: number;
  private readonly userAgent: string;

  constructor(
    private readonly guard: TargetGuard,
    options: HttpWebhookSenderOptions = {},
  ) {
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.userAgent = options.userAgent ?? 'runway-webhooks';
  }

  async send(request: WebhookRequest): Promise<SendOutcome> {
    let target: WebhookTarget;
    try {
      target = await this.guard.target(request.url);
    } catch (error) {
      if (error instanceof UnsafeWebhookUrlError) return { kind: 'refused', message: error.message };
      throw error;
    }
    return this.post(target, request);
  }

  private post(target: WebhookTarget, request: WebhookRequest): Promise<SendOutcome> {
    const { url } = target;
    const secure = url.protocol === 'https:';
    const body = Buffer.from(request.body, 'utf8');
    return new Promise<SendOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: SendOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve(outcome);
      };
      const options: https.RequestOptions = {
        method: 'POST',
        protocol: url.protocol,
        hostname: target.hostname,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        headers: {
          'User-Agent': this.userAgent,
          ...request.headers,
          'Content-Length': String(body.length),
        },
        ...(url.username || url.password
          ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` }
          : {}),
        ...(secure && isIP(target.hostname) === 0 ? { servername: target.hostname } : {}),
        agent: false,
        lookup: pinnedLookup(target),
      };
      const outgoing = (secure ? https : http).request(options, (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const done = () =>
          finish({
            kind: 'response',
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            retryAfterMs: retryAfterMs(response.headers['retry-after']),
          });
        if (this.maxResponseBytes === 0) {
          done();
          response.destroy();
          return;
        }
        response.on('data', (chunk: Buffer) => {
          const room = this.maxResponseBytes - kept;
          chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
          kept += Math.min(chunk.length, room);
          // Enough is read: stop the download (a receiver may stream forever), keep the answer.
          if (kept >= this.maxResponseBytes) {
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', done);
        response.on('close', done);
      });
      const deadline = setTimeout(() => {
        outgoing.destroy(new Error(`no answer within ${request.timeoutMs} ms`));
      }, request.timeoutMs);
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        finish({ kind: 'failed', message: describe(error) });
      });
      outgoing.end(body);
    });
  }
}

/** A `lookup` that answers every resolution with the address the guard checked. */
function pinnedLookup(target: WebhookTarget): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function describe(error: NodeJS.ErrnoException): string {
  return error.code ? `${error.code}: ${error.message}` : `${error.name}: ${error.message}`;
}
