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

  it('symlinks and status files show mtime 0 (1970), as the reference fills in no time for them', () => {
    for (const name of ['/local', '/qemu-server', '/lxc', '/.members', '/.version', '/.vmlist', '/.debug']) {
      const st = fs.getattr(name);
      if (typeof st === 'number') throw new Error(`${name}: errno ${-st}`);
      expect(st.mtime, name).toBe(0);
    }
  });

  it('the root directory shows mtime 0 although memdb changes its mtime (observed on the reference)', async () => {
    await fs.mkdir('/nodes');
    expect(fs.getattr('/')).toMatchObject({ mode: 0o040755, mtime: 0, size: 0, nlink: 2 });
    expect(fs.getattr('/nodes')).toMatchObject({ mtime: 1000 });
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
