/**
 * How the cluster log makes a message safe for JSON and syslog (spec §11.1): the result is plain
 * ASCII. Valid UTF-8: `"` -> `\"`, controls and DEL -> `#` + 3 decimal digits, other non-ASCII of
 * the BMP -> `\uXXXX` (lower-case hex), characters beyond the BMP are dropped. Input that is not
 * valid UTF-8 is treated byte-wise: `"` -> `\"`, controls -> `#0` + 2 digits, bytes >= 127 -> `?`.
 * Backslashes are left alone, as the reference does. The message ends at its first NUL.
 */

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const HEX = '0123456789abcdef';
const QUOTE = 0x22;

function cStringBytes(msg: string | Uint8Array): Uint8Array {
  const bytes = typeof msg === 'string' ? Buffer.from(msg, 'utf8') : msg;
  const nul = bytes.indexOf(0);
  return nul < 0 ? bytes : bytes.subarray(0, nul);
}

function threeDigits(n: number): string {
  return String(n % 1000).padStart(3, '0');
}

/**
 * Escape `msg` into at most `bufsize - 1` ASCII bytes (the reference's output buffer holds a NUL
 * too). Like the reference, a character is only started while fewer than `bufsize - 7` bytes
 * have been written, so one escape (at most 6 bytes) always fits.
 */
export function escapeClusterLogMessage(msg: string | Uint8Array, bufsize: number): string {
  const bytes = cStringBytes(msg);
  const end = bufsize - 7;
  let out = '';

  let text: string | undefined;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    text = undefined;
  }

  if (text === undefined) {
    for (let i = 0; i < bytes.length && out.length < end; i++) {
      const c = bytes[i]!;
      if (c === QUOTE) out += '\\"';
      else if (c < 32) out += '#' + threeDigits(c);
      else if (c < 127) out += String.fromCharCode(c);
      else out += '?';
    }
    return out;
  }

  for (const ch of text) {
    if (out.length >= end) break;
    const u = ch.codePointAt(0)!;
    if (u === QUOTE) out += '\\"';
    else if (u < 32 || u === 127) out += '#' + threeDigits(u);
    else if (u < 127) out += ch;
    else if (u < 0x10000) {
      out += '\\u' + HEX[(u >> 12) & 15] + HEX[(u >> 8) & 15] + HEX[(u >> 4) & 15] + HEX[u & 15];
    }
    // beyond the BMP: dropped
  }
  return out;
}
