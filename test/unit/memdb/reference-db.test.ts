/**
 * Issue 9 part 1: every config.db the reference writes loads, and the loader refuses exactly what
 * the reference's loader refuses, plus what cannot be served (a cycle of parents, a name empty up
 * to its first NUL, integers beyond 2^53, two names that decode to the same UTF-8 text). The fixtures are databases written by the reference
 * (test/fixtures/reference-db); the other databases are built here with better-sqlite3 in the
 * reference's schema, one per row pattern its write paths (or a hand-made table) can leave.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb, MemDbLoadError } from '../../../src/memdb/memdb';
import { SqliteTreeStore } from '../../../src/memdb/sqlite-store';
import {
  manifestOfTree,
  parseVmlist,
  readFixture,
  referenceDbNames,
  referenceLoadProblems,
  referenceWriteProblems,
  REFERENCE_TREE_SQL,
} from '../../helpers/reference-db';
import { content, create, mkdir, run, write } from './helpers';

let dir: string;
const opened: SqliteTreeStore[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memdb-refdb-'));
});
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function copyOf(file: string): string {
  const to = path.join(dir, `${path.basename(file)}-${opened.length}`);
  fs.copyFileSync(file, to);
  fs.chmodSync(to, 0o600);
  return to;
}

function load(file: string, now = 1000): MemDb {
  const store = SqliteTreeStore.open(file);
  opened.push(store);
  return MemDb.open(store, now);
}

/** A database in the reference's schema (or `schema`) holding exactly `rows`, as raw SQL values. */
function buildDb(rows: string[], schema = `${REFERENCE_TREE_SQL};`): string {
  const file = path.join(dir, `built-${fs.readdirSync(dir).length}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(schema);
  for (const r of rows) db.exec(`INSERT INTO tree VALUES ${r}`);
  db.close();
  return file;
}

/** Load outcome: 'ok' or the MemDbLoadError message. */
function outcome(file: string): string {
  try {
    load(file);
    return 'ok';
  } catch (e) {
    if (e instanceof MemDbLoadError) return e.message;
    throw e;
  } finally {
    for (const s of opened.splice(0)) s.close();
  }
}

describe('databases written by the reference (fixtures)', () => {
  for (const name of referenceDbNames()) {
    it(`${name}: passes the reference's load and write rules, loads, and holds exactly its manifest and guests`, () => {
      const fx = readFixture(name);
      expect(referenceLoadProblems(fx.db)).toEqual([]);
      expect(referenceWriteProblems(fx.db)).toEqual([]);
      const db = load(copyOf(fx.db));
      expect(db.loadWarnings).toEqual([]);
      expect(manifestOfTree(db)).toEqual(fx.manifest);
      const want = parseVmlist(fx.vmlist);
      const got = db.vmlist();
      const guests = Object.fromEntries([...got.guests].map(([id, g]) => [String(id), { node: g.node, type: g.type }]));
      expect(guests).toEqual(Object.fromEntries(Object.entries(want.ids).map(([id, g]) => [id, { node: g.node, type: g.type }])));
      // After a start the reference has rebuilt its list once (version 1; 0 without a `nodes`
      // directory) and numbered the guests 1..n in its hash order.
      expect(got.version).toBe(db.lookup('nodes') === undefined ? 0 : 1);
      expect([...got.guests.values()].map((g) => g.version).sort((a, b) => a - b)).toEqual([...got.guests.keys()].map((_, i) => i + 1));
    });
  }

  it('the row patterns the README lists are really in the fixtures (directory X\'\', file NULL, version row NULL, sparse inodes)', () => {
    const patterns = new Set<string>();
    for (const name of referenceDbNames()) {
      const d = new Database(readFixture(name).db, { readonly: true });
      const rows = d.prepare('SELECT inode, version, type, typeof(data) AS t, length(data) AS n FROM tree').all() as { inode: number; version: number; type: number; t: string; n: number | null }[];
      d.close();
      for (const r of rows) {
        if (r.inode === 0 && r.type === 8 && r.t === 'null') patterns.add('version-null');
        if (r.inode !== 0 && r.type === 4 && r.t === 'blob' && r.n === 0) patterns.add('dir-empty-blob');
        if (r.inode !== 0 && r.type === 8 && r.t === 'null') patterns.add('file-null');
      }
      const inodes = rows.map((r) => r.inode).sort((a, b) => a - b);
      if (inodes.some((v, i) => i > 0 && v - inodes[i - 1]! > 1)) patterns.add('sparse');
    }
    expect([...patterns].sort()).toEqual(['dir-empty-blob', 'file-null', 'sparse', 'version-null']);
  });

  it('a loaded reference database keeps working: changes, reload, and what is written back passes the reference rules', () => {
    const file = copyOf(readFixture('2-renames').db);
    const db = load(file);
    const version = db.version;
    expect(run(db, { kind: 'mtime', path: 'rn/dirA3', mtime: 77 })).toBe(0);
    expect(run(db, { kind: 'rename', path: 'rn/dirJ', to: 'rn2/dirJ2' })).toBe(0);
    expect(create(db, 'rn/new.cfg')).toBe(0);
    expect(db.lookup('rn/new.cfg')!.inode).toBe(version + 3);
    expect(write(db, 'rn/new.cfg', 'fresh')).toBe(5);
    const manifest = manifestOfTree(db);
    db.close();
    opened.splice(0);
    expect(referenceWriteProblems(file)).toEqual([]);
    expect(manifestOfTree(load(file))).toEqual(manifest);
  });
});

describe('what pmxcfs-ts writes passes the reference load rules', () => {
  it('512-byte pages and a commit outside WAL, with every kind of change', () => {
    const file = path.join(dir, 'written.db');
    const steps: string[] = [];
    const store = SqliteTreeStore.open(file, { largeCommitStep: (s) => steps.push(s) });
    opened.push(store);
    const db = MemDb.open(store, 1000);
    for (const p of ['nodes', 'nodes/n1', 'nodes/n1/qemu-server', 'priv', 'priv/lock', 'priv/lock/file-x', 'a']) expect(mkdir(db, p)).toBe(0);
    expect(create(db, 'nodes/n1/qemu-server/100.conf')).toBe(0);
    expect(write(db, 'nodes/n1/qemu-server/100.conf', 'memory: 1')).toBe(9);
    expect(run(db, { kind: 'rename', path: 'a', to: 'b' })).toBe(0);
    expect(run(db, { kind: 'mtime', path: 'b', mtime: 5 })).toBe(0);
    expect(run(db, { kind: 'mtime', path: 'priv/lock/file-x', mtime: 2000 })).toBe(0);
    expect(create(db, 'empty')).toBe(0);
    expect(run(db, { kind: 'rename', path: 'empty', to: 'b/empty' })).toBe(0);
    expect(write(db, 'big', Buffer.alloc(0), 0, true)).toBe(-Errno.ENOENT); // write never creates
    expect(create(db, 'big')).toBe(0);
    expect(write(db, 'big', Buffer.alloc(300 * 1024, 3), 0, true)).toBe(300 * 1024);
    expect(write(db, 'big', Buffer.alloc(0), 0, true)).toBe(0);
    expect(run(db, { kind: 'delete', path: 'nodes/n1/qemu-server/100.conf' })).toBe(0);
    expect(steps).toContain('left-wal');
    expect(store.db.pragma('page_size', { simple: true })).toBe(512);
    db.close();
    opened.splice(0);
    expect(referenceWriteProblems(file)).toEqual([]);
  });
});

describe('row patterns: pmxcfs-ts loads what the reference loads', () => {
  const V = (version = 50): string => `(0, 0, ${version}, 0, 1700000000, 8, '__version__', NULL)`;
  const dirs = ["(2, 0, 2, 0, 1700000002, 4, 'nodes', NULL)", "(3, 2, 3, 0, 1700000003, 4, 'n1', X'')", "(4, 3, 4, 0, 1700000004, 4, 'qemu-server', NULL)"];

  /** Each case: rows (and optionally a schema), then what must hold after loading. */
  const tolerated: { what: string; rows: string[]; schema?: string; check?: (db: MemDb) => void }[] = [
    {
      what: "directories with X'' data (rename, utime) and with NULL data (mkdir)",
      rows: [V(), ...dirs, "(5, 0, 9, 0, 1234567890, 4, 'priv', X'')", "(6, 5, 10, 0, 0, 4, 'lock', X'')", "(7, 6, 11, 0, 1800000000, 4, 'file-user_cfg', X'')"],
      check: (db) => {
        expect(db.lookup('nodes/n1')!.children!.size).toBe(1);
        expect(db.lookup('priv/lock/file-user_cfg')!.mtime).toBe(1800000000);
        expect(db.lockTable().get('priv/lock/file-user_cfg')).toBeDefined();
      },
    },
    {
      what: "empty files as NULL and as X''",
      rows: [V(), "(5, 0, 5, 0, 0, 8, 'null-file', NULL)", "(6, 0, 6, 0, 0, 8, 'blob-file', X'')"],
      check: (db) => {
        expect(content(db, 'null-file')).toBe('');
        expect(content(db, 'blob-file')).toBe('');
      },
    },
    { what: 'a version row with data (ignored)', rows: [`(0, 0, 9, 0, 0, 8, '__version__', X'0102')`, "(5, 0, 5, 0, 0, 8, 'f', X'41')"], check: (db) => expect(db.version).toBe(9) },
    { what: 'a version row of type 4 without data', rows: [`(0, 0, 9, 0, 0, 4, '__version__', NULL)`], check: (db) => expect(db.version).toBe(9) },
    {
      what: 'sparse and large inodes and versions, children before parents',
      rows: [V(2 ** 40), "(3, 1099511627000, 1099511627001, 0, 0, 8, 'early-child', X'6869')", "(1099511627000, 0, 1099511627000, 0, 0, 4, 'late-dir', NULL)", "(9000001, 0, 9000001, 0, 0, 8, 'mid', NULL)"],
      check: (db) => {
        expect(content(db, 'late-dir/early-child')).toBe('hi');
        expect(create(db, 'next')).toBe(0);
        expect(db.lookup('next')!.inode).toBe(2 ** 40 + 1);
      },
    },
    {
      what: 'guest configs: the VMID list is built from them',
      rows: [V(), ...dirs, "(5, 4, 5, 0, 0, 8, '100.conf', X'6d656d6f72793a2031')", "(6, 4, 6, 0, 0, 8, '101.conf', NULL)"],
      check: (db) => expect([...db.vmlist().guests.keys()].sort()).toEqual([100, 101]),
    },
    {
      what: 'entries without a __version__ row (version set to 1 as the reference does; new inodes above every one in use)',
      rows: ["(5, 0, 5, 0, 0, 8, 'f', X'41')", "(7, 0, 7, 0, 0, 4, 'd', NULL)"],
      check: (db) => {
        expect(db.loadWarnings.join()).toContain('no __version__ row');
        expect(create(db, 'g')).toBe(0);
        expect(db.lookup('g')!.inode).toBe(8);
        expect(content(db, 'f')).toBe('A');
      },
    },
    {
      what: 'a version row with version 0',
      rows: [V(0)],
      check: (db) => expect(db.version).toBe(1),
    },
    {
      what: 'an inode and a version above the global version (new inodes start above them)',
      rows: [V(20), "(30, 0, 3, 0, 0, 8, 'high-inode', NULL)", "(4, 0, 40, 0, 0, 8, 'high-version', NULL)"],
      check: (db) => {
        expect(db.loadWarnings.join()).toContain('above the global version 20');
        expect(db.version).toBe(40);
        expect(mkdir(db, 'd')).toBe(0);
        expect(db.lookup('d')!.inode).toBe(41);
        expect(db.lookup('high-inode')).toBeDefined();
      },
    },
    {
      what: 'data stored as text or a number, a name stored as a blob',
      rows: [V(), "(5, 0, 5, 0, 0, 8, 'text-data', 'hello')", "(6, 0, 6, 0, 0, 8, 'int-data', 42)", "(7, 0, 7, 0, 0, 8, X'626c6f622d6e616d65', X'78')", "(8, 0, 8, 0, 0, 4, 'dir-text-empty', '')"],
      check: (db) => {
        expect(content(db, 'text-data')).toBe('hello');
        expect(content(db, 'int-data')).toBe('42');
        expect(content(db, 'blob-name')).toBe('x');
        expect(db.lookup('dir-text-empty')!.type).toBe(4);
      },
    },
    {
      what: 'a name with a NUL byte inside (cut there, as the C string copy does)',
      rows: [V(), "(5, 0, 5, 0, 0, 8, CAST(X'61620063' AS TEXT), X'7a')"],
      check: (db) => expect(content(db, 'ab')).toBe('z'),
    },
    {
      what: 'a table without the CHECKs holding text and real numbers and NULLs in integer columns',
      schema: 'CREATE TABLE tree (inode INTEGER PRIMARY KEY NOT NULL, parent, version, writer, mtime, type, name, data);',
      rows: [V(), "(5, '0', 5.9, NULL, 'soon', '8', 'f', X'41')", "(6, 0, 6, -1, 4294967297, 4, 'd', NULL)"],
      check: (db) => {
        expect(db.lookup('f')).toMatchObject({ version: 5, writer: 0, mtime: 0 });
        expect(db.lookup('d')).toMatchObject({ writer: 0xffffffff, mtime: 1 });
      },
    },
  ];

  for (const c of tolerated) {
    it(c.what, () => {
      const file = buildDb(c.rows, c.schema);
      expect(referenceLoadProblems(file)).toEqual([]);
      const db = load(file);
      c.check?.(db);
    });
  }
});

describe('pmxcfs-ts refuses what the reference refuses, and only what cannot be served besides', () => {
  const V = "(0, 0, 50, 0, 0, 8, '__version__', NULL)";
  const refusedByBoth: { what: string; rows: string[]; schema?: string; message: string }[] = [
    { what: 'inode 0 not named __version__', rows: ["(0, 0, 20, 0, 0, 8, 'root', NULL)"], message: '__version__' },
    { what: 'empty name', rows: [V, "(3, 0, 3, 0, 0, 8, '', NULL)"], message: 'empty name' },
    { what: 'NULL name', schema: 'CREATE TABLE tree (inode INTEGER PRIMARY KEY, parent, version, writer, mtime, type, name, data);', rows: [V, '(3, 0, 3, 0, 0, 8, NULL, NULL)'], message: 'no name' },
    { what: 'directory with a data byte', rows: [V, "(3, 0, 3, 0, 0, 4, 'd', X'00')"], message: 'directory with data (1 bytes)' },
    { what: 'unknown type', rows: [V, "(3, 0, 3, 0, 0, 10, 'x', NULL)"], message: 'unknown type 10' },
    { what: 'version row of unknown type', rows: ["(0, 0, 20, 0, 0, 0, '__version__', NULL)"], message: 'unknown type 0' },
    { what: 'parent is a file', rows: [V, "(3, 0, 3, 0, 0, 8, 'f', NULL)", "(4, 3, 4, 0, 0, 8, 'g', NULL)"], message: 'not a directory' },
    { what: 'duplicate name', rows: [V, "(3, 0, 3, 0, 0, 8, 'f', NULL)", "(4, 0, 4, 0, 0, 4, 'f', NULL)"], message: 'duplicate name' },
    { what: 'duplicate name after the NUL cut', rows: [V, "(3, 0, 3, 0, 0, 8, CAST(X'610062' AS TEXT), NULL)", "(4, 0, 4, 0, 0, 8, CAST(X'610063' AS TEXT), NULL)"], message: 'duplicate name' },
    { what: 'missing parent', rows: [V, "(3, 17, 3, 0, 0, 8, 'orphan', NULL)"], message: 'missing parent 17' },
    {
      what: 'duplicate VMID',
      rows: [V, "(2, 0, 2, 0, 0, 4, 'nodes', NULL)", "(3, 2, 3, 0, 0, 4, 'n1', NULL)", "(4, 2, 4, 0, 0, 4, 'n2', NULL)", "(5, 3, 5, 0, 0, 4, 'qemu-server', NULL)", "(6, 4, 6, 0, 0, 4, 'lxc', NULL)", "(7, 5, 7, 0, 0, 8, '100.conf', NULL)", "(8, 6, 8, 0, 0, 8, '100.conf', NULL)"],
      message: 'duplicate VMID 100',
    },
  ];
  for (const c of refusedByBoth) {
    it(`${c.what}: refused by both`, () => {
      const file = buildDb(c.rows, c.schema);
      expect(referenceLoadProblems(file)).not.toEqual([]);
      const before = fs.readFileSync(file);
      expect(outcome(file)).toContain(c.message);
      expect(fs.readFileSync(file).equals(before)).toBe(true);
    });
  }

  // The reference starts on these but cannot serve them: the entries hang under no directory
  // (or under a name no path can reach) — pmxcfs-ts refuses them with a message instead.
  const unservable: { what: string; rows: string[]; message: string }[] = [
    { what: 'a cycle of parents', rows: [V, "(3, 4, 3, 0, 0, 4, 'a', NULL)", "(4, 3, 4, 0, 0, 4, 'b', NULL)"], message: 'not reachable' },
    { what: 'a directory that is its own parent', rows: [V, "(3, 3, 3, 0, 0, 4, 'self', NULL)"], message: 'not reachable' },
    { what: 'a child read before its parent turned out to be a file', rows: [V, "(3, 4, 3, 0, 0, 8, 'child', NULL)", "(4, 0, 4, 0, 0, 8, 'file', NULL)"], message: 'not a directory' },
    { what: 'a name empty up to its first NUL', rows: [V, "(3, 0, 3, 0, 0, 8, CAST(X'0061' AS TEXT), NULL)"], message: 'first NUL' },
    { what: 'a negative inode', rows: [V, "(-5, 0, 3, 0, 0, 8, 'neg', NULL)"], message: 'inode' },
  ];
  it('two names that differ only in bytes that are not UTF-8 load as two entries, written back as the same bytes', () => {
    const file = buildDb([V, "(3, 0, 3, 0, 0, 8, CAST(X'61ff' AS TEXT), NULL)", "(4, 0, 4, 0, 0, 8, CAST(X'61fe' AS TEXT), NULL)"]);
    expect(outcome(file)).toBe('ok');
    const db = load(file);
    expect(db.readdir('')).toHaveLength(2);
    expect(db.apply({ kind: 'mtime', path: db.entryByInode(3)!.name, mtime: 5 }, { writer: 0, mtime: 5 }, 5)).toBe(0);
    db.close();
    const d = new Database(file, { readonly: true });
    const names = d.prepare('SELECT hex(name) AS h, typeof(name) AS t FROM tree WHERE inode IN (3, 4) ORDER BY inode').all();
    d.close();
    expect(names).toEqual([{ h: '61FF', t: 'text' }, { h: '61FE', t: 'text' }]);
  });

  for (const c of unservable) {
    it(`${c.what}: the reference starts, pmxcfs-ts refuses (cannot be served)`, () => {
      const file = buildDb(c.rows);
      expect(referenceLoadProblems(file)).toEqual([]);
      expect(outcome(file)).toContain(c.message);
    });
  }
});
