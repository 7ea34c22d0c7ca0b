import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeIndex, IndexDecodeError } from '../../../src/memdb/index-codec';
import { create, freshDb, write } from './helpers';

describe('index (spec §2.1)', () => {
  it('golden vector: 100 files of 32768 zero bytes', () => {
    const { db } = freshDb();
    for (let i = 0; i < 100; i++) {
      expect(create(db, `testfile${i}`)).toBe(0);
      expect(write(db, `testfile${i}`, Buffer.alloc(32768))).toBe(32768);
    }
    const idx = db.encodeIndex();
    expect(idx.readBigUInt64LE(0)).toBe(201n);
    expect(idx.readBigUInt64LE(8)).toBe(200n);
    expect(idx.readUInt32LE(24)).toBe(101);
    expect(idx.readUInt32LE(28)).toBe(4072);
    expect(idx.length).toBe(4072);
    expect(createHash('sha256').update(idx).digest('hex')).toBe('913fd95015af9d93f10dd51ba2a7bb11351bcfe040be21e95fcba834adc3ec10');
    const decoded = decodeIndex(idx);
    if (decoded instanceof IndexDecodeError) throw decoded;
    expect(decoded.version).toBe(201);
    expect(decoded.lastInode).toBe(200);
    expect(decoded.writer).toBe(0);
    expect(decoded.mtime).toBe(1234);
    expect(decoded.entries.map((e) => e.inode)).toEqual([0, ...Array.from({ length: 100 }, (_, i) => 2 + 2 * i)]);
  });

  it('a fresh database has exactly one entry (the root) and version 1', () => {
    const { db } = freshDb();
    expect(db.version).toBe(1);
    const decoded = decodeIndex(db.encodeIndex());
    if (decoded instanceof IndexDecodeError) throw decoded;
    expect(decoded.entries.length).toBe(1);
    expect(decoded.lastInode).toBe(0);
  });

  it('decodeIndex rejects every bad length and order', () => {
    const { db } = freshDb();
    create(db, 'a');
    create(db, 'b');
    const good = db.encodeIndex();
    expect(decodeIndex(good.subarray(0, 31))).toBeInstanceOf(IndexDecodeError);
    expect(decodeIndex(good.subarray(0, good.length - 1))).toBeInstanceOf(IndexDecodeError);
    const badBytes = Buffer.from(good);
    badBytes.writeUInt32LE(good.length + 40, 28);
    expect(decodeIndex(badBytes)).toBeInstanceOf(IndexDecodeError);
    const badSize = Buffer.from(good);
    badSize.writeUInt32LE(2, 24);
    expect(decodeIndex(badSize)).toBeInstanceOf(IndexDecodeError);
    const unsorted = Buffer.from(good);
    unsorted.writeBigUInt64LE(0n, 32 + 40 * 2);
    expect(decodeIndex(unsorted)).toBeInstanceOf(IndexDecodeError);
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(1n << 60n, 0);
    expect(decodeIndex(huge)).toBeInstanceOf(IndexDecodeError);
  });
});
