/**
 * config.db (spec §3) through better-sqlite3: table `tree` with the reference's exact schema,
 * WAL, synchronous=NORMAL, 10 s busy timeout, statements prepared once, one transaction per
 * mutation. Opening never rewrites an existing database: an unreadable file makes open throw.
 *
 * Write cost (issue 2; figures in docs/benchmarks.md): rows are written as UPDATE-then-INSERT
 * instead of REPLACE — the same rows, but SQLite then rewrites a same-size row in place, overflow
 * pages included, instead of freeing and reallocating them. A database this store creates uses
 * 512-byte pages: a small config's transaction dirties about five whole pages (its leaf, its
 * overflow pages, page 1 when the file grows, the version row's leaf), each one WAL frame, so the
 * frame size is what the bytes scale with (new 1 KiB files: 9x with 1 KiB pages, 5.6x with 512).
 * The automatic checkpoint runs at about 4 MiB of WAL whatever the page size (the reference: 1000
 * frames of 4 KiB). A transaction that writes at least LARGE_COMMIT_BYTES of file data leaves
 * WAL mode for that one transaction when it has the database to itself, so the data is written
 * once instead of twice (journal-mode.ts). An existing file keeps its page size.
 *
 * A full disk (SQLITE_FULL, or an I/O error while the file system has no room left) is thrown as
 * StoreFullError after the transaction has been rolled back; the connection stays usable and a
 * later transaction succeeds once there is space again. Any other failure is thrown as it is.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { decodeNameBytes, encodeNameBytes } from './name-bytes';
import { leaveWal, returnToWal } from './journal-mode';
import { MemDbLoadError } from './load-error';
import type { TreeStore } from './memdb';
import { StoreFullError } from './store-full';
import { rowOfEntry } from './rows';
import type { Change, DbRow } from './types';

/** The reference's CREATE statement (column order, types and CHECKs are the format). */
export const TREE_TABLE_SQL =
  'CREATE TABLE IF NOT EXISTS tree (' +
  '  inode INTEGER PRIMARY KEY NOT NULL,' +
  "  parent INTEGER NOT NULL CHECK(typeof(parent)=='integer')," +
  "  version INTEGER NOT NULL CHECK(typeof(version)=='integer')," +
  "  writer INTEGER NOT NULL CHECK(typeof(writer)=='integer')," +
  "  mtime INTEGER NOT NULL CHECK(typeof(mtime)=='integer')," +
  "  type INTEGER NOT NULL CHECK(typeof(type)=='integer')," +
  '  name TEXT NOT NULL,' +
  '  data BLOB);';

/**
 * Every row, each column read the way the reference's sqlite3_column_* calls read it: integers as
 * integers whatever is stored (a table made without the CHECKs may hold text or reals; NULL reads
 * as 0), the name and the data as bytes (text and numbers by their text form); the name's bytes are
 * decoded losslessly (name-bytes.ts) and written back as the same bytes, stored as TEXT.
 */
const LOAD_ALL_SQL =
  'SELECT inode, IFNULL(CAST(parent AS INTEGER), 0) AS parent, IFNULL(CAST(version AS INTEGER), 0) AS version,' +
  ' IFNULL(CAST(writer AS INTEGER), 0) AS writer, IFNULL(CAST(mtime AS INTEGER), 0) AS mtime,' +
  ' IFNULL(CAST(type AS INTEGER), 0) AS type, CAST(name AS BLOB) AS name, CAST(data AS BLOB) AS data FROM tree';

const BUSY_TIMEOUT_MS = 10_000;
/**
 * SQLite's page cache, in KiB (negative cache_size). better-sqlite3 builds SQLite with 16 MiB, which
 * filled up with the rows of a big tree (8 MB more RSS with 10,000 guest configs; the reference runs
 * with SQLite's default of 2000 KiB). The tree is served from RAM, so the cache only needs the pages
 * one transaction touches: a small commit touches a few dozen. A transaction carrying more file
 * data gets room for all of it for its duration (see transact), so it never spills to the journal.
 */
export const PAGE_CACHE_KIB = 512;
/** Page size of a database this store creates (SQLite's default is 4096). */
export const NEW_DB_PAGE_SIZE = 512;
/** WAL size at which SQLite checkpoints automatically (wal_autocheckpoint is in pages). */
export const WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** File data in one transaction from which it is written outside WAL if possible. */
export const LARGE_COMMIT_BYTES = 256 * 1024;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/**
 * Below this much free space an SQLITE_IOERR_* counts as a full disk. SQLite itself maps ENOSPC
 * from write() to SQLITE_FULL, but other calls (ftruncate, fallocate of the WAL index) report
 * ENOSPC as an I/O error and better-sqlite3 does not expose errno. 2 MiB: a 1 MiB file plus its
 * WAL frames and the version row.
 */
const NEARLY_FULL_BYTES = 2 * 1024 * 1024;

interface RawRow {
  inode: unknown;
  parent: unknown;
  version: unknown;
  writer: unknown;
  mtime: unknown;
  type: unknown;
  name: unknown;
  data: unknown;
}

export interface SqliteStoreOptions {
  /**
   * Page size for a database this call creates (default NEW_DB_PAGE_SIZE). Only a new file takes
   * it; it is a property of the file, not of the schema, and the reference reads any page size.
   */
  pageSize?: number;
  /** File data per transaction from which the store tries to commit outside WAL (default LARGE_COMMIT_BYTES). */
  largeCommitBytes?: number;
  /** Tests only: called at each step of a commit outside WAL (a crash test kills itself there). */
  largeCommitStep?: (step: LargeCommitStep) => void;
  /** Latency spans: every commit() from start to end, in performance.now() milliseconds. */
  onCommit?: (start: number, end: number) => void;
}

/** Steps of a commit outside WAL: the switch succeeded; the transaction committed; WAL is back. */
export type LargeCommitStep = 'left-wal' | 'committed' | 'back-in-wal';

/** How the large transactions of this store were written (for tests and diagnostics). */
export interface LargeCommitCounts {
  /** Written with a rollback journal: the data once. */
  outsideWal: number;
  /** The switch was refused (another connection) or failed: written in WAL mode. */
  inWal: number;
}

export class SqliteTreeStore implements TreeStore {
  private readonly selectAll: Database.Statement;
  private readonly updateRow: Database.Statement;
  private readonly insertRow: Database.Statement;
  private readonly deleteRow: Database.Statement;
  private readonly onCommit: ((start: number, end: number) => void) | undefined;
  private readonly commitTx: (change: Change) => void;
  private readonly largeCommitBytes: number;
  private readonly largeCommitStep: ((step: LargeCommitStep) => void) | undefined;
  /** Set while a return to WAL after a large commit has failed; retried before the next transaction. */
  private outsideWal = false;
  readonly largeCommits: LargeCommitCounts = { outsideWal: 0, inWal: 0 };

  private constructor(readonly file: string, readonly db: Database.Database, options: SqliteStoreOptions) {
    this.largeCommitBytes = options.largeCommitBytes ?? LARGE_COMMIT_BYTES;
    this.largeCommitStep = options.largeCommitStep;
    this.onCommit = options.onCommit;
    this.selectAll = db.prepare(LOAD_ALL_SQL).safeIntegers(true);
    this.updateRow = db.prepare(
      'UPDATE tree SET parent = ?, version = ?, writer = ?, mtime = ?, type = ?, name = CAST(? AS TEXT), data = ? WHERE inode = ?',
    );
    this.insertRow = db.prepare(
      'INSERT INTO tree (inode, parent, version, writer, mtime, type, name, data) VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TEXT), ?)',
    );
    this.deleteRow = db.prepare('DELETE FROM tree WHERE inode = ?');
    this.commitTx = db.transaction((change: Change) => {
      for (const inode of change.deletes) this.deleteRow.run(inode);
      for (const e of change.upserts) this.writeRow(rowOfEntry(e));
      this.writeRow(change.version);
    });
  }

  /** Open (or create, mode 0600) the database file and its table; throws if it is not a usable SQLite DB. */
  static open(file: string, options: SqliteStoreOptions = {}): SqliteTreeStore {
    const created = !fs.existsSync(file);
    if (created) {
      fs.closeSync(fs.openSync(file, 'wx', 0o600));
      fs.chmodSync(file, 0o600); // whatever the umask
    }
    const db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    try {
      if (created) db.pragma(`page_size = ${Math.trunc(options.pageSize ?? NEW_DB_PAGE_SIZE)}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      const pageSize = Number(db.pragma('page_size', { simple: true }));
      db.pragma(`wal_autocheckpoint = ${Math.max(1, Math.round(WAL_CHECKPOINT_BYTES / pageSize))}`);
      db.exec(TREE_TABLE_SQL);
      return new SqliteTreeStore(file, db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  load(): DbRow[] {
    return (this.selectAll.all() as RawRow[]).map(decodeRow);
  }

  commit(change: Change): void {
    let bytes = 0;
    for (const e of change.upserts) bytes += e.data?.length ?? 0;
    const onCommit = this.onCommit;
    const start = onCommit !== undefined ? performance.now() : 0;
    this.transact(bytes, () => this.commitTx(change));
    if (onCommit !== undefined) onCommit(start, performance.now());
  }

  replaceTree(deletes: number[], upserts: DbRow[], verify: (rows: DbRow[]) => boolean): boolean {
    const rejected = new Error('sync commit: verify failed');
    const tx = this.db.transaction(() => {
      for (const inode of deletes) this.deleteRow.run(inode);
      for (const row of upserts) this.writeRow(row);
      if (!verify(this.load())) throw rejected;
    });
    let bytes = 0;
    for (const row of upserts) bytes += row.data?.length ?? 0;
    try {
      this.transact(bytes, tx);
      return true;
    } catch (err) {
      if (err === rejected) return false;
      throw err;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs a transaction that writes `dataBytes` of file data, with a page cache that holds all of it. */
  private transact(dataBytes: number, tx: () => void): void {
    // Room for every page of a large transaction (overflow pages carry a little less than a page).
    const neededKiB = PAGE_CACHE_KIB + Math.ceil((dataBytes * 1.25) / 1024);
    if (neededKiB <= 2 * PAGE_CACHE_KIB) return this.transactInCache(dataBytes, tx);
    this.db.pragma(`cache_size = -${neededKiB}`);
    try {
      this.transactInCache(dataBytes, tx);
    } finally {
      this.db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    }
  }

  /**
   * Runs a transaction that writes `dataBytes` of file data: a large one outside WAL when the
   * database can be switched (journal-mode.ts), any other in WAL mode.
   */
  private transactInCache(dataBytes: number, tx: () => void): void {
    if (this.outsideWal && returnToWal(this.db, BUSY_TIMEOUT_MS)) {
      this.outsideWal = false;
      this.largeCommitStep?.('back-in-wal');
    }
    if (dataBytes < this.largeCommitBytes || this.outsideWal) {
      this.inTransaction(tx);
      return;
    }
    if (!leaveWal(this.db, BUSY_TIMEOUT_MS)) {
      this.largeCommits.inWal++;
      this.inTransaction(tx);
      return;
    }
    this.outsideWal = true;
    this.largeCommitStep?.('left-wal');
    try {
      this.inTransaction(tx);
      this.largeCommits.outsideWal++;
      this.largeCommitStep?.('committed');
    } finally {
      // Also after a failed transaction: the store must not stay in the slower mode.
      if (returnToWal(this.db, BUSY_TIMEOUT_MS)) {
        this.outsideWal = false;
        this.largeCommitStep?.('back-in-wal');
      }
    }
  }

  /**
   * Runs a transaction function; on failure makes sure no transaction is left open (better-sqlite3
   * rolls back, and SQLite may already have rolled back itself after SQLITE_FULL/IOERR) and turns
   * a full disk into StoreFullError.
   */
  private inTransaction(tx: () => void): void {
    try {
      tx();
    } catch (err) {
      if (this.db.open && this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // nothing left to roll back
        }
      }
      if (isDiskFull(err, this.file)) throw new StoreFullError(`${this.file}: ${(err as Error).message}`);
      throw err;
    }
  }

  /** The effect of the reference's REPLACE (the full row, whole blob): update in place, else insert. */
  private writeRow(row: DbRow): void {
    const data = row.data !== null && row.data.length > 0 ? row.data : null;
    const name = encodeNameBytes(row.name);
    const updated = this.updateRow.run(row.parent, row.version, row.writer, row.mtime, row.type, name, data, row.inode).changes;
    if (updated === 1) return;
    if (updated !== 0) throw new Error(`UPDATE of inode ${row.inode} changed ${updated} rows`);
    const inserted = this.insertRow.run(row.inode, row.parent, row.version, row.writer, row.mtime, row.type, name, data).changes;
    if (inserted !== 1) throw new Error(`INSERT of inode ${row.inode} changed ${inserted} rows`);
  }
}

/** SQLITE_FULL, or an SQLITE_IOERR_* while the database's file system is (nearly) out of space. */
export function isDiskFull(err: unknown, file: string): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'SQLITE_FULL') return true;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_IOERR')) return false;
  try {
    const st = fs.statfsSync(dirname(file));
    return st.bavail * st.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}

/** One raw row (integers as BigInt) to a DbRow; MemDbLoadError naming the row when a column is unusable. */
function decodeRow(raw: RawRow): DbRow {
  const name = Buffer.isBuffer(raw.name) ? decodeNameBytes(raw.name) : undefined;
  const label = `row inode=${String(raw.inode)} name=${JSON.stringify(name ?? String(raw.name))}`;
  const fail = (why: string): never => {
    throw new MemDbLoadError(`config.db: ${label}: ${why}`);
  };
  const int = (column: string, value: unknown): bigint => (typeof value === 'bigint' ? value : fail(`${column} is not an integer`));
  const safe = (column: string, value: unknown): number => {
    const v = int(column, value);
    return v < 0n || v > MAX_SAFE ? fail(`${column} ${v} is out of range`) : Number(v);
  };
  if (name === undefined) fail('no name');
  let data: Buffer | null = null;
  if (Buffer.isBuffer(raw.data)) data = raw.data;
  else if (typeof raw.data === 'string') data = Buffer.from(raw.data, 'utf8');
  else if (raw.data !== null) fail('data is neither a blob nor NULL');
  return {
    inode: safe('inode', raw.inode),
    parent: safe('parent', raw.parent),
    version: safe('version', raw.version),
    writer: Number(BigInt.asUintN(32, int('writer', raw.writer))),
    mtime: Number(BigInt.asUintN(32, int('mtime', raw.mtime))),
    type: Number(BigInt.asUintN(8, int('type', raw.type))),
    name: name ?? fail('no name'),
    data,
  };
}
