import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb, MemDbLoadError } from '../../../src/memdb/memdb';
import { NEW_DB_PAGE_SIZE, SqliteTreeStore, WAL_CHECKPOINT_BYTES } from '../../../src/memdb/sqlite-store';
import { content, create, mkdir, putFile, run, write } from './helpers';
import { REFERENCE_TREE_SQL } from '../../helpers/reference-db';

// The reference's CREATE TABLE, written out in the test helpers independently of src/ (spec §3).
const REFERENCE_CREATE = `${REFERENCE_TREE_SQL.replace('CREATE TABLE', 'CREATE TABLE IF NOT EXISTS')};`;

let dir: string;
let dbFile: string;
const opened: SqliteTreeStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memdb-sqlite-'));
  dbFile = path.join(dir, 'config.db');
});

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openStore(file = dbFile): SqliteTreeStore {
  const s = SqliteTreeStore.open(file);
  opened.push(s);
  return s;
}

function openDb(now = 1000): MemDb {
  return MemDb.open(openStore(), now);
}

/** Build a database with the sqlite3 command-line tool and literal SQL, the way the reference's schema is made. */
function sqlite3(file: string, sql: string): void {
  execFileSync('sqlite3', [file], { input: sql });
}

function buildReferenceDb(file: string, rows: string[]): void {
  sqlite3(file, ['PRAGMA journal_mode=WAL;', REFERENCE_CREATE, 'BEGIN;', ...rows.map((r) => `INSERT INTO tree VALUES ${r};`), 'COMMIT;'].join('\n'));
}

function schemaSql(file: string): string[] {
  const d = new Database(file, { readonly: true });
  try {
    return (d.prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name").all() as { sql: string }[]).map((r) => JSON.stringify(r));
  } finally {
    d.close();
  }
}

function expectLoadError(rows: string[], ...fragments: string[]): void {
  buildReferenceDb(dbFile, rows);
  const before = fs.readFileSync(dbFile);
  let err: unknown;
  try {
    openDb();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(MemDbLoadError);
  for (const f of fragments) expect((err as Error).message).toContain(f);
  for (const s of opened.splice(0)) s.close();
  expect(fs.readFileSync(dbFile)).toEqual(before); // never rewritten
}

describe('SqliteTreeStore (spec §3)', () => {
  it('a fresh database: mode 0600, WAL, synchronous NORMAL, busy timeout, version row, reference schema', () => {
    const db = openDb(4242);
    expect(db.version).toBe(1);
    expect(fs.statSync(dbFile).mode & 0o777).toBe(0o600);
    const s = opened[0]!;
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(10000);
    expect(s.db.pragma('page_size', { simple: true })).toBe(NEW_DB_PAGE_SIZE);
    // The automatic checkpoint at about 4 MiB of WAL, like the reference's 1000 frames of 4 KiB.
    expect(s.db.pragma('wal_autocheckpoint', { simple: true })).toBe(WAL_CHECKPOINT_BYTES / NEW_DB_PAGE_SIZE);
    expect(s.db.prepare('SELECT * FROM tree').all()).toEqual([
      { inode: 0, parent: 0, version: 1, writer: 0, mtime: 4242, type: 8, name: '__version__', data: null },
    ]);
    db.close();
    const ref = path.join(dir, 'ref.db');
    buildReferenceDb(ref, []);
    expect(schemaSql(dbFile)).toEqual(schemaSql(ref));
  });

  it('a database built with raw SQL like the reference loads (children before parents, NULL data)', () => {
    buildReferenceDb(dbFile, [
      "(0, 0, 9, 3, 1700000009, 8, '__version__', NULL)",
      "(2, 5, 2, 1, 1700000002, 8, 'user.cfg', x'757365723a726f6f7440706d3a')",
      "(3, 0, 3, 1, 1700000003, 4, 'nodes', NULL)",
      "(4, 3, 4, 1, 1700000004, 4, 'pve1', NULL)",
      "(5, 0, 5, 1, 1700000005, 4, 'priv', NULL)",
      "(6, 4, 6, 2, 1700000006, 4, 'qemu-server', NULL)",
      "(7, 6, 7, 2, 1700000007, 8, '100.conf', x'6d656d6f72793a2032303438')",
      "(8, 0, 8, 3, 1700000008, 8, 'empty', NULL)",
      "(9, 5, 9, 3, 1700000009, 4, 'lock', NULL)",
    ]);
    const db = openDb();
    expect(db.version).toBe(9);
    expect(db.lookup('')).toMatchObject({ writer: 3, mtime: 1700000009 });
    expect(content(db, 'priv/user.cfg')).toBe('user:root@pm:');
    expect(content(db, 'nodes/pve1/qemu-server/100.conf')).toBe('memory: 2048');
    expect(db.lookup('empty')!.data).toBeNull();
    expect(db.vmlist().guests.get(100)).toMatchObject({ node: 'pve1', type: 'qemu' });
    expect(mkdir(db, 'priv/lock/x')).toBe(0);
    expect(db.lookup('priv/lock/x')!.inode).toBe(10);
    // an existing database keeps its page size (no rewrite of the user's file)
    expect(opened[0]!.db.pragma('page_size', { simple: true })).toBe(4096);
    expect(opened[0]!.db.pragma('wal_autocheckpoint', { simple: true })).toBe(1024);
  });

  it('rewrites in place and inserts give the same rows as REPLACE would (sizes grow, shrink, empty)', () => {
    const db = openDb();
    create(db, 'f');
    for (const size of [10, 5000, 5000, 100, 0, 70000, 3]) {
      expect(write(db, 'f', Buffer.alloc(size, size % 251), 0, true)).toBe(size);
      const row = opened[0]!.db.prepare('SELECT data, version FROM tree WHERE name = ?').get('f') as { data: Buffer | null; version: number };
      expect(row.data === null ? 0 : row.data.length).toBe(size);
      expect(row.version).toBe(db.version);
    }
    expect(opened[0]!.db.prepare('SELECT count(*) AS n FROM tree').get()).toEqual({ n: 2 });
  });

  it('what SqliteTreeStore writes loads back identically (index and verify checksum)', () => {
    const db = openDb();
    mkdir(db, 'nodes');
    mkdir(db, 'nodes/n1');
    putFile(db, 'nodes/n1/a.txt', 'hello');
    create(db, 'empty');
    putFile(db, 'big', Buffer.alloc(200_000, 7));
    write(db, 'big', Buffer.alloc(0), 100_000, true);
    run(db, { kind: 'rename', path: 'nodes/n1/a.txt', to: 'b.txt' });
    run(db, { kind: 'mtime', path: 'empty', mtime: 5 });
    run(db, { kind: 'delete', path: 'nodes/n1' });
    const idx = db.encodeIndex();
    const sum = db.verifyChecksum();
    db.close();
    const again = openDb();
    expect(again.encodeIndex()).toEqual(idx);
    expect(again.verifyChecksum()).toEqual(sum);
    expect(content(again, 'b.txt')).toBe('hello');
    const raw = opened[1]!.db.prepare('SELECT inode, data FROM tree WHERE name = ?');
    expect((raw.get('empty') as { data: unknown }).data).toBeNull();
    expect((raw.get('nodes') as { data: unknown }).data).toBeNull();
    // the reference's sqlite3 reads it too, with integer types in every column
    const types = execFileSync('sqlite3', [dbFile, 'SELECT DISTINCT typeof(parent)||typeof(version)||typeof(writer)||typeof(mtime)||typeof(type) FROM tree;']).toString().trim();
    expect(types).toBe('integer'.repeat(5));
  });

  it('reload after renames that leave a child inode below its parent inode (check_memdb loaddb)', () => {
    const db = openDb();
    putFile(db, 'f', 'one'); // inode 2
    mkdir(db, 'a'); // inode 4
    mkdir(db, 'a/b'); // inode 5
    expect(run(db, { kind: 'rename', path: 'f', to: 'a/b/f' })).toBe(0);
    create(db, 'g'); // inode 7
    mkdir(db, 'z'); // inode 8
    expect(run(db, { kind: 'rename', path: 'g', to: 'z/g' })).toBe(0);
    expect(db.lookup('a/b/f')!.inode).toBeLessThan(db.lookup('a/b')!.inode);
    const idx = db.encodeIndex();
    db.close();
    const again = openDb();
    expect(again.encodeIndex()).toEqual(idx);
    expect(content(again, 'a/b/f')).toBe('one');
    expect(again.lookup('z/g')!.inode).toBe(7);
  });

  describe('what the reference refuses (and a cycle) is refused with a message naming the row', () => {
    const V = "(0, 0, 20, 0, 0, 8, '__version__', NULL)";
    it('inode 0 not named __version__', () => expectLoadError(["(0, 0, 20, 0, 0, 8, 'root', NULL)"], 'inode=0', '"root"', '__version__'));
    it('empty name', () => expectLoadError([V, "(3, 0, 3, 0, 0, 8, '', NULL)"], 'inode=3', 'empty name'));
    it('directory with data', () => expectLoadError([V, "(3, 0, 3, 0, 0, 4, 'd', x'00')"], 'inode=3', '"d"', 'directory with data'));
    it('unknown type', () => expectLoadError([V, "(3, 0, 3, 0, 0, 10, 'x', NULL)"], 'inode=3', 'unknown type 10'));
    it('a version row of unknown type', () => expectLoadError(["(0, 0, 20, 0, 0, 0, '__version__', NULL)"], 'inode=0', 'unknown type 0'));
    it('a version row that is a directory with data', () => expectLoadError(["(0, 0, 20, 0, 0, 4, '__version__', x'01')"], 'inode=0', 'directory with data'));
    it('parent not a directory', () => expectLoadError([V, "(3, 0, 3, 0, 0, 8, 'f', NULL)", "(4, 3, 4, 0, 0, 8, 'g', NULL)"], 'inode=4', '"g"', 'not a directory'));
    it('duplicate name in a directory', () => expectLoadError([V, "(3, 0, 3, 0, 0, 8, 'f', NULL)", "(4, 0, 4, 0, 0, 4, 'f', NULL)"], 'inode=4', '"f"', 'duplicate name'));
    it('missing parent', () => expectLoadError([V, "(3, 17, 3, 0, 0, 8, 'orphan', NULL)"], 'inode=3', '"orphan"', 'missing parent 17'));
    it('a cycle of parents', () => expectLoadError([V, "(3, 4, 3, 0, 0, 4, 'a', NULL)", "(4, 3, 4, 0, 0, 4, 'b', NULL)"], 'inode=3', 'not reachable'));
    it('duplicate VMID', () =>
      expectLoadError(
        [
          V,
          "(2, 0, 2, 0, 0, 4, 'nodes', NULL)",
          "(3, 2, 3, 0, 0, 4, 'n1', NULL)",
          "(4, 2, 4, 0, 0, 4, 'n2', NULL)",
          "(5, 3, 5, 0, 0, 4, 'qemu-server', NULL)",
          "(6, 4, 6, 0, 0, 4, 'lxc', NULL)",
          "(7, 5, 7, 0, 0, 8, '100.conf', NULL)",
          "(8, 6, 8, 0, 0, 8, '100.conf', NULL)",
        ],
        'duplicate VMID 100',
      ));

  });

  it('a file that is not a database is refused and left untouched', () => {
    fs.writeFileSync(dbFile, Buffer.alloc(8192, 0x41));
    expect(() => openStore()).toThrow();
    expect(fs.readFileSync(dbFile)).toEqual(Buffer.alloc(8192, 0x41));
  });

  it('a failing commit rolls back, sets the sticky error flag, and every later mutation is EIO', () => {
    const db = openDb();
    putFile(db, 'f', 'keep');
    const s = opened[0]!;
    s.db.exec("CREATE TRIGGER fail_insert BEFORE INSERT ON tree WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'injected'); END;");
    const version = db.version;
    expect(create(db, 'boom')).toBe(-Errno.EIO);
    expect(db.errors).toBe(true);
    expect(db.version).toBe(version);
    expect(db.lookup('boom')).toBeUndefined();
    expect((s.db.prepare('SELECT version FROM tree WHERE inode = 0').get() as { version: number }).version).toBe(version);
    expect(create(db, 'other')).toBe(-Errno.EIO);
    expect(mkdir(db, 'd')).toBe(-Errno.EIO);
    expect(content(db, 'f')).toBe('keep'); // reads still work
  });
});

describe('write cost (issue 2: disk bytes per content byte)', () => {
  /** WAL bytes appended per operation, with automatic checkpoints off so the WAL only grows. */
  function walBytesPerOp(store: SqliteTreeStore, op: (i: number) => void, n = 100): number {
    store.db.pragma('wal_autocheckpoint = 0');
    store.db.pragma('wal_checkpoint(TRUNCATE)'); // an empty WAL that can only grow from here
    const wal = `${store.file}-wal`;
    const before = fs.statSync(wal).size;
    expect(before).toBe(0);
    for (let i = 0; i < n; i++) op(i);
    return (fs.statSync(wal).size - before) / n;
  }

  function populated(): { db: MemDb; store: SqliteTreeStore } {
    const db = openDb();
    mkdir(db, 'nodes');
    for (let i = 0; i < 200; i++) putFile(db, `nodes/${100 + i}.conf`, Buffer.alloc(100 + ((i * 97) % 2900), 65));
    putFile(db, 'target.cfg', Buffer.alloc(1024, 1));
    return { db, store: opened[0]! };
  }

  it('rewriting a 1 KiB file appends at most 2.5 KiB to the WAL (measured 4 frames of 536 B = 2.1 KiB; 1 KiB pages: 3.1 KiB; 4 KiB pages + REPLACE: 8 KiB)', () => {
    const { db, store } = populated();
    const perOp = walBytesPerOp(store, (i) => expect(write(db, 'target.cfg', Buffer.alloc(1024, i), 0, true)).toBe(1024));
    expect(perOp).toBeLessThanOrEqual(2.5 * 1024);
  });

  it("PVE's create + write + rename of a 1 KiB file appends at most 10 KiB to the WAL (measured 8.4 KiB; 1 KiB pages: 14.3 KiB; 4 KiB pages: 24 KiB)", () => {
    const { db, store } = populated();
    const perOp = walBytesPerOp(store, (i) => {
      expect(create(db, 'target.cfg.tmp')).toBe(0);
      expect(write(db, 'target.cfg.tmp', Buffer.alloc(1024, i))).toBe(1024);
      expect(run(db, { kind: 'rename', path: 'target.cfg.tmp', to: 'target.cfg' })).toBe(0);
    });
    expect(perOp).toBeLessThanOrEqual(10 * 1024);
  });
});
