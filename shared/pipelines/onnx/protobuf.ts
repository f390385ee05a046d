/**
 * A minimal protocol-buffers encoder: just what writing an ONNX `ModelProto` needs (varints, 64-bit
 * integers, length-delimited strings, bytes and nested messages, packed floats and int64s). Fields
 * are written in the order they are added, which every protobuf parser accepts.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

const textEncoder = new TextEncoder();

/** One message under construction. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.byteLength;
  }

  private tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 536_870_911) {
      throw new RangeError(`invalid protobuf field number ${field}`);
    }
    this.push(encodeVarint(BigInt(field) * 8n + BigInt(wireType)));
  }

  /** An `int32`/`int64`/`enum` field (negative values are encoded as 10-byte two's complement, as protobuf does). */
  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.push(encodeVarint(BigInt.asUintN(64, BigInt(value))));
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.push(encodeVarint(BigInt(value.byteLength)));
    this.push(value);
    return this;
  }

  message(field: number, message: ProtoWriter): this {
    return this.bytes(field, message.finish());
  }

  /** A packed `repeated float` field (little-endian IEEE 754 single precision). */
  packedFloats(field: number, values: readonly number[]): this {
    const buffer = new Uint8Array(values.length * 4);
    const view = new DataView(buffer.buffer);
    values.forEach((value, i) => {
      view.setFloat32(i * 4, value, true);
    });
    return this.bytes(field, buffer);
  }

  /** A packed `repeated int64` field. */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const value of values) inner.push(encodeVarint(BigInt.asUintN(64, BigInt(value))));
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

/** Base-128 varint of an unsigned 64-bit value. */
export function encodeVarint(value: bigint): Uint8Array {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new RangeError(`varint out of range: ${value}`);
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0n);
  return Uint8Array.from(bytes);
}
