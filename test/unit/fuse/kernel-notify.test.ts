/**
 * Cache notifications and the cache-related reply fields against include/uapi/linux/fuse.h:
 * a notification is a fuse_out_header with unique 0 and the notify code in `error`, then
 * fuse_notify_inval_inode_out / fuse_notify_inval_entry_out (name + NUL) / nothing (INC_EPOCH);
 * a negative LOOKUP answer is a fuse_entry_out with node id 0 and the entry validity set.
 */
import { describe, expect, it } from 'vitest';
import {
  ENTRY_OUT_SIZE,
  FOPEN_KEEP_CACHE,
  FOPEN_NOFLUSH,
  FUSE_AUTO_INVAL_DATA,
  OUT_HEADER_SIZE,
  encodeNegativeEntryOut,
  encodeNotifyIncEpoch,
  encodeNotifyInvalEntry,
  encodeNotifyInvalInode,
} from '../../../src/fuse/kernel/abi';

function header(buf: Buffer): { len: number; code: number; unique: bigint } {
  return { len: buf.readUInt32LE(0), code: buf.readInt32LE(4), unique: buf.readBigUInt64LE(8) };
}

describe('FUSE cache notifications', () => {
  it('INVAL_INODE: code 2, unique 0, ino u64, off i64, len i64', () => {
    const attrsOnly = encodeNotifyInvalInode(0x1_0000_0002, -1, 0);
    expect(header(attrsOnly)).toEqual({ len: OUT_HEADER_SIZE + 24, code: 2, unique: 0n });
    expect(attrsOnly.length).toBe(40);
    expect(attrsOnly.readBigUInt64LE(16)).toBe(0x1_0000_0002n);
    expect(attrsOnly.readBigInt64LE(24)).toBe(-1n);
    expect(attrsOnly.readBigInt64LE(32)).toBe(0n);
    const pages = encodeNotifyInvalInode(7, 0, 0);
    expect(pages.readBigInt64LE(24)).toBe(0n);
    expect(pages.readBigInt64LE(32)).toBe(0n);
  });

  it('INVAL_ENTRY: code 3, parent u64, namelen u32, flags u32, the name and a NUL', () => {
    const name = Buffer.from('storage.cfg');
    const msg = encodeNotifyInvalEntry(1, name);
    expect(header(msg)).toEqual({ len: OUT_HEADER_SIZE + 16 + name.length + 1, code: 3, unique: 0n });
    expect(msg.readBigUInt64LE(16)).toBe(1n);
    expect(msg.readUInt32LE(24)).toBe(name.length);
    expect(msg.readUInt32LE(28)).toBe(0);
    expect(msg.subarray(32, 32 + name.length).toString()).toBe('storage.cfg');
    expect(msg[msg.length - 1]).toBe(0);
  });

  it('INC_EPOCH: code 8, the header alone', () => {
    const msg = encodeNotifyIncEpoch();
    expect(msg.length).toBe(OUT_HEADER_SIZE);
    expect(header(msg)).toEqual({ len: OUT_HEADER_SIZE, code: 8, unique: 0n });
  });

  it('a negative entry: node id 0, entry_valid set, attr_valid 0, no attributes', () => {
    const out = encodeNegativeEntryOut(3600);
    expect(out.length).toBe(ENTRY_OUT_SIZE);
    expect(out.readBigUInt64LE(0)).toBe(0n); // nodeid 0 = "no such name", cached
    expect(out.readBigUInt64LE(16)).toBe(3600n);
    expect(out.readBigUInt64LE(24)).toBe(0n);
    expect(out.subarray(40).every((b) => b === 0)).toBe(true);
  });

  it('flag values', () => {
    expect(FOPEN_KEEP_CACHE).toBe(2);
    expect(FOPEN_NOFLUSH).toBe(32);
    expect(FUSE_AUTO_INVAL_DATA).toBe(4096);
  });
});
