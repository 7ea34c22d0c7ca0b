/** PveFs against a real MemDb (memory store) and a backend whose quorum the test switches. */
import { beforeEach, describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import type { FsOp } from '../../../src/memdb/types';
import type { FsBackend, StatusSource } from '../../../src/daemon/backend';
import { PveFs } from '../../../src/fuse/pve-fs';

const status: StatusSource = {
  version: () => 'v',
  members: () => 'm',
  vmlist: () => 'l',
  clusterLog: () => 'c',
  rrdDump: () => '',
};

let quorate = true;
let submitted: FsOp[];
let fs: PveFs;
let debugOn = false;

beforeEach(() => {
  quorate = true;
  submitted = [];
  const memdb = MemDb.open(new MemoryTreeStore(), 1000);
  const backend: FsBackend = {
    memdb,
    status,
    quorate: () => quorate,
    nodeId: () => 1,
    submit: async (op) => {
      if (!quorate) return -Errno.EACCES; // as the cluster backend's dcdb client
      submitted.push(op);
      return memdb.apply(op, { writer: 1, mtime: 1000 }, 1000);
    },
    requestUnlock: async () => -Errno.EACCES,
  };
  fs = new PveFs({
    backend,
    nodename: 'n1',
    gid: 33,
    debug: { enabled: () => debugOn, set: (on) => (debugOn = on) },
    clock: () => 1000,
    startTime: 900,
  });
});

describe('without quorum', () => {
  it('every mutation is EACCES and nothing is submitted; reads, .debug and chmod/chown no-ops work', async () => {
    await fs.mkdir('/d');
    expect(await fs.create('/d/f')).toBeGreaterThan(0);
    submitted = [];
    quorate = false;
    expect(await fs.mkdir('/e')).toBe(-Errno.EACCES);
    expect(await fs.create('/d/g')).toBe(-Errno.EACCES);
    expect(fs.write('/d/f', 0, Buffer.from('x'))).toBe(-Errno.EACCES);
    expect(fs.ftruncate('/d/f', 0)).toBe(-Errno.EACCES);
    expect(await fs.truncate('/d/f', 0)).toBe(-Errno.EACCES);
    expect(await fs.unlink('/d/f')).toBe(-Errno.EACCES);
    expect(await fs.rmdir('/d')).toBe(-Errno.EACCES);
    expect(await fs.rename('/d/f', '/d/h')).toBe(-Errno.EACCES);
    expect(await fs.utimens('/d/f', 5)).toBe(-Errno.EACCES);
    expect(submitted).toEqual([]);
    expect(fs.write('/.debug', 0, Buffer.from('1\n'))).toBe(2);
    expect(debugOn).toBe(true);
    expect(fs.chmod('/d/f', 0o100640)).toBe(0);
    expect(fs.chown('/d/f', 0, 33)).toBe(0);
    expect(fs.readdir('/d')).toEqual(['.', '..', 'f']);
  });

  it('modes lose their write bits', () => {
    quorate = false;
    expect(fs.getattr('/local')).toMatchObject({ mode: 0o120555 });
  });
});

describe('virtual entries', () => {
  it('shadow memdb entries of the same name in readdir', async () => {
    await fs.mkdir('/nodes');
    const names = fs.readdir('/') as string[];
    expect(names.filter((n) => n === 'local')).toHaveLength(1);
    expect(names).toContain('nodes');
    expect(names).toContain('.version');
  });

  it('status files: read what was rendered at open, other writes EIO, truncate only .debug', () => {
    const h = fs.open('/.members');
    expect((fs.read('/.members', h, 0, 100) as Buffer).toString()).toBe('m');
    expect(fs.write('/.members', 0, Buffer.from('x\n'))).toBe(-Errno.EIO);
    expect(fs.ftruncate('/.debug', 0)).toBe(0);
    expect(fs.ftruncate('/.vmlist', 0)).toBe(-Errno.EIO);
  });

  it('mutations on or below virtual names are EACCES', async () => {
    expect(await fs.mkdir('/local')).toBe(-Errno.EACCES);
    expect(await fs.create('/.version')).toBe(-Errno.EACCES);
    expect(await fs.create('/.version/x')).toBe(-Errno.EACCES);
    expect(await fs.unlink('/qemu-server')).toBe(-Errno.EACCES);
  });
});

describe('a new file is replicated at its first flush, CREATE and WRITE back to back', () => {
  beforeEach(async () => {
    expect(await fs.mkdir('/d')).toBe(0);
    submitted = [];
  });

  it('create submits nothing; this node sees the file; flush sends CREATE and WRITE before either answers', async () => {
    const fh = await fs.create('/d/f');
    expect(fh).toBeGreaterThan(0);
    expect(submitted).toEqual([]);
    expect(fs.getattr('/d/f')).toMatchObject({ mode: 0o100640, size: 0 });
    expect(fs.readdir('/d')).toEqual(['.', '..', 'f']);
    expect(fs.open('/d/f')).toBeGreaterThan(0);
    expect(fs.write('/d/f', 0, Buffer.from('hello'))).toBe(5);
    expect(fs.getattr('/d/f')).toMatchObject({ size: 5 });
    expect(fs.read('/d/f', fh, 0, 100)).toEqual(Buffer.from('hello'));
    const flushing = fs.flush('/d/f');
    // Both messages are handed over synchronously, before any result is awaited.
    expect(submitted.map((op) => op.kind)).toEqual(['create', 'write']);
    expect(await flushing).toBe(0);
    expect(submitted[1]).toMatchObject({ kind: 'write', path: 'd/f', offset: 0, truncate: true });
    expect(fs.read('/d/f', fh, 0, 100)).toEqual(Buffer.from('hello'));
    expect(fs.readdir('/d')).toEqual(['.', '..', 'f']);
    expect(await fs.release('/d/f', fh)).toBe(0);
    expect(submitted).toHaveLength(2);
  });

  it('an empty file is one CREATE', async () => {
    const fh = await fs.create('/d/empty');
    expect(await fs.release('/d/empty', fh)).toBe(0);
    expect(submitted).toEqual([{ kind: 'create', path: 'd/empty' }]);
    expect(fs.getattr('/d/empty')).toMatchObject({ size: 0 });
  });

  it('the open fails where the CREATE would: existing name, pending name, missing parent, VMID elsewhere', async () => {
    expect(await fs.mkdir('/nodes')).toBe(0);
    for (const d of ['/nodes/n1', '/nodes/n1/qemu-server', '/nodes/n2', '/nodes/n2/qemu-server']) expect(await fs.mkdir(d)).toBe(0);
    const fh = await fs.create('/nodes/n1/qemu-server/100.conf');
    expect(await fs.release('/nodes/n1/qemu-server/100.conf', fh)).toBe(0);
    submitted = [];
    expect(await fs.create('/nodes/n1/qemu-server/100.conf')).toBe(-Errno.EEXIST);
    expect(await fs.create('/nodes/n2/qemu-server/100.conf')).toBe(-Errno.EEXIST);
    expect(await fs.create('/missing/f')).toBe(-Errno.ENOENT);
    expect(await fs.create('/d')).toBe(-Errno.EEXIST);
    expect(await fs.create('/d/g')).toBeGreaterThan(0);
    expect(await fs.create('/d/g')).toBe(-Errno.EEXIST);
    expect(await fs.mkdir('/d/g')).toBe(-Errno.EEXIST);
    expect(submitted).toEqual([]);
  });

  it('rename and unlink of a still-open new file commit it first', async () => {
    const fh = await fs.create('/d/tmp');
    expect(fs.write('/d/tmp', 0, Buffer.from('x'))).toBe(1);
    expect(await fs.rename('/d/tmp', '/d/final')).toBe(0);
    expect(submitted.map((op) => op.kind)).toEqual(['create', 'write', 'rename']);
    expect(fs.getattr('/d/tmp')).toBe(-Errno.ENOENT);
    expect(await fs.release('/d/tmp', fh)).toBe(0);
    submitted = [];
    await fs.create('/d/gone');
    expect(await fs.unlink('/d/gone')).toBe(0);
    expect(submitted.map((op) => op.kind)).toEqual(['create', 'delete']);
    expect(fs.readdir('/d')).toEqual(['.', '..', 'final']);
  });

  it('renaming or removing the directory of a still-open new file commits the file first', async () => {
    await fs.create('/d/f');
    expect(fs.write('/d/f', 0, Buffer.from('y'))).toBe(1);
    // A directory with entries is not renamed (as the reference): the new file counts.
    expect(await fs.rename('/d', '/e')).toBe(-Errno.ENOTEMPTY);
    expect(submitted.map((op) => op.kind)).toEqual(['create', 'write', 'rename']);
    expect(fs.getattr('/d/f')).toMatchObject({ size: 1 });
    expect(await fs.mkdir('/e')).toBe(0);
    await fs.create('/e/g');
    expect(await fs.rmdir('/e')).toBe(-Errno.ENOTEMPTY);
    expect(fs.readdir('/e')).toEqual(['.', '..', 'g']);
  });

  it('quorum lost before the close: the close fails EACCES and the file is gone', async () => {
    const fh = await fs.create('/d/f');
    expect(fs.write('/d/f', 0, Buffer.from('x'))).toBe(1);
    quorate = false;
    expect(await fs.release('/d/f', fh)).toBe(-Errno.EACCES);
    quorate = true;
    expect(fs.getattr('/d/f')).toBe(-Errno.ENOENT);
    expect(fs.readdir('/d')).toEqual(['.', '..']);
  });
});
