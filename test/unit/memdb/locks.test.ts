import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import { freshDb, mkdir, run } from './helpers';

const NODE1 = { writer: 1, mtime: 100 };

function withLockDir() {
  const r = freshDb();
  mkdir(r.db, 'priv');
  mkdir(r.db, 'priv/lock');
  return r;
}

describe('lock table (spec §8.7)', () => {
  it('mkdir under priv/lock registers the lock with its checksum and the local time', () => {
    const { db } = withLockDir();
    expect(db.apply({ kind: 'mkdir', path: 'priv/lock/file-a' }, NODE1, 5000)).toBe(0);
    const info = db.lockTable().get('priv/lock/file-a')!;
    expect(info.ltime).toBe(5000);
    expect(info.csum).toEqual(db.lockChecksum('priv/lock/file-a'));
    expect(db.lockCsumMatches('priv/lock/file-a', info.csum)).toBe(true);
    expect(db.apply({ kind: 'mkdir', path: 'priv/lock/file-a' }, NODE1, 5000)).toBe(-Errno.EEXIST);
    mkdir(db, 'priv/other');
    expect(db.lockTable().get('priv/other')).toBeUndefined();
  });

  it('expiry: unknown or changed csum records now; same csum > 120 s of local time expires', () => {
    const { db } = withLockDir();
    db.apply({ kind: 'mkdir', path: 'priv/lock/x' }, NODE1, 5000);
    expect(db.lockExpired('priv/lock/x', 5100)).toBe(false);
    expect(db.lockExpired('priv/lock/x', 5120)).toBe(false);
    expect(db.lockExpired('priv/lock/x', 5121)).toBe(true);
    // renewal by the owner changes the checksum and restarts the timer
    expect(db.apply({ kind: 'mtime', path: 'priv/lock/x', mtime: 200 }, NODE1, 5200)).toBe(0);
    expect(db.lockTable().get('priv/lock/x')!.ltime).toBe(5200);
    expect(db.lockExpired('priv/lock/x', 5300)).toBe(false);
    // a checksum the table has not seen restarts the clock
    const other = Buffer.alloc(32, 1);
    expect(db.lockExpired('priv/lock/x', 9999, other)).toBe(false);
    expect(db.lockTable().get('priv/lock/x')!.ltime).toBe(9999);
    // missing dir never expires
    expect(db.lockExpired('priv/lock/none', 99999)).toBe(false);
  });

  it('lockCsumMatches: false when the dir is gone or changed', () => {
    const { db } = withLockDir();
    db.apply({ kind: 'mkdir', path: 'priv/lock/x' }, NODE1, 0);
    const csum = db.lockChecksum('priv/lock/x')!;
    db.apply({ kind: 'mtime', path: 'priv/lock/x', mtime: 101 }, NODE1, 0);
    expect(db.lockCsumMatches('priv/lock/x', csum)).toBe(false);
    expect(db.lockCsumMatches('priv/lock/x', db.lockChecksum('priv/lock/x')!)).toBe(true);
    run(db, { kind: 'delete', path: 'priv/lock/x' });
    expect(db.lockCsumMatches('priv/lock/x', csum)).toBe(false);
    expect(db.lockTable().get('priv/lock/x')).toBeUndefined();
  });

  it('unlockLocal: EACCES until expired, then deletes the lock', () => {
    const { db } = withLockDir();
    const local = { writer: 0, mtime: 100 };
    db.apply({ kind: 'mkdir', path: 'priv/lock/x' }, local, 1000);
    expect(db.unlockLocal('priv/lock/x', 1050, local)).toBe(-Errno.EACCES);
    expect(db.unlockLocal('priv/lock/x', 1120, local)).toBe(-Errno.EACCES);
    expect(db.unlockLocal('priv/lock/x', 1121, local)).toBe(0);
    expect(db.lookup('priv/lock/x')).toBeUndefined();
    expect(db.unlockLocal('priv/lock/x', 1200, local)).toBe(-Errno.ENOENT);
  });

  it('after a reload every lock is re-registered with ltime = now', () => {
    const { db, store } = withLockDir();
    db.apply({ kind: 'mkdir', path: 'priv/lock/a' }, NODE1, 10);
    db.apply({ kind: 'mkdir', path: 'priv/lock/b' }, NODE1, 20);
    const again = MemDb.open(new MemoryTreeStore(store.rows), 777);
    expect(again.lockTable().paths().sort()).toEqual(['priv/lock/a', 'priv/lock/b']);
    expect(again.lockTable().get('priv/lock/a')!.ltime).toBe(777);
    expect(again.lockExpired('priv/lock/a', 777 + 121)).toBe(true);
  });
});
