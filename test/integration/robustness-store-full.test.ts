/**
 * A full disk under the real SQLite store (a 2 MiB tmpfs mounted by this test): an operation that
 * cannot be written fails with ENOSPC, nothing changes in RAM or in config.db, no transaction is
 * left open, the error flag stays clear, and the same operation succeeds once space is freed.
 * The sync commit (cluster resync) behaves the same: false without the error flag, then success.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/memdb/errno';
import { MemDb } from '../../src/memdb/memdb';
import { MemoryTreeStore } from '../../src/memdb/memory-store';
import { rowOfEntry } from '../../src/memdb/rows';
import { SqliteTreeStore, isDiskFull } from '../../src/memdb/sqlite-store';
import type { FsOp } from '../../src/memdb/types';
import { fillDisk, smallTmpfsForFile } from '../helpers/small-fs';

const LOCAL = { writer: 0, mtime: 1234 };
let store: SqliteTreeStore | undefined;
const disk = smallTmpfsForFile('robust-store-', '2m', () => {
  store?.close();
  store = undefined;
});

function openDb(): MemDb {
  store = SqliteTreeStore.open(path.join(disk.dir, 'config.db'));
  return MemDb.open(store, 1000);
}

const apply = (db: MemDb, op: FsOp): number => db.apply(op, LOCAL, 1000);
const put = (p: string, data: Buffer): FsOp => ({ kind: 'write', path: p, offset: 0, data, truncate: true });
const text = (db: MemDb, p: string): Buffer => {
  const r = db.read(p, 0, 1 << 21);
  if (typeof r === 'number') throw new Error(`read ${p}: ${r}`);
  return Buffer.from(r);
};

/** The tree as rows, for comparing RAM with what a fresh load of config.db gives. */
function rowsOf(db: MemDb): string[] {
  return [...db.entries()]
    .filter((e) => e.inode !== 0)
    .map((e) => JSON.stringify({ ...rowOfEntry(e), data: e.data?.toString('base64') ?? null }))
    .sort();
}

describe('full disk under the SQLite store', () => {
  it('ENOSPC for that operation only: RAM and config.db unchanged, no open transaction, writable again after freeing space', () => {
    const db = openDb();
    expect(apply(db, { kind: 'mkdir', path: 'nodes' })).toBe(0);
    expect(apply(db, { kind: 'create', path: 'nodes/keep.cfg' })).toBe(0);
    expect(apply(db, put('nodes/keep.cfg', Buffer.from('keep me\n')))).toBe(8);
    expect(apply(db, { kind: 'create', path: 'big.cfg' })).toBe(0);
    const filler = fillDisk(path.join(disk.dir, 'filler'));

    const version = db.version;
    const before = rowsOf(db);
    const big = Buffer.alloc(300 * 1024, 0x61);
    expect(apply(db, put('big.cfg', big))).toBe(-Errno.ENOSPC);
    expect(db.errors).toBe(false);
    expect(db.version).toBe(version);
    expect(rowsOf(db)).toEqual(before);
    expect(store!.db.inTransaction).toBe(false);
    expect(text(db, 'nodes/keep.cfg').toString()).toBe('keep me\n');
    // Not sticky: every later attempt is tried again (and fails again while the disk is full).
    expect(apply(db, put('big.cfg', big))).toBe(-Errno.ENOSPC);
    expect(db.errors).toBe(false);

    fs.unlinkSync(filler);
    expect(apply(db, put('big.cfg', big))).toBe(big.length);
    expect(apply(db, { kind: 'rename', path: 'big.cfg', to: 'nodes/big.cfg' })).toBe(0);
    expect(db.version).toBe(version + 2);
    const after = rowsOf(db);
    db.close();
    store = undefined;

    const reloaded = openDb();
    expect(rowsOf(reloaded)).toEqual(after);
    expect(reloaded.version).toBe(version + 2);
    expect(text(reloaded, 'nodes/big.cfg').equals(big)).toBe(true);
  });

  it('a failed write of a new file leaves the empty file its create made, nothing else', () => {
    const db = openDb();
    const filler = fillDisk(path.join(disk.dir, 'filler'));
    // A create is tiny and may still fit into the WAL; what matters is that each result is honest.
    const created = apply(db, { kind: 'create', path: 'new.cfg' });
    expect([0, -Errno.ENOSPC]).toContain(created);
    const wrote = apply(db, { kind: 'write', path: 'new.cfg', offset: 0, data: Buffer.alloc(200 * 1024, 1), truncate: true });
    expect(created === 0 ? wrote : -Errno.ENOSPC).toBe(-Errno.ENOSPC);
    const rows = rowsOf(db);
    const version = db.version;
    db.close();
    store = undefined;
    fs.unlinkSync(filler);
    const reloaded = openDb();
    expect(rowsOf(reloaded)).toEqual(rows);
    expect(reloaded.version).toBe(version);
  });

  it('a sync commit on a full disk returns false without the error flag and keeps the old tree; it succeeds after freeing space', () => {
    const db = openDb();
    expect(apply(db, { kind: 'create', path: 'old.cfg' })).toBe(0);
    // The leader's tree: something else entirely, with enough data not to fit.
    const leader = MemDb.open(new MemoryTreeStore(), 1000);
    for (let i = 0; i < 6; i++) {
      expect(apply(leader, { kind: 'create', path: `f${i}` })).toBe(0);
      expect(apply(leader, put(`f${i}`, Buffer.alloc(60 * 1024, i)))).toBe(60 * 1024);
    }
    const index = leader.encodeIndex();
    const updates = [...leader.entries()].map(rowOfEntry);
    const filler = fillDisk(path.join(disk.dir, 'filler'));

    const before = rowsOf(db);
    expect(db.applySync(index, updates, 2000)).toBe(false);
    expect(db.errors).toBe(false);
    expect(rowsOf(db)).toEqual(before);
    expect(store!.db.inTransaction).toBe(false);

    fs.unlinkSync(filler);
    expect(db.applySync(index, updates, 2000)).toBe(true);
    expect(db.encodeIndex().equals(index)).toBe(true);
    db.close();
    store = undefined;
    expect(openDb().encodeIndex().equals(index)).toBe(true);
  });

  it('only a full disk is transient: SQLITE_FULL yes, a constraint failure or a corrupt file no', () => {
    const file = path.join(disk.dir, 'x.db');
    expect(isDiskFull(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), file)).toBe(true);
    expect(isDiskFull(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_CHECK' }), file)).toBe(false);
    expect(isDiskFull(Object.assign(new Error('corrupt'), { code: 'SQLITE_CORRUPT' }), file)).toBe(false);
    expect(isDiskFull(new Error('no code'), file)).toBe(false);
    // An I/O error counts as "full" only while the file system has (almost) no room left.
    const io = Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_TRUNCATE' });
    expect(isDiskFull(io, file)).toBe(false);
    const filler = fillDisk(path.join(disk.dir, 'filler'));
    expect(isDiskFull(io, file)).toBe(true);
    fs.unlinkSync(filler);
  });
});
