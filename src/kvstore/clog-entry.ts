/**
 * One cluster-log entry and its byte layout (spec §11.1), shared by the ring buffer, the kvstore
 * LOG message and the STATE blob.
 *
 *   0 prev u32 | 4 next u32 | 8 uid u32 | 12 time u32 | 16 node_digest u64 | 24 ident_digest u64
 *   32 pid u32 | 36 priority u8 | 37 node_len u8 | 38 ident_len u8 | 39 tag_len u8 | 40 msg_len u32
 *   44 node\0 ident\0 tag\0 msg\0
 *
 * The C struct is 48 bytes (u64 alignment), so an entry's size everywhere is
 * 48 + node_len + ident_len + tag_len + msg_len: 4 bytes more than the strings need. When a long
 * message was cut to the 4096-byte cap, the end of its text and its NUL live in those 4 bytes.
 */
import { Decoded, fail, ok } from '../dfsm/wire';
import { fnv1a64 } from './fnv';
import { escapeClusterLogMessage } from './clog-escape';

export const CLOG_ENTRY_HEADER_SIZE = 48;
export const CLOG_STRINGS_OFFSET = 44;
export const CLOG_MAX_ENTRY_SIZE = 4096;
/** node, ident and tag are cut to this many bytes (plus NUL). */
export const CLOG_MAX_FIELD_LENGTH = 254;

export interface ClogEntry {
  uid: number;
  time: number;
  nodeDigest: bigint;
  identDigest: bigint;
  pid: number;
  priority: number;
  node: string;
  ident: string;
  tag: string;
  msg: string;
  /** The entry as it travels: exactly `48 + lengths` bytes, prev and next zero. */
  bytes: Buffer;
}

/** What a caller logs; the node is this node's name, the time the caller's clock. */
export interface ClogFields {
  node: string;
  ident: string;
  tag: string;
  pid: number;
  time: number;
  /** syslog priority 0 (emerg) .. 7 (debug) */
  priority: number;
  msg: string | Uint8Array;
}

/** The entry's size from its length fields (the reference's clog_entry_size). */
export function entrySizeOf(bytes: Buffer, offset = 0): number {
  return (
    CLOG_ENTRY_HEADER_SIZE +
    bytes[offset + 37]! +
    bytes[offset + 38]! +
    bytes[offset + 39]! +
    bytes.readUInt32LE(offset + 40)
  );
}

/** Space an entry takes in the ring: its size rounded up to 8. */
export function alignedSize(size: number): number {
  return (size + 7) & ~7;
}

/** A C string: the bytes up to the first NUL (or `end`), plus that NUL, cut to 255 bytes. */
function cutField(s: string): Buffer {
  const utf8 = Buffer.from(s, 'utf8');
  const nul = utf8.indexOf(0);
  const text = nul < 0 ? utf8 : utf8.subarray(0, nul);
  const withNul = Buffer.alloc(text.length + 1);
  text.copy(withNul);
  return withNul;
}

/**
 * Build an entry as the reference's clog_pack does. Returns undefined for a priority outside 0..7
 * (the reference logs nothing then). `uid` is the caller's next per-process counter value.
 */
export function packEntry(fields: ClogFields, uid: number): ClogEntry | undefined {
  const { priority } = fields;
  if (!Number.isInteger(priority) || priority < 0 || priority > 7) return undefined;

  const node = cutField(fields.node);
  const ident = cutField(fields.ident);
  const tag = cutField(fields.tag);
  const nodeLen = Math.min(node.length, CLOG_MAX_FIELD_LENGTH + 1);
  const identLen = Math.min(ident.length, CLOG_MAX_FIELD_LENGTH + 1);
  const tagLen = Math.min(tag.length, CLOG_MAX_FIELD_LENGTH + 1);

  const msgOffset = CLOG_STRINGS_OFFSET + nodeLen + identLen + tagLen;
  const escaped = Buffer.from(escapeClusterLogMessage(fields.msg, CLOG_MAX_ENTRY_SIZE - msgOffset), 'latin1');
  let msgLen = escaped.length + 1;
  let size = CLOG_ENTRY_HEADER_SIZE + nodeLen + identLen + tagLen + msgLen;
  if (size > CLOG_MAX_ENTRY_SIZE) {
    msgLen -= size - CLOG_MAX_ENTRY_SIZE;
    size = CLOG_MAX_ENTRY_SIZE;
  }

  const bytes = Buffer.alloc(size);
  bytes.writeUInt32LE(uid >>> 0, 8);
  bytes.writeUInt32LE(fields.time >>> 0, 12);
  // Digests cover the first len bytes of the original string: its NUL unless it was cut.
  const nodeDigest = fnv1a64(node.subarray(0, nodeLen));
  const identDigest = fnv1a64(ident.subarray(0, identLen));
  bytes.writeBigUInt64LE(nodeDigest, 16);
  bytes.writeBigUInt64LE(identDigest, 24);
  bytes.writeUInt32LE(fields.pid >>> 0, 32);
  bytes[36] = priority;
  bytes[37] = nodeLen;
  bytes[38] = identLen;
  bytes[39] = tagLen;
  bytes.writeUInt32LE(msgLen, 40);
  let p = CLOG_STRINGS_OFFSET;
  node.copy(bytes, p, 0, nodeLen - 1);
  p += nodeLen;
  ident.copy(bytes, p, 0, identLen - 1);
  p += identLen;
  tag.copy(bytes, p, 0, tagLen - 1);
  p += tagLen;
  escaped.copy(bytes, p); // fits: the escape stops 7 bytes before the 4096 cap; NUL already 0

  return decodedView(bytes);
}

/** Text of a C string starting at `start`, ending at its NUL or at `end`. */
function cString(bytes: Buffer, start: number, end: number): string {
  const nul = bytes.indexOf(0, start);
  const stop = nul < 0 || nul > end ? end : nul;
  return bytes.toString('utf8', start, stop);
}

/** Field view over well-formed entry bytes (lengths already checked). */
function decodedView(bytes: Buffer): ClogEntry {
  const nodeLen = bytes[37]!;
  const identLen = bytes[38]!;
  const tagLen = bytes[39]!;
  const nodeAt = CLOG_STRINGS_OFFSET;
  const identAt = nodeAt + nodeLen;
  const tagAt = identAt + identLen;
  const msgAt = tagAt + tagLen;
  return {
    uid: bytes.readUInt32LE(8),
    time: bytes.readUInt32LE(12),
    nodeDigest: bytes.readBigUInt64LE(16),
    identDigest: bytes.readBigUInt64LE(24),
    pid: bytes.readUInt32LE(32),
    priority: bytes[36]!,
    node: cString(bytes, nodeAt, identAt),
    ident: cString(bytes, identAt, tagAt),
    tag: cString(bytes, tagAt, msgAt),
    msg: cString(bytes, msgAt, bytes.length),
    bytes,
  };
}

/**
 * Check the entry whose header starts at `offset` of `buf` and copy it out (prev/next zeroed).
 * `strictMsg`: the msg field must end in NUL too (the reference's LOG message check); entries in a
 * ring may carry a cut message whose NUL sits in the trailing 4 bytes.
 */
export function readEntryAt(buf: Buffer, offset: number, limit: number, strictMsg: boolean): Decoded<ClogEntry> {
  if (offset < 0 || offset + CLOG_ENTRY_HEADER_SIZE > limit) {
    return fail('short', `cluster log entry at ${offset} does not fit (${limit} bytes)`);
  }
  const nodeLen = buf[offset + 37]!;
  const identLen = buf[offset + 38]!;
  const tagLen = buf[offset + 39]!;
  const msgLen = buf.readUInt32LE(offset + 40);
  if (nodeLen < 1 || identLen < 1 || tagLen < 1 || msgLen < 1) {
    return fail('length', 'cluster log entry with an empty string field');
  }
  const size = CLOG_ENTRY_HEADER_SIZE + nodeLen + identLen + tagLen + msgLen;
  if (size > CLOG_MAX_ENTRY_SIZE) return fail('length', `cluster log entry of ${size} bytes (> 4096)`);
  if (offset + size > limit) return fail('short', `cluster log entry of ${size} bytes at ${offset} exceeds ${limit}`);
  if (buf[offset + 36]! > 7) return fail('range', `cluster log priority ${buf[offset + 36]}`);

  let end = offset + CLOG_STRINGS_OFFSET;
  for (const len of strictMsg ? [nodeLen, identLen, tagLen, msgLen] : [nodeLen, identLen, tagLen]) {
    end += len;
    if (buf[end - 1] !== 0) return fail('string', 'unterminated string in cluster log entry');
  }

  const bytes = Buffer.from(buf.subarray(offset, offset + size));
  bytes.writeUInt32LE(0, 0);
  bytes.writeUInt32LE(0, 4);
  return ok(decodedView(bytes));
}

/** Decode the payload of a kvstore LOG message: exactly one entry, every string terminated. */
export function decodeLogEntry(payload: Buffer): Decoded<ClogEntry> {
  if (payload.length < CLOG_ENTRY_HEADER_SIZE) {
    return fail('short', `log message of ${payload.length} bytes (< 48)`);
  }
  const size = entrySizeOf(payload);
  if (size !== payload.length) {
    return fail('length', `log message of ${payload.length} bytes, entry says ${size}`);
  }
  return readEntryAt(payload, 0, payload.length, true);
}

/** The LOG message payload of an entry (its bytes, prev/next zero). */
export function encodeLogEntry(entry: ClogEntry): Buffer {
  return Buffer.from(entry.bytes);
}
