import { randomBytes } from 'node:crypto';

/**
 * Inference ids: what the model server answers every invocation with (`x-runway-inference-id`), what
 * its capture record carries, and what ground-truth feedback names later. A UUID version 7 (RFC 9562:
 * 48 bits of Unix milliseconds, then random bits), so an id says when its invocation happened: feedback
 * is filed under the hour of the invocation it labels, and a monitor joins one hour's feedback with
 * that hour's capture without an index.
 */

/** The response header that carries it. */
export const INFERENCE_ID_HEADER = 'x-runway-inference-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A new inference id for an invocation at `now` (epoch milliseconds). */
export function newInferenceId(now: number = Date.now(), random: Buffer = randomBytes(10)): string {
  const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12);
  const bytes = Buffer.from(random);
  const hex = bytes.toString('hex');
  // Version 7 in the high nibble of byte 6, variant 10 in the high bits of byte 8.
  const versioned = `7${hex.slice(1, 4)}`;
  const variant = ((((bytes[2] as number) & 0x3f) | 0x80) >>> 0).toString(16).padStart(2, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-${versioned}-${variant}${hex.slice(6, 8)}-${hex.slice(8, 20)}`;
}

/** When the invocation named by `id` happened (epoch milliseconds), or undefined for anything but a v7 UUID. */
export function inferenceTimeOf(id: string): number | undefined {
  if (!UUID_V7.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
