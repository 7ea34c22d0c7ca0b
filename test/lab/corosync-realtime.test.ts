// corosyncRealtime: the lab schedules corosync as a host does (SCHED_RR 99), through CAP_SYS_NICE
// and, where the kernel asks for one, a real-time budget per container (lab/realtime.ts). The
// cluster must work as usual: quorate, replicating, a cut node refusing writes, a recreated node
// keeping the policy (the label carries it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachCluster, startCluster, type Cluster } from '../../lab/cluster';
import { waitUntil } from '../../lab/wait';

let c: Cluster;

describe('lab: corosync at real-time priority', () => {
  beforeAll(async () => {
    c = await startCluster({ nodes: 3, space: 'e2e-rt', corosyncRealtime: true });
  });

  afterAll(async () => {
    await c?.stop();
  });

  it('runs corosync at SCHED_RR 99 on every node, and says so in its labels', async () => {
    for (const n of c.nodes) expect(await n.corosyncPolicy(), n.name).toBe('SCHED_RR 99');
    expect((await attachCluster(c.name))?.corosyncRealtime).toBe(true);
  });

  it('replicates, and a node cut off refuses writes until the heal', async () => {
    await c.node('node1').writeFile('/etc/pve/rt.cfg', 'one\n');
    await waitUntil('rt.cfg on node3', () => c.node('node3').readFile('/etc/pve/rt.cfg').then((b) => b.toString(), () => null),
      (v) => v === 'one\n', { timeoutMs: 60_000 });
    await c.partition(['node1', 'node2'], ['node3']);
    await c.node('node3').waitQuorate(false, { daemon: true });
    await c.waitQuorate(['node1', 'node2'], { members: 2 });
    const cut = await c.node('node3').writeFile('/etc/pve/rt.cfg', 'three\n').then(() => 'written', (e: { code?: string }) => e.code ?? String(e));
    expect(cut).toBe('EACCES');
    await c.node('node1').writeFile('/etc/pve/rt.cfg', 'two\n');
    await c.heal();
    await c.waitHealthy();
    await waitUntil('rt.cfg equal on every node', () => Promise.all(c.nodes.map((n) => n.readFile('/etc/pve/rt.cfg').then((b) => b.toString(), () => null))),
      (all) => all.every((v) => v === 'two\n'), { timeoutMs: 60_000 });
  });

  it('a recreated node keeps the policy', async () => {
    await c.recreateNode('node2');
    await c.waitHealthy();
    expect(await c.node('node2').corosyncPolicy()).toBe('SCHED_RR 99');
  });
});
