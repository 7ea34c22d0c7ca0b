import { describe, expect, it } from 'vitest';
import { OBSERVED_PATHS, ObservedPathVersions } from '../../../src/status/observed-paths';
import { renderVersion } from '../../../src/status/version';
import { renderMembers } from '../../../src/status/members';
import { renderVmlist, GuestInfo } from '../../../src/status/vmlist';
import { renderClusterLog } from '../../../src/status/clusterlog';
import { renderRrdDump, rrdDumpIpcPayload } from '../../../src/status/rrd';

describe('observed paths', () => {
  it('has the 43 paths of spec §8.4 in order', () => {
    expect(OBSERVED_PATHS.length).toBe(43);
    expect(OBSERVED_PATHS[0]).toBe('corosync.conf');
    expect(OBSERVED_PATHS[11]).toBe('priv/wg-keys.cfg');
    expect(OBSERVED_PATHS[36]).toBe('sdn/.running-config');
    expect(OBSERVED_PATHS[42]).toBe('mapping/usb.cfg');
    expect(new Set(OBSERVED_PATHS).size).toBe(43);
  });

  it('counts reloads and changes of exactly the observed path', () => {
    const v = new ObservedPathVersions();
    expect(v.entries().every(([, n]) => n === 0)).toBe(true);
    v.bumpAll();
    v.pathChanged('storage.cfg');
    v.pathChanged('/storage.cfg');
    v.pathChanged('storage.cfg.tmp');
    v.pathChanged('nodes/a/qemu-server/100.conf');
    const m = new Map(v.entries());
    expect(m.get('storage.cfg')).toBe(3);
    expect(m.get('user.cfg')).toBe(1);
    expect(v.entries().map(([p]) => p)).toEqual([...OBSERVED_PATHS]);
  });
});

describe('.version', () => {
  it('matches the layout of the spec example byte for byte', () => {
    const paths = new ObservedPathVersions();
    paths.bumpAll();
    paths.pathChanged('corosync.conf');
    const text = renderVersion({
      starttime: 1716890000,
      clinfo: 6,
      vmlist: 3,
      paths: paths.entries(),
      kvstore: [
        { node: 'node1', keys: [['tasklist', 12]] },
        { node: 'node2', keys: [['tasklist', 7], ['kv/ceph-versions', 0]] },
      ],
    });
    const middle = OBSERVED_PATHS.slice(2).map((p) => `"${p}": 1,\n`).join('');
    const expected =
      '{\n"starttime": 1716890000,\n"clinfo": 6,\n"vmlist": 3,\n"corosync.conf": 2,\n"corosync.conf.new": 1,\n' +
      middle +
      '"kvstore": {\n"node1": {\n"tasklist": 12}\n,\n"node2": {\n"tasklist": 7,\n"kv/ceph-versions": 0}\n}\n}\n';
    expect(text).toBe(expected);
    expect(text).toContain('"mapping/usb.cfg": 1,\n"kvstore": {\n');
  });

  it('prints an empty local table', () => {
    const text = renderVersion({ starttime: 5, clinfo: 0, vmlist: 0, paths: [], kvstore: [{ node: 'n', keys: [] }] });
    expect(text).toBe('{\n"starttime": 5,\n"clinfo": 0,\n"vmlist": 0,\n"kvstore": {\n"n": {\n}\n}\n}\n');
  });
});

describe('.members', () => {
  it('matches the cluster form of the spec', () => {
    const text = renderMembers({
      nodename: 'node1',
      version: 7,
      cluster: {
        name: 'mycluster',
        version: 3,
        quorate: true,
        nodes: [
          { name: 'node1', id: 1, online: true, ip: '192.168.1.11' },
          { name: 'node2', id: 2, online: true, ip: '192.168.1.12' },
          { name: 'node3', id: 3, online: false },
        ],
      },
    });
    expect(text).toBe(
      '{\n"nodename": "node1",\n"version": 7,\n' +
        '"cluster": { "name": "mycluster", "version": 3, "nodes": 3, "quorate": 1 },\n' +
        '"nodelist": {\n' +
        '  "node1": { "id": 1, "online": 1, "ip": "192.168.1.11"},\n' +
        '  "node2": { "id": 2, "online": 1, "ip": "192.168.1.12"},\n' +
        '  "node3": { "id": 3, "online": 0}\n' +
        '  }\n}\n',
    );
  });

  it('matches the local form', () => {
    expect(renderMembers({ nodename: 'node1', version: 0 })).toBe('{\n"nodename": "node1",\n"version": 0\n}\n');
    expect(
      renderMembers({ nodename: 'node1', version: 2, cluster: { name: 'c', version: 1, quorate: false, nodes: [] } }),
    ).toBe('{\n"nodename": "node1",\n"version": 2\n}\n');
  });
});

describe('.vmlist', () => {
  it('matches the spec example', () => {
    const guests = new Map<number, GuestInfo>([
      [101, { node: 'node2', type: 'lxc', version: 3 }],
      [100, { node: 'node1', type: 'qemu', version: 2 }],
    ]);
    expect(renderVmlist({ version: 4, guests })).toBe(
      '{\n"version": 4,\n"ids": {\n' +
        '"100": { "node": "node1", "type": "qemu", "version": 2 },\n' +
        '"101": { "node": "node2", "type": "lxc", "version": 3 }}\n\n}\n',
    );
  });

  it('has a blank line before the brace when empty', () => {
    expect(renderVmlist({ version: 4, guests: new Map() })).toBe('{\n"version": 4\n\n}\n');
  });
});

describe('.clusterlog', () => {
  const e7 = {
    uid: 7, time: 1716890100, priority: 6, tag: 'pvedaemon', pid: 1234, node: 'node1', ident: 'root@pam',
    msg: 'starting task',
  };
  const e1 = {
    uid: 1, time: 1716890000, priority: 6, tag: 'cluster', pid: 987, node: 'node1', ident: 'root',
    msg: 'starting cluster log',
  };

  it('matches the spec example', () => {
    expect(renderClusterLog([e7, e1])).toBe(
      '{\n"data": [\n' +
        '{"uid": 7, "time": 1716890100, "pri": 6, "tag": "pvedaemon", "pid": 1234, "node": "node1", "user": "root@pam", "msg": "starting task"},\n' +
        '{"uid": 1, "time": 1716890000, "pri": 6, "tag": "cluster", "pid": 987, "node": "node1", "user": "root", "msg": "starting cluster log"}\n' +
        ']\n}\n',
    );
  });

  it('is empty, limited and filtered like IPC op 8', () => {
    expect(renderClusterLog([])).toBe('{\n"data": [\n]\n}\n');
    expect(renderClusterLog([e7, e1], { maxEntries: 1 })).toContain('"uid": 7');
    expect(renderClusterLog([e7, e1], { maxEntries: 1 })).not.toContain('"uid": 1,');
    const onlyRoot = renderClusterLog([e7, e1], { ident: 'root' });
    expect(onlyRoot).toContain('"uid": 1,');
    expect(onlyRoot).not.toContain('"uid": 7');
    expect(renderClusterLog([e7, e1], { ident: 'nobody' })).toBe('{\n"data": [\n]\n}\n');
    const many = Array.from({ length: 60 }, (_, i) => ({ ...e1, uid: 60 - i }));
    expect(renderClusterLog(many).split('\n').filter((l) => l.startsWith('{"uid"')).length).toBe(50);
  });
});

describe('.rrd', () => {
  it('prints recent samples and drops those older than 300 s', () => {
    const now = 1716890300;
    const text = renderRrdDump(
      [
        { key: 'pve2-node/node1', data: '86400:c:1716890000:0.12', time: now - 300 },
        { key: 'pve2-storage/node1/local', data: '1716890000:100:50', time: now - 301 },
        { key: 'pve2.3-vm/100', data: '3600:vm100:running', time: now },
      ],
      now,
    );
    expect(text).toBe('pve2-node/node1:86400:c:1716890000:0.12\npve2.3-vm/100:3600:vm100:running\n');
    expect(renderRrdDump([], now)).toBe('');
    expect([...rrdDumpIpcPayload('')]).toEqual([0]);
    expect([...rrdDumpIpcPayload('a\n')]).toEqual([0x61, 0x0a, 0]);
  });
});
