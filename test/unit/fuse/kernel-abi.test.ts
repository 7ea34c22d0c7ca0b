/**
 * The FUSE wire structures against the byte offsets of include/uapi/linux/fuse.h: fuse_entry_out,
 * fuse_attr_out (with fuse_attr inside), fuse_open_out, fuse_init_out (7.31), fuse_kstatfs,
 * fuse_write_out, fuse_in_header, fuse_init_in and the fuse_dirent stream of READDIR.
 */
import { describe, expect, it } from 'vitest';
import {
  ATTR_OUT_SIZE,
  DIRENT_HEADER_SIZE,
  ENTRY_OUT_SIZE,
  FATTR_FH,
  FATTR_MTIME_NOW,
  FATTR_SIZE,
  FOPEN_DIRECT_IO,
  FUSE_BIG_WRITES,
  FUSE_MAX_PAGES,
  FUSE_PARALLEL_DIROPS,
  IN_HEADER_SIZE,
  INIT_OUT_SIZE,
  OPEN_OUT_SIZE,
  Opcode,
  STATFS_OUT_SIZE,
  UNKNOWN_INO,
  WRITE_OUT_SIZE,
  decodeInHeader,
  decodeInitIn,
  direntSize,
  encodeAttrOut,
  encodeDirents,
  encodeEntryOut,
  encodeInitOut,
  encodeOpenOut,
  encodeStatfsOut,
  encodeWriteOut,
  readCString,
  readU64,
  writeU64,
  writeUnique,
  type KernelAttr,
} from '../../../src/fuse/kernel/abi';

const attr: KernelAttr = {
  ino: 0x1_0000_0002, // above 32 bits: must land in the full u64
  size: 1234,
  blocks: 3,
  mtime: 1_700_000_000,
  mode: 0o100640,
  nlink: 1,
  uid: 0,
  gid: 33,
  blksize: 4096,
};

/** fuse_attr field offsets (struct fuse_attr, 88 bytes). */
function expectAttrAt(buf: Buffer, at: number, a: KernelAttr): void {
  expect(buf.readBigUInt64LE(at + 0)).toBe(BigInt(a.ino));
  expect(buf.readBigUInt64LE(at + 8)).toBe(BigInt(a.size));
  expect(buf.readBigUInt64LE(at + 16)).toBe(BigInt(a.blocks));
  expect(buf.readBigUInt64LE(at + 24)).toBe(BigInt(a.mtime)); // atime
  expect(buf.readBigUInt64LE(at + 32)).toBe(BigInt(a.mtime)); // mtime
  expect(buf.readBigUInt64LE(at + 40)).toBe(BigInt(a.mtime)); // ctime
  expect(buf.readUInt32LE(at + 48)).toBe(0); // atimensec
  expect(buf.readUInt32LE(at + 52)).toBe(0); // mtimensec
  expect(buf.readUInt32LE(at + 56)).toBe(0); // ctimensec
  expect(buf.readUInt32LE(at + 60)).toBe(a.mode);
  expect(buf.readUInt32LE(at + 64)).toBe(a.nlink);
  expect(buf.readUInt32LE(at + 68)).toBe(a.uid);
  expect(buf.readUInt32LE(at + 72)).toBe(a.gid);
  expect(buf.readUInt32LE(at + 76)).toBe(0); // rdev
  expect(buf.readUInt32LE(at + 80)).toBe(a.blksize);
  expect(buf.readUInt32LE(at + 84)).toBe(0); // flags
}

describe('constants as in fuse.h', () => {
  it('opcodes and flag bits', () => {
    expect([Opcode.LOOKUP, Opcode.FORGET, Opcode.GETATTR, Opcode.SETATTR, Opcode.MKDIR, Opcode.UNLINK, Opcode.RENAME]).toEqual([1, 2, 3, 4, 9, 10, 12]);
    expect([Opcode.OPEN, Opcode.READ, Opcode.WRITE, Opcode.STATFS, Opcode.RELEASE, Opcode.FSYNC, Opcode.FLUSH]).toEqual([14, 15, 16, 17, 18, 20, 25]);
    expect([Opcode.INIT, Opcode.OPENDIR, Opcode.READDIR, Opcode.RELEASEDIR, Opcode.CREATE, Opcode.INTERRUPT, Opcode.BATCH_FORGET]).toEqual([26, 27, 28, 29, 35, 36, 42]);
    expect([FUSE_BIG_WRITES, FUSE_PARALLEL_DIROPS, FUSE_MAX_PAGES]).toEqual([0x20, 0x40000, 0x400000]);
    expect([FATTR_SIZE, FATTR_FH, FATTR_MTIME_NOW, FOPEN_DIRECT_IO]).toEqual([8, 64, 256, 1]);
  });
});

describe('encoders', () => {
  const validity = { entrySeconds: 5, attrSeconds: 7 };

  it('fuse_entry_out: nodeid, generation, entry/attr validity, then fuse_attr at 40', () => {
    const b = encodeEntryOut(42, attr, validity);
    expect(b.length).toBe(ENTRY_OUT_SIZE);
    expect(ENTRY_OUT_SIZE).toBe(128);
    expect(b.readBigUInt64LE(0)).toBe(42n);
    expect(b.readBigUInt64LE(8)).toBe(0n);
    expect(b.readBigUInt64LE(16)).toBe(5n);
    expect(b.readBigUInt64LE(24)).toBe(7n);
    expect(b.readUInt32LE(32)).toBe(0);
    expect(b.readUInt32LE(36)).toBe(0);
    expectAttrAt(b, 40, attr);
  });

  it('fuse_attr_out: attr_valid, nsec, dummy, then fuse_attr at 16', () => {
    const b = encodeAttrOut(attr, validity);
    expect(b.length).toBe(ATTR_OUT_SIZE);
    expect(ATTR_OUT_SIZE).toBe(104);
    expect(b.readBigUInt64LE(0)).toBe(7n);
    expect(b.readUInt32LE(8)).toBe(0);
    expect(b.readUInt32LE(12)).toBe(0);
    expectAttrAt(b, 16, attr);
  });

  it('encoders fully initialise buffers taken from the unsafe pool', () => {
    // allocUnsafe may hand out dirty memory: encode twice with different values, the padding stays 0.
    for (let i = 0; i < 50; i++) Buffer.allocUnsafe(ENTRY_OUT_SIZE).fill(0xff);
    const b = encodeEntryOut(3, { ...attr, ino: 3 }, validity);
    expectAttrAt(b, 40, { ...attr, ino: 3 });
  });

  it('fuse_open_out: fh u64 at 0, open_flags u32 at 8, zero at 12', () => {
    const b = encodeOpenOut(0x1_2345_6789, FOPEN_DIRECT_IO);
    expect(b.length).toBe(OPEN_OUT_SIZE);
    expect(b.readBigUInt64LE(0)).toBe(0x1_2345_6789n);
    expect(b.readUInt32LE(8)).toBe(FOPEN_DIRECT_IO);
    expect(b.readInt32LE(12)).toBe(0);
  });

  it('fuse_write_out: size u32 then padding', () => {
    const b = encodeWriteOut(1 << 20);
    expect(b.length).toBe(WRITE_OUT_SIZE);
    expect(b.readUInt32LE(0)).toBe(1 << 20);
    expect(b.readUInt32LE(4)).toBe(0);
  });

  it('fuse_init_out (7.31): major 7, u16 max_background/congestion, max_write at 20, time_gran, max_pages at 28', () => {
    const flags = (FUSE_MAX_PAGES | FUSE_BIG_WRITES | 0x8000_0000) >>> 0;
    const b = encodeInitOut({
      minor: 31,
      maxReadahead: 131072,
      flags,
      maxBackground: 12,
      congestionThreshold: 9,
      maxWrite: 1 << 20,
      maxPages: 256,
    });
    expect(b.length).toBe(INIT_OUT_SIZE);
    expect(b.readUInt32LE(0)).toBe(7);
    expect(b.readUInt32LE(4)).toBe(31);
    expect(b.readUInt32LE(8)).toBe(131072);
    expect(b.readUInt32LE(12)).toBe(flags);
    expect(b.readUInt16LE(16)).toBe(12);
    expect(b.readUInt16LE(18)).toBe(9);
    expect(b.readUInt32LE(20)).toBe(1 << 20);
    expect(b.readUInt32LE(24)).toBe(1);
    expect(b.readUInt16LE(28)).toBe(256);
    expect(b.subarray(30).every((x) => x === 0)).toBe(true); // map_alignment, flags2, unused
  });

  it('fuse_init_out accepts flags with bit 31 given as a negative int', () => {
    const b = encodeInitOut({ minor: 31, maxReadahead: 0, flags: 1 << 31, maxBackground: 0, congestionThreshold: 0, maxWrite: 4096, maxPages: 1 });
    expect(b.readUInt32LE(12)).toBe(0x8000_0000);
  });

  it('fuse_kstatfs: five u64 counters, then bsize, namelen, frsize u32, zero spare', () => {
    const b = encodeStatfsOut({ blocks: 32768, bfree: 30000, bavail: 29000, files: 2 ** 33, ffree: 7, bsize: 4096, namelen: 256, frsize: 4096 });
    expect(b.length).toBe(STATFS_OUT_SIZE);
    expect(b.readBigUInt64LE(0)).toBe(32768n);
    expect(b.readBigUInt64LE(8)).toBe(30000n);
    expect(b.readBigUInt64LE(16)).toBe(29000n);
    expect(b.readBigUInt64LE(24)).toBe(1n << 33n);
    expect(b.readBigUInt64LE(32)).toBe(7n);
    expect(b.readUInt32LE(40)).toBe(4096);
    expect(b.readUInt32LE(44)).toBe(256);
    expect(b.readUInt32LE(48)).toBe(4096);
    expect(b.subarray(52).every((x) => x === 0)).toBe(true);
  });
});

describe('decoders', () => {
  it('fuse_in_header: all fields at their offsets', () => {
    const b = Buffer.alloc(IN_HEADER_SIZE + 8);
    b.writeUInt32LE(48, 0);
    b.writeUInt32LE(Opcode.LOOKUP, 4);
    b.writeBigUInt64LE(0xdead_beef_0000_0001n, 8);
    b.writeBigUInt64LE(0x1_0000_0005n, 16);
    b.writeUInt32LE(1000, 24);
    b.writeUInt32LE(33, 28);
    b.writeUInt32LE(4242, 32);
    expect(decodeInHeader(b)).toEqual({
      len: 48,
      opcode: Opcode.LOOKUP,
      unique: 0xdead_beef_0000_0001n,
      nodeid: 0x1_0000_0005,
      uid: 1000,
      gid: 33,
      pid: 4242,
    });
  });

  it('a unique below 2^53 (every real one) decodes as a number, a larger one as a bigint; both are replied exactly', () => {
    const b = Buffer.alloc(40);
    for (const u of [0n, 2n, 0xffff_fffen, 0x1f_ffff_ffff_fffen, 0x20_0000_0000_0000n, 0xffff_ffff_ffff_fffen]) {
      b.writeBigUInt64LE(u, 8);
      const h = decodeInHeader(b);
      expect(typeof h.unique, String(u)).toBe(u < 2n ** 53n ? 'number' : 'bigint');
      expect(BigInt(h.unique)).toBe(u);
      const out = Buffer.alloc(16);
      writeUnique(out, h.unique, 8);
      expect(out.readBigUInt64LE(8)).toBe(u);
    }
  });

  it('fuse_init_in: the four u32 fields; newer kernels append more, which is ignored', () => {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(7, 0);
    b.writeUInt32LE(38, 4);
    b.writeUInt32LE(131072, 8);
    b.writeUInt32LE(0xffff_ffff, 12);
    expect(decodeInitIn(b)).toEqual({ major: 7, minor: 38, maxReadahead: 131072, flags: 0xffff_ffff });
    expect(decodeInitIn(b.subarray(0, 16))).toMatchObject({ major: 7, minor: 38 });
  });

  it('fuse_init_in: a body shorter than 16 bytes is refused with a RangeError', () => {
    expect(() => decodeInitIn(Buffer.alloc(15))).toThrow(RangeError);
    expect(() => decodeInitIn(Buffer.alloc(0))).toThrow(RangeError);
  });

  it('readCString: the bytes before the NUL and the offset after it', () => {
    const b = Buffer.from('ab\0cde\0', 'latin1');
    const first = readCString(b, 0, b.length)!;
    expect(first.bytes.toString()).toBe('ab');
    expect(first.next).toBe(3);
    const second = readCString(b, first.next, b.length)!;
    expect(second.bytes.toString()).toBe('cde');
    expect(second.next).toBe(7);
    expect(readCString(Buffer.from('\0'), 0, 1)).toEqual({ bytes: Buffer.alloc(0), next: 1 });
  });

  it('readCString: undefined without a NUL, or when the NUL lies at or beyond `end`', () => {
    expect(readCString(Buffer.from('abc'), 0, 3)).toBeUndefined();
    expect(readCString(Buffer.alloc(0), 0, 0)).toBeUndefined();
    const b = Buffer.from('abc\0', 'latin1');
    expect(readCString(b, 0, 3)).toBeUndefined();
    expect(readCString(b, 4, 4)).toBeUndefined();
  });
});

describe('encodeDirents', () => {
  const names = ['.', '..', 'a', 'seven77', 'eight888', 'x'.repeat(17)].map((n) => Buffer.from(n));

  /** Parses a fuse_dirent stream back into entries. */
  function parse(b: Buffer): { ino: bigint; off: number; name: string; type: number; size: number }[] {
    const out = [];
    let at = 0;
    while (at < b.length) {
      const namelen = b.readUInt32LE(at + 16);
      const size = direntSize(namelen);
      out.push({
        ino: b.readBigUInt64LE(at),
        off: Number(b.readBigUInt64LE(at + 8)),
        type: b.readUInt32LE(at + 20),
        name: b.subarray(at + DIRENT_HEADER_SIZE, at + DIRENT_HEADER_SIZE + namelen).toString(),
        size,
      });
      // padding after the name is zero
      expect(b.subarray(at + DIRENT_HEADER_SIZE + namelen, at + size).every((x) => x === 0)).toBe(true);
      at += size;
    }
    expect(at).toBe(b.length);
    return out;
  }

  it('direntSize pads header + name to 8 bytes', () => {
    expect(direntSize(1)).toBe(32);
    expect(direntSize(7)).toBe(32);
    expect(direntSize(8)).toBe(32);
    expect(direntSize(9)).toBe(40);
    expect(direntSize(0)).toBe(24);
  });

  it('packs every entry 8-byte aligned with off = index of the next entry', () => {
    const b = encodeDirents(names, 0, 4096);
    expect(b.length % 8).toBe(0);
    const entries = parse(b);
    expect(entries.map((e) => e.name)).toEqual(['.', '..', 'a', 'seven77', 'eight888', 'x'.repeat(17)]);
    expect(entries.map((e) => e.off)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(entries.map((e) => e.size)).toEqual([32, 32, 32, 32, 32, 48]);
    expect(entries.every((e) => e.ino === BigInt(UNKNOWN_INO) && e.type === 0)).toBe(true);
  });

  it('stops before an entry that would exceed maxBytes (an exact fit is taken)', () => {
    expect(parse(encodeDirents(names, 0, 96)).map((e) => e.name)).toEqual(['.', '..', 'a']);
    expect(parse(encodeDirents(names, 0, 95)).map((e) => e.name)).toEqual(['.', '..']);
    expect(encodeDirents(names, 0, 31).length).toBe(0);
  });

  it('resumes at an offset, and past the end yields nothing', () => {
    const first = parse(encodeDirents(names, 0, 64));
    const rest = parse(encodeDirents(names, first[first.length - 1]!.off, 4096));
    expect([...first, ...rest].map((e) => e.name)).toEqual(['.', '..', 'a', 'seven77', 'eight888', 'x'.repeat(17)]);
    expect(rest.map((e) => e.off)).toEqual([3, 4, 5, 6]);
    expect(encodeDirents(names, names.length, 4096).length).toBe(0);
    expect(encodeDirents(names, 100, 4096).length).toBe(0);
  });
});

describe('u64 fields without BigInt', () => {
  it('writeU64 writes what writeBigUInt64LE / writeBigInt64LE would, for every range a field takes', () => {
    for (const v of [0, 1, 0xffffffff, 0x100000000, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER, -1, -2, -(2 ** 33) - 7]) {
      const ours = Buffer.alloc(8, 0xaa);
      writeU64(ours, v, 0);
      const ref = Buffer.alloc(8);
      if (v < 0) ref.writeBigInt64LE(BigInt(v));
      else ref.writeBigUInt64LE(BigInt(v));
      expect(ours.toString('hex'), String(v)).toBe(ref.toString('hex'));
    }
  });

  it('readU64 reads what Number(readBigUInt64LE) would', () => {
    for (const v of [0n, 1n, 0xffffffffn, 0x100000000n, 2n ** 52n + 3n, 2n ** 53n - 1n, 2n ** 64n - 1n]) {
      const b = Buffer.alloc(12);
      b.writeBigUInt64LE(v, 4);
      expect(readU64(b, 4), String(v)).toBe(Number(v));
    }
  });
});
