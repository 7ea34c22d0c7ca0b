/**
 * The FUSE opcode handlers of kernel-ops.ts, driven with hand-built request bodies against a real
 * PveFs over an in-memory MemDb: reply bytes, errnos and what the node table and the tree hold after.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import type { FsOp } from '../../../src/memdb/types';
import type { FsBackend, StatusSource } from '../../../src/daemon/backend';
import { PveFs } from '../../../src/fuse/pve-fs';
import { NodeTable } from '../../../src/fuse/kernel/node-table';
import {
  ATTR_OUT_SIZE,
  DIRENT_HEADER_SIZE,
  ENTRY_OUT_SIZE,
  FATTR_ATIME,
  FATTR_FH,
  FATTR_MTIME,
  FATTR_SIZE,
  FOPEN_DIRECT_IO,
  FUSE_ROOT_ID,
  IN_HEADER_SIZE,
  OPEN_OUT_SIZE,
  Opcode,
  direntSize,
  type InHeader,
} from '../../../src/fuse/kernel/abi';
import type { Handler, HandlerResult } from '../../../src/fuse/kernel/session';
import { NAME_MAX, forgetUndelivered, pveHandlers } from '../../../src/fuse/kernel-ops';

const ROOT = FUSE_ROOT_ID;
const status: StatusSource = { version: () => 'v', members: () => 'm', vmlist: () => 'l', clusterLog: () => 'c', rrdDump: () => '' };

let memdb: MemDb;
let submitted: FsOp[];
let nodes: NodeTable;
let handlers: Partial<Record<number, Handler>>;

beforeEach(() => {
  submitted = [];
  memdb = MemDb.open(new MemoryTreeStore(), 1000);
  const backend: FsBackend = {
    memdb,
    status,
    quorate: () => true,
    nodeId: () => 1,
    submit: async (op) => {
      submitted.push(op);
      return memdb.apply(op, { writer: 1, mtime: 1000 }, 1000);
    },
    requestUnlock: async () => -Errno.EACCES,
  };
  let debugOn = false;
  const fs = new PveFs({ backend, nodename: 'n1', gid: 33, debug: { enabled: () => debugOn, set: (on) => (debugOn = on) } });
  nodes = new NodeTable();
  handlers = pveHandlers(fs, nodes, () => 2000);
});

// ---- request builders ---------------------------------------------------------------------------

let unique = 1n;
function header(opcode: number, nodeid: number, bodyLength: number): InHeader {
  return { len: IN_HEADER_SIZE + bodyLength, opcode, unique: unique++, nodeid, uid: 0, gid: 0, pid: 1 };
}

async function call(opcode: number, nodeid: number, body: Buffer = Buffer.alloc(0)): Promise<HandlerResult> {
  const handler = handlers[opcode];
  if (handler === undefined) throw new Error(`no handler for opcode ${opcode}`);
  return handler(header(opcode, nodeid, body.length), body);
}

/** A result that must be a reply body. */
async function ok(opcode: number, nodeid: number, body?: Buffer): Promise<Buffer> {
  const r = await call(opcode, nodeid, body);
  if (!Buffer.isBuffer(r)) throw new Error(`opcode ${opcode} answered ${String(r)}`);
  return r;
}

const cstr = (name: string | Buffer): Buffer => Buffer.concat([typeof name === 'string' ? Buffer.from(name) : name, Buffer.from([0])]);
/** fuse_mkdir_in (mode, umask) + name. */
const mkdirBody = (name: string | Buffer): Buffer => Buffer.concat([Buffer.alloc(8), cstr(name)]);
/** fuse_create_in (flags, mode, umask, open_flags) + name. */
const createBody = (name: string | Buffer): Buffer => Buffer.concat([Buffer.alloc(16), cstr(name)]);
/** fuse_mknod_in (mode, rdev, umask, padding) + name. */
function mknodBody(mode: number, name: string): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUInt32LE(mode, 0);
  return Buffer.concat([fixed, cstr(name)]);
}
const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
/** fuse_rename_in (newdir) + old name + new name. */
function renameBody(newDir: number, from: string, to: string | Buffer): Buffer {
  const fixed = Buffer.alloc(8);
  fixed.writeBigUInt64LE(BigInt(newDir), 0);
  return Buffer.concat([fixed, cstr(from), cstr(to)]);
}
/** fuse_read_in / fuse_readdir_in: fh, offset, size (40 bytes). */
function readBody(fh: number, offset: number, size: number): Buffer {
  const b = Buffer.alloc(40);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(size, 16);
  return b;
}
/** fuse_write_in (fh, offset, size, write_flags, lock_owner, flags, padding) + data. */
function writeBody(fh: number, offset: number, data: Buffer): Buffer {
  const b = Buffer.alloc(40);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(data.length, 16);
  return Buffer.concat([b, data]);
}
/** fuse_setattr_in (88 bytes). */
function setattrBody(a: { valid: number; fh?: number; size?: number; mtime?: number }): Buffer {
  const b = Buffer.alloc(88);
  b.writeUInt32LE(a.valid, 0);
  b.writeBigUInt64LE(BigInt(a.fh ?? 0), 8);
  b.writeBigUInt64LE(BigInt(a.size ?? 0), 16);
  b.writeBigInt64LE(BigInt(a.mtime ?? 0), 40);
  return b;
}
/** fuse_batch_forget_in (count, dummy) + fuse_forget_one (nodeid, nlookup) each. */
function batchForgetBody(count: number, entries: [number, number][]): Buffer {
  const b = Buffer.alloc(8 + entries.length * 16);
  b.writeUInt32LE(count, 0);
  entries.forEach(([id, n], i) => {
    b.writeBigUInt64LE(BigInt(id), 8 + i * 16);
    b.writeBigUInt64LE(BigInt(n), 16 + i * 16);
  });
  return b;
}

const nodeIdOf = (entryOut: Buffer): number => Number(entryOut.readBigUInt64LE(0));
/** fuse_attr.mode / size inside fuse_entry_out (attr at 40) and fuse_attr_out (attr at 16). */
const entryMode = (e: Buffer): number => e.readUInt32LE(40 + 60);
const attrOutSize = (a: Buffer): number => Number(a.readBigUInt64LE(16 + 8));

async function createFile(parent: number, name: string): Promise<{ id: number; fh: number }> {
  const r = await ok(Opcode.CREATE, parent, createBody(name));
  return { id: nodeIdOf(r), fh: Number(r.readBigUInt64LE(ENTRY_OUT_SIZE)) };
}

function parseDirents(b: Buffer): { name: string; off: number; bytes: Buffer }[] {
  const out = [];
  for (let at = 0; at < b.length; ) {
    const namelen = b.readUInt32LE(at + 16);
    const bytes = b.subarray(at + DIRENT_HEADER_SIZE, at + DIRENT_HEADER_SIZE + namelen);
    out.push({ off: Number(b.readBigUInt64LE(at + 8)), name: bytes.toString(), bytes });
    at += direntSize(namelen);
  }
  return out;
}

// ---- tests --------------------------------------------------------------------------------------

describe('LOOKUP', () => {
  it('an existing name: entry with a new node id, attr.ino = node id, the directory mode', async () => {
    await ok(Opcode.MKDIR, ROOT, mkdirBody('nodes'));
    const sizeBefore = nodes.size;
    const e = await ok(Opcode.LOOKUP, ROOT, cstr('nodes'));
    expect(e.length).toBe(ENTRY_OUT_SIZE);
    const id = nodeIdOf(e);
    expect(id).toBeGreaterThan(ROOT);
    expect(Number(e.readBigUInt64LE(40))).toBe(id);
    expect(entryMode(e)).toBe(0o40755);
    expect(e.readBigUInt64LE(16)).toBe(1n); // entry_valid
    expect(nodes.path(id)).toBe('/nodes');
    expect(nodes.size).toBe(sizeBefore); // MKDIR already named it: same node, counted again
  });

  it('a missing name: ENOENT and no node is created', async () => {
    expect(await call(Opcode.LOOKUP, ROOT, cstr('nope'))).toBe(-Errno.ENOENT);
    expect(nodes.size).toBe(1);
  });

  it('below an unknown or forgotten node: ENOENT', async () => {
    expect(await call(Opcode.LOOKUP, 12345, cstr('a'))).toBe(-Errno.ENOENT);
  });

  it('a name without its NUL: EINVAL', async () => {
    await ok(Opcode.MKDIR, ROOT, mkdirBody('a'));
    expect(await call(Opcode.LOOKUP, ROOT, Buffer.from('a'))).toBe(-Errno.EINVAL);
    expect(await call(Opcode.LOOKUP, ROOT, Buffer.alloc(0))).toBe(-Errno.EINVAL);
  });

  it(`a name of ${NAME_MAX + 1} bytes: ENAMETOOLONG; ${NAME_MAX} bytes is looked up`, async () => {
    expect(await call(Opcode.LOOKUP, ROOT, cstr('x'.repeat(NAME_MAX + 1)))).toBe(-Errno.ENAMETOOLONG);
    expect(await call(Opcode.LOOKUP, ROOT, cstr('x'.repeat(NAME_MAX)))).toBe(-Errno.ENOENT);
    expect(await call(Opcode.MKDIR, ROOT, mkdirBody('y'.repeat(NAME_MAX + 1)))).toBe(-Errno.ENAMETOOLONG);
  });
});

describe('CREATE, MKDIR and names', () => {
  it('CREATE answers fuse_entry_out + fuse_open_out with FOPEN_DIRECT_IO and creates the file', async () => {
    const r = await ok(Opcode.CREATE, ROOT, createBody('f.conf'));
    expect(r.length).toBe(ENTRY_OUT_SIZE + OPEN_OUT_SIZE);
    const id = nodeIdOf(r);
    expect(nodes.path(id)).toBe('/f.conf');
    expect(entryMode(r)).toBe(0o100640);
    expect(Number(r.readBigUInt64LE(ENTRY_OUT_SIZE))).toBeGreaterThan(0); // fh
    expect(r.readUInt32LE(ENTRY_OUT_SIZE + 8)).toBe(FOPEN_DIRECT_IO);
    expect(memdb.lookup('f.conf')).toBeDefined();
  });

  it('CREATE of an existing name: EEXIST, the node table unchanged', async () => {
    await createFile(ROOT, 'f');
    const size = nodes.size;
    expect(await call(Opcode.CREATE, ROOT, createBody('f'))).toBe(-Errno.EEXIST);
    expect(nodes.size).toBe(size);
  });

  it('OPEN of a file: its handle with FOPEN_DIRECT_IO', async () => {
    const { id } = await createFile(ROOT, 'f');
    const o = await ok(Opcode.OPEN, id);
    expect(o.length).toBe(OPEN_OUT_SIZE);
    expect(o.readUInt32LE(8)).toBe(FOPEN_DIRECT_IO);
  });

  it('MKDIR, CREATE and RENAME keep names that are not UTF-8 as distinct names, and READDIR gives back their bytes', async () => {
    const bad = (...b: number[]) => Buffer.from([0x61, ...b]);
    await ok(Opcode.MKDIR, ROOT, mkdirBody(bad(0xff, 0xfe)));
    await ok(Opcode.CREATE, ROOT, createBody(bad(0xff)));
    await createFile(ROOT, 'good');
    await ok(Opcode.RENAME, ROOT, renameBody(ROOT, 'good', bad(0xfe)));
    expect(memdb.readdir('')).toHaveLength(3);
    expect(submitted.map((op) => op.kind)).toEqual(['mkdir', 'create', 'create', 'rename']);
    const fh = Number((await ok(Opcode.OPENDIR, ROOT)).readBigUInt64LE(0));
    const listed = parseDirents(await ok(Opcode.READDIR, ROOT, readBody(fh, 0, 4096))).map((e) => e.bytes.toString('hex'));
    for (const b of [bad(0xff, 0xfe), bad(0xff), bad(0xfe)]) expect(listed).toContain(b.toString('hex'));
  });

  it('MKDIR answers an entry for the new directory', async () => {
    const e = await ok(Opcode.MKDIR, ROOT, mkdirBody('d'));
    expect(e.length).toBe(ENTRY_OUT_SIZE);
    expect(nodes.path(nodeIdOf(e))).toBe('/d');
    expect(entryMode(e)).toBe(0o40755);
    const inner = await ok(Opcode.MKDIR, nodeIdOf(e), mkdirBody('e'));
    expect(nodes.path(nodeIdOf(inner))).toBe('/d/e');
    expect(memdb.lookup('d/e')).toBeDefined();
  });

  it('CREATE over a directory: ENOTDIR (a request the kernel sends when its view of the name is stale)', async () => {
    await ok(Opcode.MKDIR, ROOT, mkdirBody('d'));
    const size = nodes.size;
    expect(await call(Opcode.CREATE, ROOT, createBody('d'))).toBe(-Errno.ENOTDIR);
    expect(nodes.size).toBe(size);
    expect(memdb.lookup('d')!.type).toBe(4);
    await createFile(ROOT, 'f');
    expect(await call(Opcode.MKDIR, ROOT, mkdirBody('f'))).toBe(-Errno.EEXIST);
  });

  it('MKNOD of a regular file creates it as CREATE does and answers its entry', async () => {
    const e = await ok(Opcode.MKNOD, ROOT, mknodBody(S_IFREG | 0o600, 'r.cfg'));
    expect(e.length).toBe(ENTRY_OUT_SIZE);
    expect(nodes.path(nodeIdOf(e))).toBe('/r.cfg');
    expect(entryMode(e)).toBe(0o100640); // the mode asked for is ignored, as for CREATE
    expect(memdb.lookup('r.cfg')).toMatchObject({ type: 8, data: null });
    expect(submitted).toEqual([{ kind: 'create', path: 'r.cfg' }]);
  });

  it('MKNOD of a regular file over a directory ENOTDIR, over a file EEXIST, on a virtual name EACCES', async () => {
    await ok(Opcode.MKDIR, ROOT, mkdirBody('d'));
    await createFile(ROOT, 'f');
    const size = nodes.size;
    expect(await call(Opcode.MKNOD, ROOT, mknodBody(S_IFREG | 0o644, 'd'))).toBe(-Errno.ENOTDIR);
    expect(await call(Opcode.MKNOD, ROOT, mknodBody(S_IFREG | 0o644, 'f'))).toBe(-Errno.EEXIST);
    expect(await call(Opcode.MKNOD, ROOT, mknodBody(S_IFREG | 0o644, '.vmlist'))).toBe(-Errno.EACCES);
    expect(nodes.size).toBe(size);
  });

  it('MKNOD of anything but a regular file: ENOSYS, nothing submitted; a short body EINVAL', async () => {
    expect(await call(Opcode.MKNOD, ROOT, mknodBody(S_IFIFO | 0o644, 'p'))).toBe(-Errno.ENOSYS);
    expect(await call(Opcode.MKNOD, ROOT, mknodBody(0o644, 'p'))).toBe(-Errno.ENOSYS);
    expect(await call(Opcode.MKNOD, ROOT, Buffer.alloc(8))).toBe(-Errno.EINVAL);
    expect(submitted).toEqual([]);
    expect(memdb.readdir('')).toEqual([]);
  });

  it('LINK EPERM, SYMLINK ENOSYS', async () => {
    expect(await call(Opcode.LINK, ROOT, Buffer.concat([Buffer.alloc(8), cstr('l')]))).toBe(-Errno.EPERM);
    expect(await call(Opcode.SYMLINK, ROOT, Buffer.concat([cstr('l'), cstr('target')]))).toBe(-Errno.ENOSYS);
  });
});

describe('WRITE and READ', () => {
  it('WRITE keeps a copy of its data: changing the request buffer afterwards changes nothing stored', async () => {
    const { id, fh } = await createFile(ROOT, 'f');
    const body = writeBody(fh, 0, Buffer.from('hello world'));
    const w = await ok(Opcode.WRITE, id, body);
    expect(w.readUInt32LE(0)).toBe(11);
    body.fill(0x58); // the session reuses its request buffer for the next request
    expect((await ok(Opcode.READ, id, readBody(fh, 0, 100))).toString()).toBe('hello world');
    expect(await call(Opcode.FLUSH, id, Buffer.alloc(24))).toEqual(Buffer.alloc(0));
    expect((memdb.read('f', 0, 100) as Buffer).toString()).toBe('hello world');
  });

  it('WRITE whose size runs past the body, or with a short fuse_write_in: EINVAL', async () => {
    const { id, fh } = await createFile(ROOT, 'f');
    const body = writeBody(fh, 0, Buffer.from('abc'));
    body.writeUInt32LE(4, 16);
    expect(await call(Opcode.WRITE, id, body)).toBe(-Errno.EINVAL);
    expect(await call(Opcode.WRITE, id, Buffer.alloc(39))).toBe(-Errno.EINVAL);
    expect(await call(Opcode.READ, id, Buffer.alloc(23))).toBe(-Errno.EINVAL);
  });

  it('READ returns at most `size` bytes from `offset`', async () => {
    const { id, fh } = await createFile(ROOT, 'f');
    await ok(Opcode.WRITE, id, writeBody(fh, 0, Buffer.from('0123456789')));
    expect((await ok(Opcode.READ, id, readBody(fh, 3, 4))).toString()).toBe('3456');
    expect((await ok(Opcode.READ, id, readBody(fh, 8, 100))).toString()).toBe('89');
    expect((await ok(Opcode.READ, id, readBody(fh, 20, 100))).length).toBe(0);
  });
});

describe('READDIR', () => {
  it('pages across two calls: the second continues at the off of the last entry of the first', async () => {
    for (const n of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) await ok(Opcode.MKDIR, ROOT, mkdirBody(n));
    const d = await ok(Opcode.MKDIR, ROOT, mkdirBody('dir'));
    const dirId = nodeIdOf(d);
    for (const n of ['a1', 'a2', 'a3', 'a4', 'a5']) await createFile(dirId, n);
    const fh = Number((await ok(Opcode.OPENDIR, dirId)).readBigUInt64LE(0));

    const first = parseDirents(await ok(Opcode.READDIR, dirId, readBody(fh, 0, 3 * 32)));
    expect(first.map((e) => e.name)).toEqual(['.', '..', 'a1']);
    const rest = parseDirents(await ok(Opcode.READDIR, dirId, readBody(fh, first[2]!.off, 4096)));
    expect(rest.map((e) => e.name)).toEqual(['a2', 'a3', 'a4', 'a5']);
    // at the end: an empty reply
    expect((await ok(Opcode.READDIR, dirId, readBody(fh, rest[rest.length - 1]!.off, 4096))).length).toBe(0);
  });

  it('keeps the listing of its first read: an entry created between pages does not shift offsets', async () => {
    const d = nodeIdOf(await ok(Opcode.MKDIR, ROOT, mkdirBody('d')));
    for (const n of ['b', 'c', 'd']) await createFile(d, n);
    const fh = Number((await ok(Opcode.OPENDIR, d)).readBigUInt64LE(0));
    const first = parseDirents(await ok(Opcode.READDIR, d, readBody(fh, 0, 2 * 32)));
    await createFile(d, 'a'); // sorts before the rest
    const rest = parseDirents(await ok(Opcode.READDIR, d, readBody(fh, first[1]!.off, 4096)));
    expect([...first, ...rest].map((e) => e.name)).toEqual(['.', '..', 'b', 'c', 'd']);
  });

  it('the root lists the virtual entries; RELEASEDIR ends the handle (EBADF after)', async () => {
    const fh = Number((await ok(Opcode.OPENDIR, ROOT)).readBigUInt64LE(0));
    const names = parseDirents(await ok(Opcode.READDIR, ROOT, readBody(fh, 0, 4096))).map((e) => e.name);
    expect(names).toContain('local');
    expect(names).toContain('.members');
    await ok(Opcode.RELEASEDIR, ROOT, readBody(fh, 0, 0));
    expect(await call(Opcode.READDIR, ROOT, readBody(fh, 0, 4096))).toBe(-Errno.EBADF);
    expect(await call(Opcode.READDIR, ROOT, Buffer.alloc(16))).toBe(-Errno.EINVAL);
  });
});

describe('RENAME and UNLINK keep the node table in step', () => {
  it('RENAME moves the node: its id now resolves to the new path', async () => {
    const src = nodeIdOf(await ok(Opcode.MKDIR, ROOT, mkdirBody('src')));
    const dst = nodeIdOf(await ok(Opcode.MKDIR, ROOT, mkdirBody('dst')));
    const { id } = await createFile(src, 'x.tmp');
    expect(await call(Opcode.RENAME, src, renameBody(dst, 'x.tmp', 'x.conf'))).toEqual(Buffer.alloc(0));
    expect(nodes.path(id)).toBe('/dst/x.conf');
    expect(memdb.lookup('dst/x.conf')).toBeDefined();
    expect(memdb.lookup('src/x.tmp')).toBeUndefined();
    expect(Buffer.isBuffer(await call(Opcode.GETATTR, id, Buffer.alloc(16)))).toBe(true);
    expect(nodeIdOf(await ok(Opcode.LOOKUP, dst, cstr('x.conf')))).toBe(id);
    expect(await call(Opcode.LOOKUP, src, cstr('x.tmp'))).toBe(-Errno.ENOENT);
  });

  it('RENAME over an existing file detaches the replaced node', async () => {
    const tmp = await createFile(ROOT, 'x.tmp');
    const old = await createFile(ROOT, 'x.conf');
    await ok(Opcode.RENAME, ROOT, renameBody(ROOT, 'x.tmp', 'x.conf'));
    expect(nodes.path(tmp.id)).toBe('/x.conf');
    expect(nodes.path(old.id)).toBeUndefined();
    expect(await call(Opcode.GETATTR, old.id)).toBe(-Errno.ENOENT);
  });

  it('a failed RENAME leaves the node table alone; a body without the second name is EINVAL', async () => {
    const { id } = await createFile(ROOT, 'f');
    await ok(Opcode.MKDIR, ROOT, mkdirBody('d'));
    expect(await call(Opcode.RENAME, ROOT, renameBody(ROOT, 'f', 'd'))).toBe(-Errno.EISDIR);
    expect(nodes.path(id)).toBe('/f');
    const noSecond = Buffer.concat([Buffer.alloc(8), cstr('f'), Buffer.from('g')]);
    expect(await call(Opcode.RENAME, ROOT, noSecond)).toBe(-Errno.EINVAL);
    expect(await call(Opcode.RENAME, ROOT, Buffer.alloc(7))).toBe(-Errno.EINVAL);
  });

  it('UNLINK detaches the node: GETATTR/WRITE on it ENOENT, a new LOOKUP ENOENT', async () => {
    const { id, fh } = await createFile(ROOT, 'f');
    expect(await call(Opcode.UNLINK, ROOT, cstr('f'))).toEqual(Buffer.alloc(0));
    expect(nodes.path(id)).toBeUndefined();
    expect(memdb.lookup('f')).toBeUndefined();
    expect(await call(Opcode.GETATTR, id)).toBe(-Errno.ENOENT);
    expect(await call(Opcode.WRITE, id, writeBody(fh, 0, Buffer.from('x')))).toBe(-Errno.ENOENT);
    expect(await call(Opcode.LOOKUP, ROOT, cstr('f'))).toBe(-Errno.ENOENT);
    // RELEASE of the detached node still answers (nothing to flush)
    expect(await call(Opcode.RELEASE, id, readBody(fh, 0, 0))).toEqual(Buffer.alloc(0));
  });

  it('UNLINK of a missing name: ENOENT; RMDIR of a non-empty directory: ENOTEMPTY and still attached', async () => {
    expect(await call(Opcode.UNLINK, ROOT, cstr('missing'))).toBe(-Errno.ENOENT);
    const d = nodeIdOf(await ok(Opcode.MKDIR, ROOT, mkdirBody('d')));
    await createFile(d, 'f');
    expect(await call(Opcode.RMDIR, ROOT, cstr('d'))).toBe(-Errno.ENOTEMPTY);
    expect(nodes.path(d)).toBe('/d');
  });
});

describe('SETATTR', () => {
  it('size with FATTR_FH (ftruncate) stays buffered until FLUSH; the reply shows the new size', async () => {
    const { id, fh } = await createFile(ROOT, 'f');
    await ok(Opcode.WRITE, id, writeBody(fh, 0, Buffer.from('hello')));
    await ok(Opcode.FLUSH, id, Buffer.alloc(24));
    const commits = submitted.length;

    const a = await ok(Opcode.SETATTR, id, setattrBody({ valid: FATTR_SIZE | FATTR_FH, fh, size: 2 }));
    expect(a.length).toBe(ATTR_OUT_SIZE);
    expect(attrOutSize(a)).toBe(2);
    expect(submitted.length).toBe(commits);
    expect((memdb.read('f', 0, 100) as Buffer).toString()).toBe('hello');

    await ok(Opcode.FLUSH, id, Buffer.alloc(24));
    expect(submitted.length).toBe(commits + 1);
    expect((memdb.read('f', 0, 100) as Buffer).toString()).toBe('he');
  });

  it('size without FATTR_FH (truncate by path) is committed at once', async () => {
    const { id, fh } = await createFile(ROOT, 'f');
    await ok(Opcode.WRITE, id, writeBody(fh, 0, Buffer.from('hello')));
    await ok(Opcode.FLUSH, id, Buffer.alloc(24));
    const a = await ok(Opcode.SETATTR, id, setattrBody({ valid: FATTR_SIZE, size: 1 }));
    expect(attrOutSize(a)).toBe(1);
    expect((memdb.read('f', 0, 100) as Buffer).toString()).toBe('h');
  });

  it('mtime is stored in whole seconds and reported back in all three times', async () => {
    const { id } = await createFile(ROOT, 'f');
    const a = await ok(Opcode.SETATTR, id, setattrBody({ valid: FATTR_MTIME | FATTR_ATIME, mtime: 1_234_567 }));
    expect(a.readBigUInt64LE(16 + 32)).toBe(1_234_567n);
    expect(a.readBigUInt64LE(16 + 24)).toBe(1_234_567n);
    expect(memdb.lookup('f')!.mtime).toBe(1_234_567);
  });

  it('an mtime-only or atime-only change (touch -m, touch -a) succeeds and changes nothing, as libfuse 2 did', async () => {
    const { id } = await createFile(ROOT, 'f');
    const before = memdb.lookup('f')!.mtime;
    await ok(Opcode.SETATTR, id, setattrBody({ valid: FATTR_MTIME, mtime: 1_234_567 }));
    await ok(Opcode.SETATTR, id, setattrBody({ valid: FATTR_ATIME, mtime: 1_234_567 }));
    expect(memdb.lookup('f')!.mtime).toBe(before);
  });

  it('a short fuse_setattr_in: EINVAL; an unknown node: ENOENT', async () => {
    const { id } = await createFile(ROOT, 'f');
    expect(await call(Opcode.SETATTR, id, Buffer.alloc(87))).toBe(-Errno.EINVAL);
    expect(await call(Opcode.SETATTR, 999, setattrBody({ valid: FATTR_SIZE }))).toBe(-Errno.ENOENT);
  });
});

describe('FORGET and BATCH_FORGET', () => {
  it('FORGET drops the node after its lookups are forgotten; no reply', async () => {
    const { id } = await createFile(ROOT, 'f');
    await ok(Opcode.LOOKUP, ROOT, cstr('f'));
    const n = Buffer.alloc(8);
    n.writeBigUInt64LE(1n);
    expect(await call(Opcode.FORGET, id, n)).toBeNull();
    expect(nodes.path(id)).toBe('/f');
    expect(await call(Opcode.FORGET, id, n)).toBeNull();
    expect(nodes.path(id)).toBeUndefined();
    expect(await call(Opcode.FORGET, id, Buffer.alloc(4))).toBeNull(); // short body ignored
  });

  it('BATCH_FORGET forgets every complete entry', async () => {
    const a = (await createFile(ROOT, 'a')).id;
    const b = (await createFile(ROOT, 'b')).id;
    expect(await call(Opcode.BATCH_FORGET, ROOT, batchForgetBody(2, [[a, 1], [b, 1]]))).toBeNull();
    expect(nodes.size).toBe(1);
  });

  it('BATCH_FORGET with a count beyond its body forgets what is there and does not throw', async () => {
    const a = (await createFile(ROOT, 'a')).id;
    const b = (await createFile(ROOT, 'b')).id;
    const full = batchForgetBody(5, [[a, 1], [b, 1]]);
    const truncated = full.subarray(0, full.length - 4); // second entry cut short
    expect(await call(Opcode.BATCH_FORGET, ROOT, truncated)).toBeNull();
    expect(nodes.path(a)).toBeUndefined();
    expect(nodes.path(b)).toBe('/b');
    expect(await call(Opcode.BATCH_FORGET, ROOT, Buffer.alloc(3))).toBeNull();
    expect(await call(Opcode.BATCH_FORGET, ROOT, batchForgetBody(1, [[ROOT, 100]]))).toBeNull();
    expect(nodes.path(ROOT)).toBe('/');
  });
});

describe('replies the kernel did not take', () => {
  it('an undelivered LOOKUP, CREATE or MKNOD reply takes its node reference back; other opcodes change nothing', async () => {
    const { id } = await createFile(ROOT, 'f');
    const lookupReply = await ok(Opcode.LOOKUP, ROOT, cstr('f'));
    forgetUndelivered(nodes, header(Opcode.LOOKUP, ROOT, 0), lookupReply);
    expect(nodes.path(id)).toBe('/f'); // the CREATE reference is still there
    forgetUndelivered(nodes, header(Opcode.GETATTR, id, 0), lookupReply);
    expect(nodes.path(id)).toBe('/f');
    forgetUndelivered(nodes, header(Opcode.CREATE, ROOT, 0), lookupReply);
    expect(nodes.path(id)).toBeUndefined();
    forgetUndelivered(nodes, header(Opcode.MKDIR, ROOT, 0), Buffer.alloc(4)); // short body ignored
    const mknodReply = await ok(Opcode.MKNOD, ROOT, mknodBody(S_IFREG, 'm'));
    forgetUndelivered(nodes, header(Opcode.MKNOD, ROOT, 0), mknodReply);
    expect(nodes.path(nodeIdOf(mknodReply))).toBeUndefined();
  });
});

describe('GETATTR, READLINK, STATFS', () => {
  it('GETATTR of the root: a directory, ino 1', async () => {
    const a = await ok(Opcode.GETATTR, ROOT, Buffer.alloc(16));
    expect(a.length).toBe(ATTR_OUT_SIZE);
    expect(a.readBigUInt64LE(16)).toBe(1n);
    expect(a.readUInt32LE(16 + 60) & 0o170000).toBe(0o040000);
  });

  it('READLINK of a virtual symlink: its target; of a regular file: EINVAL', async () => {
    const local = nodeIdOf(await ok(Opcode.LOOKUP, ROOT, cstr('local')));
    expect((await ok(Opcode.READLINK, local)).toString()).toBe('nodes/n1');
    const { id } = await createFile(ROOT, 'f');
    expect(await call(Opcode.READLINK, id)).toBe(-Errno.EINVAL);
  });

  it('STATFS: fuse_kstatfs with 4 KiB blocks and namelen 256', async () => {
    const s = await ok(Opcode.STATFS, ROOT);
    expect(s.length).toBe(80);
    expect(s.readUInt32LE(40)).toBe(4096);
    expect(s.readUInt32LE(44)).toBe(256);
  });
});
