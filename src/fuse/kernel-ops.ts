/**
 * The FUSE requests pmxcfs answers, translated to PveFs's path-based calls: node ids become paths
 * through the NodeTable, results become reply structures. Every name arrives as bytes and is
 * decoded losslessly (memdb/name-bytes: UTF-8, other bytes escaped), as the reference keeps bytes.
 */
import { Errno } from '../memdb/errno';
import { decodeNameBytes, encodeNameBytes } from '../memdb/name-bytes';
import {
  CREATE_IN_SIZE,
  FATTR_ATIME,
  FATTR_FH,
  FATTR_GID,
  FATTR_MODE,
  FATTR_MTIME,
  FATTR_MTIME_NOW,
  FATTR_SIZE,
  FATTR_UID,
  FOPEN_DIRECT_IO,
  MKDIR_IN_SIZE,
  MKNOD_IN_SIZE,
  Opcode,
  RENAME_IN_SIZE,
  SETATTR_IN_SIZE,
  WRITE_IN_SIZE,
  encodeAttrOut,
  encodeDirents,
  encodeEntryOut,
  encodeNegativeEntryOut,
  encodeOpenOut,
  encodeStatfsOut,
  encodeWriteOut,
  readCString,
  readU64,
  type InHeader,
  type KernelAttr,
} from './kernel/abi';
import type { NodeTable } from './kernel/node-table';
import type { Handler, HandlerResult } from './kernel/session';
import type { FuseStat } from './attributes';
import { LEGACY_VALIDITY, type KernelCache, type NameChange } from './kernel-cache';
import type { PveFs } from './pve-fs';
import { resolvePath } from './virtual-entries';

/** The reference's (libfuse's default) validity: entries and attributes cached 1 s, no negative entries. */
export const VALIDITY = LEGACY_VALIDITY;
const EMPTY = Buffer.alloc(0);
/**
 * Longest name in bytes. The kernel enforces 1024 itself unless the INIT reply raises max_pages, which
 * we do for 1 MiB writes; names stay limited as under the reference.
 */
export const NAME_MAX = 1024;

/** Largest mtime the tree, config.db and the wire can hold (u32 seconds). */
const MAX_U32 = 0xffffffff;

/** Whole seconds for the MTIME operation, clamped to the u32 range like Linux clamps times to what a file system can store. */
export function secondsForMtime(seconds: bigint): number {
  if (seconds < 0n) return 0;
  return seconds > BigInt(MAX_U32) ? MAX_U32 : Number(seconds);
}

export function kernelAttr(ino: number, st: FuseStat): KernelAttr {
  return {
    ino,
    size: st.size,
    blocks: st.blocks,
    mtime: st.mtime,
    mode: st.mode,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    blksize: st.blksize,
  };
}

/** The requests whose reply carries an entry that counts a node reference. */
const ENTRY_REPLIES: ReadonlySet<number> = new Set([Opcode.LOOKUP, Opcode.MKDIR, Opcode.MKNOD, Opcode.CREATE]);

/**
 * A LOOKUP, MKDIR, MKNOD or CREATE reply the kernel did not take: the node reference counted for it
 * is taken back (as libfuse does), else the node would stay in the table for good.
 */
export function forgetUndelivered(nodes: NodeTable, h: InHeader, body: Buffer): void {
  if (!ENTRY_REPLIES.has(h.opcode)) return;
  if (body.length < 8) return;
  nodes.forget(readU64(body, 0), 1);
}

interface DirHandle {
  path: string;
  names: Buffer[] | null;
}

/**
 * Builds the opcode handlers for one mount of `fs`; `now` gives seconds for "set mtime to now";
 * `cache` says what the kernel may keep (without it: the reference's 1 s, direct_io everywhere).
 */
export function pveHandlers(fs: PveFs, nodes: NodeTable, now: () => number, cache?: KernelCache): Partial<Record<number, Handler>> {
  const dirs = new Map<number, DirHandle>();
  let nextDirHandle = 1;
  const validity = (path: string) => (cache === undefined ? VALIDITY : cache.validity(resolvePath(path)));
  const openFlags = (path: string, flags: number) => (cache === undefined ? FOPEN_DIRECT_IO : cache.openFlags(resolvePath(path), flags));

  /** Runs `answer` once the pages of `id` are dropped if that is under way (kernel-cache.ts), else at once. */
  const afterPages = (id: number | undefined, answer: () => HandlerResult): HandlerResult | Promise<HandlerResult> => {
    const p = id === undefined ? null : (cache?.settled(id) ?? null);
    return p === null ? answer() : p.then(answer);
  };

  /** Submits a name change the kernel asked for, telling the cache which change is its own. */
  const nameChange = (change: NameChange, run: () => Promise<number>): Promise<number> => {
    const token = cache?.expect(change) ?? null;
    return run().then(
      (r) => {
        cache?.answered(token, r);
        return r;
      },
      (err: unknown) => {
        cache?.answered(token, -Errno.EIO);
        throw err;
      },
    );
  };

  const pathOf = (h: InHeader): string | undefined => nodes.path(h.nodeid);
  /** The NUL-terminated name at `at`, or -EINVAL (no terminator) / -ENAMETOOLONG. */
  const name = (body: Buffer, at: number): { name: string; next: number } | number => {
    const s = readCString(body, at, body.length);
    if (s === undefined) return -Errno.EINVAL;
    if (s.bytes.length > NAME_MAX) return -Errno.ENAMETOOLONG;
    return { name: decodeNameBytes(s.bytes), next: s.next };
  };

  /**
   * The name at `at` below directory node `parent` and its path: -EINVAL/-ENAMETOOLONG for the name,
   * -ENOENT when the parent has no path.
   */
  const child = (parent: number, body: Buffer, at: number): { name: string; path: string; next: number } | number => {
    const n = name(body, at);
    if (typeof n === 'number') return n;
    const path = nodes.childPath(parent, n.name);
    if (path === undefined) return -Errno.ENOENT;
    return { name: n.name, path, next: n.next };
  };

  /** An entry reply for `parent/childName` (counted in the node table), or -errno. */
  const entry = (parent: number, childName: string, path: string): Buffer | number => {
    const st = fs.getattr(path);
    if (typeof st === 'number') return st;
    const id = nodes.remember(parent, childName);
    cache?.namesHandedOut();
    return encodeEntryOut(id, kernelAttr(id, st), validity(path));
  };

  const attrOf = (id: number, path: string): Buffer | number => {
    const st = fs.getattr(path);
    if (typeof st === 'number') return st;
    return encodeAttrOut(kernelAttr(id, st), validity(path));
  };

  const okOrErr = (r: number): HandlerResult => (r < 0 ? r : EMPTY);

  const handlers: Partial<Record<number, Handler>> = {
    [Opcode.LOOKUP]: (h, body) => {
      const c = child(h.nodeid, body, 0);
      if (typeof c === 'number') return c;
      return afterPages(nodes.childId(h.nodeid, c.name), () => {
        const e = entry(h.nodeid, c.name, c.path);
        // A missing name is remembered by the kernel (a negative entry) while names are notified.
        const negative = cache?.negativeSeconds() ?? 0;
        if (e !== -Errno.ENOENT || negative === 0) return e;
        cache?.namesHandedOut();
        return encodeNegativeEntryOut(negative);
      });
    },
    [Opcode.FORGET]: (h, body) => {
      if (body.length >= 8) nodes.forget(h.nodeid, readU64(body, 0));
      return null;
    },
    [Opcode.BATCH_FORGET]: (_h, body) => {
      if (body.length < 8) return null;
      const count = body.readUInt32LE(0);
      for (let i = 0; i < count && 8 + i * 16 + 16 <= body.length; i++) {
        const at = 8 + i * 16;
        nodes.forget(readU64(body, at), readU64(body, at + 8));
      }
      return null;
    },
    [Opcode.GETATTR]: (h) => {
      const path = pathOf(h);
      return path === undefined ? -Errno.ENOENT : afterPages(h.nodeid, () => attrOf(h.nodeid, path));
    },
    [Opcode.SETATTR]: (h, body) => {
      if (body.length < SETATTR_IN_SIZE) return -Errno.EINVAL;
      const path = pathOf(h);
      if (path === undefined) return -Errno.ENOENT;
      const valid = body.readUInt32LE(0);
      const size = readU64(body, 16);
      const mtime = body.readBigInt64LE(40);
      const mode = body.readUInt32LE(68);
      const uid = body.readUInt32LE(76);
      const gid = body.readUInt32LE(80);
      return setattr(fs, path, { valid, size, mtime, mode, uid, gid }, now).then((r) => (r < 0 ? r : afterPages(h.nodeid, () => attrOf(h.nodeid, path))));
    },
    [Opcode.READLINK]: (h) => {
      const path = pathOf(h);
      if (path === undefined) return -Errno.ENOENT;
      const target = fs.readlink(path);
      return typeof target === 'number' ? target : encodeNameBytes(target);
    },
    [Opcode.SYMLINK]: () => fs.symlink(),
    [Opcode.LINK]: () => fs.link(),
    [Opcode.MKNOD]: (h, body) => {
      if (body.length < MKNOD_IN_SIZE) return -Errno.EINVAL;
      const c = child(h.nodeid, body, MKNOD_IN_SIZE);
      if (typeof c === 'number') return c;
      const mode = body.readUInt32LE(0);
      return nameChange({ op: 'create', path: c.path }, () => fs.mknod(c.path, mode)).then((r) => (r < 0 ? r : entry(h.nodeid, c.name, c.path)));
    },
    [Opcode.MKDIR]: (h, body) => {
      const c = child(h.nodeid, body, MKDIR_IN_SIZE);
      if (typeof c === 'number') return c;
      return nameChange({ op: 'mkdir', path: c.path }, () => fs.mkdir(c.path)).then((r) => (r < 0 ? r : entry(h.nodeid, c.name, c.path)));
    },
    [Opcode.UNLINK]: (h, body) => remove(h, body, (p) => nameChange({ op: 'delete', path: p }, () => fs.unlink(p))),
    [Opcode.RMDIR]: (h, body) => remove(h, body, (p) => nameChange({ op: 'delete', path: p }, () => fs.rmdir(p))),
    [Opcode.RENAME]: (h, body) => {
      if (body.length < RENAME_IN_SIZE) return -Errno.EINVAL;
      const newParent = readU64(body, 0);
      const from = child(h.nodeid, body, RENAME_IN_SIZE);
      if (typeof from === 'number') return from;
      const to = child(newParent, body, from.next);
      if (typeof to === 'number') return to;
      return nameChange({ op: 'rename', path: from.path, to: to.path }, () => fs.rename(from.path, to.path)).then((r) => {
        if (r < 0) return r;
        nodes.renamed(h.nodeid, from.name, newParent, to.name);
        return EMPTY;
      });
    },
    [Opcode.OPEN]: (h, body) => {
      const path = pathOf(h);
      if (path === undefined) return -Errno.ENOENT;
      const flags = body.length >= 4 ? body.readUInt32LE(0) : 0;
      return afterPages(h.nodeid, () => {
        const fh = fs.open(path);
        return fh < 0 ? fh : encodeOpenOut(fh, openFlags(path, flags));
      });
    },
    [Opcode.CREATE]: (h, body) => {
      const c = child(h.nodeid, body, CREATE_IN_SIZE);
      if (typeof c === 'number') return c;
      const flags = body.length >= 4 ? body.readUInt32LE(0) : 0;
      return nameChange({ op: 'create', path: c.path }, () => fs.create(c.path)).then((fh) => {
        if (fh < 0) return fh;
        const e = entry(h.nodeid, c.name, c.path);
        if (typeof e === 'number') {
          void fs.release(c.path, fh);
          return e;
        }
        return Buffer.concat([e, encodeOpenOut(fh, openFlags(c.path, flags))]);
      });
    },
    [Opcode.READ]: (h, body) => {
      if (body.length < 24) return -Errno.EINVAL;
      const path = pathOf(h);
      if (path === undefined) return -Errno.ENOENT;
      const fh = readU64(body, 0);
      const offset = readU64(body, 8);
      const size = body.readUInt32LE(16);
      const data = fs.read(path, fh, offset, size);
      return typeof data === 'number' ? data : data.subarray(0, size);
    },
    [Opcode.WRITE]: (h, body) => {
      if (body.length < WRITE_IN_SIZE) return -Errno.EINVAL;
      const path = pathOf(h);
      if (path === undefined) return -Errno.ENOENT;
      const offset = readU64(body, 8);
      const size = body.readUInt32LE(16);
      if (WRITE_IN_SIZE + size > body.length) return -Errno.EINVAL;
      // PveFs.write copies what it keeps before it returns, so the request buffer can be passed as is.
      const r = fs.write(path, offset, body.subarray(WRITE_IN_SIZE, WRITE_IN_SIZE + size));
      return r < 0 ? r : encodeWriteOut(r);
    },
    [Opcode.STATFS]: () => {
      const s = fs.statfs();
      return encodeStatfsOut({ blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, bsize: s.bsize, namelen: s.namemax, frsize: s.frsize });
    },
    [Opcode.FLUSH]: (h) => fs.flush(pathOf(h)).then(okOrErr),
    [Opcode.FSYNC]: (h) => fs.flush(pathOf(h)).then(okOrErr),
    [Opcode.RELEASE]: (h, body) => {
      const fh = body.length >= 8 ? readU64(body, 0) : 0;
      return fs.release(pathOf(h), fh).then(okOrErr);
    },
    [Opcode.OPENDIR]: (h) => {
      const path = pathOf(h);
      if (path === undefined) return -Errno.ENOENT;
      const fh = nextDirHandle;
      nextDirHandle = nextDirHandle >= Number.MAX_SAFE_INTEGER ? 1 : nextDirHandle + 1;
      dirs.set(fh, { path, names: null });
      return encodeOpenOut(fh, 0);
    },
    [Opcode.READDIR]: (_h, body) => {
      if (body.length < 24) return -Errno.EINVAL;
      const dir = dirs.get(readU64(body, 0));
      if (dir === undefined) return -Errno.EBADF;
      const offset = readU64(body, 8);
      const size = body.readUInt32LE(16);
      // The listing is taken at the first read and kept, so offsets stay stable across READDIRs.
      if (dir.names === null || offset === 0) {
        const names = fs.readdir(dir.path);
        if (typeof names === 'number') return names;
        dir.names = names.map((n) => encodeNameBytes(n));
      }
      return encodeDirents(dir.names, offset, size);
    },
    [Opcode.RELEASEDIR]: (_h, body) => {
      if (body.length >= 8) dirs.delete(readU64(body, 0));
      return EMPTY;
    },
    [Opcode.FSYNCDIR]: () => EMPTY,
  };

  function remove(h: InHeader, body: Buffer, op: (path: string) => Promise<number>): HandlerResult | Promise<HandlerResult> {
    const c = child(h.nodeid, body, 0);
    if (typeof c === 'number') return c;
    return op(c.path).then((r) => {
      if (r < 0) return r;
      nodes.removed(h.nodeid, c.name);
      return EMPTY;
    });
  }

  return handlers;
}

interface SetattrIn {
  valid: number;
  size: number;
  mtime: bigint;
  mode: number;
  uid: number;
  gid: number;
}

/** SETATTR as libfuse's path API runs it: chmod, chown, (f)truncate, utimens, stopping at the first error. */
async function setattr(fs: PveFs, path: string, a: SetattrIn, now: () => number): Promise<number> {
  if (a.valid & FATTR_MODE) {
    const r = fs.chmod(path, a.mode);
    if (r < 0) return r;
  }
  if (a.valid & (FATTR_UID | FATTR_GID)) {
    const r = fs.chown(path, a.valid & FATTR_UID ? a.uid : 0xffffffff, a.valid & FATTR_GID ? a.gid : 0xffffffff);
    if (r < 0) return r;
  }
  if (a.valid & FATTR_SIZE) {
    // With a file handle (ftruncate, open with O_TRUNC) the size is part of the buffered content.
    const r = a.valid & FATTR_FH ? fs.ftruncate(path, a.size) : await fs.truncate(path, a.size);
    if (r < 0) return r;
  }
  // As the reference's libfuse 2: utimens runs only when both times are given (touch, utime(2),
  // Perl's utime); an atime-only or mtime-only change (touch -a, touch -m) succeeds and changes nothing.
  if ((a.valid & (FATTR_MTIME | FATTR_ATIME)) === (FATTR_MTIME | FATTR_ATIME)) {
    const mtime = a.valid & FATTR_MTIME_NOW ? now() : secondsForMtime(a.mtime);
    const r = await fs.utimens(path, mtime);
    if (r < 0) return r;
  }
  return 0;
}
