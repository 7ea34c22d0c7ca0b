/**
 * The file system as the kernel sees it (spec §8): every FUSE operation with its errno rules,
 * the permission model, the virtual entries, and per-file write buffering. Results are values
 * (>= 0 / objects) or -errno; kernel-ops.ts only translates FUSE requests into these calls.
 */
import { Errno } from '../memdb/errno';
import type { StatFs } from '../memdb/memdb';
import { isLockDir } from '../memdb/paths';
import { DT_DIR, entrySize, type FsOp } from '../memdb/types';
import type { FsBackend } from '../daemon/backend';
import { S_IFMT, S_IFREG, acceptedChmodMode, buildStat, permissionBits, type FuseStat } from './attributes';
import { WriteBuffers } from './write-buffer';
import {
  STATUS_FILE_NAMES,
  VIRTUAL_LINK_NAMES,
  isVirtualName,
  linkTarget,
  resolvePath,
  type PathTarget,
} from './virtual-entries';
import {
  renderStatusFile,
  statusFileMode,
  truncateStatusFile,
  writeStatusFile,
  type DebugSwitch,
} from './status-files';

/** The times of the symlinks and status files: the reference fills in none (1970-01-01). */
const VIRTUAL_MTIME = 0;

export interface PveFsOptions {
  backend: FsBackend;
  nodename: string;
  /** gid of group www-data: the group of every file. */
  gid: number;
  debug: DebugSwitch;
}

/** memdb's statfs figures plus the two fields the kernel's statvfs also wants. */
export interface FsStatfs extends StatFs {
  fsid: number;
  flag: number;
}

/** chown's "leave unchanged" value (uid_t/gid_t -1 as the kernel passes it). */
const ID_UNCHANGED = 0xffffffff;

export class PveFs {
  private readonly buffers: WriteBuffers;
  /** Open file handles; status files keep the text rendered at open for all their reads. */
  private readonly handles = new Map<number, Buffer | null>();
  private nextHandle = 1;
  /**
   * Told when buffered content that the kernel may have cached is dropped without reaching the
   * tree (its commit failed): the kernel's copy must go too.
   */
  onContentDiscarded: ((path: string) => void) | null = null;
  /**
   * Told before buffered content (which the kernel wrote through its page cache) is committed;
   * the function it returns is called with the commit's result.
   */
  onOwnCommit: ((path: string, content: Buffer) => (result: number) => void) | null = null;

  constructor(private readonly o: PveFsOptions) {
    this.buffers = new WriteBuffers(
      (path) => this.loadContent(path),
      (path, content) => {
        const committed = this.onOwnCommit?.(path, content);
        return o.backend.submit({ kind: 'write', path, offset: 0, data: content, truncate: true }).then(
          (r) => r,
          () => -Errno.EIO,
        ).then((r) => {
          committed?.(r);
          if (r < 0) this.onContentDiscarded?.(path);
          return r;
        });
      },
    );
  }

  private get memdb() {
    return this.o.backend.memdb;
  }

  // ---- reads -------------------------------------------------------------------------------

  getattr(fusePath: string): FuseStat | number {
    const t = resolvePath(fusePath);
    const quorate = this.o.backend.quorate();
    switch (t.kind) {
      case 'below-virtual':
        return -Errno.ENOENT;
      case 'link':
        return buildStat({
          kind: 'link',
          perm: permissionBits('link', t.name, quorate),
          size: linkTarget(t.name, this.o.nodename).length,
          mtime: VIRTUAL_MTIME,
          gid: this.o.gid,
          virtual: true,
        });
      case 'status': {
        const content = renderStatusFile(t.name, this.o.backend.status, this.o.debug);
        return buildStat({
          kind: 'file',
          perm: statusFileMode(t.name),
          size: content.length,
          mtime: VIRTUAL_MTIME,
          gid: this.o.gid,
          virtual: true,
        });
      }
      case 'memdb': {
        const entry = this.memdb.lookup(t.path);
        if (entry === undefined) return -Errno.ENOENT;
        const kind = entry.type === DT_DIR ? 'dir' : 'file';
        const buffered = this.buffers.content(t.path);
        return buildStat({
          kind,
          perm: permissionBits(kind, t.path, quorate),
          size: buffered !== undefined ? buffered.length : entrySize(entry),
          // The reference answers the root from its plug tree, not from memdb: mtime 0.
          mtime: t.path === '' ? VIRTUAL_MTIME : entry.mtime,
          gid: this.o.gid,
        });
      }
    }
  }

  readdir(fusePath: string): string[] | number {
    const t = resolvePath(fusePath);
    if (t.kind === 'below-virtual') return -Errno.ENOENT;
    if (t.kind !== 'memdb') return -Errno.ENOTDIR;
    const names = this.memdb.readdir(t.path);
    if (typeof names === 'number') return names;
    if (t.path !== '') return ['.', '..', ...names];
    // Virtual names shadow memdb entries of the same name.
    return ['.', '..', ...names.filter((n) => !isVirtualName(n)), ...VIRTUAL_LINK_NAMES, ...STATUS_FILE_NAMES];
  }

  readlink(fusePath: string): string | number {
    const t = resolvePath(fusePath);
    if (t.kind === 'link') return linkTarget(t.name, this.o.nodename);
    if (t.kind === 'memdb' && this.memdb.lookup(t.path) === undefined) return -Errno.ENOENT;
    return -Errno.EINVAL;
  }

  statfs(): FsStatfs {
    return { ...this.memdb.statfs(), fsid: 0, flag: 0 };
  }

  /** Returns a handle (> 0) or -errno. */
  open(fusePath: string): number {
    const t = resolvePath(fusePath);
    if (t.kind === 'below-virtual') return -Errno.ENOENT;
    if (t.kind === 'memdb' && this.memdb.lookup(t.path) === undefined) return -Errno.ENOENT;
    const content = t.kind === 'status' ? renderStatusFile(t.name, this.o.backend.status, this.o.debug) : null;
    return this.newHandle(content);
  }

  read(fusePath: string, handle: number, offset: number, length: number): Buffer | number {
    const t = resolvePath(fusePath);
    if (t.kind === 'status') {
      const content = this.handles.get(handle) ?? renderStatusFile(t.name, this.o.backend.status, this.o.debug);
      return content.subarray(Math.min(offset, content.length), Math.min(offset + length, content.length));
    }
    if (t.kind !== 'memdb') return -Errno.EACCES;
    const buffered = this.buffers.content(t.path);
    if (buffered !== undefined) {
      return buffered.subarray(Math.min(offset, buffered.length), Math.min(offset + length, buffered.length));
    }
    return this.memdb.read(t.path, offset, length);
  }

  // ---- writes of file content (buffered) ---------------------------------------------------

  /** `data` is only read during the call (buffered content is a copy), so it may be a reused buffer. */
  write(fusePath: string, offset: number, data: Buffer): number {
    const t = resolvePath(fusePath);
    if (t.kind === 'status') return writeStatusFile(t.name, offset, data, this.o.debug);
    if (t.kind !== 'memdb') return -Errno.EACCES;
    if (!this.o.backend.quorate()) return -Errno.EACCES;
    return this.buffers.write(t.path, offset, data);
  }

  /** ftruncate(): part of the buffered content like a write. */
  ftruncate(fusePath: string, size: number): number {
    const t = resolvePath(fusePath);
    if (t.kind === 'status') return truncateStatusFile(t.name);
    if (t.kind !== 'memdb') return -Errno.EACCES;
    if (!this.o.backend.quorate()) return -Errno.EACCES;
    return this.buffers.truncate(t.path, size);
  }

  /** truncate() by path: no close follows, so it is committed at once (with any buffered data). */
  async truncate(fusePath: string, size: number): Promise<number> {
    const t = resolvePath(fusePath);
    if (t.kind === 'status') return truncateStatusFile(t.name);
    if (t.kind !== 'memdb') return -Errno.EACCES;
    if (!this.o.backend.quorate()) return -Errno.EACCES;
    if (this.buffers.has(t.path)) {
      const r = this.buffers.truncate(t.path, size);
      if (r < 0) return r;
      return this.buffers.flush(t.path);
    }
    if (size > 1024 * 1024) return -Errno.EFBIG;
    return this.submit({ kind: 'write', path: t.path, offset: size, data: Buffer.alloc(0), truncate: true });
  }

  /** flush (every close) and fsync: returns when the buffered content is committed. */
  async flush(fusePath: string | undefined): Promise<number> {
    if (fusePath === undefined) return 0;
    const t = resolvePath(fusePath);
    if (t.kind !== 'memdb') return 0;
    return this.buffers.flush(t.path);
  }

  async release(fusePath: string | undefined, handle: number): Promise<number> {
    this.handles.delete(handle);
    return this.flush(fusePath);
  }

  /** Commits everything buffered (shutdown). */
  flushAll(): Promise<number> {
    return this.buffers.flushAll();
  }

  // ---- tree mutations ----------------------------------------------------------------------

  async create(fusePath: string): Promise<number> {
    const r = await this.createFile(fusePath);
    return r < 0 ? r : this.newHandle(null);
  }

  /**
   * mknod(2): only regular files exist here, created as by create (what libfuse does for the
   * reference, which has create but no mknod); every other kind is ENOSYS, as there.
   */
  async mknod(fusePath: string, mode: number): Promise<number> {
    if ((mode & S_IFMT) !== S_IFREG) return -Errno.ENOSYS;
    return this.createFile(fusePath);
  }

  async mkdir(fusePath: string): Promise<number> {
    const path = this.mutablePath(resolvePath(fusePath));
    if (typeof path === 'number') return path;
    return this.submit({ kind: 'mkdir', path });
  }

  rmdir(fusePath: string): Promise<number> {
    return this.remove(fusePath);
  }

  unlink(fusePath: string): Promise<number> {
    return this.remove(fusePath);
  }

  async rename(fromPath: string, toPath: string): Promise<number> {
    const from = this.mutablePath(resolvePath(fromPath));
    if (typeof from === 'number') return from;
    const to = this.mutablePath(resolvePath(toPath));
    if (typeof to === 'number') return to;
    const r = await this.flushBoth(from, to);
    if (r < 0) return r;
    return this.submit({ kind: 'rename', path: from, to });
  }

  /** utimens with the new mtime in seconds; mtime 0 on a lock directory is an unlock request. */
  async utimens(fusePath: string, mtime: number): Promise<number> {
    const path = this.mutablePath(resolvePath(fusePath));
    if (typeof path === 'number') return path;
    const r = await this.buffers.flush(path);
    if (r < 0) return r;
    if (mtime === 0 && isLockDir(path)) return this.o.backend.requestUnlock(path);
    return this.submit({ kind: 'mtime', path, mtime });
  }

  // ---- metadata no-ops and refused operations ------------------------------------------------

  chmod(fusePath: string, mode: number): number {
    const t = resolvePath(fusePath);
    if (t.kind === 'below-virtual') return -Errno.ENOENT;
    const path = t.kind === 'memdb' ? t.path : t.name;
    return (mode & 0o7777) === acceptedChmodMode(path) ? 0 : -Errno.EPERM;
  }

  chown(fusePath: string, uid: number, gid: number): number {
    if (resolvePath(fusePath).kind === 'below-virtual') return -Errno.ENOENT;
    const uidOk = uid === 0 || uid === ID_UNCHANGED || uid === -1;
    const gidOk = gid === this.o.gid || gid === ID_UNCHANGED || gid === -1;
    return uidOk && gidOk ? 0 : -Errno.EPERM;
  }

  /** Hard links do not exist here; EPERM is what the kernel answers for file systems without them. */
  link(): number {
    return -Errno.EPERM;
  }

  symlink(): number {
    return -Errno.ENOSYS;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private async remove(fusePath: string): Promise<number> {
    const path = this.mutablePath(resolvePath(fusePath));
    if (typeof path === 'number') return path;
    const r = await this.buffers.flush(path);
    if (r < 0) return r;
    return this.submit({ kind: 'delete', path });
  }

  private async createFile(fusePath: string): Promise<number> {
    const path = this.mutablePath(resolvePath(fusePath));
    if (typeof path === 'number') return path;
    return this.submit({ kind: 'create', path });
  }

  private async flushBoth(a: string, b: string): Promise<number> {
    const ra = await this.buffers.flush(a);
    if (ra < 0) return ra;
    return this.buffers.flush(b);
  }

  /** The memdb path of a tree mutation, or EACCES for virtual names or without quorum. */
  private mutablePath(t: PathTarget): string | number {
    if (t.kind !== 'memdb') return -Errno.EACCES;
    if (!this.o.backend.quorate()) return -Errno.EACCES;
    return t.path;
  }

  private async submit(op: FsOp): Promise<number> {
    if (!this.o.backend.quorate()) return -Errno.EACCES;
    const r = await this.o.backend.submit(op);
    return r < 0 ? r : 0;
  }

  private loadContent(path: string): Buffer | number {
    const entry = this.memdb.lookup(path);
    if (entry === undefined) return -Errno.ENOENT;
    if (entry.type === DT_DIR) return -Errno.ENOTDIR;
    return entry.data === null ? Buffer.alloc(0) : entry.data;
  }

  private newHandle(content: Buffer | null): number {
    const handle = this.nextHandle;
    this.nextHandle = this.nextHandle >= 0x7fffffff ? 1 : this.nextHandle + 1;
    this.handles.set(handle, content);
    return handle;
  }
}
