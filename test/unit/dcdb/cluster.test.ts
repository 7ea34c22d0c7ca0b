import { describe, expect, it } from 'vitest';
import { Bus, TestNode } from './harness';
import { DfsmMode } from '../../../src/dfsm/modes';
import { DfsmMessageType, encodeNormalMessage, encodeStateMessage } from '../../../src/dfsm/header';
import { DcdbMessageType } from '../../../src/dcdb/messages';
import { Errno } from '../../../src/memdb/errno';

const origin0 = (t: number) => ({ writer: 0, mtime: t });

/** Seed a node's tree directly (before it is in the group). */
function seed(node: TestNode, t: number): void {
  const db = node.memdb;
  expect(db.apply({ kind: 'mkdir', path: 'nodes' }, origin0(t), t)).toBe(0);
  expect(db.apply({ kind: 'mkdir', path: 'nodes/n1' }, origin0(t), t)).toBe(0);
  expect(db.apply({ kind: 'create', path: 'nodes/n1/a.cfg' }, origin0(t), t)).toBe(0);
  expect(db.apply({ kind: 'write', path: 'nodes/n1/a.cfg', offset: 0, data: Buffer.from('alpha'), truncate: true }, origin0(t), t)).toBe(5);
  expect(db.apply({ kind: 'create', path: 'datacenter.cfg' }, origin0(t), t)).toBe(0);
}

function normalsFrom(bus: Bus, nodeid: number, subtype: number): number {
  return bus.delivered.filter((d) => d.from.nodeid === nodeid && d.data.readUInt16LE(0) === 0 && d.data.readUInt16LE(2) === subtype).length;
}

function threeSynced(verifyInterval?: number): { bus: Bus; n1: TestNode; n2: TestNode; n3: TestNode } {
  const bus = new Bus();
  const n1 = bus.node(1, verifyInterval);
  const n2 = bus.node(2, verifyInterval);
  const n3 = bus.node(3, verifyInterval);
  bus.join(n1);
  bus.join(n2);
  bus.join(n3);
  bus.pump();
  return { bus, n1, n2, n3 };
}

describe('dcdb over the DFSM: initial sync', () => {
  it("the leader's tree reaches the others; indexes become byte-identical", () => {
    const bus = new Bus();
    const n1 = bus.node(1);
    const n2 = bus.node(2);
    const n3 = bus.node(3);
    bus.time += 10;
    seed(n2, bus.time); // n2 has the highest version: it leads although n1 has the lowest nodeid
    n3.memdb.apply({ kind: 'mkdir', path: 'stale' }, origin0(bus.time), bus.time);
    bus.join(n1);
    bus.pump();
    expect(n1.dfsm.mode).toBe(DfsmMode.SYNCED);
    bus.join(n2, n3);
    bus.pump();
    for (const n of [n1, n2, n3]) {
      expect(n.dfsm.mode).toBe(DfsmMode.SYNCED);
      expect(n.index()).toBe(n2.index());
      expect(n.logs.some((l) => l.includes('leader is 2/1002'))).toBe(true);
    }
    expect(n1.memdb.read('nodes/n1/a.cfg', 0, 100)).toEqual(Buffer.from('alpha'));
    expect(n3.memdb.lookup('stale')).toBeUndefined();
    // Only the leader sent updates; the committed nodes asked for a corosync.conf check without reload.
    expect(bus.delivered.filter((d) => d.data.readUInt16LE(0) === DfsmMessageType.UPDATE).every((d) => d.from.nodeid === 2)).toBe(true);
    expect(n1.appEffects).toContainEqual({ kind: 'corosync-conf-changed', reloadAllowed: false });
  });
});

describe('dcdb over the DFSM: log lines', () => {
  it("a sync logs the reference's lines at its levels (golden: pve-cluster 9.1.6 joining a pmxcfs-ts leader)", () => {
    const bus = new Bus();
    const n1 = bus.node(1);
    const n2 = bus.node(2);
    bus.time += 10;
    seed(n2, bus.time);
    bus.join(n2);
    bus.pump();
    n2.logs.length = 0;
    bus.join(n1);
    bus.pump();
    const lines = (n: TestNode) => n.logs.filter((l) => !l.startsWith('debug: '));
    // 5 updates: the root (version row) and nodes, nodes/n1, nodes/n1/a.cfg, datacenter.cfg
    const epoch = /received sync request \(epoch (1\/1001\/[0-9A-F]{8})\)/.exec(n1.logs.join('\n'))?.[1];
    expect(epoch).toBeDefined();
    // what the C daemon logged for the same round (members 1 and 3 there; node 3 was the leader)
    expect(lines(n1)).toEqual([
      'notice: members: 1/1001, 2/1002',
      'notice: starting data syncronisation',
      `notice: received sync request (epoch ${epoch})`,
      'notice: received all states',
      'notice: leader is 2/1002',
      'notice: synced members: 2/1002',
      'notice: waiting for updates from leader',
      `notice: update complete - trying to commit (got 5 inode updates)`,
      'notice: all data is up to date',
    ]);
    expect(lines(n2)).toEqual([
      'notice: members: 1/1001, 2/1002',
      'notice: starting data syncronisation',
      `notice: received sync request (epoch ${epoch})`,
      'notice: received all states',
      'notice: leader is 2/1002',
      'notice: synced members: 2/1002',
      'notice: start sending inode updates',
      `notice: sent all (5) updates`,
      'notice: all data is up to date',
    ]);
  });
});

describe('dcdb over the DFSM: writes', () => {
  it('a write is applied everywhere in one order and the sender gets its own result', async () => {
    const { bus, n1, n2, n3 } = threeSynced();
    const a = n2.client.submit({ kind: 'mkdir', path: 'x' });
    const b = n3.client.submit({ kind: 'mkdir', path: 'x' });
    const c = n1.client.submit({ kind: 'create', path: 'x/f' });
    bus.pump();
    expect(await a).toBe(0);
    expect(await b).toBe(-Errno.EEXIST);
    expect(await c).toBe(0);
    const w = n3.client.submit({ kind: 'write', path: 'x/f', offset: 0, data: Buffer.from('hello'), truncate: false });
    bus.pump();
    expect(await w).toBe(5);
    for (const n of [n1, n2, n3]) {
      expect(n.index()).toBe(n1.index());
      expect(n.memdb.lookup('x')!.writer).toBe(2); // writer = sender nodeid
      expect(n.memdb.lookup('x/f')!.writer).toBe(3);
      expect(n.memdb.lookup('x/f')!.mtime).toBe(bus.time);
    }
  });

  it('mtime = the sender header time, not the receiver clock', async () => {
    const { bus, n1, n2 } = threeSynced();
    n2.skew = 500;
    const r = n2.client.submit({ kind: 'create', path: 'f' });
    bus.pump();
    expect(await r).toBe(0);
    expect(n1.memdb.lookup('f')!.mtime).toBe(bus.time + 500);
  });

  it("a joiner's writes wait in the queue and are applied after the sync, on every node", async () => {
    const bus = new Bus();
    const n1 = bus.node(1);
    const n2 = bus.node(2);
    seed(n1, bus.time);
    bus.join(n1);
    bus.pump();
    bus.join(n2); // confchg delivered, SYNC_START not yet
    expect(n2.dfsm.mode).toBe(DfsmMode.START_SYNC);
    const w1 = n2.client.submit({ kind: 'create', path: 'nodes/n1/b.cfg' });
    const w2 = n1.client.submit({ kind: 'write', path: 'nodes/n1/a.cfg', offset: 0, data: Buffer.from('beta!'), truncate: true });
    bus.pump();
    expect(await w1).toBe(0);
    expect(await w2).toBe(5);
    expect(n2.index()).toBe(n1.index());
    expect(n2.memdb.read('nodes/n1/a.cfg', 0, 10)).toEqual(Buffer.from('beta!'));
  });

  it('queued own messages are re-multicast on a further join and applied exactly once', async () => {
    const bus = new Bus();
    const n1 = bus.node(1);
    const n2 = bus.node(2);
    const n3 = bus.node(3);
    bus.join(n1);
    bus.pump();
    bus.join(n2);
    const w = n2.client.submit({ kind: 'mkdir', path: 'once' });
    // Deliver only the SYNC_START and our NORMAL message: still syncing, the write is queued.
    bus.step();
    bus.step();
    expect(n1.dfsm.mode).toBe(DfsmMode.START_SYNC);
    expect(n2.dfsm.queuedCount).toBe(1);
    bus.joinNow(n3); // the view change overtakes the STATE messages still in flight
    bus.pump();
    expect(await w).toBe(0);
    expect(normalsFrom(bus, 2, DcdbMessageType.MKDIR)).toBe(2); // sent, then re-sent on the join
    for (const n of [n1, n2, n3]) {
      expect(n.dfsm.mode).toBe(DfsmMode.SYNCED);
      expect(n.index()).toBe(n1.index());
    }
    expect(n1.memdb.version).toBe(2); // fresh DB version 1 + one mkdir
  });
});

describe('dcdb over the DFSM: quorum gate', () => {
  it('not quorate: the origin answers EACCES without sending', async () => {
    const { bus, n2 } = threeSynced();
    n2.quorate = false;
    const before = bus.pending.length + bus.delivered.length;
    expect(await n2.client.submit({ kind: 'mkdir', path: 'x' })).toBe(-Errno.EACCES);
    expect(await n2.client.requestUnlock('priv/lock/x')).toBe(-Errno.EACCES);
    expect(bus.pending.length + bus.delivered.length).toBe(before);
  });

  it('a node that receives a write while not quorate leaves the group', async () => {
    const { bus, n1, n3 } = threeSynced();
    n3.quorate = false;
    const r = n1.client.submit({ kind: 'mkdir', path: 'x' });
    bus.pump();
    expect(await r).toBe(0);
    expect(n3.modes).toContain(DfsmMode.LEAVE);
    expect(n3.leaveCalls).toEqual([true]);
    expect(bus.members).not.toContain(n3);
  });

  it('quorum lost while our write is in flight: the waiter answers EACCES at once', async () => {
    const { n2 } = threeSynced();
    const r = n2.client.submit({ kind: 'mkdir', path: 'x' });
    n2.quorate = false;
    n2.client.quorumChanged(false);
    expect(await r).toBe(-Errno.EACCES);
  });

  it('leaving the group releases waiters with EBUSY', async () => {
    const { bus, n2 } = threeSynced();
    const r = n2.client.submit({ kind: 'mkdir', path: 'x' });
    bus.remove(n2);
    expect(await r).toBe(-Errno.EBUSY);
  });
});

describe('DFSM robustness', () => {
  it('LEAVE on a malformed message; the waiting writer answers EBUSY', async () => {
    const { bus, n1, n2, n3 } = threeSynced();
    bus.inject(n1.member, Buffer.alloc(10)); // shorter than any header
    const r = n2.client.submit({ kind: 'mkdir', path: 'x' });
    bus.pump();
    expect(await r).toBe(-Errno.EBUSY);
    for (const n of [n1, n2, n3]) expect(n.modes).toContain(DfsmMode.LEAVE);
  });

  it('LEAVE on a NORMAL message with a malformed dcdb payload', () => {
    const { bus, n1, n2 } = threeSynced();
    bus.inject(n1.member, encodeNormalMessage({ subtype: DcdbMessageType.MKDIR, protocolVersion: 1, time: bus.time, count: 99 }, Buffer.alloc(19)));
    bus.pump();
    expect(n2.modes).toContain(DfsmMode.LEAVE);
    expect(n2.logs.some((l) => l.includes('bad dcdb message'))).toBe(true);
  });

  it('LEAVE on an unexpected state message (UPDATE while synced is ignored, STATE from a non-member leaves)', () => {
    const { bus, n1, n2 } = threeSynced();
    const epoch = n2.dfsm.epoch;
    bus.inject(n1.member, encodeStateMessage(DfsmMessageType.UPDATE, { protocolVersion: 1, time: bus.time, epoch }));
    bus.pump();
    expect(n2.dfsm.mode).toBe(DfsmMode.SYNCED);
    // A state message with a stale epoch is dropped silently.
    bus.inject(n1.member, encodeStateMessage(DfsmMessageType.STATE, { protocolVersion: 1, time: bus.time, epoch: { ...epoch, epoch: 999 } }));
    bus.pump();
    expect(n2.dfsm.mode).toBe(DfsmMode.SYNCED);
  });

  it('protocol version: newer -> VERSION_ERROR (no rejoin), older -> ignored', () => {
    const { bus, n1, n2 } = threeSynced();
    bus.inject(n1.member, encodeNormalMessage({ subtype: 2, protocolVersion: 0, time: bus.time, count: 50 }, Buffer.alloc(20)));
    bus.pump();
    expect(n2.dfsm.mode).toBe(DfsmMode.SYNCED);
    bus.inject(n1.member, encodeNormalMessage({ subtype: 2, protocolVersion: 2, time: bus.time, count: 51 }, Buffer.alloc(0)));
    bus.pump();
    expect(n2.modes).toContain(DfsmMode.VERSION_ERROR);
    expect(n2.dfsm.mode).toBe(DfsmMode.VERSION_ERROR);
    expect(n2.leaveCalls).toEqual([false]);
  });
});

describe('periodic verify (spec §4.7)', () => {
  it('match: every member logs success; only the lowest node requests', () => {
    const { bus, n1, n2, n3 } = threeSynced(3600);
    for (const n of [n1, n2, n3]) n.runner.tick(); // arms the timer
    bus.time += 3600;
    for (const n of [n1, n2, n3]) n.runner.tick();
    bus.pump();
    const requests = bus.delivered.filter((d) => d.data.readUInt16LE(0) === DfsmMessageType.VERIFY_REQUEST);
    expect(requests.map((d) => d.from.nodeid)).toEqual([1]);
    for (const n of [n1, n2, n3]) {
      expect(n.logs.some((l) => l.includes('data verification successful'))).toBe(true);
      expect(n.dfsm.mode).toBe(DfsmMode.SYNCED);
    }
  });

  it('mismatch: the diverged node leaves and resyncs from the leader after re-joining', () => {
    const { bus, n1, n2, n3 } = threeSynced(3600);
    // Corrupt n3 behind the DFSM's back (same version, different content).
    n3.memdb.apply({ kind: 'mkdir', path: 'rogue' }, origin0(bus.time), bus.time);
    n1.memdb.apply({ kind: 'mkdir', path: 'good' }, origin0(bus.time), bus.time);
    n2.memdb.apply({ kind: 'mkdir', path: 'good' }, origin0(bus.time), bus.time);
    for (const n of [n1, n2, n3]) n.runner.verifyRequest(); // only n1 (lowest nodeid) acts
    bus.pump();
    expect(n3.modes).toContain(DfsmMode.LEAVE);
    expect(n3.logs.some((l) => l.includes('wrong checksum'))).toBe(true);
    expect(n1.dfsm.mode).toBe(DfsmMode.SYNCED);
    expect(n2.dfsm.mode).toBe(DfsmMode.SYNCED);
    bus.join(n3);
    bus.pump();
    expect(n3.index()).toBe(n1.index());
    expect(n3.memdb.lookup('rogue')).toBeUndefined();
  });
});

describe('cluster-wide locks (spec §8.7)', () => {
  async function withLock() {
    const c = threeSynced();
    for (const p of ['priv', 'priv/lock', 'priv/lock/foo']) {
      const r = c.n2.client.submit({ kind: 'mkdir', path: p });
      c.bus.pump();
      expect(await r).toBe(0);
    }
    return c;
  }

  it('expiry is decided only by the lowest nodeid, on its own clock', async () => {
    const { bus, n1, n2, n3 } = await withLock();
    n3.skew = 1000; // n3 believes far more time passed: it must not matter
    n2.skew = 1000;
    bus.time += 60;
    let r = n3.client.requestUnlock('priv/lock/foo');
    bus.pump();
    expect(await r).toBe(-Errno.EACCES); // MTIME(0) < current mtime
    expect(n1.memdb.lookup('priv/lock/foo')).toBeDefined();
    expect(normalsFrom(bus, 1, DcdbMessageType.UNLOCK) + normalsFrom(bus, 2, DcdbMessageType.UNLOCK) + normalsFrom(bus, 3, DcdbMessageType.UNLOCK)).toBe(0);
    bus.time += 61; // 121 s on n1's clock since it first saw the lock
    r = n3.client.requestUnlock('priv/lock/foo');
    bus.pump();
    expect(await r).toBe(-Errno.EACCES);
    expect(normalsFrom(bus, 1, DcdbMessageType.UNLOCK)).toBe(1);
    expect(normalsFrom(bus, 2, DcdbMessageType.UNLOCK) + normalsFrom(bus, 3, DcdbMessageType.UNLOCK)).toBe(0);
    for (const n of [n1, n2, n3]) {
      expect(n.memdb.lookup('priv/lock/foo')).toBeUndefined();
      expect(n.index()).toBe(n1.index());
    }
  });

  it('a renewed lock (new checksum) is not removed', async () => {
    const { bus, n1, n2, n3 } = await withLock();
    bus.time += 200;
    const renew = n2.client.submit({ kind: 'mtime', path: 'priv/lock/foo', mtime: bus.time });
    bus.pump();
    expect(await renew).toBe(0);
    const r = n3.client.requestUnlock('priv/lock/foo');
    bus.pump();
    expect(await r).toBe(-Errno.EACCES);
    expect(n1.memdb.lookup('priv/lock/foo')).toBeDefined();
    expect(normalsFrom(bus, 1, DcdbMessageType.UNLOCK)).toBe(0);
  });
});

describe('corosync.conf effect', () => {
  it('a delivered write of corosync.conf asks for the §9 procedure; reload only on the origin', async () => {
    const { bus, n1, n2 } = threeSynced();
    const r = n2.client.submit({ kind: 'create', path: 'corosync.conf' });
    bus.pump();
    expect(await r).toBe(0);
    expect(n2.appEffects).toContainEqual({ kind: 'corosync-conf-changed', reloadAllowed: true });
    expect(n1.appEffects).toContainEqual({ kind: 'corosync-conf-changed', reloadAllowed: false });
    const m = n1.client.submit({ kind: 'mkdir', path: 'other' });
    bus.pump();
    await m;
    expect(n1.appEffects.filter((e) => e.reloadAllowed)).toEqual([]);
  });
});
