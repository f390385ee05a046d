/**
 * A reader of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/), enough to
 * decode the handful of OTLP messages span ingestion needs. Hand-written rather than a protobuf
 * package: the trace messages are a few dozen fields, and a generated decoder with its runtime would
 * add far more to every cold start of the function than these lines.
 *
 * Malformed input (a truncated varint, a length past the end, a wire type that does not exist) throws
 * {@link ProtobufError}; the caller turns it into a 400.
 */

export class ProtobufError extends Error {}

export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export interface Field {
  number: number;
  wireType: number;
}

export class ProtobufReader {
  private pos: number;
  private readonly end: number;
  private readonly view: DataView;

  constructor(
    private readonly buffer: Uint8Array,
    start = 0,
    end = buffer.length,
  ) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  field(): Field {
    const key = this.varint();
    const number = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (number === 0) throw new ProtobufError('field number 0');
    return { number, wireType };
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new ProtobufError('truncated varint');
      const byte = this.buffer[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result & 0xffff_ffff_ffff_ffffn;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  }

  /** An `int64` (two's complement in a varint). */
  int64(): bigint {
    return BigInt.asIntN(64, this.varint());
  }

  uint32(): number {
    return Number(this.varint() & 0xffff_ffffn);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const length = this.varint();
    if (length > BigInt(this.end - this.pos)) throw new ProtobufError('length past the end of the message');
    const start = this.pos;
    this.pos += Number(length);
    return this.buffer.subarray(start, this.pos);
  }

  string(): string {
    try {
      return DECODER.decode(this.bytes());
    } catch (error) {
      if (error instanceof ProtobufError) throw error;
      throw new ProtobufError('a string field is not valid UTF-8');
    }
  }

  /** A reader over an embedded message. */
  message(): ProtobufReader {
    const bytes = this.bytes();
    return new ProtobufReader(bytes);
  }

  /** Skips a field this decoder does not read (unknown fields are allowed, as protobuf requires). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.varint:
        this.varint();
        return;
      case WireType.fixed64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.bytes:
        this.bytes();
        return;
      case WireType.fixed32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        // Groups (3, 4) are long deprecated and never in OTLP; anything else is not protobuf.
        throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
  }

  /** Checks a field's wire type before reading it as `expected`. */
  expect(field: Field, expected: number): void {
    if (field.wireType !== expected) {
      throw new ProtobufError(`field ${field.number} has wire type ${field.wireType}, expected ${expected}`);
    }
  }

  private need(bytes: number): void {
    if (this.end - this.pos < bytes) throw new ProtobufError('truncated fixed-width field');
  }
}

/** Protobuf strings are UTF-8; a malformed one is the sender's error. */
const DECODER = new TextDecoder('utf-8', { fatal: true });
