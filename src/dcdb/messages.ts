/**
 * dcdb NORMAL message payloads (spec §5.1), after the 24-byte DFSM NORMAL header.
 * Types 1-6: `size u32 | offset u32 | pathlen u32 | tolen u32 | flags u32 | path | to | data[size]`
 *   (lengths include the NUL, 0 = absent; the total must match exactly).
 * Types 7-8: `csum[32] | path NUL`.
 */
import { Decoded, fail, ok } from '../dfsm/wire';
import { cNameBytes, readCName } from './c-name';
import { encodeNameBytes } from '../memdb/name-bytes';
import type { FsOp } from '../memdb/types';

export const DCDB_GROUP_NAME = 'pve_dcdb_v1';
export const DCDB_PROTOCOL_VERSION = 1;
/** Seconds between verify rounds (spec §4.7). */
export const DCDB_VERIFY_TIME = 3600;

export const DcdbMessageType = {
  WRITE: 1,
  MKDIR: 2,
  DELETE: 3,
  RENAME: 4,
  CREATE: 5,
  MTIME: 6,
  UNLOCK_REQUEST: 7,
  UNLOCK: 8,
} as const;
export type DcdbMessageTypeValue = (typeof DcdbMessageType)[keyof typeof DcdbMessageType];
export type FsMessageType = 1 | 2 | 3 | 4 | 5 | 6;

export const FS_MESSAGE_FIXED_SIZE = 20;
export const UNLOCK_CSUM_SIZE = 32;
/** WRITE flag: truncate to offset+size. */
export const WRITE_FLAG_TRUNCATE = 1;

/** The fields of a type 1-6 message as they are on the wire. */
export interface FsMessage {
  type: FsMessageType;
  offset: number;
  flags: number;
  /** undefined when pathlen is 0. */
  path: string | undefined;
  /** undefined when tolen is 0. */
  to: string | undefined;
  data: Buffer;
}

export interface UnlockMessage {
  type: typeof DcdbMessageType.UNLOCK_REQUEST | typeof DcdbMessageType.UNLOCK;
  csum: Buffer;
  path: string;
}

export function isFsMessageType(subtype: number): subtype is FsMessageType {
  return Number.isInteger(subtype) && subtype >= DcdbMessageType.WRITE && subtype <= DcdbMessageType.MTIME;
}

/** The name's bytes without the NUL (its field is one byte longer), or null for an absent name (length 0). */
function nameBytesOrNull(s: string | undefined): Buffer | null {
  return s === undefined ? null : encodeNameBytes(s);
}

const fieldLength = (bytes: Buffer | null): number => (bytes === null ? 0 : bytes.length + 1);

/** Copies a C string field (bytes and NUL) to `at`; returns the offset after it. */
function putCString(out: Buffer, bytes: Buffer | null, at: number): number {
  if (bytes === null) return at;
  bytes.copy(out, at);
  out[at + bytes.length] = 0;
  return at + bytes.length + 1;
}

export function encodeFsMessage(msg: FsMessage): Buffer {
  const path = nameBytesOrNull(msg.path);
  const to = nameBytesOrNull(msg.to);
  const out = Buffer.allocUnsafe(FS_MESSAGE_FIXED_SIZE + fieldLength(path) + fieldLength(to) + msg.data.length);
  out.writeUInt32LE(msg.data.length, 0);
  out.writeUInt32LE(msg.offset >>> 0, 4);
  out.writeUInt32LE(fieldLength(path), 8);
  out.writeUInt32LE(fieldLength(to), 12);
  out.writeUInt32LE(msg.flags >>> 0, 16);
  const at = putCString(out, path, FS_MESSAGE_FIXED_SIZE);
  msg.data.copy(out, putCString(out, to, at));
  return out;
}

export function decodeFsMessage(type: number, payload: Buffer): Decoded<FsMessage> {
  if (!isFsMessageType(type)) return fail('type', `dcdb message type ${type} is not a file-system operation`);
  if (payload.length < FS_MESSAGE_FIXED_SIZE) {
    return fail('short', `dcdb message of ${payload.length} bytes is shorter than its 20-byte fixed part`);
  }
  const size = payload.readUInt32LE(0);
  const offset = payload.readUInt32LE(4);
  const pathlen = payload.readUInt32LE(8);
  const tolen = payload.readUInt32LE(12);
  const flags = payload.readUInt32LE(16);
  const total = FS_MESSAGE_FIXED_SIZE + size + pathlen + tolen;
  if (total !== payload.length) {
    return fail('length', `dcdb message declares ${total} bytes, got ${payload.length}`);
  }
  let at = FS_MESSAGE_FIXED_SIZE;
  let path: string | undefined;
  if (pathlen > 0) {
    path = readCName(payload, at, pathlen);
    if (path === undefined) return fail('string', 'path is not a NUL-terminated string');
    at += pathlen;
  }
  let to: string | undefined;
  if (tolen > 0) {
    to = readCName(payload, at, tolen);
    if (to === undefined) return fail('string', 'target path is not a NUL-terminated string');
    at += tolen;
  }
  return ok({ type, offset, flags, path, to, data: payload.subarray(at, at + size) });
}

export function encodeUnlockMessage(msg: Omit<UnlockMessage, 'type'>): Buffer {
  if (msg.csum.length !== UNLOCK_CSUM_SIZE) throw new RangeError(`lock checksum must be ${UNLOCK_CSUM_SIZE} bytes`);
  return Buffer.concat([msg.csum, cNameBytes(msg.path)]);
}

export function decodeUnlockMessage(type: number, payload: Buffer): Decoded<UnlockMessage> {
  if (type !== DcdbMessageType.UNLOCK_REQUEST && type !== DcdbMessageType.UNLOCK) {
    return fail('type', `dcdb message type ${type} is not an unlock message`);
  }
  if (payload.length < UNLOCK_CSUM_SIZE + 1) {
    return fail('short', `unlock message of ${payload.length} bytes is shorter than csum + NUL`);
  }
  const path = readCName(payload, UNLOCK_CSUM_SIZE, payload.length - UNLOCK_CSUM_SIZE);
  if (path === undefined) return fail('string', 'unlock path is not a NUL-terminated string');
  return ok({ type, csum: payload.subarray(0, UNLOCK_CSUM_SIZE), path });
}

/** The wire form of an operation; undefined when a number does not fit its u32 field. */
export function fsOpToMessage(op: FsOp): FsMessage | undefined {
  const base = { offset: 0, flags: 0, to: undefined, data: Buffer.alloc(0) };
  switch (op.kind) {
    case 'create':
      return { ...base, type: DcdbMessageType.CREATE, path: op.path };
    case 'mkdir':
      return { ...base, type: DcdbMessageType.MKDIR, path: op.path };
    case 'delete':
      return { ...base, type: DcdbMessageType.DELETE, path: op.path };
    case 'rename':
      return { ...base, type: DcdbMessageType.RENAME, path: op.path, to: op.to };
    case 'mtime':
      if (!isU32(op.mtime)) return undefined;
      return { ...base, type: DcdbMessageType.MTIME, path: op.path, offset: op.mtime };
    case 'write':
      if (!isU32(op.offset) || !isU32(op.data.length)) return undefined;
      return {
        type: DcdbMessageType.WRITE,
        path: op.path,
        to: undefined,
        offset: op.offset,
        flags: op.truncate ? WRITE_FLAG_TRUNCATE : 0,
        data: op.data,
      };
  }
}

export function encodeFsOp(op: FsOp): { subtype: FsMessageType; payload: Buffer } | undefined {
  const msg = fsOpToMessage(op);
  return msg === undefined ? undefined : { subtype: msg.type, payload: encodeFsMessage(msg) };
}

/** The operation a type 1-6 message asks for. Data of non-WRITE messages is ignored (like the reference). */
export function messageToFsOp(msg: FsMessage): Decoded<FsOp> {
  const path = msg.path;
  if (path === undefined) return fail('range', `dcdb message type ${msg.type} without a path`);
  switch (msg.type) {
    case DcdbMessageType.WRITE:
      return ok({ kind: 'write', path, offset: msg.offset, data: msg.data, truncate: msg.flags !== 0 });
    case DcdbMessageType.MKDIR:
      return ok({ kind: 'mkdir', path });
    case DcdbMessageType.DELETE:
      return ok({ kind: 'delete', path });
    case DcdbMessageType.RENAME:
      if (msg.to === undefined) return fail('range', 'RENAME without a target path');
      return ok({ kind: 'rename', path, to: msg.to });
    case DcdbMessageType.CREATE:
      return ok({ kind: 'create', path });
    case DcdbMessageType.MTIME:
      return ok({ kind: 'mtime', path, mtime: msg.offset });
  }
}

/** Decode a type 1-6 payload straight to an operation. */
export function decodeFsOp(type: number, payload: Buffer): Decoded<FsOp> {
  const msg = decodeFsMessage(type, payload);
  return msg.ok ? messageToFsOp(msg.value) : msg;
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}
