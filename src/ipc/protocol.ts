/**
 * Byte layouts of the `pve2` IPC service (spec §10): the libqb request header {id i32 @0, size i32 @8}
 * (16 B, each field 8-aligned), the response header {id @0, size @8, error @16} (24 B), the fixed
 * request structs of each operation, and the C-string rules the reference applies to them.
 * Pure: no I/O; every offset is checked against the request length.
 */

/** Operation ids (the reference's cfs-ipc-ops.h; 9 is unused). */
export const IpcOp = {
  GET_FS_VERSION: 1,
  GET_CLUSTER_INFO: 2,
  GET_GUEST_LIST: 3,
  SET_STATUS: 4,
  GET_STATUS: 5,
  GET_CONFIG: 6,
  LOG_CLUSTER_MSG: 7,
  GET_CLUSTER_LOG: 8,
  GET_RRD_DUMP: 10,
  GET_GUEST_CONFIG_PROPERTY: 11,
  VERIFY_TOKEN: 12,
  GET_GUEST_CONFIG_PROPERTIES: 13,
} as const;

export const REQUEST_HEADER_SIZE = 16;
export const RESPONSE_HEADER_SIZE = 24;
/** What PVE::IPCC asks qb_ipcc_connect for (8192 * 128). */
export const CLIENT_MAX_MESSAGE = 8192 * 128;
export const SERVICE_NAME = 'pve2';

/** Sizes/offsets of the fixed request structs (header included). */
export const STATUS_NAME_SIZE = 256;
/** SET_STATUS: header + name[256]; the value follows. */
export const SET_STATUS_HEADER_SIZE = REQUEST_HEADER_SIZE + STATUS_NAME_SIZE;
/** GET_STATUS: header + name[256] + nodename[256]. */
export const GET_STATUS_HEADER_SIZE = REQUEST_HEADER_SIZE + 2 * STATUS_NAME_SIZE;
/** LOG_CLUSTER_MSG: header + priority u8, ident_len u8, tag_len u8; strings from here. */
export const LOG_MSG_DATA_OFFSET = REQUEST_HEADER_SIZE + 3;
/** GET_CLUSTER_LOG: header + max_entries u32 + 3 reserved u32; user string from here. */
export const GET_LOG_HEADER_SIZE = REQUEST_HEADER_SIZE + 16;
/** GET_GUEST_CONFIG_PROPERTY: header + vmid u32; property from here. */
export const PROPERTY_OFFSET = REQUEST_HEADER_SIZE + 4;
/** GET_GUEST_CONFIG_PROPERTIES: header + vmid u32 + num_props u8; properties from here. */
export const PROPERTIES_OFFSET = REQUEST_HEADER_SIZE + 5;

export interface RequestHeader {
  id: number;
  /** The size the client wrote in the header (the whole request, header included). */
  size: number;
}

/** The header of a received message, or undefined when it is shorter than a header. */
export function decodeRequestHeader(msg: Buffer): RequestHeader | undefined {
  if (msg.length < REQUEST_HEADER_SIZE) return undefined;
  return { id: msg.readInt32LE(0), size: msg.readInt32LE(8) };
}

/** A request header followed by `payload` (what a client sends). */
export function encodeRequest(id: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.alloc(REQUEST_HEADER_SIZE + payload.length);
  out.writeInt32LE(id, 0);
  out.writeInt32LE(out.length, 8);
  payload.copy(out, REQUEST_HEADER_SIZE);
  return out;
}

/** Response header + data; data only when error == 0 (as the reference sends it). */
export function encodeResponse(id: number, error: number, data?: Buffer): Buffer {
  const body = error === 0 && data !== undefined ? data : Buffer.alloc(0);
  const out = Buffer.alloc(RESPONSE_HEADER_SIZE + body.length);
  out.writeInt32LE(id, 0);
  out.writeInt32LE(out.length, 8);
  out.writeInt32LE(error, 16);
  body.copy(out, RESPONSE_HEADER_SIZE);
  return out;
}

export interface DecodedResponse {
  id: number;
  size: number;
  error: number;
  data: Buffer;
}

export class IpcDecodeError extends Error {}

/** A response as received by a client; throws IpcDecodeError on a short or inconsistent message. */
export function decodeResponse(msg: Buffer): DecodedResponse {
  if (msg.length < RESPONSE_HEADER_SIZE) throw new IpcDecodeError(`response of ${msg.length} bytes is shorter than its header`);
  const size = msg.readInt32LE(8);
  if (size !== msg.length) throw new IpcDecodeError(`response header says ${size} bytes, received ${msg.length}`);
  return { id: msg.readInt32LE(0), size, error: msg.readInt32LE(16), data: Buffer.from(msg.subarray(RESPONSE_HEADER_SIZE)) };
}

/**
 * The C string starting at `start` that may not run past `end` (exclusive): the bytes up to the
 * first NUL, or up to `end` when there is none (the reference writes a NUL at the end itself).
 */
export function cStringAt(msg: Buffer, start: number, end: number): Buffer {
  const stop = Math.min(end, msg.length);
  if (start >= stop) return Buffer.alloc(0);
  const nul = msg.indexOf(0, start);
  return msg.subarray(start, nul < 0 || nul >= stop ? stop : nul);
}

/** C string bytes -> JS string (names, paths and keys are UTF-8 in PVE). */
export function cStringText(msg: Buffer, start: number, end: number): string {
  return cStringAt(msg, start, end).toString('utf8');
}

/** NUL-terminated payload helpers for clients. */
export function cString(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]);
}

/** A fixed-size, NUL-padded char array (SET_STATUS / GET_STATUS names); cut to size-1 bytes. */
export function fixedCString(text: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  Buffer.from(text, 'utf8').copy(out, 0, 0, size - 1);
  return out;
}
