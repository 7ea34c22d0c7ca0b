// Scenario 8, kill -9 of the daemon on node2 while node1 and node3 write as fast as they can: node2's
// daemon is started again (corosync kept running), it syncs, every node ends with the same tree, and
// no write whose close() returned success is missing or different anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import {
  NAMES,
  daemonPid,
  execDaemon,
  expectConverged,
  removeTree,
  restartContainer,
  stopDaemon,
  waitDaemonQuorate,
  waitDcdbSynced,
  ensureCluster,
  expectMembersOnline,
} from './cluster-checks';
import { lab, shIn } from './lab-fixture';
import { expectAllOk, remoteFs, writeMany, writeManyContent, type WriteManySpec } from './remote-fs';

const DIR = '/etc/pve/e2e-storm';
const COUNT = 1500; // per writer

let restarted = false;

async function filesIn(node: string): Promise<number> {
  const r = await shIn(node, `ls ${DIR} | wc -l`);
  return Number(r.stdout.trim()) || 0;
}

describe('kill -9 of a daemon during a write storm', () => {
  beforeAll(async () => {
    await ensureCluster();
    await removeTree('node1', 'e2e-storm');
    expectAllOk(await remoteFs('node1', [{ op: 'mkdir', path: DIR }]));
  });

  afterAll(async () => {
    await (await lab()).heal();
    // node2 back to the entrypoint's supervised daemon.
    if (restarted) await restartContainer('node2');
  });

  it('node2 killed and restarted mid-storm: it converges and no acknowledged write is lost', async () => {
    const tag = `run-${Date.now()}`;
    const specs: [string, WriteManySpec][] = [
      ['node1', { dir: DIR, prefix: 'n1-', count: COUNT, tag }],
      ['node3', { dir: DIR, prefix: 'n3-', count: COUNT, tag }],
    ];
    const storm = Promise.all(specs.map(([node, spec]) => writeMany(node, spec)));

    // Kill node2's daemon once the storm is well under way, and start it again while it goes on.
    await waitUntil('the storm under way', () => filesIn('node1'), (n) => n >= 200, { timeoutMs: 60_000, intervalMs: 100 });
    const oldPid = await stopDaemon('node2', 'KILL');
    const killedAt = await filesIn('node1');
    restarted = true;
    await execDaemon('node2');
    const restartedAt = await filesIn('node1');
    expect(await daemonPid('node2')).not.toBe(oldPid);

    const results = await storm;
    const stormEnd = await filesIn('node1');
    console.log(
      `storm: node2 killed at ${killedAt} files, running again at ${restartedAt}, storm ended at ${stormEnd}; ` +
        `acked ${results.map((r) => r.acked.length).join('+')}, failed ${results.map((r) => r.failed.length).join('+')}`,
    );
    // The majority (node1, node3) never lost quorum: every write succeeds.
    results.forEach((r, i) => expect(r.failed, `failed writes on ${specs[i]![0]}`).toEqual([]));

    await waitDaemonQuorate('node2', true);
    await waitDcdbSynced(NAMES, 3);
    await expectConverged(NAMES, 120_000);
    await expectMembersOnline(NAMES);

    // Every acknowledged write is there, with its content, on every node.
    const expected = specs.flatMap(([, spec], i) =>
      results[i]!.acked.map((idx) => ({ path: `${spec.dir}/${spec.prefix}${idx}`, data: writeManyContent(spec, idx) })),
    );
    for (const node of NAMES) {
      const got = await remoteFs(node, expected.map((e) => ({ op: 'read' as const, path: e.path })), 120_000);
      const wrong = got.filter((g, i) => !g.ok || g.data !== expected[i]!.data).map((g) => `${g.path}: ${g.code ?? 'content differs'}`);
      expect(wrong, `acknowledged writes missing or wrong on ${node}`).toEqual([]);
    }
    await removeTree('node1', 'e2e-storm'); // 3000 files would slow every later tree comparison
  });
});
