import { describe, expect, it } from 'vitest';
import { Errno } from '../../../src/memdb/errno';
import { MemDb, MemDbLoadError } from '../../../src/memdb/memdb';
import { MemoryTreeStore } from '../../../src/memdb/memory-store';
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
