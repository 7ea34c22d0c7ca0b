/**
 * A full disk while a large transaction runs outside WAL (src/memdb/journal-mode.ts), on a small
 * tmpfs mounted by this test: the operation fails with ENOSPC (StoreFullError, nothing written),
 * the store stays usable, comes back to WAL with synchronous=NORMAL once there is room, and a
 * fresh load gives exactly what the successful operations wrote.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Errno } from '../../src/memdb/errno';
import { MemDb } from '../../src/memdb/memdb';
import { SqliteTreeStore, type LargeCommitStep } from '../../src/memdb/sqlite-store';
import type { FsOp } from '../../src/memdb/types';
import { fillDisk, smallTmpfsForFile } from '../helpers/small-fs';

const LOCAL = { writer: 0, mtime: 1234 };
const KiB = 1024;
let store: SqliteTreeStore | undefined;
const disk = smallTmpfsForFile('store-large-full-', '3m', () => {
  store?.close();
  store = undefined;
});

/** The steps of the commits outside WAL since the last openDb(). */
let steps: LargeCommitStep[] = [];

function openDb(): MemDb {
  steps = [];
  store = SqliteTreeStore.open(path.join(disk.dir, 'config.db'), { largeCommitStep: (s) => steps.push(s) });
  return MemDb.open(store, 1000);
}

const apply = (db: MemDb, op: FsOp): number => db.apply(op, LOCAL, 1000);
const put = (p: string, data: Buffer): FsOp => ({ kind: 'write', path: p, offset: 0, data, truncate: true });

/** Fills the file system with a file, leaving about `leave` bytes free; returns its path. */
const fillSmall = (leave: number): string => fillDisk(path.join(disk.dir, 'filler'), leave);

function expectWal(): void {
  expect(store!.db.pragma('journal_mode', { simple: true })).toBe('wal');
  expect(store!.db.pragma('synchronous', { simple: true })).toBe(1);
}

describe('full disk during a large commit outside WAL', () => {
  // Leave 0, a little, and about half of the file: the failure then hits the switch, the journal,
  // or the database pages of the commit.
  it.each([0, 16 * KiB, 200 * KiB])('with %i bytes left: ENOSPC, nothing written, usable, back in WAL after freeing space', (leave) => {
    const db = openDb();
    expect(apply(db, { kind: 'create', path: 'keep.cfg' })).toBe(0);
    expect(apply(db, put('keep.cfg', Buffer.from('keep\n')))).toBe(5);
    expect(apply(db, { kind: 'create', path: 'big.cfg' })).toBe(0);
    const version = db.version;
    const filler = fillSmall(leave);

    const big = Buffer.alloc(512 * KiB, 0x62);
    expect(apply(db, put('big.cfg', big))).toBe(-Errno.ENOSPC);
    expect(db.errors).toBe(false);
    expect(db.version).toBe(version);
    expect(store!.db.inTransaction).toBe(false);
    // The failure happened outside WAL (the switch itself succeeded), and the store went back.
    expect(steps).toEqual(['left-wal', 'back-in-wal']);
    expectWal();
    // Whatever mode the failed switch left, a small write works or reports ENOSPC honestly.
    const edited = apply(db, put('keep.cfg', Buffer.from('edit\n')));
    expect([5, -Errno.ENOSPC]).toContain(edited);
    expect(db.errors).toBe(false);

    fs.unlinkSync(filler);
    expect(apply(db, put('keep.cfg', Buffer.from('done\n')))).toBe(5);
    expectWal();
    expect(apply(db, put('big.cfg', big))).toBe(big.length);
    expectWal();
    expect(store!.largeCommits.outsideWal).toBe(1);
    expect(steps).toEqual(['left-wal', 'back-in-wal', 'left-wal', 'committed', 'back-in-wal']);
    const final = db.version;
    db.close();
    store = undefined;

    const reloaded = openDb();
    expect(reloaded.version).toBe(final);
    expect(Buffer.from(reloaded.read('keep.cfg', 0, 100) as Buffer).toString()).toBe('done\n');
    expect(Buffer.from(reloaded.read('big.cfg', 0, 1 << 20) as Buffer).equals(big)).toBe(true);
    expect(spawnSync('sqlite3', [path.join(disk.dir, 'config.db'), 'PRAGMA integrity_check;'], { encoding: 'utf8' }).stdout.trim()).toBe('ok');
  });
});
