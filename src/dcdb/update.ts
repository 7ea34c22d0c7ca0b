/**
 * The dcdb UPDATE record (spec §5.2): one inode sent by the sync leader.
 * `parent u64 | inode u64 | version u64 | writer u32 | mtime u32 | size u32 | namelen u32 (incl NUL)
 *  | type u8 | name | data[size]` — a 41-byte fixed part (packed), data only for files with size > 0.
 */
import { Decoded, fail, ok, readU64Safe, writeU64 } from '../dfsm/wire';
import { cNameBytes, readCName } from './c-name';
import { DT_DIR, DT_REG, type DbRow } from '../memdb/types';

export const UPDATE_FIXED_SIZE = 41;

export function encodeUpdate(row: DbRow): Buffer {
  const name = cNameBytes(row.name);
  const data = row.type === DT_REG && row.data !== null ? row.data : Buffer.alloc(0);
  const buf = Buffer.alloc(UPDATE_FIXED_SIZE + name.length + data.length);
  writeU64(buf, row.parent, 0);
  writeU64(buf, row.inode, 8);
  writeU64(buf, row.version, 16);
  buf.writeUInt32LE(row.writer >>> 0, 24);
  buf.writeUInt32LE(row.mtime >>> 0, 28);
  buf.writeUInt32LE(data.length, 32);
  buf.writeUInt32LE(name.length, 36);
  buf.writeUInt8(row.type, 40);
  name.copy(buf, UPDATE_FIXED_SIZE);
  data.copy(buf, UPDATE_FIXED_SIZE + name.length);
  return buf;
}

/** Decode one UPDATE record into a `tree` row (data copied; null for directories and empty files). */
export function decodeUpdate(buf: Buffer): Decoded<DbRow> {
  if (buf.length < UPDATE_FIXED_SIZE) return fail('short', `update of ${buf.length} bytes is shorter than its 41-byte fixed part`);
  const parent = readU64Safe(buf, 0);
  const inode = readU64Safe(buf, 8);
  const version = readU64Safe(buf, 16);
  if (parent === undefined || inode === undefined || version === undefined) {
    return fail('range', 'update parent/inode/version above 2^53');
  }
  const writer = buf.readUInt32LE(24);
  const mtime = buf.readUInt32LE(28);
  const size = buf.readUInt32LE(32);
  const namelen = buf.readUInt32LE(36);
  const type = buf.readUInt8(40);
  if (UPDATE_FIXED_SIZE + namelen + size !== buf.length) {
    return fail('length', `update declares ${UPDATE_FIXED_SIZE + namelen + size} bytes, got ${buf.length}`);
  }
  if (type !== DT_DIR && type !== DT_REG) return fail('type', `update of inode ${inode} has type ${type}`);
  if (type === DT_DIR && size !== 0) return fail('range', `directory inode ${inode} with ${size} data bytes`);
  const name = readCName(buf, UPDATE_FIXED_SIZE, namelen);
  if (name === undefined) return fail('string', `name of inode ${inode} is not a NUL-terminated string`);
  const at = UPDATE_FIXED_SIZE + namelen;
  const data = size > 0 ? Buffer.from(buf.subarray(at, at + size)) : null;
  return ok({ inode, parent, version, writer, mtime, type, name, data });
}
