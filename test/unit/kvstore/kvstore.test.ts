import { describe, expect, it } from 'vitest';
import { Kvstore, KvstoreEffect } from '../../../src/kvstore/kvstore';
import { encodeUpdate, encodeLog, KvstoreMessage } from '../../../src/kvstore/messages';
import { packEntry } from '../../../src/kvstore/clog-entry';
import { Errno } from '../../../src/memdb/errno';
import { Dfsm, DfsmEffect } from '../../../src/dfsm/dfsm';
import type { AppContext } from '../../../src/dfsm/app';
import type { GroupMember } from '../../../src/dfsm/transport';
import { renderMembers } from '../../../src/status/members';
import { renderVersion } from '../../../src/status/version';

const NOW = 1716890000;
const cluster = {
  name: 'mycluster',
  configVersion: 3,
  nodes: [
    { name: 'node1', nodeid: 1 },
    { name: 'node2', nodeid: 2 },
    { name: 'node3', nodeid: 3 },
  ],
};

function fakeCtx(self: GroupMember, members: GroupMember[] = [self]) {
  const sent: { subtype: number; payload: Buffer }[] = [];
  const effects: KvstoreEffect[] = [];
  const logs: string[] = [];
  const ctx: AppContext<KvstoreEffect> = {
    now: NOW,
    self,
    members,
    lowestNodeid: Math.min(...members.map((m) => m.nodeid)),
    log: (_l, m) => logs.push(m),
    emit: (e) => effects.push(e),
    sendAsync: (subtype, payload) => sent.push({ subtype, payload }),
    sendUpdate: () => undefined,
    sendUpdateComplete: () => undefined,
    setErrorMode: () => undefined,
  };
  return { ctx, sent, effects, logs };
}

describe('local setter', () => {
  it('stores kv entries with versions, deletes on empty and sends UPDATE', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    const r1 = kv.setStatus('tasklist', Buffer.from('a'), NOW);
    expect(r1.result).toBe(0);
    expect(r1.send).toEqual([{ subtype: 1, payload: encodeUpdate('tasklist', Buffer.from('a')) }]);
    kv.setStatus('tasklist', Buffer.from('b'), NOW);
    kv.setStatus('kv/x', Buffer.from('1'), NOW);
    expect(kv.kvstoreVersions()).toEqual([{ node: 'node1', keys: [['tasklist', 1], ['kv/x', 0]] }]);
    expect((kv.getStatus('tasklist') as Buffer).toString()).toBe('b');
    expect((kv.getStatus('tasklist', 'node1') as Buffer).toString()).toBe('b');
    expect(kv.setStatus('kv/x', Buffer.alloc(0), NOW).send[0]!.payload.length).toBe(256);
    expect(kv.getStatus('kv/x')).toBe(-Errno.ENOENT);
  });

  it('refuses values above 32768 bytes with EFBIG', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    expect(kv.setStatus('k', Buffer.alloc(32768, 1), NOW).result).toBe(0);
    const big = kv.setStatus('k', Buffer.alloc(32769, 1), NOW);
    expect(big.result).toBe(-Errno.EFBIG);
    expect(big.send).toEqual([]);
  });

  it('validates rrd and nodeip values, which never enter the kv table', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    // The reference answers ENOMEM for every value its rrd/nodeip setters refuse.
    const noNul = kv.setStatus('rrd/pve2-storage/node1/local', Buffer.from('100:1:2'), NOW);
    expect(noNul.result).toBe(-Errno.ENOMEM);
    expect(noNul.send).toEqual([]);
    expect(kv.setStatus('rrd/pve2-storage/node1/local', Buffer.alloc(4096, 0), NOW).result).toBe(-Errno.ENOMEM);
    expect(kv.setStatus('rrd/pve2-node/node1', Buffer.alloc(0), NOW).result).toBe(-Errno.ENOMEM);
    const ok = kv.setStatus('rrd/pve2-storage/node1/local', Buffer.from('100:1:2\0'), NOW);
    expect(ok.result).toBe(0);
    expect(ok.effects).toEqual([{ kind: 'rrd-update', key: 'pve2-storage/node1/local', target: { kind: 'storage', file: 'pve-storage-9.0/node1/local', update: '100:1:2' } }]);
    const wrong = kv.setStatus('rrd/nonsense', Buffer.from('1\0'), NOW);
    expect(wrong.result).toBe(0);
    expect(wrong.log[0]).toContain('unknown/wrong key');
    expect(kv.setStatus('nodeip', Buffer.from('10.0.0.1'), NOW).result).toBe(-Errno.ENOMEM);
    expect(kv.setStatus('nodeip', Buffer.from('x'.repeat(255) + '\0'), NOW).result).toBe(-Errno.ENOMEM);
    expect(kv.setStatus('nodeip', Buffer.alloc(0), NOW).result).toBe(-Errno.ENOMEM);
    const v = kv.clinfoVersion;
    expect(kv.setStatus('nodeip', Buffer.from('10.0.0.1\0'), NOW).result).toBe(0);
    expect(kv.clinfoVersion).toBe(v + 1);
    kv.setStatus('nodeip', Buffer.from('10.0.0.1\0'), NOW);
    expect(kv.clinfoVersion).toBe(v + 1);
    expect(kv.nodeIp('node1')).toBe('10.0.0.1');
    expect(kv.kvstoreVersions()).toEqual([{ node: 'node1', keys: [] }]);
    expect(kv.rrdDump(NOW)).toBe('pve2-storage/node1/local:100:1:2\nnonsense:1\n');
    expect(kv.rrdDump(NOW + 301)).toBe('');
  });

  it('logs locally with our node name and returns the LOG message; drops priority >= 8', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    const r = kv.log({ ident: 'root@pam', tag: 'pvedaemon', pid: 5, priority: 6, msg: 'hello' }, NOW);
    expect(r.send).toEqual([{ subtype: 3, payload: encodeLog(r.entry!) }]);
    expect(r.entry!.node).toBe('node1');
    expect(kv.log({ ident: 'a', tag: 'b', pid: 5, priority: 8, msg: 'x' }, NOW).send).toEqual([]);
    expect(kv.clusterLogJson()).toContain('"node": "node1", "user": "root@pam", "msg": "hello"');
  });
});

describe('remote messages', () => {
  const self = { nodeid: 1, pid: 100 };

  it('applies UPDATE from listed nodes, ignores own and unlisted', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    kv.setClusterInfo(cluster);
    const { ctx, effects } = fakeCtx(self);
    const upd = (k: string, v: string) => encodeUpdate(k, Buffer.from(v));
    expect(kv.deliver({ nodeid: 2, pid: 7 }, 1, upd('tasklist', 'T2'), NOW, ctx)).toEqual({ kind: 'processed', result: 0 });
    kv.deliver({ nodeid: 2, pid: 7 }, 1, upd('tasklist', 'T2b'), NOW, ctx);
    kv.deliver({ nodeid: 2, pid: 7 }, 1, upd('nodeip', '10.0.0.2\0'), NOW, ctx);
    kv.deliver({ nodeid: 3, pid: 7 }, 1, upd('rrd/pve2.3-vm/100', '1:a:b:c:100:1\0'), NOW, ctx);
    kv.deliver({ nodeid: 9, pid: 7 }, 1, upd('tasklist', 'intruder'), NOW, ctx);
    kv.deliver(self, 1, upd('tasklist', 'own'), NOW, ctx);
    expect((kv.getStatus('tasklist', 'node2') as Buffer).toString()).toBe('T2b');
    expect(kv.getStatus('tasklist')).toBe(-Errno.ENOENT);
    expect(kv.nodeIp('node2')).toBe('10.0.0.2');
    expect(effects.map((e) => e.target.file)).toEqual(['pve-vm-9.0/100']);
    expect(kv.kvstoreVersions()).toEqual([{ node: 'node1', keys: [] }, { node: 'node2', keys: [['tasklist', 1]] }]);
    expect(kv.deliver({ nodeid: 2, pid: 7 }, 2, Buffer.alloc(0), NOW, ctx)).toEqual({ kind: 'processed', result: -Errno.EACCES });
    expect(kv.deliver({ nodeid: 2, pid: 7 }, 1, Buffer.alloc(10), NOW, ctx)).toEqual({ kind: 'processed', result: 0 });
  });

  it('keeps a nodeip from a node id the nodelist does not name yet, and applies it when the nodelist does', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    const { ctx, logs } = fakeCtx(self);
    const upd = (k: string, v: string) => encodeUpdate(k, Buffer.from(v));
    // The kvstore group synced before cmap answered: the others' IPs arrive with no nodelist.
    kv.deliver({ nodeid: 2, pid: 7 }, 1, upd('nodeip', '10.0.0.2\0'), NOW, ctx);
    kv.deliver({ nodeid: 3, pid: 7 }, 1, upd('nodeip', '10.0.0.3\0'), NOW, ctx);
    kv.deliver({ nodeid: 3, pid: 7 }, 1, upd('nodeip', 'no-nul'), NOW, ctx);
    expect(kv.nodeIp('node2')).toBeUndefined();
    kv.setClusterInfo(cluster, [self, { nodeid: 2, pid: 7 }, { nodeid: 3, pid: 7 }]);
    expect(kv.nodeIp('node2')).toBe('10.0.0.2');
    expect(kv.nodeIp('node3')).toBe('10.0.0.3'); // the invalid later value did not replace it
    expect(logs).toContain('invalid nodeip from node 3');
    const members = kv.membersStatus(true).cluster!.nodes;
    expect(members.map((n) => [n.name, n.online, n.ip])).toEqual([
      ['node1', true, undefined],
      ['node2', true, '10.0.0.2'],
      ['node3', true, '10.0.0.3'],
    ]);

    // A node added to corosync.conf speaks before the new nodelist reached us.
    kv.deliver({ nodeid: 4, pid: 9 }, 1, upd('nodeip', '10.0.0.4\0'), NOW, ctx);
    kv.deliver({ nodeid: 4, pid: 9 }, 1, upd('tasklist', 'T4'), NOW, ctx);
    expect(kv.nodeIp('node4')).toBeUndefined();
    kv.setClusterInfo({ ...cluster, configVersion: 4, nodes: [...cluster.nodes, { name: 'node4', nodeid: 4 }] });
    expect(kv.nodeIp('node4')).toBe('10.0.0.4');
    expect(kv.getStatus('tasklist', 'node4')).toBe(-Errno.ENOENT); // other keys of unlisted nodes stay ignored
  });

  it('inserts LOG entries from others and tracks online flags from confchg', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    kv.setClusterInfo(cluster);
    const { ctx, logs } = fakeCtx(self);
    const e = packEntry({ node: 'node2', ident: 'root', tag: 't', pid: 1, time: NOW, priority: 6, msg: 'from 2' }, 1)!;
    kv.deliver({ nodeid: 2, pid: 7 }, 3, encodeLog(e), NOW, ctx);
    kv.deliver({ nodeid: 2, pid: 7 }, 3, encodeLog(e), NOW, ctx); // duplicate
    expect(kv.clusterLog.entriesNewestFirst().map((x) => x.msg)).toEqual(['from 2']);
    // the reference's lines ('[status] notice: received log' seen on the C node for a pmxcfs-ts entry)
    expect(logs).toEqual(['received log', 'received log', 'ignore insert of duplicate cluster log']);
    const v = kv.clinfoVersion;
    kv.confchg([self, { nodeid: 2, pid: 7 }]);
    expect(kv.clinfoVersion).toBe(v + 1);
    expect([1, 2, 3].map((id) => kv.isOnline(id))).toEqual([true, true, false]);
    expect(renderMembers(kv.membersStatus(true))).toBe(
      '{\n"nodename": "node1",\n"version": ' + kv.clinfoVersion + ',\n' +
        '"cluster": { "name": "mycluster", "version": 3, "nodes": 3, "quorate": 1 },\n"nodelist": {\n' +
        '  "node1": { "id": 1, "online": 1},\n  "node2": { "id": 2, "online": 1},\n  "node3": { "id": 3, "online": 0}\n  }\n}\n',
    );
  });

  // Observed on the reference (one-node cluster, 2026-12-07): cluster info, the kvstore view and the
  // node's IP make .members "version": 3. A nodelist read while already in the group counts once.
  it('a nodelist given with the current view takes its online flags and counts one clinfo change', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    kv.confchg([self, { nodeid: 2, pid: 7 }]);
    const v = kv.clinfoVersion;
    kv.setClusterInfo(cluster, [self, { nodeid: 2, pid: 7 }]);
    expect(kv.clinfoVersion).toBe(v + 1);
    expect([1, 2, 3].map((id) => kv.isOnline(id))).toEqual([true, true, false]);
    kv.setClusterInfo(cluster, []);
    expect(kv.clinfoVersion).toBe(v + 2);
    expect([1, 2, 3].map((id) => kv.isOnline(id))).toEqual([false, false, false]);
  });

  it('keeps tables and online flags of nodes that stay in a new nodelist', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    kv.setClusterInfo(cluster);
    const { ctx } = fakeCtx(self);
    kv.deliver({ nodeid: 2, pid: 7 }, 1, encodeUpdate('a', Buffer.from('1')), NOW, ctx);
    kv.deliver({ nodeid: 3, pid: 7 }, 1, encodeUpdate('b', Buffer.from('1')), NOW, ctx);
    kv.confchg([self, { nodeid: 2, pid: 7 }]);
    kv.setClusterInfo({ ...cluster, configVersion: 4, nodes: cluster.nodes.slice(0, 2) });
    expect(kv.isOnline(2)).toBe(true);
    expect(kv.kvstoreVersions().map((b) => b.node)).toEqual(['node1', 'node2']);
  });
});

/** Three DFSMs with the kvstore app over an agreed-order in-memory group. */
function threeNodes() {
  const members: GroupMember[] = [1, 2, 3].map((id) => ({ nodeid: id, pid: 1000 + id }));
  const apps = members.map((m) => {
    const kv = new Kvstore({ nodename: `node${m.nodeid}`, startupIp: `10.0.0.${m.nodeid}` });
    kv.setClusterInfo(cluster);
    return kv;
  });
  const dfsms = apps.map((a) => new Dfsm<KvstoreEffect>(a, { name: 'pve_kvstore_v1' }));
  const wire: { from: GroupMember; data: Buffer }[] = [];
  const collect = (i: number, effects: DfsmEffect<KvstoreEffect>[]) => {
    for (const e of effects) if (e.kind === 'mcast') wire.push({ from: members[i]!, data: e.data });
  };
  const pump = () => {
    for (let n = 0; wire.length && n < 100000; n++) {
      const msg = wire.shift()!;
      dfsms.forEach((d, i) => collect(i, d.deliver(msg.from, msg.data, NOW)));
    }
  };
  const send = (i: number, out: { subtype: number; payload: Buffer }[]) => {
    for (const m of out) collect(i, dfsms[i]!.send(m.subtype, m.payload, NOW, false).effects);
  };
  dfsms.forEach((d, i) => collect(i, d.joined(members[i]!)));
  return { members, apps, dfsms, pump, send, collect, wire };
}

describe('kvstore on the DFSM', () => {
  it('syncs logs, re-broadcasts kv entries and node IPs when a group forms', () => {
    const { members, apps, dfsms, pump, send, collect } = threeNodes();
    // before the group forms, every node logged and set values locally
    apps.forEach((kv, i) => {
      kv.log({ ident: 'root', tag: 'cluster', pid: 1, priority: 6, msg: `hello from ${i + 1}` }, NOW + i);
      kv.setStatus('tasklist', Buffer.from(`tasks of ${i + 1}`), NOW);
    });
    dfsms.forEach((d, i) => collect(i, d.confchg(members, [], members, NOW)));
    pump();
    expect(dfsms.every((d) => d.isSynced)).toBe(true);
    const logs = apps.map((a) => a.clusterLog.bytes());
    expect(logs[1]!.equals(logs[0]!)).toBe(true);
    expect(logs[2]!.equals(logs[0]!)).toBe(true);
    expect(apps[0]!.clusterLog.entriesNewestFirst().map((e) => e.msg)).toEqual(['hello from 3', 'hello from 2', 'hello from 1']);
    for (const kv of apps) {
      for (const other of [1, 2, 3]) {
        expect((kv.getStatus('tasklist', `node${other}`) as Buffer).toString()).toBe(`tasks of ${other}`);
        expect(kv.nodeIp(`node${other}`)).toBe(`10.0.0.${other}`);
        expect(kv.isOnline(other)).toBe(true);
      }
    }
    // later messages flow fire-and-forget
    send(1, apps[1]!.log({ ident: 'root@pam', tag: 'pvedaemon', pid: 3, priority: 5, msg: 'later' }, NOW + 10).send);
    send(2, apps[2]!.setStatus('kv/x', Buffer.from('v'), NOW).send);
    pump();
    for (const kv of apps) {
      expect(kv.clusterLog.entriesNewestFirst()[0]!.msg).toBe('later');
      expect((kv.getStatus('kv/x', 'node3') as Buffer).toString()).toBe('v');
    }
    const version = renderVersion({ starttime: NOW, clinfo: apps[0]!.clinfoVersion, vmlist: 0, paths: [], kvstore: apps[0]!.kvstoreVersions() });
    expect(version).toContain('"kvstore": {\n"node1": {\n"tasklist": 0}\n,\n"node2": {\n"tasklist": 0}\n,\n"node3": {\n"tasklist": 0,\n"kv/x": 0}\n}\n}\n');
    expect(KvstoreMessage.LOG).toBe(3);
  });
});

describe('robustness', () => {
  it('never throws on random payloads of any subtype', async () => {
    const fc = (await import('fast-check')).default;
    const kv = new Kvstore({ nodename: 'node1' });
    kv.setClusterInfo(cluster);
    const { ctx } = fakeCtx({ nodeid: 1, pid: 1 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.uint8Array({ maxLength: 600 }), (subtype, nodeid, bytes) => {
        const out = kv.deliver({ nodeid, pid: 9 }, subtype, Buffer.from(bytes), NOW, ctx);
        expect(out.kind).toBe('processed');
      }),
      { numRuns: 3000 },
    );
    expect(typeof kv.clusterLogJson()).toBe('string');
  });

  it('writes the start-up line', () => {
    const kv = new Kvstore({ nodename: 'node1' });
    kv.startClusterLog(987, NOW);
    expect(kv.clusterLogJson()).toBe(
      '{\n"data": [\n{"uid": 1, "time": 1716890000, "pri": 6, "tag": "cluster", "pid": 987, "node": "node1", "user": "root", "msg": "starting cluster log"}\n]\n}\n',
    );
  });
});
