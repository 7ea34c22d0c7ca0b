/**
 * Checksums of spec §2.1: the entry record R(e), its digest, the verify checksum over the whole
 * tree and the lock checksum of one entry. All SHA-256 over raw little-endian fields.
 */
import { createHash, type Hash } from 'node:crypto';
import type { Entry } from './types';
import { encodeNameBytes } from './name-bytes';

/** The parts of an entry that the checksums cover (an Entry, or a row-like view of one). */
export type ChecksumEntry = Pick<Entry, 'inode' | 'parent' | 'version' | 'writer' | 'mtime' | 'type' | 'name' | 'data'>;

const RECORD_FIXED_BYTES = 8 + 4 + 4 + 4 + 1 + 8;

/** Fixed part of R(e): version u64 | writer u32 | mtime u32 | size u32 | type u8 | parent u64. */
function recordHeader(e: ChecksumEntry): Buffer {
  const size = e.type === 8 && e.data !== null ? e.data.length : 0;
  const b = Buffer.alloc(RECORD_FIXED_BYTES);
  b.writeBigUInt64LE(BigInt(e.version), 0);
  b.writeUInt32LE(e.writer >>> 0, 8);
  b.writeUInt32LE(e.mtime >>> 0, 12);
  b.writeUInt32LE(size, 16);
  b.writeUInt8(e.type, 20);
  b.writeBigUInt64LE(BigInt(e.parent), 21);
  return b;
}

function updateRecord(hash: Hash, e: ChecksumEntry): void {
  hash.update(recordHeader(e));
  hash.update(encodeNameBytes(e.name));
  if (e.type === 8 && e.data !== null && e.data.length > 0) hash.update(e.data);
}

function inodeBytes(inode: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(inode), 0);
  return b;
}

/** R(e) as one buffer (for tests and debugging; the hashes stream it). */
export function entryRecord(e: ChecksumEntry): Buffer {
  const parts = [recordHeader(e), encodeNameBytes(e.name)];
  if (e.type === 8 && e.data !== null && e.data.length > 0) parts.push(e.data);
  return Buffer.concat(parts);
}

/** SHA-256(R(e)): the digest an index entry carries. */
export function entryDigest(e: ChecksumEntry): Buffer {
  const hash = createHash('sha256');
  updateRecord(hash, e);
  return hash.digest();
}

/** Lock checksum: SHA-256(inode u64 | R(e)) of one entry. */
export function lockChecksum(e: ChecksumEntry): Buffer {
  const hash = createHash('sha256');
  hash.update(inodeBytes(e.inode));
  updateRecord(hash, e);
  return hash.digest();
}

/** Verify checksum: one SHA-256 over `inode u64 | R(e)` of every entry, sorted by inode. */
export function verifyChecksum(entries: Iterable<ChecksumEntry>): Buffer {
  const sorted = [...entries].sort((a, b) => a.inode - b.inode);
  const hash = createHash('sha256');
  for (const e of sorted) {
    hash.update(inodeBytes(e.inode));
    updateRecord(hash, e);
  }
  return hash.digest();
}
