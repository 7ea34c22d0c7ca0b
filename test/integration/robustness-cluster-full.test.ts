/**
 * Cluster mode with a full disk on one node (dcdb over the DFSM, the test bus of test/unit/dcdb):
 * the node that cannot store a delivered operation leaves the group (restartable LEAVE, never the
 * reference's ERROR), answers ENOSPC to its own writer, keeps its old tree in RAM and store, and is
 * resynced from the others once it re-joins with space again. A sync commit that hits the full
 * disk leaves the same way and succeeds on a later round. Pure: the store is in memory and its
 * "disk full" is switched on and off by the test.
 */
import { describe, expect, it } from 'vitest';
import { DfsmMode } from '../../src/dfsm/modes';
import { Errno } from '../../src/memdb/errno';
import { StoreFullError } from '../../src/memdb/memdb';
import type { MemoryTreeStore } from '../../src/memdb/memory-store';
import type { Change, DbRow } from '../../src/memdb/types';
import { Bus, type TestNode } from '../unit/dcdb/harness';

/** Makes the node's store throw StoreFullError while `full()` says so; returns the switch. */
function diskOf(node: TestNode): { full: boolean } {
  const disk = { full: false };
  const store = node.memdb.store as MemoryTreeStore;
  const commit = store.commit.bind(store);
  const replaceTree = store.replaceTree.bind(store);
  store.commit = (change: Change): void => {
    if (disk.full) throw new StoreFullError('injected: database or disk is full');
    commit(change);
  };
  store.replaceTree = (deletes: number[], upserts: DbRow[], verify: (rows: DbRow[]) => boolean): boolean => {
    if (disk.full) throw new StoreFullError('injected: database or disk is full');
    return replaceTree(deletes, upserts, verify);
  };
  return disk;
}

function threeSynced(): { bus: Bus; n1: TestNode; n2: TestNode; n3: TestNode } {
  const bus = new Bus();
  const [n1, n2, n3] = [bus.node(1), bus.node(2), bus.node(3)];
  bus.join(n1);
  bus.join(n2);
  bus.join(n3);
  bus.pump();
  return { bus, n1, n2, n3 };
}

async function submitAndPump(bus: Bus, node: TestNode, op: Parameters<TestNode['client']['submit']>[0]): Promise<number> {
  const r = node.client.submit(op);
  bus.pump();
  return r;
}

const rows = (n: TestNode) => (n.memdb.store as MemoryTreeStore).load().map((r) => JSON.stringify({ ...r, data: r.data?.toString('hex') ?? null })).sort();

describe('cluster: a node whose disk is full', () => {
  it("leaves (restartable) on another node's write it cannot store; keeps its tree; resyncs after re-joining", async () => {
    const { bus, n1, n2, n3 } = threeSynced();
    expect(await submitAndPump(bus, n1, { kind: 'mkdir', path: 'nodes' })).toBe(0);
    const disk = diskOf(n3);
    const indexBefore = n3.index();
    const rowsBefore = rows(n3);
    disk.full = true;

    const w = await submitAndPump(bus, n1, { kind: 'create', path: 'nodes/a.cfg' });
    expect(w).toBe(0); // the writer's node stored it
    expect(n2.memdb.lookup('nodes/a.cfg')).toBeDefined();
    expect(n3.memdb.lookup('nodes/a.cfg')).toBeUndefined();
    expect(n3.memdb.errors).toBe(false);
    expect(n3.index()).toBe(indexBefore);
    expect(rows(n3)).toEqual(rowsBefore);
    expect(n3.leaveCalls).toEqual([true]); // restartable: the group is re-joined later
    expect(n3.modes).toContain(DfsmMode.LEAVE);
    expect(n3.modes).not.toContain(DfsmMode.ERROR);
    expect(n3.logs.some((l) => l.includes('local disk full'))).toBe(true);
    expect(bus.members).not.toContain(n3);
    // The others go on without it.
    expect(await submitAndPump(bus, n2, { kind: 'write', path: 'nodes/a.cfg', offset: 0, data: Buffer.from('v2'), truncate: true })).toBe(2);

    disk.full = false;
    bus.join(n3);
    bus.pump();
    for (const n of [n1, n2, n3]) expect(n.dfsm.mode).toBe(DfsmMode.SYNCED);
    expect(n3.index()).toBe(n1.index());
    // The same rows, except that a sync commit stores the __version__ row with the root's type
    // (4), as the reference does; the nodes that wrote it themselves have 8.
    const resynced = rows(n3);
    expect(resynced.filter((r) => r.startsWith('{"inode":0,'))).toEqual(rows(n1).filter((r) => r.startsWith('{"inode":0,')).map((r) => r.replace('"type":8', '"type":4')));
    expect(resynced.filter((r) => !r.startsWith('{"inode":0,'))).toEqual(rows(n1).filter((r) => !r.startsWith('{"inode":0,')));
    expect(n3.memdb.read('nodes/a.cfg', 0, 10)).toEqual(Buffer.from('v2'));
    expect(await submitAndPump(bus, n3, { kind: 'create', path: 'nodes/b.cfg' })).toBe(0);
    expect(n1.index()).toBe(n3.index());
  });

  it('its own write answers ENOSPC; the others applied it and the node gets it back by resync', async () => {
    const { bus, n1, n2, n3 } = threeSynced();
    const disk = diskOf(n2);
    disk.full = true;
    expect(await submitAndPump(bus, n2, { kind: 'mkdir', path: 'mine' })).toBe(-Errno.ENOSPC);
    expect(n2.memdb.lookup('mine')).toBeUndefined();
    expect(n1.memdb.lookup('mine')).toBeDefined();
    expect(n3.memdb.lookup('mine')).toBeDefined();
    expect(n2.leaveCalls).toEqual([true]);
    expect(n2.memdb.errors).toBe(false);
    disk.full = false;
    bus.join(n2);
    bus.pump();
    expect(n2.memdb.lookup('mine')).toBeDefined();
    expect(n2.index()).toBe(n1.index());
  });

  it('a sync commit that hits the full disk leaves again (restartable), never ERROR, and succeeds later', async () => {
    const { bus, n1, n3 } = threeSynced();
    const disk = diskOf(n3);
    disk.full = true;
    expect(await submitAndPump(bus, n1, { kind: 'mkdir', path: 'one' })).toBe(0);
    expect(bus.members).not.toContain(n3);
    expect(await submitAndPump(bus, n1, { kind: 'mkdir', path: 'two' })).toBe(0);
    const indexBefore = n3.index();

    bus.join(n3); // still full: the leader's updates cannot be stored
    bus.pump();
    expect(n3.leaveCalls).toEqual([true, true]);
    expect(n3.modes).not.toContain(DfsmMode.ERROR);
    expect(n3.memdb.errors).toBe(false);
    expect(n3.index()).toBe(indexBefore);
    expect(n3.logs.some((l) => l.includes("cannot store the leader's tree"))).toBe(true);
    expect(bus.members).not.toContain(n3);
    expect(n1.dfsm.mode).toBe(DfsmMode.SYNCED);

    disk.full = false;
    bus.join(n3);
    bus.pump();
    expect(n3.dfsm.mode).toBe(DfsmMode.SYNCED);
    expect(n3.index()).toBe(n1.index());
  });

  it('any other store failure still goes to ERROR (stays out until restarted), as in the reference', async () => {
    const { bus, n1, n3 } = threeSynced();
    (n3.memdb.store as MemoryTreeStore).failCommits = 1;
    expect(await submitAndPump(bus, n1, { kind: 'mkdir', path: 'x' })).toBe(0);
    expect(n3.memdb.errors).toBe(true);
    expect(n3.modes).toContain(DfsmMode.ERROR);
    expect(n3.leaveCalls).toEqual([false]);
  });
});
