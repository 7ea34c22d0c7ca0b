// Scenario 1, replication: a file written on each node reads back byte for byte on the others, and
// the status files (.members, .vmlist, .clusterlog) tell the same story on every node.
import { beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import { NAMES, expectConverged, readJsonFile, removeTree, ensureCluster } from './cluster-checks';
import { lab } from './lab-fixture';
import { remoteFs } from './remote-fs';

const DIR = '/etc/pve/e2e-replication';

interface Members {
  nodename: string;
  cluster: { name: string; version: number; nodes: number; quorate: number };
  nodelist: Record<string, { id: number; online: number; ip?: string }>;
}
interface Vmlist {
  ids?: Record<string, { node: string; type: string; version: number }>;
}
interface ClusterLog {
  data: { uid: number; time: number; node: string; tag: string; msg: string }[];
}

describe('replication across node1..node3', () => {
  beforeAll(async () => {
    await ensureCluster();
    await removeTree('node1', 'e2e-replication');
    await removeTree('node1', 'nodes/node2/qemu-server/1001.conf');
    await removeTree('node1', 'nodes/node3/lxc/1002.conf');
  });

  it('a file written on each node is read back with the same bytes on the others', async () => {
    await remoteFs('node1', [{ op: 'mkdir', path: DIR }]);
    // Binary-ish content: every byte value of a UTF-8 safe range plus newlines, different per node.
    const content = (n: string): string =>
      `${n}\n` + Array.from({ length: 3000 }, (_, i) => String.fromCharCode(32 + ((i * 7 + n.length) % 95))).join('') + '\n';
    for (const writer of NAMES) {
      const [w] = await remoteFs(writer, [{ op: 'write', path: `${DIR}/from-${writer}`, data: content(writer) }]);
      expect(w, `write on ${writer}`).toMatchObject({ ok: true });
    }
    // The writer's close returned after its own message was applied; the others apply the same
    // message in the same order, so reading there may only lag a moment behind.
    for (const reader of NAMES) {
      const { value } = await waitUntil(
        `all three files on ${reader}`,
        () => remoteFs(reader, NAMES.map((w) => ({ op: 'read' as const, path: `${DIR}/from-${w}` }))),
        (rs) => rs.every((r) => r.ok),
        { timeoutMs: 60_000, intervalMs: 200 },
      );
      value.forEach((r, i) => expect(r.data, `${reader} reads from-${NAMES[i]}`).toBe(content(NAMES[i]!)));
    }
    await expectConverged();
  });

  it('.members lists the same three online nodes with their addresses on every node', async () => {
    const c = await lab();
    const all = await Promise.all(NAMES.map((n) => readJsonFile<Members>(n, '.members')));
    all.forEach((m, i) => {
      expect(m.nodename).toBe(NAMES[i]);
      expect(m.cluster).toMatchObject({ name: c.name, nodes: 3, quorate: 1 });
      expect(m.nodelist).toEqual(Object.fromEntries(c.nodes.map((n) => [n.name, { id: n.nodeid, online: 1, ip: n.ip }])));
    });
    expect(new Set(all.map((m) => m.cluster.version)).size).toBe(1); // same config_version everywhere
  });

  it('.vmlist shows the same guests on every node, created on different nodes', async () => {
    const made = await remoteFs('node1', [
      { op: 'mkdir', path: '/etc/pve/nodes' },
      { op: 'mkdir', path: '/etc/pve/nodes/node2' },
      { op: 'mkdir', path: '/etc/pve/nodes/node2/qemu-server' },
      { op: 'mkdir', path: '/etc/pve/nodes/node3' },
      { op: 'mkdir', path: '/etc/pve/nodes/node3/lxc' },
    ]);
    for (const r of made) expect(r.ok || r.code === 'EEXIST', `${r.path}: ${r.code}`).toBe(true);
    expect((await remoteFs('node2', [{ op: 'write', path: '/etc/pve/nodes/node2/qemu-server/1001.conf', data: 'name: vm1001\n' }]))[0]).toMatchObject({ ok: true });
    expect((await remoteFs('node3', [{ op: 'write', path: '/etc/pve/nodes/node3/lxc/1002.conf', data: 'hostname: ct1002\n' }]))[0]).toMatchObject({ ok: true });

    const guests = (v: Vmlist): Record<string, string> =>
      Object.fromEntries(Object.entries(v.ids ?? {}).map(([id, g]) => [id, `${g.node}/${g.type}`]));
    const { value } = await waitUntil(
      'the same guests in .vmlist on every node',
      () => Promise.all(NAMES.map((n) => readJsonFile<Vmlist>(n, '.vmlist'))),
      (all) => all.every((v) => JSON.stringify(guests(v)) === JSON.stringify(guests(all[0]!)) && guests(v)['1002'] !== undefined),
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    for (const v of value) expect(guests(v)).toMatchObject({ '1001': 'node2/qemu', '1002': 'node3/lxc' });
    expect(guests(value[1]!)).toEqual(guests(value[0]!));
    expect(guests(value[2]!)).toEqual(guests(value[0]!));
  });

  it('.clusterlog holds the same entries on every node, including each daemon\'s start', async () => {
    const key = (l: ClusterLog): string[] => l.data.map((e) => `${e.node}/${e.uid}/${e.time}/${e.tag}/${e.msg}`).sort();
    const { value } = await waitUntil(
      'the same cluster log on every node',
      () => Promise.all(NAMES.map((n) => readJsonFile<ClusterLog>(n, '.clusterlog'))),
      (all) => all.every((l) => JSON.stringify(key(l)) === JSON.stringify(key(all[0]!))),
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    for (const n of NAMES) expect(value[0]!.data.some((e) => e.node === n && e.msg === 'starting cluster log'), n).toBe(true);
    expect(key(value[1]!)).toEqual(key(value[0]!));
    expect(key(value[2]!)).toEqual(key(value[0]!));
  });
});
