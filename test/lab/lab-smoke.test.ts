// The lab itself: three nodes come up quorate with /etc/pve mounted, a partitioned node loses quorum
// while the other two keep it, and healing brings back all three members at the same addresses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../lab/cluster';
import { ensureLab, lab, type NodeStatus } from './lab-fixture';

let c: Cluster;
let initial: NodeStatus[] = [];

describe('lab smoke', () => {
  beforeAll(async () => {
    initial = await ensureLab();
    c = await lab();
  });

  afterAll(async () => {
    await c?.heal(); // never leave the shared cluster cut in pieces
  });

  it('brings up three nodes, each quorate with the same three members', () => {
    expect(initial.map((s) => s.node)).toEqual(c.nodeNames);
    for (const s of initial) {
      expect(s.container).toBe('running');
      expect(s.quorum?.quorate).toBe(true);
      expect(s.quorum?.members.map((m) => m.name)).toEqual(['node1', 'node2', 'node3']);
      expect(s.quorum?.expectedVotes).toBe(3);
    }
  });

  it('runs corosync as a container gets it by default: SCHED_OTHER (corosyncRealtime off)', async () => {
    for (const n of c.nodes) expect(await n.corosyncPolicy(), n.name).toBe('SCHED_OTHER');
  });

  it('has /etc/pve mounted by pmxcfs-ts on each node', () => {
    for (const s of initial) {
      expect(s.daemonPid, `${s.node} daemon`).not.toBeNull();
      expect(s.mounted, `${s.node} /etc/pve`).toBe(true);
    }
  });

  it('partition: node3 alone loses quorum, node1 and node2 keep it; heal restores three', async () => {
    await c.partition(['node3']);
    const cut = await c.node('node3').waitQuorate(false, { timeoutMs: 60_000 });
    expect(cut.status.quorum?.members.map((m) => m.name)).toEqual(['node3']);
    expect(cut.status.blocked.sort()).toEqual([c.node('node1').ip, c.node('node2').ip].sort());
    for (const n of ['node1', 'node2']) {
      const side = await c.node(n).waitQuorate(true, { members: 2, timeoutMs: 60_000 });
      expect(side.status.quorum?.members.map((m) => m.name)).toEqual(['node1', 'node2']);
    }

    const healStart = Date.now();
    expect(await c.heal()).toEqual(['node1', 'node2', 'node3']);
    const healed = await c.waitHealthy({ timeoutMs: 60_000 });
    const healMs = Date.now() - healStart;
    for (const s of healed) {
      expect(s.quorum?.members.map((m) => m.name)).toEqual(['node1', 'node2', 'node3']);
      expect(s.ip).toBe(c.node(s.node).ip);
      expect(s.blocked).toEqual([]);
    }
    // Figures for docs/lab.md (not assertions).
    console.log(`node3 not quorate ${cut.elapsedMs} ms after the cut; three members again ${healMs} ms after the heal`);
  });

  it('a node taken off the network entirely (docker network disconnect) is reattached by heal at its address', async () => {
    await c.disconnect('node2');
    const cut = await c.node('node2').waitQuorate(false, { timeoutMs: 60_000 });
    expect(cut.status.onNetwork).toBe(false);
    expect(await c.heal()).toEqual(['node2']);
    const healed = await c.waitHealthy({ timeoutMs: 60_000 });
    expect(healed.find((s) => s.node === 'node2')?.ip).toBe(c.node('node2').ip);
  });

  it('restartCorosync: corosync on node2 stops and starts again, the daemon there reconnects and all are quorate', async () => {
    const before = (await c.node('node2').status()).daemonPid;
    await c.node('node2').restartCorosync();
    const healthy = await c.waitHealthy({ timeoutMs: 90_000 });
    const n2 = healthy.find((s) => s.node === 'node2')!;
    expect(n2.daemonPid).toBe(before); // the same daemon, reconnected to the new corosync
    expect(n2.daemonQuorate).toBe(true);
    expect(await c.node('node2').logs(100_000)).toMatch(/corosync stopped for a restart/);
  });
});
