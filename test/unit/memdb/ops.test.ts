import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import type { MemDbListener } from '../../../src/memdb/memdb';
import { MEMDB_MAX_FILE_SIZE } from '../../../src/memdb/types';
import { content, create, freshDb, LOCAL, mkdir, putFile, run, write } from './helpers';

const E = Errno;

describe('versions and inodes (spec §2)', () => {
  it('every successful mutation bumps the version by one and copies writer/mtime to the root', () => {
    const { db } = freshDb();
    expect(mkdir(db, 'a', { writer: 7, mtime: 50 })).toBe(0);
    expect(db.version).toBe(2);
    expect(db.lookup('a')!.inode).toBe(2);
    expect(db.lookup('')!.writer).toBe(7);
    expect(db.lookup('')!.mtime).toBe(50);
    expect(create(db, 'a/f', { writer: 3, mtime: 60 })).toBe(0);
    expect(db.lookup('a/f')).toMatchObject({ inode: 3, version: 3, writer: 3, mtime: 60 });
    expect(write(db, 'a/f', 'x', 0, false, { writer: 4, mtime: 70 })).toBe(1);
    expect(db.lookup('a/f')).toMatchObject({ inode: 3, version: 4, writer: 4, mtime: 70 });
    expect(db.version).toBe(4);
    // failures change nothing
    expect(mkdir(db, 'a')).toBe(-E.EEXIST);
    expect(db.version).toBe(4);
  });

  it('inodes are never reused after delete', () => {
    const { db } = freshDb();
    create(db, 'f');
    run(db, { kind: 'delete', path: 'f' });
    create(db, 'f');
    expect(db.lookup('f')!.inode).toBe(4);
  });

  it('lookup: "", ".", "/" are the root; leading and trailing slashes are ignored', () => {
    const { db } = freshDb();
    mkdir(db, 'a');
    for (const p of ['', '.', '/']) expect(db.lookup(p)!.inode).toBe(0);
    expect(db.lookup('/a/')!.inode).toBe(2);
    expect(db.lookup('a//')!.inode).toBe(2);
  });
});

describe('mkdir / create', () => {
  it('errnos: parent missing ENOENT, parent a file ENOTDIR, exists EEXIST, bad base names EACCES', () => {
    const { db } = freshDb();
    putFile(db, 'file', 'x');
    expect(mkdir(db, 'nope/d')).toBe(-E.ENOENT);
    expect(mkdir(db, 'file/d')).toBe(-E.ENOTDIR);
    expect(mkdir(db, 'file/x/d')).toBe(-E.ENOTDIR);
    expect(mkdir(db, 'file')).toBe(-E.EEXIST);
    mkdir(db, 'dd');
    for (const p of ['', '.', '..', 'dd/..', 'dd/.', '/']) expect(mkdir(db, p)).toBe(-E.EACCES);
    expect(mkdir(db, 'x/..')).toBe(-E.ENOENT); // parent errors come first
    expect(create(db, 'nope/f')).toBe(-E.ENOENT);
    expect(create(db, 'file/f')).toBe(-E.ENOTDIR);
    expect(create(db, 'file')).toBe(-E.EEXIST);
    mkdir(db, 'd');
    expect(create(db, 'd')).toBe(-E.ENOTDIR); // the reference checks the type before the create's EEXIST
    expect(create(db, '..')).toBe(-E.EACCES);
    expect(create(db, 'd/.')).toBe(-E.EACCES);
  });

  it('create over a directory: ENOTDIR and nothing changes; over a file EEXIST; mkdir over either EEXIST', () => {
    const { db, store } = freshDb();
    mkdir(db, 'd');
    mkdir(db, 'd/sub');
    putFile(db, 'd/f', 'keep');
    const version = db.version;
    const rows = new Map(store.rows);
    expect(create(db, 'd')).toBe(-E.ENOTDIR);
    expect(create(db, 'd/sub')).toBe(-E.ENOTDIR);
    expect(create(db, 'd/f')).toBe(-E.EEXIST);
    expect(mkdir(db, 'd/sub')).toBe(-E.EEXIST);
    expect(mkdir(db, 'd/f')).toBe(-E.EEXIST);
    expect(db.version).toBe(version);
    expect(store.rows).toEqual(rows);
    expect(db.readdir('d')).toEqual(['sub', 'f']);
    expect(content(db, 'd/f')).toBe('keep');
  });

  it('a created file is empty and stores no data', () => {
    const { db, store } = freshDb();
    expect(create(db, 'f')).toBe(0);
    expect(db.lookup('f')!.data).toBeNull();
    expect(store.rows.get(2)!.data).toBeNull();
    expect(db.read('f', 0, 100)).toEqual(Buffer.alloc(0));
  });
});

describe('write (spec §2)', () => {
  it('check_memdb filetest1: "0123456789" then "X" at 3 and 6', () => {
    const { db } = freshDb();
    expect(write(db, 'testfile1.txt', '0123456789', 0, true)).toBe(-E.ENOENT);
    create(db, 'testfile1.txt');
    expect(write(db, 'testfile1.txt', '0123456789', 0, true)).toBe(10);
    expect(write(db, 'testfile1.txt', 'X', 3, false)).toBe(1);
    expect(write(db, 'testfile1.txt', 'X', 6, false)).toBe(1);
    expect(content(db, 'testfile1.txt')).toBe('012X45X789');
  });

  it('never creates: ENOENT; a directory: ENOTDIR; parent errors', () => {
    const { db } = freshDb();
    mkdir(db, 'd');
    expect(write(db, 'missing', 'x')).toBe(-E.ENOENT);
    expect(write(db, 'd', 'x')).toBe(-E.ENOTDIR);
    expect(write(db, 'nope/f', 'x')).toBe(-E.ENOENT);
    expect(write(db, '..', 'x')).toBe(-E.EACCES);
  });

  it('EFBIG when offset + count > 1 MiB, before anything else', () => {
    const { db } = freshDb();
    create(db, 'f');
    expect(write(db, 'f', Buffer.alloc(MEMDB_MAX_FILE_SIZE))).toBe(MEMDB_MAX_FILE_SIZE);
    expect(write(db, 'f', 'x', MEMDB_MAX_FILE_SIZE)).toBe(-E.EFBIG);
    expect(write(db, 'f', Buffer.alloc(MEMDB_MAX_FILE_SIZE + 1))).toBe(-E.EFBIG);
    expect(write(db, 'missing', 'x', MEMDB_MAX_FILE_SIZE)).toBe(-E.EFBIG);
    // truncate to more than 1 MiB = WRITE size 0 at offset > 1 MiB
    expect(write(db, 'f', Buffer.alloc(0), MEMDB_MAX_FILE_SIZE + 1, true)).toBe(-E.EFBIG);
    expect(db.lookup('f')!.data!.length).toBe(MEMDB_MAX_FILE_SIZE);
  });

  it('new size: extends with a zero-filled gap; keeps size unless truncating', () => {
    const { db } = freshDb();
    create(db, 'f');
    expect(write(db, 'f', 'ab', 4)).toBe(2);
    expect(db.read('f', 0, 100)).toEqual(Buffer.from([0, 0, 0, 0, 0x61, 0x62]));
    expect(write(db, 'f', 'Z', 1)).toBe(1);
    expect(content(db, 'f')).toBe('\0Z\0\0ab');
    expect(write(db, 'f', 'Q', 1, true)).toBe(1);
    expect(content(db, 'f')).toBe('\0Q');
  });

  it('truncate (size 0 at offset n, truncate flag) shrinks, extends with zeros, empties to NULL', () => {
    const { db, store } = freshDb();
    putFile(db, 'f', 'hello world');
    expect(write(db, 'f', Buffer.alloc(0), 5, true)).toBe(0);
    expect(content(db, 'f')).toBe('hello');
    expect(write(db, 'f', Buffer.alloc(0), 8, true)).toBe(0);
    expect(content(db, 'f')).toBe('hello\0\0\0');
    expect(write(db, 'f', Buffer.alloc(0), 0, true)).toBe(0);
    expect(db.lookup('f')!.data).toBeNull();
    expect(store.rows.get(db.lookup('f')!.inode)!.data).toBeNull();
    // extending truncate of an empty file: zero-filled, consistent size
    expect(write(db, 'f', Buffer.alloc(0), 3, true)).toBe(0);
    expect(db.read('f', 0, 10)).toEqual(Buffer.alloc(3));
  });

  it('read: slices, past the end empty, dirs and missing ENOENT', () => {
    const { db } = freshDb();
    putFile(db, 'f', '0123456789');
    mkdir(db, 'd');
    expect((db.read('f', 2, 3) as Buffer).toString()).toBe('234');
    expect((db.read('f', 8, 100) as Buffer).toString()).toBe('89');
    expect(db.read('f', 10, 5)).toEqual(Buffer.alloc(0));
    expect(db.read('d', 0, 5)).toBe(-E.ENOENT);
    expect(db.read('', 0, 5)).toBe(-E.ENOENT);
    expect(db.read('nope', 0, 5)).toBe(-E.ENOENT);
  });

  it('a buffer returned by read does not change with later writes', () => {
    const { db } = freshDb();
    putFile(db, 'f', 'aaaa');
    const before = db.read('f', 0, 4) as Buffer;
    write(db, 'f', 'b', 1);
    expect(before.toString()).toBe('aaaa');
    expect(content(db, 'f')).toBe('abaa');
  });
});

describe('readdir', () => {
  it('lists child names; ENOENT / ENOTDIR', () => {
    const { db } = freshDb();
    mkdir(db, 'd');
    create(db, 'd/a');
    mkdir(db, 'd/b');
    expect((db.readdir('d') as string[]).sort()).toEqual(['a', 'b']);
    expect(db.readdir('')).toEqual(['d']);
    expect(db.readdir('x')).toBe(-E.ENOENT);
    expect(db.readdir('d/a')).toBe(-E.ENOTDIR);
  });
});

describe('delete (unlink and rmdir)', () => {
  it('ENOENT, root EACCES, ENOTEMPTY; no type check', () => {
    const { db, store } = freshDb();
    mkdir(db, 'd');
    create(db, 'd/f');
    expect(run(db, { kind: 'delete', path: 'x' })).toBe(-E.ENOENT);
    expect(run(db, { kind: 'delete', path: '' })).toBe(-E.EACCES);
    expect(run(db, { kind: 'delete', path: '/' })).toBe(-E.EACCES);
    expect(run(db, { kind: 'delete', path: 'd' })).toBe(-E.ENOTEMPTY);
    expect(run(db, { kind: 'delete', path: 'd/f' })).toBe(0);
    expect(run(db, { kind: 'delete', path: 'd' })).toBe(0);
    expect(db.lookup('d')).toBeUndefined();
    expect([...store.rows.keys()]).toEqual([0]);
    expect(store.rows.get(0)!.version).toBe(db.version);
  });
});

describe('mtime', () => {
  it('sets mtime, bumps version, root mtime = requested time', () => {
    const { db } = freshDb();
    create(db, 'f');
    expect(run(db, { kind: 'mtime', path: 'f', mtime: 99 }, { writer: 2, mtime: 5000 })).toBe(0);
    expect(db.lookup('f')).toMatchObject({ mtime: 99, writer: 2, version: 3 });
    expect(db.lookup('')!.mtime).toBe(99);
    expect(run(db, { kind: 'mtime', path: 'g', mtime: 1 })).toBe(-E.ENOENT);
    expect(run(db, { kind: 'mtime', path: '', mtime: 1 })).toBe(-E.EACCES);
    // older mtime is fine outside priv/lock
    expect(run(db, { kind: 'mtime', path: 'f', mtime: 1 })).toBe(0);
  });

  it('lock dirs: older time EACCES, other writer EACCES, owner renewal ok', () => {
    const { db } = freshDb();
    mkdir(db, 'priv');
    mkdir(db, 'priv/lock');
    mkdir(db, 'priv/lock/x', { writer: 1, mtime: 100 });
    expect(run(db, { kind: 'mtime', path: 'priv/lock/x', mtime: 99 }, { writer: 1, mtime: 200 })).toBe(-E.EACCES);
    expect(run(db, { kind: 'mtime', path: 'priv/lock/x', mtime: 0 }, { writer: 1, mtime: 200 })).toBe(-E.EACCES);
    expect(run(db, { kind: 'mtime', path: 'priv/lock/x', mtime: 150 }, { writer: 2, mtime: 200 })).toBe(-E.EACCES);
    expect(run(db, { kind: 'mtime', path: 'priv/lock/x', mtime: 150 }, { writer: 1, mtime: 200 })).toBe(0);
    expect(run(db, { kind: 'mtime', path: 'priv/lock/x', mtime: 150 }, { writer: 1, mtime: 200 })).toBe(0);
    // a file directly under priv/lock is no lock
    create(db, 'priv/lock/file', { writer: 1, mtime: 100 });
    expect(run(db, { kind: 'mtime', path: 'priv/lock/file', mtime: 0 }, { writer: 2, mtime: 0 })).toBe(0);
  });
});

describe('rename (spec §8.5, §14)', () => {
  it('moves a file, keeps its inode, bumps version, writes row + delete of the target', () => {
    const { db, store } = freshDb();
    putFile(db, 'a', 'AAA');
    putFile(db, 'b', 'BBB');
    const inode = db.lookup('a')!.inode;
    const targetInode = db.lookup('b')!.inode;
    expect(run(db, { kind: 'rename', path: 'a', to: 'b' }, { writer: 5, mtime: 77 })).toBe(0);
    expect(db.lookup('a')).toBeUndefined();
    expect(db.lookup('b')).toMatchObject({ inode, version: db.version, writer: 5, mtime: 77, name: 'b' });
    expect(content(db, 'b')).toBe('AAA');
    expect(store.rows.has(targetInode)).toBe(false);
    expect(store.rows.get(inode)!.name).toBe('b');
  });

  it('errnos', () => {
    const { db } = freshDb();
    mkdir(db, 'd');
    mkdir(db, 'e');
    mkdir(db, 'full');
    create(db, 'full/x');
    create(db, 'f');
    create(db, 'g');
    const r = (from: string, to: string) => run(db, { kind: 'rename', path: from, to });
    expect(r('nope', 'x')).toBe(-E.ENOENT);
    expect(r('', 'x')).toBe(-E.EACCES);
    expect(r('f', 'nope/x')).toBe(-E.ENOENT);
    expect(r('f', 'g/x')).toBe(-E.ENOTDIR);
    expect(r('f', '..')).toBe(-E.EACCES);
    expect(r('f', '')).toBe(-E.EACCES);
    expect(r('d', 'f')).toBe(-E.ENOTDIR); // dir over file
    expect(r('f', 'd')).toBe(-E.EISDIR); // file over dir
    expect(r('d', 'full')).toBe(-E.ENOTEMPTY); // dir over non-empty dir
    expect(r('full', 'newname')).toBe(-E.ENOTEMPTY); // non-empty dir
    expect(r('f', 'full')).toBe(-E.EISDIR);
    expect(r('d', 'd/sub')).toBe(-E.EINVAL); // into itself
    const before = db.version;
    expect(r('f', 'f')).toBe(0); // onto itself
    expect(db.version).toBe(before);
    expect(r('d', 'e')).toBe(0); // empty dir over empty dir
    expect(db.lookup('d')).toBeUndefined();
    expect(db.lookup('e')!.inode).toBe(2);
    expect(r('f', 'full/y')).toBe(0);
    expect(db.lookup('full/y')!.type).toBe(8);
  });

  it('lock directories cannot be renamed; failed renames change nothing', () => {
    const { db, store } = freshDb();
    mkdir(db, 'priv');
    mkdir(db, 'priv/lock');
    mkdir(db, 'priv/lock/x');
    expect(run(db, { kind: 'rename', path: 'priv/lock/x', to: 'priv/y' })).toBe(-E.EACCES);
    mkdir(db, 'full');
    create(db, 'full/x');
    putFile(db, 't', 'T');
    const rows = JSON.stringify([...store.rows.entries()]);
    const idx = db.encodeIndex();
    expect(run(db, { kind: 'rename', path: 'full', to: 't' })).toBe(-E.ENOTDIR);
    expect(run(db, { kind: 'rename', path: 'full', to: 'new' })).toBe(-E.ENOTEMPTY);
    expect(JSON.stringify([...store.rows.entries()])).toBe(rows);
    expect(db.encodeIndex()).toEqual(idx);
  });
});

describe('statfs (spec §2)', () => {
  it('reports fixed limits and usage', () => {
    const { db } = freshDb();
    expect(db.statfs()).toEqual({ bsize: 4096, frsize: 4096, blocks: 32768, bfree: 32768, bavail: 32768, files: 262144, ffree: 262143, favail: 262143, namemax: 256 });
    putFile(db, 'a', Buffer.alloc(4097));
    putFile(db, 'b', Buffer.alloc(1));
    mkdir(db, 'd');
    const s = db.statfs();
    expect(s.bfree).toBe(32768 - Math.ceil(4098 / 4096));
    expect(s.bavail).toBe(s.bfree);
    expect(s.ffree).toBe(262144 - 4);
    run(db, { kind: 'delete', path: 'a' });
    expect(db.statfs().bfree).toBe(32767);
    expect(db.statfs().ffree).toBe(262144 - 3);
  });
});

describe('listener', () => {
  it('pathChanged for write/truncate/create/mtime/delete and rename from+to, not for mkdir or failures', () => {
    const { db } = freshDb();
    const seen: string[] = [];
    let reloads = 0;
    const l: MemDbListener = { pathChanged: (p) => seen.push(p), treeReloaded: () => reloads++ };
    db.setListener(l);
    mkdir(db, 'd');
    create(db, '/d/f');
    write(db, 'd/f', 'x');
    write(db, 'd/f', Buffer.alloc(0), 0, true);
    run(db, { kind: 'mtime', path: 'd/f/', mtime: 5 });
    run(db, { kind: 'rename', path: 'd/f', to: 'g' });
    run(db, { kind: 'delete', path: 'g' });
    write(db, 'nope', 'x');
    expect(seen).toEqual(['d/f', 'd/f', 'd/f', 'd/f', 'd/f', 'g', 'g']);
    expect(reloads).toBe(0);
  });

  it('local origin helper is writer 0', () => {
    expect(LOCAL.writer).toBe(0);
  });
});

describe('lookup by path', () => {
  it('ignores leading, repeated and trailing slashes; "." and "" are the root; "." inside a path is a name', () => {
    const { db } = freshDb();
    expect(mkdir(db, 'a')).toBe(0);
    expect(create(db, 'a/f')).toBe(0);
    const f = db.lookup('a/f')!;
    expect(f).toBeDefined();
    for (const p of ['/a/f', '//a//f/', 'a/f/', '/a/f//']) expect(db.lookup(p), p).toBe(f);
    for (const p of ['', '.', '/', '//']) expect(db.lookup(p), p).toBe(db.lookup('')!);
    expect(db.lookup('')!.inode).toBe(0);
    for (const p of ['a/./f', 'a/f/x', 'b', 'a/g', './a']) expect(db.lookup(p), p).toBeUndefined();
  });
});
