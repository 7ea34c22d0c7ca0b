/** Names and paths in dcdb messages: NUL-terminated bytes, converted losslessly (memdb/name-bytes). */
import { readCStringBytes } from '../dfsm/wire';
import { decodeNameBytes, encodeNameBytes } from '../memdb/name-bytes';

/** The C string field of exactly `length` bytes (NUL included) as a name, or undefined when malformed. */
export function readCName(buf: Buffer, offset: number, length: number): string | undefined {
  const bytes = readCStringBytes(buf, offset, length);
  return bytes === undefined ? undefined : decodeNameBytes(bytes);
}

/** A name's bytes with the terminating NUL. */
export function cNameBytes(name: string): Buffer {
  const bytes = encodeNameBytes(name);
  const out = Buffer.allocUnsafe(bytes.length + 1);
  bytes.copy(out, 0);
  out[bytes.length] = 0;
  return out;
}
