/**
 * The index of spec §2.1: the dcdb DFSM state. Header of 32 bytes
 * `version u64 | last_inode u64 | writer u32 | mtime u32 | size u32 | bytes u32`, then `size`
 * records of 40 bytes `inode u64 | digest[32]`, sorted by inode ascending. The root (inode 0)
 * is one of the entries and gives version/writer/mtime.
 */
import { entryDigest, type ChecksumEntry } from './checksum';

export const INDEX_HEADER_BYTES = 32;
export const INDEX_ENTRY_BYTES = 40;

export interface IndexEntry {
  inode: number;
  digest: Buffer;
}

export interface DecodedIndex {
  version: number;
  lastInode: number;
  writer: number;
  mtime: number;
  entries: IndexEntry[];
}

/** A malformed index: returned (not thrown) by decodeIndex. */
export class IndexDecodeError extends Error {
  constructor(message: string) {
    super(`bad index: ${message}`);
    this.name = 'IndexDecodeError';
  }
}

/** Encode the index of a tree given all its entries, the root (inode 0) included. */
export function encodeIndex(entries: Iterable<ChecksumEntry>): Buffer {
  const sorted = [...entries].sort((a, b) => a.inode - b.inode);
  const root = sorted[0];
  if (root === undefined || root.inode !== 0) throw new Error('encodeIndex: the root entry (inode 0) is missing');
  const size = sorted.length;
  const bytes = INDEX_HEADER_BYTES + INDEX_ENTRY_BYTES * size;
  const buf = Buffer.alloc(bytes);
  buf.writeBigUInt64LE(BigInt(root.version), 0);
  buf.writeBigUInt64LE(BigInt(sorted[size - 1]!.inode), 8);
  buf.writeUInt32LE(root.writer >>> 0, 16);
  buf.writeUInt32LE(root.mtime >>> 0, 20);
  buf.writeUInt32LE(size, 24);
  buf.writeUInt32LE(bytes, 28);
  let at = INDEX_HEADER_BYTES;
  for (const e of sorted) {
    buf.writeBigUInt64LE(BigInt(e.inode), at);
    entryDigest(e).copy(buf, at + 8);
    at += INDEX_ENTRY_BYTES;
  }
  return buf;
}

function readSafeU64(buf: Buffer, at: number, what: string): number | IndexDecodeError {
  const value = buf.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return new IndexDecodeError(`${what} ${value} is above 2^53`);
  return Number(value);
}

/** Decode and check an index: every length, and inodes strictly ascending. */
export function decodeIndex(buf: Buffer): DecodedIndex | IndexDecodeError {
  if (buf.length < INDEX_HEADER_BYTES) return new IndexDecodeError(`${buf.length} bytes, shorter than the header`);
  const bytes = buf.readUInt32LE(28);
  if (bytes !== buf.length) return new IndexDecodeError(`header says ${bytes} bytes, got ${buf.length}`);
  const size = buf.readUInt32LE(24);
  if (INDEX_HEADER_BYTES + INDEX_ENTRY_BYTES * size !== bytes) {
    return new IndexDecodeError(`${size} entries do not fill ${bytes} bytes`);
  }
  const version = readSafeU64(buf, 0, 'version');
  if (version instanceof IndexDecodeError) return version;
  const lastInode = readSafeU64(buf, 8, 'last_inode');
  if (lastInode instanceof IndexDecodeError) return lastInode;
  const entries: IndexEntry[] = [];
  let at = INDEX_HEADER_BYTES;
  for (let i = 0; i < size; i++) {
    const inode = readSafeU64(buf, at, `inode of entry ${i}`);
    if (inode instanceof IndexDecodeError) return inode;
    if (i > 0 && inode <= entries[i - 1]!.inode) return new IndexDecodeError(`inode ${inode} of entry ${i} is not ascending`);
    entries.push({ inode, digest: Buffer.from(buf.subarray(at + 8, at + INDEX_ENTRY_BYTES)) });
    at += INDEX_ENTRY_BYTES;
  }
  return { version, lastInode, writer: buf.readUInt32LE(16), mtime: buf.readUInt32LE(20), entries };
}
