/**
 * MemDb: the tree in RAM (spec §2) kept in step with its store (spec §3), with the VMID list (§8.6)
 * and the lock table (§8.7). Pure apart from the store it is given: no clock reads, no timers —
 * every time it needs comes in as a parameter.
 *
 * API CONTRACT (other modules build on exactly these signatures):
 * - `MemDb.open(store, now)` loads every row, validates (throws MemDbLoadError naming the bad row),
 *   builds vmlist and lock table. An empty store gets version 1 and its `__version__` row.
 * - `apply(op, origin, now)` runs one mutation with the errno rules of §2/§8.5/§8.6/§8.7, persists
 *   it through `store.commit` in one transaction and returns the result (>= 0) or -errno. When the
 *   sticky `errors` flag is set every mutation returns -EIO; a failing store commit sets it.
 * - Reads never mutate.
 */
import type { DbRow, Entry, FsOp, OpOrigin, Change } from './types';

/** A persistence backend: SQLite in the daemon, a Map in the simulation. */
export interface TreeStore {
  /** Every row of table `tree`, in any order. Throws on an unreadable database. */
  load(): DbRow[];
  /** Persist one change in one transaction (REPLACE upserts, DELETE deletes, REPLACE version row). Throws on failure (nothing written). */
  commit(change: Change): void;
  /**
   * The sync commit of spec §3 in one transaction: delete every inode in `deletes`, REPLACE every
   * row in `upserts` (inode 0 = the version row), then read back all rows and call `verify` with
   * them; COMMIT only if it returns true, else ROLLBACK and return false. Throws on I/O failure.
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

export class MemDbLoadError extends Error {}
