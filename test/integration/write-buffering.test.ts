/**
 * Per-file write buffering (docs/differences.md): many write() chunks become one truncating WRITE
 * at close; this node reads its buffered data before that; close returns after the commit.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startDaemon, type DaemonHandle } from './daemon-harness';

let d: DaemonHandle;
const p = (rel: string) => join(d.mnt, rel);

/** The global version (one increment per committed mutation) as stored in config.db. */
function dbVersion(): number {
  const db = new Database(d.db, { readonly: true });
  try {
    return Number((db.prepare('SELECT version FROM tree WHERE inode = 0').get() as { version: number }).version);
  } finally {
    db.close();
  }
}

function dbFile(name: string): Buffer | null | undefined {
  const db = new Database(d.db, { readonly: true });
  try {
    const row = db.prepare('SELECT data FROM tree WHERE name = ? AND inode <> 0').get(name) as { data: Buffer | null } | undefined;
    return row === undefined ? undefined : row.data;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  await cleanup(d);
});

describe('write buffering', () => {
  it('500 KiB in 512-byte chunks is one create plus one write transaction', () => {
    const before = dbVersion();
    const chunk = Buffer.alloc(512);
    const fd = fs.openSync(p('stream.bin'), 'w');
    for (let i = 0; i < 1000; i++) {
      chunk.fill(i % 251);
      fs.writeSync(fd, chunk);
    }
    fs.closeSync(fd);
    expect(dbVersion() - before).toBe(2);
    const stored = dbFile('stream.bin')!;
    expect(stored.length).toBe(512_000);
    expect(stored[511_999]).toBe(999 % 251);
  });

  it('reads and stat on this node see buffered data before close; the DB only after close', () => {
    const fd = fs.openSync(p('pending.txt'), 'w');
    fs.writeSync(fd, 'hello ');
    fs.writeSync(fd, 'world');
    expect(dbFile('pending.txt')).toBe(null); // created, content not committed yet
    expect(fs.statSync(p('pending.txt')).size).toBe(11);
    // (closing this second descriptor flushes the path's buffer: a close of any fd commits)
    expect(fs.readFileSync(p('pending.txt'), 'utf8')).toBe('hello world');
    fs.closeSync(fd);
    expect(dbFile('pending.txt')!.toString()).toBe('hello world');
  });

  it('O_TRUNC rewrite and overwrite in the middle keep the reference semantics', () => {
    fs.writeFileSync(p('f'), '0123456789');
    const fd = fs.openSync(p('f'), 'r+');
    fs.writeSync(fd, 'X', 3);
    fs.writeSync(fd, 'X', 6);
    fs.closeSync(fd);
    expect(fs.readFileSync(p('f'), 'utf8')).toBe('012X45X789');
    fs.writeFileSync(p('f'), 'short');
    expect(fs.readFileSync(p('f'), 'utf8')).toBe('short');
    expect(dbFile('f')!.toString()).toBe('short');
  });

  it('a write beyond the end leaves a zero-filled gap; truncate by path commits at once', () => {
    const fd = fs.openSync(p('gap'), 'w');
    fs.writeSync(fd, 'ab', 4);
    fs.closeSync(fd);
    expect(fs.readFileSync(p('gap'))).toEqual(Buffer.from([0, 0, 0, 0, 0x61, 0x62]));
    fs.truncateSync(p('gap'), 2);
    expect(dbFile('gap')).toEqual(Buffer.from([0, 0]));
  });

  it('rename and unlink of a file with pending writes commit them first', () => {
    const fd = fs.openSync(p('a.tmp'), 'w');
    fs.writeSync(fd, 'content');
    fs.renameSync(p('a.tmp'), p('a.cfg'));
    fs.closeSync(fd);
    expect(fs.readFileSync(p('a.cfg'), 'utf8')).toBe('content');
    expect(dbFile('a.cfg')!.toString()).toBe('content');
  });

  it('fsync commits without closing', () => {
    const fd = fs.openSync(p('synced'), 'w');
    fs.writeSync(fd, 'abc');
    fs.fsyncSync(fd);
    expect(dbFile('synced')!.toString()).toBe('abc');
    fs.closeSync(fd);
  });
});
