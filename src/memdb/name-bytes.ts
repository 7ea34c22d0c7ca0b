/**
 * Names and paths are bytes to the reference (FUSE, the wire, config.db); here they are JS strings.
 * The conversion must be lossless, or a name that is not UTF-8 would be stored, hashed and sent as
 * other bytes than the reference's, and the index checksums of the two would never agree (a
 * pmxcfs-ts node could then not join a cluster holding such a name). So: valid UTF-8 decodes as
 * usual; every byte that is not part of a valid sequence becomes the lone surrogate U+DC80 + (byte
 * - 0x80) (Python's "surrogateescape"), and encoding turns those back into the same byte. A valid
 * UTF-8 text never decodes to such a surrogate, so the mapping is one-to-one.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // keep a leading U+FEFF
const ESCAPE_BASE = 0xdc00;
const ESCAPED = /[\udc80-\udcff]/;

/** The length of the valid UTF-8 sequence at `at`, or 0 when the byte there does not start one. */
function sequenceLength(b: Buffer, at: number): number {
  const c = b[at]!;
  if (c < 0x80) return 1;
  const cont = (i: number): boolean => at + i < b.length && (b[at + i]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[at + 1]!;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // UTF-16 surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[at + 1]!;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 >= 0x90) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

/** Bytes of a name or path (no NUL handling) to the string used in RAM. */
export function decodeNameBytes(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let out = '';
    let at = 0;
    while (at < bytes.length) {
      const n = sequenceLength(bytes, at);
      if (n === 0) {
        out += String.fromCharCode(ESCAPE_BASE + bytes[at]!);
        at += 1;
      } else {
        out += bytes.toString('utf8', at, at + n);
        at += n;
      }
    }
    return out;
  }
}

/** The bytes a name or path decoded by decodeNameBytes came from. */
export function encodeNameBytes(name: string): Buffer {
  if (!ESCAPED.test(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let text = '';
  for (const ch of name) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      if (text !== '') parts.push(Buffer.from(text, 'utf8'));
      text = '';
      parts.push(Buffer.of(code - ESCAPE_BASE));
    } else {
      text += ch;
    }
  }
  if (text !== '') parts.push(Buffer.from(text, 'utf8'));
  return Buffer.concat(parts);
}
