// Scenario 4, fencing and guest recovery: node1 dies with a guest on it; the survivors move the
// guest's config to node2 (the VMID stays unique: node3 cannot take it), and node1, started again,
// comes back with the cluster's tree in RAM and in its own config.db.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import { NAMES, expectConverged, readJsonFile, removeTree, waitDaemonQuorate, waitDcdbSynced, ensureCluster, expectMembersOnline } from './cluster-checks';
import { lab } from './lab-fixture';
import { remoteFs } from './remote-fs';

const CONF = 'name: fenced-guest\nmemory: 512\n';
const on = (node: string): string => `/etc/pve/nodes/${node}/qemu-server`;

interface Vmlist {
  ids?: Record<string, { node: string; type: string }>;
}

describe('fencing and guest recovery', () => {
  beforeAll(async () => {
    await ensureCluster();
    for (const n of NAMES) await removeTree('node1', `nodes/${n}/qemu-server/100.conf`);
    const dirs = await remoteFs('node1', [
      { op: 'mkdir', path: '/etc/pve/nodes' },
      ...NAMES.flatMap((n) => [
        { op: 'mkdir' as const, path: `/etc/pve/nodes/${n}` },
        { op: 'mkdir' as const, path: on(n) },
      ]),
    ]);
    for (const r of dirs) expect(r.ok || r.code === 'EEXIST', `${r.path}: ${r.code}`).toBe(true);
  });

  afterAll(async () => {
    await (await lab()).heal();
    // node1 back in any case, so the next file finds three healthy nodes.
    const c = await lab();
    const s = await c.waitHealthy({ nodes: ['node1'], timeoutMs: 5_000 }).catch(() => null);
    if (s === null) {
      await c.node('node1').start();
      await c.waitHealthy({ nodes: ['node1'], daemonQuorate: false }).catch(() => undefined);
    }
  });

  it('node1 holds guest 100; after node1 is fenced node2 takes it over, and node3 cannot create VMID 100', async () => {
    expect((await remoteFs('node1', [{ op: 'write', path: `${on('node1')}/100.conf`, data: CONF }]))[0]).toMatchObject({ ok: true });
    await expectConverged();

    await (await lab()).node('node1').fence();
    for (const n of ['node2', 'node3']) {
      await (await lab()).node(n).waitQuorate(true, { members: 2, timeoutMs: 60_000 });
      await waitDaemonQuorate(n, true);
    }

    const mv = await remoteFs('node2', [
      { op: 'rename', path: `${on('node1')}/100.conf`, to: `${on('node2')}/100.conf` },
      { op: 'read', path: `${on('node2')}/100.conf` },
    ]);
    expect(mv[0]).toMatchObject({ ok: true });
    expect(mv[1]!.data).toBe(CONF);

    const dup = await remoteFs('node3', [
      { op: 'write', path: `${on('node3')}/100.conf`, data: 'name: duplicate\n' },
      { op: 'create', path: `${on('node3')}/100.conf` },
      { op: 'stat', path: `${on('node3')}/100.conf` },
    ]);
    // `write` opens with O_CREAT: the create of a guest config whose VMID lives on node2 is refused.
    expect(dup.map((r) => r.code)).toEqual(['EEXIST', 'EEXIST', 'ENOENT']);

    const vm = await readJsonFile<Vmlist>('node3', '.vmlist');
    expect(vm.ids?.['100']).toMatchObject({ node: 'node2', type: 'qemu' });
    await expectConverged(['node2', 'node3']);
  });

  it('node1 started again rejoins, takes the cluster\'s tree and its config.db agrees', async () => {
    await (await lab()).node('node1').start();
    await (await lab()).waitHealthy({ timeoutMs: 90_000 });
    await waitDaemonQuorate('node1', true);
    await waitDcdbSynced(NAMES, 3);
    await expectConverged();
    await expectMembersOnline(NAMES);

    const seen = await remoteFs('node1', [
      { op: 'read', path: `${on('node2')}/100.conf` },
      { op: 'stat', path: `${on('node1')}/100.conf` },
    ]);
    expect(seen[0]!.data).toBe(CONF);
    expect(seen[1]!.code).toBe('ENOENT');
    const { value } = await waitUntil(
      'guest 100 on node2 in node1\'s .vmlist',
      () => readJsonFile<Vmlist>('node1', '.vmlist'),
      (v) => v.ids?.['100']?.node === 'node2',
      { timeoutMs: 60_000, intervalMs: 300 },
    );
    expect(value.ids?.['100']).toMatchObject({ node: 'node2', type: 'qemu' });

    // node1 can change the tree again, and the guest can be removed for the next run.
    expect((await remoteFs('node1', [{ op: 'unlink', path: `${on('node2')}/100.conf` }]))[0]).toMatchObject({ ok: true });
    await expectConverged();
  });
});
