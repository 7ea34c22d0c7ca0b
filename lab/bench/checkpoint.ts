/**
 * WAL checkpoints of the daemon's config.db through a second SQLite connection, so that write
 * amplification includes the cost of moving the WAL frames into the database file. The connection
 * is opened for each checkpoint and closed right after: an open connection holds a shared lock,
 * which a real node never has on its config.db and which would change how the daemon commits
 * (a large commit leaves WAL only when no other connection is open, see src/memdb/journal-mode.ts).
 */
import Database from 'better-sqlite3';

export interface CheckpointResult {
  busy: number;
  logFrames: number;
  checkpointedFrames: number;
}

export class WalCheckpointer {
  constructor(private readonly file: string) {}

  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): CheckpointResult {
    // Never creates a file; waits like the reference's busy timeout if the daemon holds the lock.
    const db = new Database(this.file, { fileMustExist: true, timeout: 10_000 });
    try {
      const row = db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[];
      const r = row[0];
      if (!r) throw new Error('wal_checkpoint returned no row');
      return { busy: r.busy, logFrames: r.log, checkpointedFrames: r.checkpointed };
    } finally {
      db.close();
    }
  }

  /** Nothing stays open between checkpoints. */
  close(): void {}
}
