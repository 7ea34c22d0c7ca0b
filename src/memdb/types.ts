/** Shared types of the in-RAM tree (spec §2) and its persistence (spec §3). */

export const DT_DIR = 4;
export const DT_REG = 8;
export type EntryType = typeof DT_DIR | typeof DT_REG;

/** Limits of memdb.h. Only MAX_FILE_SIZE is enforced; the others are reported by statfs. */
export const MEMDB_MAX_FILE_SIZE = 1024 * 1024;
export const MEMDB_MAX_FSSIZE = 128 * 1024 * 1024;
export const MEMDB_MAX_INODES = 256 * 1024;
export const MEMDB_BLOCKSIZE = 4096;

/** One node of the tree. Numbers are safe integers (u64 on disk and wire, never above 2^53 here). */
export interface Entry {
  readonly inode: number;
  parent: number;
  version: number;
  writer: number;
  /** Seconds since the epoch (u32). */
  mtime: number;
  readonly type: EntryType;
  name: string;
  /** Regular files only: the content; null when the file is empty. Always null for directories. */
  data: Buffer | null;
  /** Directories only: name -> child. Null for regular files. */
  children: Map<string, Entry> | null;
}

/** Size in bytes of a file's content (0 for directories). */
export function entrySize(entry: Entry): number {
  return entry.data === null ? 0 : entry.data.length;
}

/**
 * A mutation of the tree: what a FUSE call asks for, what a dcdb NORMAL message carries (spec §5.1),
 * and what memdb applies. Paths are relative to the mount (no leading '/').
 */
export type FsOp =
  | { kind: 'create'; path: string }
  | { kind: 'mkdir'; path: string }
  | { kind: 'write'; path: string; offset: number; data: Buffer; truncate: boolean }
  | { kind: 'mtime'; path: string; mtime: number }
  | { kind: 'delete'; path: string }
  | { kind: 'rename'; path: string; to: string };

/** Who made a change and when: corosync nodeid of the sender (0 locally) and its time() (spec §2). */
export interface OpOrigin {
  writer: number;
  mtime: number;
}

/** One row of table `tree` (spec §3). inode 0 is the `__version__` row. */
export interface DbRow {
  inode: number;
  parent: number;
  version: number;
  writer: number;
  mtime: number;
  type: number;
  name: string;
  data: Buffer | null;
}

/** What one successful mutation changed, persisted by the store in one transaction. */
export interface Change {
  /** Rows to REPLACE (the live entries; the store reads them synchronously). */
  upserts: Entry[];
  /** Inodes to DELETE. */
  deletes: number[];
  /** The `__version__` row after the change. */
  version: DbRow;
}
