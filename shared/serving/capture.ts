import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../platform/logger.ts';

/**
 * Sampled capture of invocations for monitoring (drift detection reads it). A sampled invocation
 * appends one record to an in-memory buffer; nothing else happens on its path. The buffer is written
 * as JSON-lines objects, one per endpoint and hour:
 *
 *   serving-capture/<endpoint>/<yyyy>/<mm>/<dd>/<hh>/<first-record-epoch-ms>-<container>-<seq>.jsonl
 *
 * when it holds `maxBatchBytes` or its oldest record is `maxAgeMs` old. As with statistics, Lambda
 * freezes a container between invocations, so the write is awaited by the invocation that finds it
 * due: one invocation a minute per container (at most) pays a PutObject.
 *
 * A record (one line):
 *   {"capturedAt": ISO-8601, "requestId", "inferenceId" (the `x-runway-inference-id` answered, a
 *    UUIDv7: what feedback names), "endpoint", "version", "variant": "primary"|"canary",
 *    "status": HTTP status, "latencyMs", "contentType", "request": the JSON body as sent (CSV as a
 *    string), "response": the answer body ({"predictions": ...} or the error)}
 * A request larger than `maxRecordBytes` is captured without its body (`"request": null,
 * "requestTruncated": true`).
 */

export interface CaptureRecord {
  capturedAt: string;
  requestId: string;
  inferenceId: string;
  endpoint: string;
  version: string;
  variant: 'primary' | 'canary';
  status: number;
  latencyMs: number;
  contentType: string | undefined;
  request: unknown;
  requestTruncated?: true;
  response: unknown;
}

export const CAPTURE_PREFIX = 'serving-capture';

export interface CaptureOptions {
  bucket: string;
  /** Fraction (0..1) of invocations captured; 0 turns capture off. */
  sampleRate: number;
  s3: () => S3Client;
  logger: Logger;
  /** @default 5 MiB */
  maxBatchBytes?: number;
  /** @default 60 s */
  maxAgeMs?: number;
  /** @default 256 KiB */
  maxRecordBytes?: number;
  /** Records kept while writes fail, beyond which the oldest are dropped. @default 4 x maxBatchBytes */
  maxBufferBytes?: number;
  random?: () => number;
  now?: () => number;
}

export class CaptureBuffer {
  private lines: Array<{ endpoint: string; at: number; line: string }> = [];
  private bytes = 0;
  private sequence = 0;
  private flushing: Promise<void> | undefined;
  private readonly container = randomUUID().slice(0, 8);

  constructor(private readonly options: CaptureOptions) {}

  /**
   * Whether this invocation is captured (decide before building the record): with the endpoint's own
   * rate when it sets one, else the server's.
   */
  sampled(endpointRate?: number): boolean {
    const rate = endpointRate ?? this.options.sampleRate;
    return rate > 0 && (this.options.random ?? Math.random)() < rate;
  }

  /**
   * Appends a record. `requestBody` is the raw body; when `requestIsJson` (it parsed), it is embedded
   * as it is, on one line (a line break in valid JSON is whitespace), never parsed again; so is the
   * response body.
   */
  append(
    meta: Omit<CaptureRecord, 'request' | 'capturedAt' | 'requestTruncated' | 'response'>,
    requestBody: string | undefined,
    requestIsJson: boolean,
    /** The answer body, JSON already. */
    responseBody: string,
  ): void {
    const now = (this.options.now ?? Date.now)();
    const tooLarge =
      requestBody !== undefined && requestBody.length > (this.options.maxRecordBytes ?? 256 * 1024);
    const request =
      requestBody === undefined || tooLarge
        ? 'null'
        : requestIsJson
          ? requestBody.replace(/[\r\n]+/g, ' ')
          : JSON.stringify(requestBody);
    const head = JSON.stringify({
      capturedAt: new Date(now).toISOString(),
      ...meta,
      ...(tooLarge ? { requestTruncated: true } : {}),
    });
    const line = `${head.slice(0, -1)},"request":${request},"response":${responseBody}}`;
    this.lines.push({ endpoint: meta.endpoint, at: now, line });
    this.bytes += line.length + 1;
    const cap = this.options.maxBufferBytes ?? 4 * (this.options.maxBatchBytes ?? 5 * 1024 * 1024);
    while (this.bytes > cap && this.lines.length > 1) {
      const dropped = this.lines.shift();
      this.bytes -= (dropped?.line.length ?? 0) + 1;
    }
  }

  flushDue(): boolean {
    const first = this.lines[0];
    if (!first || this.flushing) return false;
    const now = (this.options.now ?? Date.now)();
    return (
      this.bytes >= (this.options.maxBatchBytes ?? 5 * 1024 * 1024) ||
      now - first.at >= (this.options.maxAgeMs ?? 60_000)
    );
  }

  /** Writes the buffer, one object per endpoint and hour; records of a failed write stay buffered. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.lines;
    this.lines = [];
    this.bytes = 0;
    if (batch.length === 0) return Promise.resolve();
    const groups = new Map<string, typeof batch>();
    for (const entry of batch) {
      const key = `${entry.endpoint}/${hourPath(entry.at)}`;
      const group = groups.get(key) ?? [];
      group.push(entry);
      groups.set(key, group);
    }
    this.flushing = Promise.all(
      [...groups.entries()].map(async ([prefix, group]) => {
        const key = `${CAPTURE_PREFIX}/${prefix}/${group[0]?.at}-${this.container}-${this.sequence++}.jsonl`;
        try {
          await this.options.s3().send(
            new PutObjectCommand({
              Bucket: this.options.bucket,
              Key: key,
              Body: `${group.map((entry) => entry.line).join('\n')}\n`,
              ContentType: 'application/x-ndjson',
            }),
          );
        } catch (error) {
          this.options.logger.warn('serving capture write failed; records kept for the next flush', {
            error,
            key,
          });
          this.lines.unshift(...group);
          this.bytes += group.reduce((sum, entry) => sum + entry.line.length + 1, 0);
        }
      }),
    ).then(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }
}

/** `yyyy/mm/dd/hh` in UTC. */
export function hourPath(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 13).replace(/[-T]/g, '/');
}
