/**
 * Small helpers shared by the wire codecs of the DFSM and its applications: a typed decode result
 * (decoders never throw on peer input) and bounded little-endian reads.
 */

/** Why a buffer could not be decoded. `code` is stable for tests and logs. */
export class WireError {
  constructor(
    readonly code: WireErrorCode,
    readonly message: string,
  ) {}

  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export type WireErrorCode =
  | 'short'          // fewer bytes than the fixed part needs
  | 'length'         // the total length disagrees with the lengths the message declares
  | 'range'          // a field holds a value outside what it may hold (u64 above 2^53, zero, ...)
  | 'type'           // unknown message type / subtype
  | 'string';        // a string is not NUL-terminated or contains a NUL

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: WireError };

export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: WireErrorCode, message: string): Decoded<T> {
  return { ok: false, error: new WireError(code, message) };
}

/** A u64 as a JS number, or undefined when it does not fit in a safe integer. */
export function readU64Safe(buf: Buffer, offset: number): number | undefined {
  const value = buf.readBigUInt64LE(offset);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** Write a safe non-negative integer as u64 LE. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  buf.writeBigUInt64LE(BigInt(value), offset);
}

/**
 * A C string field of exactly `length` bytes including the terminating NUL: its bytes without the
 * NUL (none embedded). Returns undefined when it is malformed.
 */
export function readCStringBytes(buf: Buffer, offset: number, length: number): Buffer | undefined {
  if (length < 1 || offset + length > buf.length) return undefined;
  if (buf[offset + length - 1] !== 0) return undefined;
  const bytes = buf.subarray(offset, offset + length - 1);
  if (bytes.includes(0)) return undefined;
  return bytes;
}
