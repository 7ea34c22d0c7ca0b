/**
 * The Linux FUSE kernel protocol (include/uapi/linux/fuse.h), the part pmxcfs-ts speaks: opcodes,
 * flags and the byte layout of the structures it reads and writes. All fields are little-endian
 * (x86-64/arm64 hosts) and every structure is 8-byte aligned.
 */

export const FUSE_KERNEL_VERSION = 7;
/**
 * Minor version we answer INIT with: 7.31 has every structure read and written here (max_pages, no
 * newer fields). The cache features of kernel-cache.ts (FOPEN_NOFLUSH 7.35, NOTIFY_INC_EPOCH 7.44)
 * are used when the kernel's own minor has them; the kernel does not check them against ours.
 */
export const FUSE_KERNEL_MINOR_VERSION = 31;
export const FUSE_ROOT_ID = 1;

export const enum Opcode {
  LOOKUP = 1,
  FORGET = 2,
  GETATTR = 3,
  SETATTR = 4,
  READLINK = 5,
  SYMLINK = 6,
  MKNOD = 8,
  MKDIR = 9,
  UNLINK = 10,
  RMDIR = 11,
  RENAME = 12,
  LINK = 13,
  OPEN = 14,
  READ = 15,
  WRITE = 16,
  STATFS = 17,
  RELEASE = 18,
  FSYNC = 20,
  FLUSH = 25,
  INIT = 26,
  OPENDIR = 27,
  READDIR = 28,
  RELEASEDIR = 29,
  FSYNCDIR = 30,
  CREATE = 35,
  INTERRUPT = 36,
  DESTROY = 38,
  BATCH_FORGET = 42,
}

/** INIT flags (fuse_init_in/out.flags). */
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_BIG_WRITES = 1 << 5;
export const FUSE_PARALLEL_DIROPS = 1 << 18;
export const FUSE_AUTO_INVAL_DATA = 1 << 12;
export const FUSE_MAX_PAGES = 1 << 22;

/** fuse_setattr_in.valid bits. */
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;

/** fuse_open_out.open_flags: bypass the page cache, as the reference does for every open. */
export const FOPEN_DIRECT_IO = 1 << 0;
/** Keep the page cache of the file at this open (it is invalidated by notifications instead). */
export const FOPEN_KEEP_CACHE = 1 << 1;
/** No FLUSH at close of this open (7.35): nothing to commit for a read-only open. */
export const FOPEN_NOFLUSH = 1 << 5;

/** Notification codes (fuse_out_header.error of a message with unique 0). */
export const enum NotifyCode {
  INVAL_INODE = 2,
  INVAL_ENTRY = 3,
  /** 7.44: every dentry looked up before is revalidated (LOOKUP) at its next use. */
  INC_EPOCH = 8,
}
/** First protocol minor with FUSE_NOTIFY_INC_EPOCH, which the kernel caches depend on. */
export const MINOR_WITH_INC_EPOCH = 44;

/** fuse_in_header: len u32, opcode u32, unique u64, nodeid u64, uid u32, gid u32, pid u32, ext u16, pad u16. */
export const IN_HEADER_SIZE = 40;
/** fuse_out_header: len u32, error i32, unique u64. */
export const OUT_HEADER_SIZE = 16;
/** Size of struct fuse_attr. */
export const ATTR_SIZE = 88;
/** fuse_entry_out: nodeid, generation, entry_valid, attr_valid (u64), two nsec u32, attr. */
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
/** fuse_attr_out: attr_valid u64, attr_valid_nsec u32, dummy u32, attr. */
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
/** fuse_open_out: fh u64, open_flags u32, backing_id i32. */
export const OPEN_OUT_SIZE = 16;
/** fuse_init_out as of 7.31 (64 bytes with its reserved words). */
export const INIT_OUT_SIZE = 64;
/** fuse_kstatfs inside fuse_statfs_out. */
export const STATFS_OUT_SIZE = 80;
/** fuse_write_out: size u32, padding u32. */
export const WRITE_OUT_SIZE = 8;
/** Sizes of the fixed request parts that precede a name or data. */
export const MKDIR_IN_SIZE = 8;
/** fuse_mknod_in: mode, rdev, umask, padding (u32 each). */
export const MKNOD_IN_SIZE = 16;
export const CREATE_IN_SIZE = 16;
export const RENAME_IN_SIZE = 8;
export const WRITE_IN_SIZE = 40;
export const SETATTR_IN_SIZE = 88;
/** fuse_dirent header: ino u64, off u64, namelen u32, type u32; the name follows, padded to 8. */
export const DIRENT_HEADER_SIZE = 24;

/** st_ino for directory entries whose inode is not known at readdir time (libfuse uses the same). */
export const UNKNOWN_INO = 0xffffffff;

const TWO_32 = 0x100000000;

/**
 * Writes an integer (|value| < 2^53, negative ones as two's complement) as a little-endian 64-bit
 * field from two u32 halves: a BigInt conversion per field costs more than the rest of a reply.
 */
export function writeU64(out: Buffer, value: number, at: number): void {
  const high = Math.floor(value / TWO_32);
  out.writeUInt32LE((value - high * TWO_32) >>> 0, at);
  out.writeUInt32LE(high >>> 0, at + 4);
}

/** A little-endian u64 field as a number (exact below 2^53, as Number(bigint) is). */
export function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32;
}

/** A request's unique: a number below 2^53 (always, in practice: the kernel counts up from 0), else a bigint. */
export type FuseUnique = number | bigint;

/** The u64 unique of a request: exact, and without a BigInt allocation in every real case. */
function readUnique(buf: Buffer, at: number): FuseUnique {
  return buf.readUInt32LE(at + 4) < 0x200000 ? readU64(buf, at) : buf.readBigUInt64LE(at);
}

/** Writes a unique as decodeInHeader gave it. */
export function writeUnique(out: Buffer, unique: FuseUnique, at: number): void {
  if (typeof unique === 'number') writeU64(out, unique, at);
  else out.writeBigUInt64LE(unique, at);
}

/** A zero-filled buffer; allocUnsafe takes small ones from Node's pool, alloc never does. */
function zeroed(size: number): Buffer {
  return Buffer.allocUnsafe(size).fill(0);
}

export interface InHeader {
  len: number;
  opcode: number;
  unique: FuseUnique;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
}

export function decodeInHeader(buf: Buffer): InHeader {
  return {
    len: buf.readUInt32LE(0),
    opcode: buf.readUInt32LE(4),
    unique: readUnique(buf, 8),
    nodeid: readU64(buf, 16),
    uid: buf.readUInt32LE(24),
    gid: buf.readUInt32LE(28),
    pid: buf.readUInt32LE(32),
  };
}

/** The attributes the kernel gets for a node. Times are whole seconds (atime = ctime = mtime). */
export interface KernelAttr {
  ino: number;
  size: number;
  blocks: number;
  mtime: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  blksize: number;
}

export function writeAttr(out: Buffer, at: number, a: KernelAttr): void {
  out.fill(0, at, at + ATTR_SIZE);
  writeU64(out, a.ino, at);
  writeU64(out, a.size, at + 8);
  writeU64(out, a.blocks, at + 16);
  writeU64(out, a.mtime, at + 24); // atime
  writeU64(out, a.mtime, at + 32); // mtime
  writeU64(out, a.mtime, at + 40); // ctime
  out.writeUInt32LE(a.mode, at + 60);
  out.writeUInt32LE(a.nlink, at + 64);
  out.writeUInt32LE(a.uid, at + 68);
  out.writeUInt32LE(a.gid, at + 72);
  out.writeUInt32LE(a.blksize, at + 80);
}

/** Cache validity the kernel is told for entries and attributes, in whole seconds. */
export interface Validity {
  entrySeconds: number;
  attrSeconds: number;
}

/** A LOOKUP answer that the kernel keeps as a negative entry ("no such name") for `entrySeconds`. */
export function encodeNegativeEntryOut(entrySeconds: number): Buffer {
  const out = zeroed(ENTRY_OUT_SIZE);
  writeU64(out, entrySeconds, 16);
  return out;
}

export function encodeEntryOut(nodeid: number, attr: KernelAttr, v: Validity): Buffer {
  const out = Buffer.allocUnsafe(ENTRY_OUT_SIZE);
  writeU64(out, nodeid, 0);
  writeU64(out, 0, 8); // generation: node ids are never reused within a mount
  writeU64(out, v.entrySeconds, 16);
  writeU64(out, v.attrSeconds, 24);
  out.writeUInt32LE(0, 32);
  out.writeUInt32LE(0, 36);
  writeAttr(out, 40, attr);
  return out;
}

export function encodeAttrOut(attr: KernelAttr, v: Validity): Buffer {
  const out = Buffer.allocUnsafe(ATTR_OUT_SIZE);
  writeU64(out, v.attrSeconds, 0);
  out.writeUInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  writeAttr(out, 16, attr);
  return out;
}

export function encodeOpenOut(fh: number, openFlags: number): Buffer {
  const out = zeroed(OPEN_OUT_SIZE);
  writeU64(out, fh, 0);
  out.writeUInt32LE(openFlags, 8);
  return out;
}

export function encodeWriteOut(size: number): Buffer {
  const out = zeroed(WRITE_OUT_SIZE);
  out.writeUInt32LE(size, 0);
  return out;
}

function notifyHeader(code: NotifyCode, bodyLength: number): Buffer {
  const out = zeroed(OUT_HEADER_SIZE + bodyLength);
  out.writeUInt32LE(out.length, 0);
  out.writeInt32LE(code, 4);
  writeU64(out, 0, 8); // unique 0: a notification, not a reply
  return out;
}

/**
 * FUSE_NOTIFY_INVAL_INODE (fuse_notify_inval_inode_out: ino u64, off i64, len i64). A negative
 * offset drops only the attributes (no sleeping lock in the kernel); offset 0 and length 0 also
 * drop every cached page, which waits for the page locks of reads in flight.
 */
export function encodeNotifyInvalInode(nodeid: number, offset: number, length: number): Buffer {
  const out = notifyHeader(NotifyCode.INVAL_INODE, 24);
  writeU64(out, nodeid, OUT_HEADER_SIZE);
  writeU64(out, offset, OUT_HEADER_SIZE + 8); // i64: a negative offset as two's complement
  writeU64(out, length, OUT_HEADER_SIZE + 16);
  return out;
}

/**
 * FUSE_NOTIFY_INVAL_ENTRY (fuse_notify_inval_entry_out: parent u64, namelen u32, flags u32; the
 * name and a NUL follow). The kernel takes the parent directory's inode lock for it.
 */
export function encodeNotifyInvalEntry(parent: number, name: Buffer): Buffer {
  const out = notifyHeader(NotifyCode.INVAL_ENTRY, 16 + name.length + 1);
  writeU64(out, parent, OUT_HEADER_SIZE);
  out.writeUInt32LE(name.length, OUT_HEADER_SIZE + 8);
  out.writeUInt32LE(0, OUT_HEADER_SIZE + 12);
  name.copy(out, OUT_HEADER_SIZE + 16);
  out[out.length - 1] = 0;
  return out;
}

/** FUSE_NOTIFY_INC_EPOCH: no body; lock-free in the kernel (an atomic increment). */
export function encodeNotifyIncEpoch(): Buffer {
  return notifyHeader(NotifyCode.INC_EPOCH, 0);
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
}

/** fuse_init_in: major, minor, max_readahead, flags (u32 each; newer kernels append more). */
export function decodeInitIn(body: Buffer): InitIn {
  if (body.length < 16) throw new RangeError(`INIT body of ${body.length} bytes`);
  return {
    major: body.readUInt32LE(0),
    minor: body.readUInt32LE(4),
    maxReadahead: body.readUInt32LE(8),
    flags: body.readUInt32LE(12),
  };
}

export interface InitOut {
  minor: number;
  maxReadahead: number;
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  maxPages: number;
}

export function encodeInitOut(o: InitOut): Buffer {
  const out = Buffer.alloc(INIT_OUT_SIZE);
  out.writeUInt32LE(FUSE_KERNEL_VERSION, 0);
  out.writeUInt32LE(o.minor, 4);
  out.writeUInt32LE(o.maxReadahead, 8);
  out.writeUInt32LE(o.flags >>> 0, 12);
  out.writeUInt16LE(o.maxBackground, 16);
  out.writeUInt16LE(o.congestionThreshold, 18);
  out.writeUInt32LE(o.maxWrite, 20);
  out.writeUInt32LE(1, 24); // time_gran: 1 ns (times are whole seconds anyway)
  out.writeUInt16LE(o.maxPages, 28);
  return out;
}

export interface KStatfs {
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  bsize: number;
  namelen: number;
  frsize: number;
}

export function encodeStatfsOut(s: KStatfs): Buffer {
  const out = Buffer.alloc(STATFS_OUT_SIZE);
  writeU64(out, s.blocks, 0);
  writeU64(out, s.bfree, 8);
  writeU64(out, s.bavail, 16);
  writeU64(out, s.files, 24);
  writeU64(out, s.ffree, 32);
  out.writeUInt32LE(s.bsize, 40);
  out.writeUInt32LE(s.namelen, 44);
  out.writeUInt32LE(s.frsize, 48);
  return out;
}

/** Size of one fuse_dirent with a name of `nameBytes` bytes, padded to 8. */
export function direntSize(nameBytes: number): number {
  return (DIRENT_HEADER_SIZE + nameBytes + 7) & ~7;
}

/**
 * Packs directory entries starting at index `from` into at most `maxBytes`; each entry's offset
 * field is the index of the entry after it, which is where the next READDIR continues.
 */
export function encodeDirents(names: readonly Buffer[], from: number, maxBytes: number): Buffer {
  const out = Buffer.alloc(Math.max(0, maxBytes));
  let used = 0;
  for (let i = from; i < names.length; i++) {
    const name = names[i]!;
    const size = direntSize(name.length);
    if (used + size > maxBytes) break;
    writeU64(out, UNKNOWN_INO, used);
    writeU64(out, i + 1, used + 8);
    out.writeUInt32LE(name.length, used + 16);
    out.writeUInt32LE(0, used + 20); // DT_UNKNOWN: callers that need the type stat the entry
    name.copy(out, used + DIRENT_HEADER_SIZE);
    used += size;
  }
  return out.subarray(0, used);
}

/** A NUL-terminated name at `at`; undefined when the terminator is missing. */
export function readCString(buf: Buffer, at: number, end: number): { bytes: Buffer; next: number } | undefined {
  const nul = buf.indexOf(0, at);
  if (nul < 0 || nul >= end) return undefined;
  return { bytes: buf.subarray(at, nul), next: nul + 1 };
}
