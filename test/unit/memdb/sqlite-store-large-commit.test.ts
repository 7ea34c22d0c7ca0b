/**
 * Large transactions outside WAL (src/memdb/journal-mode.ts, SqliteTreeStore.transact), on real
 * SQLite files: the data round-trips, the database comes back in WAL mode with the reference's
 * settings, a second connection forces the WAL fallback, the disk bytes are those of one copy, and
 * a kill -9 of a child process at every step (and inside the transaction, with a hot journal on
 * disk) leaves a database that loads with either the old or the new content.
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemDb } from '../../../src/memdb/memdb';
import { LARGE_COMMIT_BYTES, SqliteTreeStore, type SqliteStoreOptions } from '../../../src/memdb/sqlite-store';
import { rowOfEntry } from '../../../src/memdb/rows';
import { content, create, putFile, write } from './helpers';

const MiB = 1024 * 1024;
let dir: string;
let dbFile: string;
const opened: SqliteTreeStore[] = [];
const others: Database.Database[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'large-commit-'));
  dbFile = path.join(dir, 'config.db');
});

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
  for (const d of others.splice(0)) d.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openDb(options: SqliteStoreOptions = {}): { db: MemDb; store: SqliteTreeStore } {
  const store = SqliteTreeStore.open(dbFile, options);
  opened.push(store);
  return { db: MemDb.open(store, 1000), store };
}

function reload(): MemDb {
  for (const s of opened.splice(0)) s.close();
  return openDb().db;
}

function bytesOf(db: MemDb, p: string): Buffer {
  const r = db.read(p, 0, 2 * MiB);
  if (typeof r === 'number') throw new Error(`read ${p}: ${r}`);
  return Buffer.from(r);
}

/** The reference's settings after every commit: WAL and synchronous=NORMAL, no journal file left. */
function expectBackInWal(store: SqliteTreeStore): void {
  expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
  expect(store.db.pragma('busy_timeout', { simple: true })).toBe(10_000);
  expect(fs.existsSync(`${dbFile}-journal`)).toBe(false);
}

describe('large transactions outside WAL', () => {
  it('a 1 MiB file is written outside WAL, reads back, and the store is back in WAL mode with the usual settings', () => {
    const { db, store } = openDb();
    const big = Buffer.alloc(MiB, 0x5a);
    big.write('head', 0);
    big.write('tail', MiB - 4);
    putFile(db, 'big.cfg', big);
    putFile(db, 'small.cfg', 'small\n');
    expect(store.largeCommits).toEqual({ outsideWal: 1, inWal: 0 });
    expectBackInWal(store);
    // Small writes after it still go to the WAL.
    expect(write(db, 'small.cfg', 'again\n', 0, true)).toBe(6);
    expect(fs.statSync(`${dbFile}-wal`).size).toBeGreaterThan(0);

    const again = reload();
    expect(bytesOf(again, 'big.cfg').equals(big)).toBe(true);
    expect(content(again, 'small.cfg')).toBe('again\n');
    expect(again.version).toBe(db.version);
  });

  it('below the threshold nothing leaves WAL; the threshold counts the data of the whole transaction', () => {
    const { db, store } = openDb();
    putFile(db, 'a.cfg', Buffer.alloc(LARGE_COMMIT_BYTES - 1, 1));
    expect(store.largeCommits).toEqual({ outsideWal: 0, inWal: 0 });
    putFile(db, 'b.cfg', Buffer.alloc(LARGE_COMMIT_BYTES, 2));
    expect(store.largeCommits).toEqual({ outsideWal: 1, inWal: 0 });
  });

  it('another open connection (an idle reader) forces the WAL fallback, and the commit still lands', () => {
    const { db, store } = openDb();
    putFile(db, 'x.cfg', 'x\n');
    const reader = new Database(dbFile, { fileMustExist: true, readonly: true });
    others.push(reader);
    expect(reader.prepare('SELECT count(*) AS n FROM tree').get()).toEqual({ n: 2 });

    const big = Buffer.alloc(600 * 1024, 0x33);
    putFile(db, 'big.cfg', big);
    expect(store.largeCommits).toEqual({ outsideWal: 0, inWal: 1 });
    expectBackInWal(store);
    // The reader sees the new row through the WAL.
    const row = reader.prepare("SELECT length(data) AS n FROM tree WHERE name = 'big.cfg'").get();
    expect(row).toEqual({ n: big.length });

    reader.close();
    others.length = 0;
    // Alone again: the next large commit leaves WAL.
    expect(write(db, 'big.cfg', Buffer.alloc(700 * 1024, 0x44), 0, true)).toBe(700 * 1024);
    expect(store.largeCommits).toEqual({ outsideWal: 1, inWal: 1 });
    expect(bytesOf(reload(), 'big.cfg').equals(Buffer.alloc(700 * 1024, 0x44))).toBe(true);
  });

  it('a database under a writing sqlite3 of another process: the fallback waits like any commit and both changes land', () => {
    const { db, store } = openDb();
    putFile(db, 'x.cfg', 'x\n');
    // Another process holding the database open in WAL mode while the large commit runs.
    const other = spawn('sqlite3', [dbFile], { stdio: ['pipe', 'ignore', 'ignore'] });
    other.stdin.write('SELECT count(*) FROM tree;\n');
    // Wait until that process has the database open (its shared lock shows in /proc/locks).
    const inode = fs.statSync(dbFile).ino;
    const holds = (): boolean => fs.readFileSync('/proc/locks', 'utf8').split('\n').some((l) => l.includes(` ${other.pid} `) && l.includes(`:${inode} `));
    for (let i = 0; i < 2000 && !holds(); i++) execFileSync('sleep', ['0.01']);
    expect(holds()).toBe(true);
    putFile(db, 'big.cfg', Buffer.alloc(300 * 1024, 7));
    expect(store.largeCommits).toEqual({ outsideWal: 0, inWal: 1 });
    other.stdin.end('.quit\n');
    expect(bytesOf(reload(), 'big.cfg').equals(Buffer.alloc(300 * 1024, 7))).toBe(true);
  });

  it('a reader of another connection while the store returns to WAL: it stays in the rollback mode (FULL) without waiting, and returns before the next transaction', () => {
    const steps: string[] = [];
    let reading: IterableIterator<unknown> | undefined;
    const { db, store } = openDb({
      largeCommitStep: (step) => {
        steps.push(step);
        if (step !== 'committed') return;
        // In a rollback mode a reader holds a SHARED lock for as long as its statement runs.
        const reader = new Database(dbFile, { fileMustExist: true, readonly: true });
        others.push(reader);
        reading = reader.prepare('SELECT inode FROM tree').iterate();
        reading.next();
      },
    });
    putFile(db, 'big.cfg', Buffer.alloc(300 * 1024, 9));
    expect(steps).toEqual(['left-wal', 'committed']);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('truncate');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(10_000);

    reading!.return!();
    expect(write(db, 'big.cfg', 'small now\n', 0, true)).toBe(10);
    expect(steps).toEqual(['left-wal', 'committed', 'back-in-wal']);
    expectBackInWal(store);
    expect(content(reload(), 'big.cfg')).toBe('small now\n');
  });

  it('a sync commit (replaceTree) with large data goes the same way and verifies', () => {
    const { db, store } = openDb();
    create(db, 'old.cfg');
    const leader = openLeader();
    expect(db.applySync(leader.encodeIndex(), [...leader.entries()].map(rowOfEntry), 2000)).toBe(true);
    expect(store.largeCommits).toEqual({ outsideWal: 1, inWal: 0 });
    expectBackInWal(store);
    expect(reload().encodeIndex().equals(leader.encodeIndex())).toBe(true);
  });
});

/** A second tree (the "leader" of a sync) in its own file with 5 x 100 KiB of data. */
function openLeader(): MemDb {
  const store = SqliteTreeStore.open(path.join(dir, 'leader.db'));
  opened.push(store);
  const leader = MemDb.open(store, 1000);
  for (let i = 0; i < 5; i++) putFile(leader, `f${i}`, Buffer.alloc(100 * 1024, i + 1));
  return leader;
}

describe('disk bytes of a large commit (write_bytes of this thread: whole 4 KiB page-cache pages dirtied)', () => {
  const threadWriteBytes = (): number => Number(/write_bytes: (\d+)/.exec(fs.readFileSync('/proc/thread-self/io', 'utf8'))![1]);

  /** Bytes written by `op` plus a full checkpoint afterwards, starting from an empty WAL and clean pages. */
  function bytesWritten(store: SqliteTreeStore, op: () => void): number {
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of [dbFile, `${dbFile}-wal`]) {
      const fd = fs.openSync(f, 'r+');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    const before = threadWriteBytes();
    op();
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    return threadWriteBytes() - before;
  }

  it('1 MiB outside WAL costs about one copy (<= 1.1x); in WAL (another connection open) about two (>= 1.9x)', () => {
    const { db, store } = openDb();
    create(db, 'alone.cfg');
    create(db, 'shared.cfg');
    const alone = bytesWritten(store, () => expect(write(db, 'alone.cfg', Buffer.alloc(MiB, 1), 0, true)).toBe(MiB));
    expect(store.largeCommits.outsideWal).toBe(1);
    const reader = new Database(dbFile, { fileMustExist: true, readonly: true });
    others.push(reader);
    reader.prepare('SELECT count(*) FROM tree').get();
    const shared = bytesWritten(store, () => expect(write(db, 'shared.cfg', Buffer.alloc(MiB, 2), 0, true)).toBe(MiB));
    expect(store.largeCommits.inWal).toBe(1);
    expect(alone / MiB).toBeLessThanOrEqual(1.1);
    expect(shared / MiB).toBeGreaterThanOrEqual(1.9);
  });
});

/**
 * The crash tests run the store in a child process (the sources of src/memdb transpiled to
 * CommonJS with TypeScript's transpileModule) and kill it with SIGKILL.
 */
describe('kill -9 during a large commit', () => {
  let lib: string;

  beforeAll(() => {
    lib = fs.mkdtempSync(path.join(os.tmpdir(), 'large-commit-lib-'));
    const src = path.resolve(__dirname, '../../../src/memdb');
    for (const f of fs.readdirSync(src).filter((n) => n.endsWith('.ts'))) {
      const out = ts.transpileModule(fs.readFileSync(path.join(src, f), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      fs.writeFileSync(path.join(lib, f.replace(/\.ts$/, '.js')), out.outputText);
    }
    fs.writeFileSync(path.join(lib, 'child.js'), CHILD);
  });

  afterAll(() => fs.rmSync(lib, { recursive: true, force: true }));

  /**
   * Runs the child: it writes `big.cfg` with 1 MiB of 0x01, prints "done 1", then with 0x02 and
   * kills itself at `killAt` (or loops 0x02, 0x03, ... when killAt is 'loop', killed from here
   * after `afterDone` completed writes and `delayMs`). Resolves with the last completed write.
   */
  function runChild(killAt: string, afterDone = 0, delayMs = 0): Promise<{ done: number; signal: string | null }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(lib, 'child.js'), dbFile, killAt], {
        env: { ...process.env, NODE_PATH: path.resolve(__dirname, '../../../node_modules') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let done = 0;
      let killing = false;
      let err = '';
      let buffered = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const l of lines) {
          const m = /^done (\d+)$/.exec(l);
          if (!m) continue;
          done = Number(m[1]);
          if (killAt === 'loop' && done >= afterDone && !killing) {
            killing = true;
            setTimeout(() => child.kill('SIGKILL'), delayMs);
          }
        }
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code ?? signal}: ${err}`));
        else resolve({ done, signal });
      });
    });
  }

  /** Opens what the child left like the reference would (sqlite3 CLI integrity check), then with the store. */
  function fillByteAfterCrash(): number {
    expect(execFileSync('sqlite3', [dbFile, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim()).toBe('ok');
    const { db, store } = openDb();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    const data = bytesOf(db, 'big.cfg');
    expect(data.length).toBe(MiB);
    expect(data.equals(Buffer.alloc(MiB, data[0]!))).toBe(true);
    return data[0]!;
  }

  it('inside the transaction, with a hot journal and database pages already written: the old content', async () => {
    const r = await runChild('mid-transaction');
    expect(r.done).toBe(1);
    expect(fs.statSync(`${dbFile}-journal`).size).toBeGreaterThan(0); // a hot journal is left
    expect(fillByteAfterCrash()).toBe(1);
  });

  it.each([
    ['left-wal', 1],
    ['committed', 2],
    ['back-in-wal', 2],
  ])('at step %s: content %i', async (step, expected) => {
    const r = await runChild(step);
    expect(r.done).toBe(1);
    expect(fillByteAfterCrash()).toBe(expected);
  });

  it('at random moments of back-to-back large commits: never a lost completed write, never a torn file', async () => {
    for (let i = 0; i < 8; i++) {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir);
      const r = await runChild('loop', 2 + (i % 3), i * 3);
      const found = fillByteAfterCrash();
      expect([r.done, r.done + 1]).toContain(found);
      for (const s of opened.splice(0)) s.close();
    }
  });
});

/** The child process of the crash tests (plain CommonJS next to the transpiled src/memdb). */
const CHILD = `
const { SqliteTreeStore } = require('./sqlite-store');
const { MemDb } = require('./memdb');
const [file, killAt] = process.argv.slice(2);
const die = () => process.kill(process.pid, 'SIGKILL');
let armed = false; // the first write (content 1) always completes
const store = SqliteTreeStore.open(file, { largeCommitStep: (step) => { if (armed && step === killAt) die(); } });
const db = MemDb.open(store, 1000);
const origin = { writer: 0, mtime: 1000 };
const put = (fill) => {
  const r = db.apply({ kind: 'write', path: 'big.cfg', offset: 0, data: Buffer.alloc(1024 * 1024, fill), truncate: true }, origin, 1000);
  if (r !== 1024 * 1024) throw new Error('write: ' + r);
  process.stdout.write('done ' + (fill) + '\\n');
};
if (db.apply({ kind: 'create', path: 'big.cfg' }, origin, 1000) !== 0) throw new Error('create');
put(1);
armed = true;
if (killAt === 'mid-transaction') {
  // A tiny page cache makes SQLite spill pages into the database file before COMMIT (journal
  // synced first); dying right after the big row is written leaves a hot journal behind.
  store.db.pragma('cache_size = 16');
  const writeRow = store.writeRow.bind(store);
  store.writeRow = (row) => { writeRow(row); if (row.name === 'big.cfg') die(); };
}
if (killAt === 'loop') { for (let fill = 2; ; fill = fill >= 250 ? 2 : fill + 1) put(fill); }
put(2);
`;
