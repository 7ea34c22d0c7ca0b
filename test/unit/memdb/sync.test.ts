import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { decodeIndex, IndexDecodeError } from '../../../src/memdb/index-codec';
import { MemDb, type TreeStore } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import { rowOfEntry } from '../../../src/memdb/rows';
import { SqliteTreeStore } from '../../../src/memdb/sqlite-store';
import type { DbRow } from '../../../src/memdb/types';
import { content, create, freshDb, mkdir, putFile, run, write } from './helpers';

/** What a dcdb leader would send: every entry whose digest differs from (or is missing in) the follower's index. */
function updatesFor(leader: MemDb, follower: MemDb): DbRow[] {
  const mine = decodeIndex(leader.encodeIndex());
  const theirs = decodeIndex(follower.encodeIndex());
  if (mine instanceof IndexDecodeError || theirs instanceof IndexDecodeError) throw new Error('bad index');
  const known = new Map(theirs.entries.map((e) => [e.inode, e.digest]));
  return mine.entries
    .filter((e) => !known.get(e.inode)?.equals(e.digest))
    .map((e) => rowOfEntry(leader.entryByInode(e.inode)!));
}

function diverged(follower: MemDb): MemDb {
  const { db: leader } = freshDb();
  for (const db of [leader, follower]) {
    mkdir(db, 'nodes');
    putFile(db, 'shared.cfg', 'same');
  }
  putFile(leader, 'nodes/only-leader', 'L');
  mkdir(leader, 'priv');
  mkdir(leader, 'priv/lock');
  mkdir(leader, 'priv/lock/held');
  mkdir(leader, 'nodes/n1');
  mkdir(leader, 'nodes/n1/qemu-server');
  putFile(leader, 'nodes/n1/qemu-server/100.conf', 'cores: 2');
  putFile(follower, 'only-follower', 'F');
  write(follower, 'shared.cfg', 'changed', 0, true);
  return leader;
}

function syncCase(store: TreeStore) {
  const follower = MemDb.open(store, 1000);
  const leader = diverged(follower);
  let reloads = 0;
  follower.setListener({ pathChanged: () => undefined, treeReloaded: () => reloads++ });
  return { follower, leader, reloads: () => reloads };
}

describe('applySync (spec §3 sync commit)', () => {
  it('a follower takes the leader tree byte for byte and rebuilds vmlist and locks', () => {
    const { follower, leader, reloads } = syncCase(new MemoryTreeStore());
    const ok = follower.applySync(leader.encodeIndex(), updatesFor(leader, follower), 4000);
    expect(ok).toBe(true);
    expect(follower.errors).toBe(false);
    expect(follower.encodeIndex()).toEqual(leader.encodeIndex());
    expect(follower.verifyChecksum()).toEqual(leader.verifyChecksum());
    expect(follower.lookup('only-follower')).toBeUndefined();
    expect(content(follower, 'shared.cfg')).toBe('same');
    expect(follower.vmlist().guests.get(100)).toMatchObject({ node: 'n1', type: 'qemu' });
    expect(follower.lockTable().get('priv/lock/held')!.ltime).toBe(4000);
    expect(reloads()).toBe(1);
    // and keeps working afterwards with the leader's numbering
    expect(mkdir(follower, 'after')).toBe(0);
    expect(follower.lookup('after')!.inode).toBe(leader.version + 1);
  });

  it('with SQLite: the store holds the leader tree after the commit and reloads identically', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memdb-sync-'));
    try {
      const file = path.join(dir, 'config.db');
      const { follower, leader } = syncCase(SqliteTreeStore.open(file));
      expect(follower.applySync(leader.encodeIndex(), updatesFor(leader, follower), 4000)).toBe(true);
      follower.close();
      const again = MemDb.open(SqliteTreeStore.open(file), 5000);
      expect(again.encodeIndex()).toEqual(leader.encodeIndex());
      again.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the __version__ row takes type 4 from the synced root, as the reference stores it; a local change writes type 8 again', () => {
    // observed on the C reference after a sync from another leader: `0|0|3|0|<mtime>|4|__version__|`
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memdb-sync-'));
    try {
      const file = path.join(dir, 'config.db');
      const { follower, leader } = syncCase(SqliteTreeStore.open(file));
      expect(follower.applySync(leader.encodeIndex(), updatesFor(leader, follower), 4000)).toBe(true);
      const versionRow = () => {
        const d = new Database(file, { readonly: true });
        try {
          return d.prepare('SELECT inode, parent, version, writer, mtime, type, name, data FROM tree WHERE inode = 0').get();
        } finally {
          d.close();
        }
      };
      const root = leader.entryByInode(0)!;
      expect(versionRow()).toEqual({ inode: 0, parent: 0, version: root.version, writer: root.writer, mtime: root.mtime, type: 4, name: '__version__', data: null });
      expect(mkdir(follower, 'after')).toBe(0);
      expect(versionRow()).toMatchObject({ version: root.version + 1, type: 8, data: null });
      follower.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a mismatch rolls back, leaves the tree, and sets the error flag', () => {
    for (const store of [new MemoryTreeStore(), null]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memdb-sync-'));
      try {
        const s = store ?? SqliteTreeStore.open(path.join(dir, 'config.db'));
        const { follower, leader } = syncCase(s);
        const before = follower.encodeIndex();
        const rowsBefore = JSON.stringify(s.load().sort((a, b) => a.inode - b.inode));
        const updates = updatesFor(leader, follower).filter((r) => r.name !== 'only-leader');
        expect(follower.applySync(leader.encodeIndex(), updates, 4000)).toBe(false);
        expect(follower.errors).toBe(true);
        expect(follower.encodeIndex()).toEqual(before);
        expect(JSON.stringify(s.load().sort((a, b) => a.inode - b.inode))).toBe(rowsBefore);
        expect(create(follower, 'x')).toBe(-Errno.EIO);
        s.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('a malformed leader index is refused', () => {
    const { db } = freshDb();
    expect(db.applySync(Buffer.alloc(10), [], 0)).toBe(false);
    expect(db.errors).toBe(true);
  });
});

describe('crash and restart with MemoryTreeStore', () => {
  it('a new MemDb over the same rows has the same tree; a failed commit leaves no trace', () => {
    const { db, store } = freshDb();
    mkdir(db, 'd');
    putFile(db, 'd/f', 'data');
    run(db, { kind: 'rename', path: 'd/f', to: 'g' });
    store.failCommits = 1;
    expect(write(db, 'g', 'lost', 0, true)).toBe(-Errno.EIO);
    expect(db.errors).toBe(true);
    expect(content(db, 'g')).toBe('data');
    const idx = db.encodeIndex();
    const restarted = MemDb.open(new MemoryTreeStore(store.rows), 2000);
    expect(restarted.encodeIndex()).toEqual(idx);
    expect(restarted.errors).toBe(false);
    expect(write(restarted, 'g', 'again', 0, true)).toBe(5);
  });

  it('every kind of mutation returns EIO once the flag is set', () => {
    const { db, store } = freshDb();
    mkdir(db, 'd');
    putFile(db, 'f', 'x');
    store.failCommits = 1;
    expect(mkdir(db, 'e')).toBe(-Errno.EIO);
    const ops = [
      { kind: 'mkdir', path: 'e2' },
      { kind: 'create', path: 'c' },
      { kind: 'write', path: 'f', offset: 0, data: Buffer.from('y'), truncate: false },
      { kind: 'mtime', path: 'f', mtime: 1 },
      { kind: 'delete', path: 'f' },
      { kind: 'rename', path: 'f', to: 'h' },
    ] as const;
    for (const op of ops) expect(run(db, op)).toBe(-Errno.EIO);
    expect(store.commits).toBe(4); // version row at open + mkdir + create + write
  });
});
