import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb, MemDbLoadError } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
import { newRoot } from '../../../src/memdb/rows';
import { VmRegistry } from '../../../src/memdb/vmlist';
import { create, freshDb, mkdir, putFile, run, write } from './helpers';

function cluster() {
  const { db, store } = freshDb();
  for (const p of ['nodes', 'nodes/n1', 'nodes/n2', 'nodes/n1/qemu-server', 'nodes/n1/lxc', 'nodes/n2/qemu-server']) expect(mkdir(db, p)).toBe(0);
  return { db, store };
}

describe('VMID uniqueness (spec §8.6)', () => {
  it('create registers; a config of the same VMID elsewhere is EEXIST on create and write', () => {
    const { db } = cluster();
    expect(create(db, 'nodes/n1/qemu-server/100.conf')).toBe(0);
    expect(db.vmlist().guests.get(100)).toMatchObject({ node: 'n1', type: 'qemu' });
    expect(create(db, 'nodes/n2/qemu-server/100.conf')).toBe(-Errno.EEXIST);
    expect(create(db, 'nodes/n1/lxc/100.conf')).toBe(-Errno.EEXIST);
    expect(write(db, 'nodes/n1/qemu-server/100.conf', 'memory: 1')).toBe(9);
    // same node and type: fine
    expect(create(db, 'nodes/n1/qemu-server/101.conf')).toBe(0);
  });

  it('delete unregisters; the VMID can then be used elsewhere', () => {
    const { db } = cluster();
    create(db, 'nodes/n1/qemu-server/100.conf');
    const v = db.vmlist().version;
    expect(run(db, { kind: 'delete', path: 'nodes/n1/qemu-server/100.conf' })).toBe(0);
    expect(db.vmlist().guests.has(100)).toBe(false);
    expect(db.vmlist().version).toBeGreaterThan(v);
    expect(create(db, 'nodes/n2/qemu-server/100.conf')).toBe(0);
  });

  it('rename: migration of the same VMID allowed, another file onto a taken VMID EEXIST', () => {
    const { db } = cluster();
    putFile(db, 'nodes/n1/qemu-server/100.conf', 'a');
    putFile(db, 'nodes/n2/qemu-server/tmp', 'b');
    expect(run(db, { kind: 'rename', path: 'nodes/n2/qemu-server/tmp', to: 'nodes/n2/qemu-server/100.conf' })).toBe(-Errno.EEXIST);
    expect(run(db, { kind: 'rename', path: 'nodes/n1/qemu-server/100.conf', to: 'nodes/n2/qemu-server/100.conf' })).toBe(0);
    expect(db.vmlist().guests.get(100)).toMatchObject({ node: 'n2', type: 'qemu' });
    // a tmp file renamed over the config on the same node (how PVE writes configs)
    putFile(db, 'nodes/n2/qemu-server/100.conf.tmp', 'c');
    expect(run(db, { kind: 'rename', path: 'nodes/n2/qemu-server/100.conf.tmp', to: 'nodes/n2/qemu-server/100.conf' })).toBe(0);
    expect(db.vmlist().guests.get(100)).toMatchObject({ node: 'n2', type: 'qemu' });
    // moved away from a config path: unregistered
    expect(run(db, { kind: 'rename', path: 'nodes/n2/qemu-server/100.conf', to: 'saved' })).toBe(0);
    expect(db.vmlist().guests.has(100)).toBe(false);
  });

  it('directories and non-config names are not registered', () => {
    const { db } = cluster();
    expect(mkdir(db, 'nodes/n1/qemu-server/9905.conf')).toBe(0);
    expect(create(db, 'nodes/n1/qemu-server/notavm.conf')).toBe(0);
    expect(create(db, 'nodes/n1/qemu-server/99.conf')).toBe(0);
    expect([...db.vmlist().guests.keys()]).toEqual([99]);
    expect(create(db, 'nodes/n2/qemu-server/9905.conf')).toBe(0);
  });

  it('rebuilt at open; duplicates at open fail with a clear error', () => {
    const { db, store } = cluster();
    create(db, 'nodes/n1/qemu-server/100.conf');
    create(db, 'nodes/n1/lxc/200.conf');
    const reopened = MemDb.open(new MemoryTreeStore(store.rows), 1000);
    expect(reopened.vmlist().guests.get(100)).toMatchObject({ node: 'n1', type: 'qemu' });
    expect(reopened.vmlist().guests.get(200)).toMatchObject({ node: 'n1', type: 'lxc' });
    // forge a duplicate directly in the rows
    const row = [...store.rows.values()].find((r) => r.name === '200.conf')!;
    store.rows.set(row.inode, { ...row, name: '100.conf' });
    expect(() => MemDb.open(new MemoryTreeStore(store.rows), 1000)).toThrow(MemDbLoadError);
    expect(() => MemDb.open(new MemoryTreeStore(store.rows), 1000)).toThrow(/duplicate VMID 100/);
  });
});

describe('VMID list counters, as the reference (memdb.c + status.c)', () => {
  const cfg = 'nodes/n1/qemu-server/100.conf';
  const snapshot = (db: MemDb) => ({ version: db.vmlist().version, guest: db.vmlist().guests.get(100)?.version });

  it('no `nodes` directory at open: the list is not rebuilt (version 0); with one: version 1', () => {
    expect(freshDb().db.vmlist().version).toBe(0);
    const { store } = cluster();
    expect(MemDb.open(new MemoryTreeStore(store.rows), 1000).vmlist().version).toBe(1);
  });

  it('create, every write and truncate register again: list version + 1 and a new guest version', () => {
    const { db } = cluster();
    const v0 = db.vmlist().version;
    expect(create(db, cfg)).toBe(0);
    expect(snapshot(db)).toEqual({ version: v0 + 1, guest: 1 });
    expect(write(db, cfg, 'memory: 1', 0, true)).toBe(9);
    expect(snapshot(db)).toEqual({ version: v0 + 2, guest: 2 });
    expect(write(db, cfg, 'memory: 1', 0, false)).toBe(9); // same bytes: registered all the same
    expect(snapshot(db)).toEqual({ version: v0 + 3, guest: 3 });
    expect(write(db, cfg, Buffer.alloc(0), 0, true)).toBe(0); // truncate to 0
    expect(snapshot(db)).toEqual({ version: v0 + 4, guest: 4 });
    // another guest gets the next guest version; 100 keeps its own
    expect(create(db, 'nodes/n1/lxc/200.conf')).toBe(0);
    expect(db.vmlist().guests.get(200)!.version).toBe(5);
    expect(snapshot(db)).toEqual({ version: v0 + 5, guest: 4 });
  });

  it('an mtime change, a failed write and writes to other files leave the counters alone', () => {
    const { db } = cluster();
    create(db, cfg);
    const before = snapshot(db);
    expect(run(db, { kind: 'mtime', path: cfg, mtime: 5 })).toBe(0);
    expect(write(db, cfg, Buffer.alloc(10), 1024 * 1024)).toBe(-Errno.EFBIG);
    expect(write(db, 'nodes/n2/qemu-server/100.conf', 'x')).toBe(-Errno.EEXIST);
    putFile(db, 'nodes/n1/qemu-server/notes.txt', 'x');
    expect(snapshot(db)).toEqual(before);
  });

  it('delete: + 1 (also for a directory at a config path); rename: + 1 for the old VMID, + 1 for the new', () => {
    const { db } = cluster();
    create(db, cfg); // list v1+1, guest 1
    const v = db.vmlist().version;
    expect(run(db, { kind: 'rename', path: cfg, to: 'nodes/n1/qemu-server/101.conf' })).toBe(0);
    expect(db.vmlist().version).toBe(v + 2);
    expect(db.vmlist().guests.has(100)).toBe(false);
    expect(db.vmlist().guests.get(101)!.version).toBe(2);
    // a tmp file renamed over an existing config: only the register of the target (+ 1)
    putFile(db, 'nodes/n1/qemu-server/101.conf.tmp', 'new');
    expect(run(db, { kind: 'rename', path: 'nodes/n1/qemu-server/101.conf.tmp', to: 'nodes/n1/qemu-server/101.conf' })).toBe(0);
    expect(db.vmlist().version).toBe(v + 3);
    expect(db.vmlist().guests.get(101)!.version).toBe(3);
    // a config renamed over another config: - old VMID, + new (the overwritten one is not unregistered)
    create(db, 'nodes/n1/qemu-server/102.conf'); // + 1, guest 4
    expect(run(db, { kind: 'rename', path: 'nodes/n1/qemu-server/102.conf', to: 'nodes/n1/qemu-server/101.conf' })).toBe(0);
    expect(db.vmlist().version).toBe(v + 6);
    expect([...db.vmlist().guests.keys()]).toEqual([101]);
    expect(db.vmlist().guests.get(101)!.version).toBe(5);
    expect(run(db, { kind: 'delete', path: 'nodes/n1/qemu-server/101.conf' })).toBe(0);
    expect(db.vmlist().version).toBe(v + 7);
    expect(mkdir(db, 'nodes/n1/qemu-server/300.conf')).toBe(0);
    expect(db.vmlist().version).toBe(v + 7); // mkdir registers nothing
    expect(run(db, { kind: 'delete', path: 'nodes/n1/qemu-server/300.conf' })).toBe(0);
    expect(db.vmlist().version).toBe(v + 8);
  });

  it('a rebuild (open, sync) gives every guest a new guest version and the list + 1', () => {
    const { db, store } = cluster();
    create(db, cfg);
    create(db, 'nodes/n1/lxc/200.conf');
    const reopened = MemDb.open(new MemoryTreeStore(store.rows), 1000);
    expect(reopened.vmlist().version).toBe(1);
    expect([...reopened.vmlist().guests.values()].map((g) => g.version).sort()).toEqual([1, 2]);
  });
});

describe('VmRegistry.rebuild without a nodes directory', () => {
  it('an empty list stays as it is (version unchanged, as the reference); guests left over are dropped (version + 1)', () => {
    const list = new VmRegistry();
    expect(list.rebuild(newRoot(5, 0, 0))).toEqual([]);
    expect(list.version).toBe(0);
    list.register({ node: 'n1', type: 'qemu', vmid: 100 });
    expect(list.rebuild(newRoot(6, 0, 0))).toEqual([]);
    expect({ version: list.version, guests: list.guests.size }).toEqual({ version: 2, guests: 0 });
  });
});
