/**
 * MemDb: the tree in RAM (spec §2) kept in step with its store (spec §3), with the VMID list (§8.6)
 * and the lock table (§8.7). Pure apart from the store it is given: no clock reads, no timers —
 * every time it needs comes in as a parameter.
 *
 * API CONTRACT (other modules build on exactly these signatures):
 * - `MemDb.open(store, now)` loads every row, refuses what the reference refuses or what cannot be
 *   served (throws MemDbLoadError naming the bad row; rows.ts), builds vmlist and lock table. A store
 *   without a global version gets version 1 and its `__version__` row; oddities the reference loads
 *   silently are in `loadWarnings`.
 * - `apply(op, origin, now)` runs one mutation with the errno rules of §2/§8.5/§8.6/§8.7, persists
 *   it through `store.commit` in one transaction and returns the result (>= 0) or -errno. When the
 *   sticky `errors` flag is set every mutation returns -EIO; a failing store commit sets it —
 *   except a full disk (the store throws StoreFullError): that operation alone returns -ENOSPC,
 *   nothing changes, and later operations are tried again (the reference goes EIO for good).
 * - Reads never mutate.
 *
 * Every mutation checks everything first, then commits the staged rows, and only after a
 * successful commit changes RAM: RAM and the store never diverge, whatever fails.
 */
import { lockChecksum as entryLockChecksum, verifyChecksum as treeVerifyChecksum } from './checksum';
import { Errno } from './errno';
import { decodeIndex, encodeIndex, IndexDecodeError } from './index-codec';
import { MemDbLoadError } from './load-error';
import { StoreFullError } from './store-full';
import { LockTable } from './lock-table';
import {
  isForbiddenBaseName,
  isLockDirParts,
  parseGuestConfigParts,
  splitPath,
  walkPath,
  type GuestConfigPath,
} from './paths';
import { buildTree, versionRow, type BuiltTree } from './rows';
import {
  DT_DIR,
  DT_REG,
  MEMDB_BLOCKSIZE,
  MEMDB_MAX_FILE_SIZE,
  MEMDB_MAX_FSSIZE,
  MEMDB_MAX_INODES,
  entrySize,
  type Change,
  type DbRow,
  type Entry,
  type FsOp,
  type OpOrigin,
} from './types';
import { VmRegistry, type VmList } from './vmlist';

export { MemDbLoadError } from './load-error';
export { StoreFullError } from './store-full';
export type { VmList, VmGuest } from './vmlist';

/** A persistence backend: SQLite in the daemon, a Map in the simulation. */
export interface TreeStore {
  /** Every row of table `tree`, in any order. Throws on an unreadable database. */
  load(): DbRow[];
  /**
   * Persist one change in one transaction (REPLACE upserts, DELETE deletes, REPLACE version row).
   * Throws on failure (nothing written): StoreFullError when the disk is full, anything else otherwise.
   */
  commit(change: Change): void;
  /**
   * The sync commit of spec §3 in one transaction: delete every inode in `deletes`, REPLACE every
   * row in `upserts` (inode 0 = the version row), then read back all rows and call `verify` with
   * them; COMMIT only if it returns true, else ROLLBACK and return false. Throws on I/O failure
   * (StoreFullError when the disk is full; nothing written either way).
   */
  replaceTree(deletes: number[], upserts: DbRow[], verify: (rows: DbRow[]) => boolean): boolean;
  close(): void;
}

export interface StatFs {
  bsize: number;
  frsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail: number;
  namemax: number;
}

/** Listener for changes that the status layer (.version counters) and dcdb (corosync.conf) need. */
export interface MemDbListener {
  /** A write/truncate/create/mtime/delete of `path` or a rename from/to it succeeded (not mkdir). */
  pathChanged(path: string): void;
  /** The whole tree was (re)loaded: start-up or sync commit. */
  treeReloaded(): void;
}

/**
 * What one applied change did to the tree, for caches of it (the kernel's, src/fuse/kernel-cache.ts):
 * the content or times of an existing entry, a name that appeared or went, or the whole tree.
 */
export type TreeChange =
  | { kind: 'content'; path: string }
  | { kind: 'name'; op: 'create' | 'mkdir' | 'delete'; path: string }
  | { kind: 'name'; op: 'rename'; path: string; to: string }
  | { kind: 'reload' };

const STATFS_BLOCKS = MEMDB_MAX_FSSIZE / MEMDB_BLOCKSIZE;
const STATFS_NAMEMAX = 256;

/** Where a path's parent resolved to, or the errno of resolving it. */
type ParentLookup = { dir: Entry; base: string; parts: string[] } | number;

export class MemDb {
  private root: Entry;
  private inodes: Map<number, Entry>;
  private errorFlag = false;
  private listener: MemDbListener | undefined;
  private readonly observers = new Set<(change: TreeChange) => void>();
  private readonly vms = new VmRegistry();
  private readonly locks = new LockTable();
  /** Σ file sizes, for statfs. */
  private totalBytes = 0;
  /** What `open` loaded although it is odd (the reference loads it silently): one line per oddity. */
  loadWarnings: readonly string[] = [];

  private constructor(readonly store: TreeStore, tree: BuiltTree) {
    this.root = tree.root;
    this.inodes = tree.inodes;
  }

  /**
   * Load and validate every row; a fresh (empty) store gets version 1 and its `__version__` row
   * (writer 0, mtime `now`). Throws MemDbLoadError naming the bad row, or a duplicate VMID.
   */
  static open(store: TreeStore, now: number): MemDb {
    const tree = buildTree(store.load());
    if (tree.root.version === 0) {
      // As the reference: a database without a global version (fresh, or rows without the
      // `__version__` row) gets version 1 and its version row (writer 0, mtime now).
      const row = versionRow(1, 0, now);
      store.commit({ upserts: [], deletes: [], version: row });
      tree.root.version = 1;
      tree.root.writer = 0;
      tree.root.mtime = now;
    }
    if (tree.highest > tree.root.version) {
      // The reference loads this too and would then hand out an inode that exists already (its
      // REPLACE overwrites that row). New inodes are root.version + 1, so start above every one in
      // use; the version row is written with the next change.
      tree.root.version = tree.highest;
    }
    const db = new MemDb(store, tree);
    db.loadWarnings = tree.warnings;
    const duplicates = db.vms.rebuild(db.root);
    if (duplicates.length > 0) {
      const d = duplicates[0]!;
      throw new MemDbLoadError(
        `config.db: detected duplicate VMID ${d.vmid}: nodes/${d.first.node} (${d.first.type}) and nodes/${d.second.node} (${d.second.type})`,
      );
    }
    db.afterReload(now);
    return db;
  }

  /** The global version (root.version). */
  get version(): number {
    return this.root.version;
  }

  /**
   * Sticky: set by a failed commit or a failed sync; every mutation then returns -EIO. A full disk
   * does not set it (the operation fails with -ENOSPC / the sync returns false, nothing changed).
   */
  get errors(): boolean {
    return this.errorFlag;
  }

  setListener(l: MemDbListener): void {
    this.listener = l;
  }

  /** Calls `fn` after every applied change (synchronously, before apply returns); returns the unsubscribe. */
  observe(fn: (change: TreeChange) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  private emit(change: TreeChange): void {
    for (const fn of this.observers) fn(change);
  }

  // ---- reads ----

  /** The entry at `path` ('' '.' '/' = root; trailing slashes ok). Do not mutate it. */
  lookup(path: string): Entry | undefined {
    if (path === '.') return this.root; // splitPath's root form
    return walkPath(path, this.root, childEntry);
  }

  /** Entry by inode (root = 0). Do not mutate it. */
  entryByInode(inode: number): Entry | undefined {
    return this.inodes.get(inode);
  }

  /** The path of an entry ('' for the root). */
  pathOf(entry: Entry): string {
    const names: string[] = [];
    let e: Entry | undefined = entry;
    while (e !== undefined && e.inode !== 0) {
      names.push(e.name);
      e = this.inodes.get(e.parent);
    }
    return names.reverse().join('/');
  }

  /** Every entry, the root included, in no particular order. Do not mutate them. */
  entries(): IterableIterator<Entry> {
    return this.inodes.values();
  }

  /** A slice of a file's content (do not mutate it); -ENOENT for directories and missing paths. */
  read(path: string, offset: number, size: number): Buffer | number {
    const e = this.lookup(path);
    if (e === undefined || e.type !== DT_REG) return -Errno.ENOENT;
    if (e.data === null || offset >= e.data.length || size <= 0) return Buffer.alloc(0);
    return e.data.subarray(offset, Math.min(e.data.length, offset + size));
  }

  /** Child names of a directory; -ENOENT when missing, -ENOTDIR for a file. */
  readdir(path: string): string[] | number {
    const e = this.lookup(path);
    if (e === undefined) return -Errno.ENOENT;
    if (e.children === null) return -Errno.ENOTDIR;
    return [...e.children.keys()];
  }

  statfs(): StatFs {
    const used = Math.ceil(this.totalBytes / MEMDB_BLOCKSIZE);
    const free = Math.max(0, STATFS_BLOCKS - used);
    const ffree = Math.max(0, MEMDB_MAX_INODES - this.inodes.size);
    return {
      bsize: MEMDB_BLOCKSIZE,
      frsize: MEMDB_BLOCKSIZE,
      blocks: STATFS_BLOCKS,
      bfree: free,
      bavail: free,
      files: MEMDB_MAX_INODES,
      ffree,
      favail: ffree,
      namemax: STATFS_NAMEMAX,
    };
  }

  // ---- checksums ----

  /** The index of spec §2.1 (the dcdb DFSM state). */
  encodeIndex(): Buffer {
    return encodeIndex(this.inodes.values());
  }

  /** The verify checksum of spec §2.1 (32 bytes). */
  verifyChecksum(): Buffer {
    return treeVerifyChecksum(this.inodes.values());
  }

  /** The lock checksum of the entry at `path`, or undefined when it does not exist. */
  lockChecksum(path: string): Buffer | undefined {
    const e = this.lookup(path);
    return e === undefined ? undefined : entryLockChecksum(e);
  }

  // ---- VMID list and locks ----

  /** The VMID list; read-only for callers (it changes with the tree). */
  vmlist(): VmList {
    return this.vms;
  }

  /** The lock table (read-only use: inspection and tests). */
  lockTable(): LockTable {
    return this.locks;
  }

  /**
   * The expiry decision of spec §8.7 (lowest node in a cluster, or local mode): unknown path or
   * changed checksum -> record `now`, false; the same checksum seen for > 120 s -> true. `csum`
   * defaults to the current checksum of the lock dir; a missing dir is never expired.
   */
  lockExpired(path: string, now: number, csum?: Buffer): boolean {
    const current = this.lockChecksum(path);
    if (current === undefined) return false;
    return this.locks.expired(splitPath(path).join('/'), csum ?? current, now);
  }

  /** True when the directory at `path` still exists and its lock checksum equals `csum`. */
  lockCsumMatches(path: string, csum: Buffer): boolean {
    const e = this.lookup(path);
    return e !== undefined && e.type === DT_DIR && entryLockChecksum(e).equals(csum);
  }

  /**
   * Local mode `utime(path, 0, 0)` on a lock dir: expired -> delete it (0 or -errno), otherwise
   * the result of the mtime(0) op (-EACCES for a lock dir).
   */
  unlockLocal(path: string, now: number, origin: OpOrigin): number {
    const parts = splitPath(path);
    const e = this.resolve(parts);
    if (e !== undefined && e.type === DT_DIR && isLockDirParts(parts) && this.lockExpired(path, now)) {
      return this.apply({ kind: 'delete', path }, origin, now);
    }
    return this.apply({ kind: 'mtime', path, mtime: 0 }, origin, now);
  }

  // ---- mutations ----

  /** One mutation: >= 0 (byte count for writes) or -errno. */
  apply(op: FsOp, origin: OpOrigin, now: number): number {
    if (this.errorFlag) return -Errno.EIO;
    switch (op.kind) {
      case 'mkdir':
        return this.mkdir(op.path, origin, now);
      case 'create':
        return this.write(op.path, 0, Buffer.alloc(0), false, true, origin);
      case 'write':
        return this.write(op.path, op.offset, op.data, op.truncate, false, origin);
      case 'mtime':
        return this.mtime(op.path, op.mtime, origin, now);
      case 'delete':
        return this.delete(op.path, origin);
      case 'rename':
        return this.rename(op.path, op.to, origin);
    }
  }

  /**
   * The sync commit of spec §3: in one store transaction delete every local inode missing from
   * the leader's index, REPLACE the updates (inode 0 = the version row), reload all rows and
   * require the re-encoded index to equal `leaderIndex` byte for byte. Then swap the tree in,
   * rebuild the VMID list and lock table (ltime = now) and tell the listener. False (and the
   * errors flag set) on a bad index, a mismatch, a store failure or a duplicate VMID; false
   * WITHOUT the errors flag when the disk is full (nothing changed: RAM and store keep the old
   * tree, and a later sync may succeed).
   */
  applySync(leaderIndex: Buffer, updates: DbRow[], now: number): boolean {
    const index = decodeIndex(leaderIndex);
    if (index instanceof IndexDecodeError) {
      this.errorFlag = true;
      return false;
    }
    const keep = new Set(index.entries.map((e) => e.inode));
    const deletes = [...this.inodes.keys()].filter((inode) => inode !== 0 && !keep.has(inode));
    const upserts = updates.map((row) =>
      // the reference stores the root's update with the type it arrived with (4, a directory)
      row.inode === 0 ? { ...versionRow(row.version, row.writer, row.mtime), type: row.type } : { ...row, data: row.data !== null && row.data.length > 0 ? row.data : null },
    );
    let built: BuiltTree | undefined;
    const verify = (rows: DbRow[]): boolean => {
      try {
        const tree = buildTree(rows);
        if (!encodeIndex(tree.inodes.values()).equals(leaderIndex)) return false;
        built = tree;
        return true;
      } catch (err) {
        if (err instanceof MemDbLoadError) return false;
        throw err;
      }
    };
    let committed: boolean;
    try {
      committed = this.store.replaceTree(deletes, upserts, verify);
    } catch (err) {
      if (err instanceof StoreFullError) return false;
      committed = false;
    }
    if (!committed || built === undefined) {
      this.errorFlag = true;
      return false;
    }
    this.root = built.root;
    this.inodes = built.inodes;
    const duplicates = this.vms.rebuild(this.root);
    this.afterReload(now);
    if (duplicates.length > 0) {
      this.errorFlag = true;
      return false;
    }
    return true;
  }

  close(): void {
    this.store.close();
  }

  // ---- internals ----

  private afterReload(now: number): void {
    this.totalBytes = 0;
    for (const e of this.inodes.values()) this.totalBytes += entrySize(e);
    this.locks.clear();
    const lockDir = this.resolve(['priv', 'lock']);
    if (lockDir?.children != null) {
      for (const child of lockDir.children.values()) {
        if (child.type === DT_DIR) this.locks.set(`priv/lock/${child.name}`, entryLockChecksum(child), now);
      }
    }
    this.listener?.treeReloaded();
    this.emit({ kind: 'reload' });
  }

  private resolve(parts: readonly string[]): Entry | undefined {
    let e: Entry | undefined = this.root;
    for (const name of parts) {
      e = e.children?.get(name);
      if (e === undefined) return undefined;
    }
    return e;
  }

  /** The directory a path's last component lives in: -ENOENT / -ENOTDIR / base -EACCES. */
  private lookupParent(path: string): ParentLookup {
    const parts = splitPath(path);
    let dir: Entry = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      if (dir.children === null) return -Errno.ENOTDIR;
      const next = dir.children.get(parts[i]!);
      if (next === undefined) return -Errno.ENOENT;
      dir = next;
    }
    if (dir.children === null) return -Errno.ENOTDIR;
    const base = parts.length > 0 ? parts[parts.length - 1]! : '';
    if (isForbiddenBaseName(base)) return -Errno.EACCES;
    return { dir, base, parts };
  }

  /**
   * Persist one change: 0, -ENOSPC for a full disk (transient, nothing written), or -EIO after
   * any other failure, which sets the sticky error flag. RAM is updated by the caller after a 0.
   */
  private commit(upserts: Entry[], deletes: number[], writer: number, mtime: number): number {
    try {
      this.store.commit({ upserts, deletes, version: versionRow(this.root.version + 1, writer, mtime) });
      return 0;
    } catch (err) {
      if (err instanceof StoreFullError) return -Errno.ENOSPC;
      this.errorFlag = true;
      return -Errno.EIO;
    }
  }

  private bumpRoot(writer: number, mtime: number): number {
    this.root.version += 1;
    this.root.writer = writer;
    this.root.mtime = mtime;
    return this.root.version;
  }

  private changed(path: string): void {
    this.listener?.pathChanged(path);
  }

  private mkdir(path: string, origin: OpOrigin, now: number): number {
    const p = this.lookupParent(path);
    if (typeof p === 'number') return p;
    if (p.dir.children!.has(p.base)) return -Errno.EEXIST;
    const version = this.root.version + 1;
    const entry: Entry = {
      inode: version,
      parent: p.dir.inode,
      version,
      writer: origin.writer,
      mtime: origin.mtime,
      type: DT_DIR,
      name: p.base,
      data: null,
      children: new Map(),
    };
    const committed = this.commit([entry], [], origin.writer, origin.mtime);
    if (committed < 0) return committed;
    this.bumpRoot(origin.writer, origin.mtime);
    p.dir.children!.set(entry.name, entry);
    this.inodes.set(entry.inode, entry);
    if (isLockDirParts(p.parts)) this.locks.set(p.parts.join('/'), entryLockChecksum(entry), now);
    this.emit({ kind: 'name', op: 'mkdir', path: p.parts.join('/') });
    return 0;
  }

  private write(path: string, offset: number, data: Buffer, truncate: boolean, create: boolean, origin: OpOrigin): number {
    const count = data.length;
    if (offset + count > MEMDB_MAX_FILE_SIZE) return -Errno.EFBIG;
    const p = this.lookupParent(path);
    if (typeof p === 'number') return p;
    // The VMID check comes before the target's own checks, as in the reference.
    const cfg = parseGuestConfigParts(p.parts);
    if (cfg !== undefined && this.vms.registeredElsewhere(cfg)) return -Errno.EEXIST;
    const existing = p.dir.children!.get(p.base);
    // A directory answers ENOTDIR before the create's EEXIST, as in the reference.
    if (existing !== undefined && existing.type !== DT_REG) return -Errno.ENOTDIR;
    if (create && existing !== undefined) return -Errno.EEXIST;
    if (!create && existing === undefined) return -Errno.ENOENT;

    const version = this.root.version + 1;
    const oldData = existing?.data ?? null;
    const newData = writeContent(oldData, offset, data, truncate);
    const staged: Entry = existing !== undefined
      ? { ...existing, version, writer: origin.writer, mtime: origin.mtime, data: newData }
      : { inode: version, parent: p.dir.inode, version, writer: origin.writer, mtime: origin.mtime, type: DT_REG, name: p.base, data: newData, children: null };
    const committed = this.commit([staged], [], origin.writer, origin.mtime);
    if (committed < 0) return committed;

    this.bumpRoot(origin.writer, origin.mtime);
    this.totalBytes += (newData?.length ?? 0) - (oldData?.length ?? 0);
    if (existing !== undefined) {
      existing.version = version;
      existing.writer = origin.writer;
      existing.mtime = origin.mtime;
      existing.data = newData;
    } else {
      p.dir.children!.set(staged.name, staged);
      this.inodes.set(staged.inode, staged);
    }
    // Every successful create, write or truncate of a guest config registers it again (the
    // reference's memdb write): PVE's config cache sees the new per-guest version.
    if (cfg !== undefined) this.vms.register(cfg);
    this.changed(p.parts.join('/'));
    this.emit(existing !== undefined ? { kind: 'content', path: p.parts.join('/') } : { kind: 'name', op: 'create', path: p.parts.join('/') });
    return count;
  }

  private mtime(path: string, mtime: number, origin: OpOrigin, now: number): number {
    const p = this.lookupParent(path);
    if (typeof p === 'number') return p;
    const e = p.dir.children!.get(p.base);
    if (e === undefined) return -Errno.ENOENT;
    const isLock = e.type === DT_DIR && isLockDirParts(p.parts);
    if (isLock && (mtime < e.mtime || origin.writer !== e.writer)) return -Errno.EACCES;
    const version = this.root.version + 1;
    const staged: Entry = { ...e, version, writer: origin.writer, mtime };
    const committed = this.commit([staged], [], origin.writer, mtime);
    if (committed < 0) return committed;
    this.bumpRoot(origin.writer, mtime);
    e.version = version;
    e.writer = origin.writer;
    e.mtime = mtime;
    if (isLock) this.locks.set(p.parts.join('/'), entryLockChecksum(e), now);
    this.changed(p.parts.join('/'));
    this.emit({ kind: 'content', path: p.parts.join('/') });
    return 0;
  }

  private delete(path: string, origin: OpOrigin): number {
    const parts = splitPath(path);
    if (parts.length === 0) return -Errno.EACCES;
    const e = this.resolve(parts);
    if (e === undefined) return -Errno.ENOENT;
    if (e.children !== null && e.children.size > 0) return -Errno.ENOTEMPTY;
    const committed = this.commit([], [e.inode], origin.writer, origin.mtime);
    if (committed < 0) return committed;
    this.bumpRoot(origin.writer, origin.mtime);
    this.detach(e, parts);
    // As the reference: a delete at a guest config path unregisters that VMID, whatever the entry
    // was (file or directory) and wherever the VMID is registered.
    const cfg = parseGuestConfigParts(parts);
    if (cfg !== undefined) this.vms.unregister(cfg.vmid);
    this.changed(parts.join('/'));
    this.emit({ kind: 'name', op: 'delete', path: parts.join('/') });
    return 0;
  }

  /** Remove an entry from the tree and from the lock table it may be in (not from the VMID list). */
  private detach(e: Entry, parts: readonly string[]): void {
    this.inodes.get(e.parent)?.children?.delete(e.name);
    this.inodes.delete(e.inode);
    this.totalBytes -= entrySize(e);
    if (e.type === DT_DIR && isLockDirParts(parts)) this.locks.delete(parts.join('/'));
  }

  /**
   * Rename (spec §8.5 and the kernel-visible results of §14). Every check runs before anything
   * is removed, so a failing rename changes nothing (the reference could lose the target).
   */
  private rename(from: string, to: string, origin: OpOrigin): number {
    const fromParts = splitPath(from);
    const e = this.resolve(fromParts);
    if (e === undefined) return -Errno.ENOENT;
    if (fromParts.length === 0) return -Errno.EACCES;
    if (e.type === DT_DIR && isLockDirParts(fromParts)) return -Errno.EACCES;
    const p = this.lookupParent(to);
    if (typeof p === 'number') return p;
    const target = p.dir.children!.get(p.base);
    if (target === e) return 0; // rename onto itself: nothing to do (the VFS never sends it)
    if (e.type === DT_DIR && this.isSelfOrDescendant(p.dir, e)) return -Errno.EINVAL;
    if (target !== undefined) {
      if (e.type === DT_DIR && target.type !== DT_DIR) return -Errno.ENOTDIR;
      if (e.type !== DT_DIR && target.type === DT_DIR) return -Errno.EISDIR;
      if (target.children !== null && target.children.size > 0) return -Errno.ENOTEMPTY;
    }
    if (e.children !== null && e.children.size > 0) return -Errno.ENOTEMPTY;
    const fromCfg: GuestConfigPath | undefined = e.type === DT_REG ? parseGuestConfigParts(fromParts) : undefined;
    const toCfg: GuestConfigPath | undefined = e.type === DT_REG ? parseGuestConfigParts(p.parts) : undefined;
    if (toCfg !== undefined && this.vms.registeredElsewhere(toCfg) && fromCfg?.vmid !== toCfg.vmid) return -Errno.EEXIST;

    const version = this.root.version + 1;
    const staged: Entry = { ...e, parent: p.dir.inode, name: p.base, version, writer: origin.writer, mtime: origin.mtime };
    const committed = this.commit([staged], target !== undefined ? [target.inode] : [], origin.writer, origin.mtime);
    if (committed < 0) return committed;

    this.bumpRoot(origin.writer, origin.mtime);
    // The overwritten target leaves the VMID list alone (the reference re-registers its VMID below).
    if (target !== undefined) this.detach(target, p.parts);
    this.inodes.get(e.parent)?.children?.delete(e.name);
    if (fromCfg !== undefined) this.vms.unregister(fromCfg.vmid);
    e.parent = p.dir.inode;
    e.name = p.base;
    e.version = version;
    e.writer = origin.writer;
    e.mtime = origin.mtime;
    p.dir.children!.set(e.name, e);
    if (toCfg !== undefined) this.vms.register(toCfg);
    this.changed(fromParts.join('/'));
    this.changed(p.parts.join('/'));
    this.emit({ kind: 'name', op: 'rename', path: fromParts.join('/'), to: p.parts.join('/') });
    return 0;
  }

  private isSelfOrDescendant(dir: Entry, ancestor: Entry): boolean {
    for (let d: Entry | undefined = dir; d !== undefined; d = d.inode === 0 ? undefined : this.inodes.get(d.parent)) {
      if (d === ancestor) return true;
    }
    return false;
  }
}

/**
 * New content after writing `data` at `offset` (spec §2): the file grows to offset+count when that
 * is past its end (the gap reads as zeros) or when truncating; otherwise it keeps its size. A new
 * buffer every time: old buffers are never changed in place (readers may hold them). Never from
 * Buffer's shared pool: a stored content would keep an 8 KiB pool block of transient buffers alive.
 */
export function writeContent(old: Buffer | null, offset: number, data: Buffer, truncate: boolean): Buffer | null {
  const oldSize = old?.length ?? 0;
  const end = offset + data.length;
  const newSize = end > oldSize || truncate ? end : oldSize;
  if (newSize === 0) return null;
  if (data.length === 0 && newSize === oldSize) return old;
  const out = Buffer.alloc(newSize);
  if (old !== null) old.copy(out, 0, 0, Math.min(oldSize, newSize));
  data.copy(out, offset);
  return out;
}

function childEntry(dir: Entry, name: string): Entry | undefined {
  return dir.children?.get(name);
}
