/**
 * kvstore NORMAL message payloads (spec §6): subtype 1 UPDATE = key char[256] NUL-padded + value
 * bytes; subtype 3 LOG = one cluster-log entry (clog-entry.ts); subtype 2 is defined but unused.
 */
import { Decoded, fail, ok } from '../dfsm/wire';
import { ClogEntry, decodeLogEntry, encodeLogEntry } from './clog-entry';

export const KvstoreMessage = {
  UPDATE: 1,
  UPDATE_COMPLETE: 2,
  LOG: 3,
} as const;

export const KVSTORE_KEY_FIELD_SIZE = 256;
/** kvstore protocol version in the DFSM headers. */
export const KVSTORE_PROTOCOL_VERSION = 0;
/** CPG group name (the wire name carries the NUL too: 15 bytes). */
export const KVSTORE_GROUP_NAME = 'pve_kvstore_v1';

export interface KvUpdate {
  key: string;
  value: Buffer;
}

/** UPDATE payload. A key longer than 255 bytes is cut, as the reference's strlcpy does. */
export function encodeUpdate(key: string, value: Uint8Array): Buffer {
  const out = Buffer.alloc(KVSTORE_KEY_FIELD_SIZE + value.length);
  const keyBytes = Buffer.from(key, 'utf8');
  const nul = keyBytes.indexOf(0);
  const usable = Math.min(nul < 0 ? keyBytes.length : nul, KVSTORE_KEY_FIELD_SIZE - 1);
  keyBytes.copy(out, 0, 0, usable);
  out.set(value, KVSTORE_KEY_FIELD_SIZE);
  return out;
}

/** UPDATE payload: at least 256 bytes, the key NUL-terminated within them; the rest is the value. */
export function decodeUpdate(payload: Buffer): Decoded<KvUpdate> {
  if (payload.length < KVSTORE_KEY_FIELD_SIZE) {
    return fail('short', `kvstore update of ${payload.length} bytes (< 256)`);
  }
  const nul = payload.subarray(0, KVSTORE_KEY_FIELD_SIZE).indexOf(0);
  if (nul < 0) return fail('string', 'kvstore update key is not NUL-terminated');
  return ok({
    key: payload.toString('utf8', 0, nul),
    value: Buffer.from(payload.subarray(KVSTORE_KEY_FIELD_SIZE)),
  });
}

export function encodeLog(entry: ClogEntry): Buffer {
  return encodeLogEntry(entry);
}

export function decodeLog(payload: Buffer): Decoded<ClogEntry> {
  return decodeLogEntry(payload);
}
