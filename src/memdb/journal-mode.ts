/**
 * Leaving WAL mode for one large transaction, and coming back.
 *
 * In WAL mode every page of a transaction is written twice: to the WAL, then by the checkpoint into
 * the database file. For a large file that doubles the disk writes. In a rollback-journal mode the
 * new pages a transaction appends to the database (and the free-list pages it reuses) are not
 * journaled, so a large blob is written once; only the few existing pages it changes (page 1, the
 * leaves of the row and of the version row) go to the journal first. The price is fsyncs, which is
 * acceptable for rare large files and never paid by small ones.
 *
 * The switch needs the database to itself: leaving WAL takes an EXCLUSIVE lock without waiting
 * (SQLite does not call the busy handler there), and any other open WAL connection — even an idle
 * one, e.g. a backup or a checkpointer — holds a SHARED lock, so the switch is refused with
 * SQLITE_BUSY and the caller commits in WAL mode as usual.
 *
 * Crash safety, step by step:
 * - leaving WAL checkpoints every frame into the database file, syncs it and deletes the WAL: a
 *   crash before the WAL is gone leaves a valid WAL database (the frames are replayed or already
 *   copied); after it, a complete database whose header still says WAL until the next write;
 * - the transaction itself runs with a rollback journal and synchronous=FULL (journal synced, its
 *   header synced, database synced): a crash leaves a hot journal that the next opener (this store
 *   or the reference) rolls back — the old content — or a committed database — the new content;
 * - coming back to WAL is a one-page rollback transaction on page 1: a crash in it is rolled back
 *   the same way and leaves a rollback-mode database, which every opener (this store and the
 *   reference both set journal_mode=WAL at start-up) turns back into WAL.
 */
import type Database from 'better-sqlite3';

/** The rollback-journal mode used outside WAL: truncating the journal needs no directory update. */
const ROLLBACK_MODE = 'truncate';

export function journalMode(db: Database.Database): string {
  return String(db.pragma('journal_mode', { simple: true })).toLowerCase();
}

/**
 * Tries to leave WAL mode for a rollback journal with synchronous=FULL (set first: the switch
 * itself is a rollback-journal transaction on page 1). Never waits for another connection and
 * never throws: false (still in WAL mode, synchronous=NORMAL) when the database is shared or
 * anything fails.
 */
export function leaveWal(db: Database.Database, busyTimeoutMs: number): boolean {
  let left = false;
  try {
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 0');
    left = String(db.pragma(`journal_mode = ${ROLLBACK_MODE}`, { simple: true })).toLowerCase() === ROLLBACK_MODE;
  } catch {
    left = false;
  } finally {
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    } catch {
      // the connection is unusable; the next statement reports it
    }
  }
  if (!left) {
    // A failed switch may in theory have changed the mode anyway: trust what SQLite says now.
    try {
      left = journalMode(db) !== 'wal';
      if (!left) db.pragma('synchronous = NORMAL');
    } catch {
      return false;
    }
  }
  return left;
}

/**
 * Back to WAL with synchronous=NORMAL, again without waiting for other connections (in a rollback
 * mode a reader of another process blocks the switch while it reads). False when it failed (a
 * reader, no space for the journal or the new WAL file): the database stays in the rollback mode
 * with synchronous=FULL — still correct, only slower — and the caller tries again before its next
 * transaction.
 */
export function returnToWal(db: Database.Database, busyTimeoutMs: number): boolean {
  try {
    db.pragma('busy_timeout = 0');
    if (String(db.pragma('journal_mode = WAL', { simple: true })).toLowerCase() !== 'wal') return false;
    db.pragma('synchronous = NORMAL');
    return true;
  } catch {
    return false;
  } finally {
    try {
      db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    } catch {
      // the connection is unusable; the next statement reports it
    }
  }
}
