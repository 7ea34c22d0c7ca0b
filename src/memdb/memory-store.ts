/**
 * A TreeStore in a Map, for unit tests and the simulation. The rows outlive the MemDb: hand
 * `store.rows` to a new MemoryTreeStore to model a restart after a crash (every committed change
 * is there, nothing else). `failCommits` makes the next commits throw, to test the error path.
 */
import type { TreeStore } from './memdb';
import { rowOfEntry } from './rows';
import type { Change, DbRow } from './types';

function copyRow(row: DbRow): DbRow {
  return { ...row, data: row.data === null ? null : Buffer.from(row.data) };
}

export class MemoryTreeStore implements TreeStore {
  /** Number of upcoming commit/replaceTree calls that throw (nothing written). */
  failCommits = 0;
  /** Transactions committed so far (for tests and write-cost accounting). */
  commits = 0;
  closed = false;

  constructor(readonly rows: Map<number, DbRow> = new Map()) {}

  load(): DbRow[] {
    return [...this.rows.values()].map(copyRow);
  }

  commit(change: Change): void {
    this.failIfAsked();
    for (const inode of change.deletes) this.rows.delete(inode);
    for (const e of change.upserts) this.rows.set(e.inode, copyRow(rowOfEntry(e)));
    this.rows.set(0, copyRow(change.version));
    this.commits++;
  }

  replaceTree(deletes: number[], upserts: DbRow[], verify: (rows: DbRow[]) => boolean): boolean {
    this.failIfAsked();
    const next = new Map(this.rows);
    for (const inode of deletes) next.delete(inode);
    for (const row of upserts) next.set(row.inode, copyRow(row));
    if (!verify([...next.values()].map(copyRow))) return false;
    this.rows.clear();
    for (const [inode, row] of next) this.rows.set(inode, row);
    this.commits++;
    return true;
  }

  close(): void {
    this.closed = true;
  }

  private failIfAsked(): void {
    if (this.failCommits > 0) {
      this.failCommits--;
      throw new Error('MemoryTreeStore: injected commit failure');
    }
  }
}
