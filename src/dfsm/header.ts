/**
 * Codecs of the DFSM wire headers (spec §4.1). Raw little-endian C structs:
 *   base   (16 B): type u16 | subtype u16 | protocol_version u32 | time u32 | reserved u32
 *   NORMAL (24 B): base | count u64                          then the application payload
 *   state  (32 B): base | epoch {epoch, time, nodeid, pid} u32 then the state payload
 * Decoders return a typed error for any malformed input; they never throw.
 */
import { Decoded, fail, ok, readU64Safe, writeU64 } from './wire';

export const DfsmMessageType = {
  NORMAL: 0,
  SYNC_START: 1,
  STATE: 2,
  UPDATE: 3,
  UPDATE_COMPLETE: 4,
  VERIFY_REQUEST: 5,
  VERIFY: 6,
} as const;
export type DfsmMessageTypeValue = (typeof DfsmMessageType)[keyof typeof DfsmMessageType];
export type StateMessageType = Exclude<DfsmMessageTypeValue, 0>;

export const BASE_HEADER_SIZE = 16;
export const NORMAL_HEADER_SIZE = 24;
export const STATE_HEADER_SIZE = 32;
/** Verify checksums are SHA-256. */
export const CSUM_SIZE = 32;

/** A sync epoch: identifies one round of state exchange (spec §4.3). */
export interface SyncEpoch {
  epoch: number;
  time: number;
  nodeid: number;
  pid: number;
}

export interface BaseHeader {
  type: number;
  subtype: number;
  protocolVersion: number;
  time: number;
  reserved: number;
}

export interface NormalMessage {
  type: typeof DfsmMessageType.NORMAL;
  subtype: number;
  protocolVersion: number;
  time: number;
  /** Per-sender counter, starts at 1. */
  count: number;
  payload: Buffer;
}

export interface StateMessage {
  type: StateMessageType;
  subtype: number;
  protocolVersion: number;
  time: number;
  epoch: SyncEpoch;
  payload: Buffer;
}

export type DfsmMessage = NormalMessage | StateMessage;

export function epochEquals(a: SyncEpoch, b: SyncEpoch): boolean {
  return a.epoch === b.epoch && a.time === b.time && a.nodeid === b.nodeid && a.pid === b.pid;
}

export function isStateMessageType(type: number): type is StateMessageType {
  return Number.isInteger(type) && type >= DfsmMessageType.SYNC_START && type <= DfsmMessageType.VERIFY;
}

function writeBase(buf: Buffer, type: number, subtype: number, protocolVersion: number, time: number): void {
  buf.writeUInt16LE(type, 0);
  buf.writeUInt16LE(subtype, 2);
  buf.writeUInt32LE(protocolVersion >>> 0, 4);
  buf.writeUInt32LE(time >>> 0, 8);
  buf.writeUInt32LE(0, 12);
}

export function encodeNormalMessage(
  header: { subtype: number; protocolVersion: number; time: number; count: number },
  payload: Buffer,
): Buffer {
  const buf = Buffer.alloc(NORMAL_HEADER_SIZE + payload.length);
  writeBase(buf, DfsmMessageType.NORMAL, header.subtype, header.protocolVersion, header.time);
  writeU64(buf, header.count, 16);
  payload.copy(buf, NORMAL_HEADER_SIZE);
  return buf;
}

export function encodeStateMessage(
  type: StateMessageType,
  header: { protocolVersion: number; time: number; epoch: SyncEpoch },
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const buf = Buffer.alloc(STATE_HEADER_SIZE + payload.length);
  writeBase(buf, type, 0, header.protocolVersion, header.time);
  buf.writeUInt32LE(header.epoch.epoch >>> 0, 16);
  buf.writeUInt32LE(header.epoch.time >>> 0, 20);
  buf.writeUInt32LE(header.epoch.nodeid >>> 0, 24);
  buf.writeUInt32LE(header.epoch.pid >>> 0, 28);
  payload.copy(buf, STATE_HEADER_SIZE);
  return buf;
}

export function decodeBaseHeader(buf: Buffer): Decoded<BaseHeader> {
  if (buf.length < BASE_HEADER_SIZE) return fail('short', `message of ${buf.length} bytes is shorter than the 16-byte header`);
  return ok({
    type: buf.readUInt16LE(0),
    subtype: buf.readUInt16LE(2),
    protocolVersion: buf.readUInt32LE(4),
    time: buf.readUInt32LE(8),
    reserved: buf.readUInt32LE(12),
  });
}

/** Decode a whole DFSM message: header by type, payload is a view (not a copy) of the rest. */
export function decodeDfsmMessage(buf: Buffer): Decoded<DfsmMessage> {
  const base = decodeBaseHeader(buf);
  if (!base.ok) return base;
  const { type, subtype, protocolVersion, time } = base.value;
  if (type === DfsmMessageType.NORMAL) {
    if (buf.length < NORMAL_HEADER_SIZE) {
      return fail('short', `NORMAL message of ${buf.length} bytes is shorter than its 24-byte header`);
    }
    const count = readU64Safe(buf, 16);
    if (count === undefined) return fail('range', 'message count above 2^53');
    return ok({ type, subtype, protocolVersion, time, count, payload: buf.subarray(NORMAL_HEADER_SIZE) });
  }
  if (!isStateMessageType(type)) return fail('type', `unknown message type ${type}`);
  if (buf.length < STATE_HEADER_SIZE) {
    return fail('short', `state message (type ${type}) of ${buf.length} bytes is shorter than its 32-byte header`);
  }
  const epoch: SyncEpoch = {
    epoch: buf.readUInt32LE(16),
    time: buf.readUInt32LE(20),
    nodeid: buf.readUInt32LE(24),
    pid: buf.readUInt32LE(28),
  };
  return ok({ type, subtype, protocolVersion, time, epoch, payload: buf.subarray(STATE_HEADER_SIZE) });
}

/** VERIFY_REQUEST payload: csum_id u64. */
export function encodeVerifyRequest(csumId: bigint): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt.asUintN(64, csumId), 0);
  return buf;
}

export function decodeVerifyRequest(payload: Buffer): Decoded<bigint> {
  if (payload.length !== 8) return fail('length', `verify request payload of ${payload.length} bytes, expected 8`);
  return ok(payload.readBigUInt64LE(0));
}

/** VERIFY payload: csum_id u64 | sha256[32]. */
export function encodeVerify(csumId: bigint, csum: Buffer): Buffer {
  const buf = Buffer.alloc(8 + CSUM_SIZE);
  buf.writeBigUInt64LE(BigInt.asUintN(64, csumId), 0);
  csum.copy(buf, 8, 0, CSUM_SIZE);
  return buf;
}

export function decodeVerify(payload: Buffer): Decoded<{ csumId: bigint; csum: Buffer }> {
  if (payload.length !== 8 + CSUM_SIZE) {
    return fail('length', `verify payload of ${payload.length} bytes, expected ${8 + CSUM_SIZE}`);
  }
  return ok({ csumId: payload.readBigUInt64LE(0), csum: payload.subarray(8) });
}
