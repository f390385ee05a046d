/**
 * Decoding of S3's `aws-chunked` content encoding, which the AWS SDKs use for streamed uploads
 * with flexible checksums (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`) and for chunk-signed uploads
 * (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`). The framing is:
 *
 * ```
 * <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n   (repeated)
 * 0[;chunk-signature=<sig>]\r\n
 * [<trailer-name>:<value>\r\n]*                      (e.g. x-amz-checksum-crc32, x-amz-trailer-signature)
 * \r\n
 * ```
 *
 * Chunk signatures are dropped unchecked: the emulator does not verify signatures at all.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { S3Errors } from './s3-errors.ts';

/** Longest chunk-size or trailer line accepted; real ones are < 200 bytes. */
const MAX_LINE_BYTES = 8 * 1024;
/** Most trailer lines accepted; clients send one checksum plus, when signed, a signature. */
const MAX_TRAILERS = 16;

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/**
 * A Transform that turns an `aws-chunked` body into the object's bytes, streaming: data is passed
 * on as sub-views of the incoming buffers, never copied or accumulated. Trailers are available in
 * {@link AwsChunkedDecoder.trailers} once the stream has ended.
 */
export class AwsChunkedDecoder extends Transform {
  /** Trailing headers, by lower-case name (e.g. `x-amz-checksum-crc32`). */
  readonly trailers = new Map<string, string>();
  /** Number of decoded bytes passed on so far. */
  decodedLength = 0;

  private state: State = 'size';
  private partialLine = '';
  private remaining = 0;
  private crlfMatched = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // Tolerate a body that stops right after the last trailer line, without the closing blank line.
    const complete = this.state === 'done' || (this.state === 'trailer' && this.partialLine === '');
    callback(complete ? undefined : S3Errors.incompleteBody());
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      switch (this.state) {
        case 'data':
          offset = this.passData(chunk, offset);
          break;
        case 'data-end':
          offset = this.matchChunkEnd(chunk, offset);
          break;
        case 'size':
        case 'trailer':
          offset = this.readLine(chunk, offset);
          break;
        case 'done':
          return; // Anything after the final blank line is padding we ignore, as S3 does.
      }
    }
  }

  private passData(chunk: Buffer, offset: number): number {
    const n = Math.min(this.remaining, chunk.length - offset);
    this.push(chunk.subarray(offset, offset + n));
    this.remaining -= n;
    this.decodedLength += n;
    if (this.remaining === 0) this.state = 'data-end';
    return offset + n;
  }

  private matchChunkEnd(chunk: Buffer, offset: number): number {
    const expected = this.crlfMatched === 0 ? 0x0d : 0x0a;
    if (chunk[offset] !== expected) throw S3Errors.invalidChunkedEncoding('chunk data not followed by CRLF');
    this.crlfMatched += 1;
    if (this.crlfMatched === 2) {
      this.crlfMatched = 0;
      this.state = 'size';
    }
    return offset + 1;
  }

  private readLine(chunk: Buffer, offset: number): number {
    const newline = chunk.indexOf(0x0a, offset);
    const end = newline < 0 ? chunk.length : newline;
    this.partialLine += chunk.toString('latin1', offset, end);
    if (this.partialLine.length > MAX_LINE_BYTES) throw S3Errors.invalidChunkedEncoding('line too long');
    if (newline < 0) return chunk.length;
    const line = this.partialLine.endsWith('\r') ? this.partialLine.slice(0, -1) : this.partialLine;
    this.partialLine = '';
    if (this.state === 'size') this.onSizeLine(line);
    else this.onTrailerLine(line);
    return newline + 1;
  }

  private onSizeLine(line: string): void {
    const hex = (line.split(';', 1)[0] ?? '').trim();
    if (!/^[0-9a-fA-F]{1,13}$/.test(hex)) throw S3Errors.invalidChunkedEncoding('bad chunk size');
    this.remaining = Number.parseInt(hex, 16);
    this.state = this.remaining === 0 ? 'trailer' : 'data';
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || this.trailers.size >= MAX_TRAILERS)
      throw S3Errors.invalidChunkedEncoding('bad trailer');
    this.trailers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
}
