/**
 * WAL checkpoints of the daemon's config.db through a second SQLite connection, so that write
 * amplification includes the cost of moving the WAL frames into the database file.
 */
import Database from 'better-sqlite3';

export interface CheckpointResult {
  busy: number;
  logFrames: number;
  checkpointedFrames: number;
}

export class WalCheckpointer {
  private readonly db: Database.Database;

  constructor(file: string) {
    // Never creates a file; waits like the reference's busy timeout if the daemon holds the lock.
    this.db = new Database(file, { fileMustExist: true, timeout: 10_000 });
  }

  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): CheckpointResult {
    const row = this.db.pragma(`wal_checkpoint(${mode})`) as { busy: number; log: number; checkpointed: number }[];
    const r = row[0];
    if (!r) throw new Error('wal_checkpoint returned no row');
    return { busy: r.busy, logFrames: r.log, checkpointedFrames: r.checkpointed };
  }

  close(): void {
    this.db.close();
  }
}
