// Membership changes under load: node3 is cut off and healed while node1 and node2 write as fast as
// they can (their writes must all succeed: they keep quorum, they only re-sync; only if a node's own
// corosync says it left the primary component, starved on a loaded machine, may that node answer
// EACCES meanwhile, as the reference does), and node3
// writing while it is cut off gets EACCES for what it cannot commit — nothing hangs — and ends with
// the majority's tree after the heal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import { NAMES, ensureCluster, expectConverged, removeTree, waitDaemonQuorate, waitDcdbSynced, expectMembersOnline } from './cluster-checks';
import { lab, shIn } from './lab-fixture';
import { expectAllOk, remoteFs, writeMany, writeManyContent, type WriteManySpec } from './remote-fs';

const DIR = '/etc/pve/e2e-membership';
const COUNT = 1200;

/** How often the node's corosync has said it is outside the primary component (its container log). */
async function quorumLosses(node: string): Promise<number> {
  return ((await (await lab()).node(node).logs(1_000_000)).match(/within the non-primary component/g) ?? []).length;
}

async function filesIn(node: string): Promise<number> {
  return Number((await shIn(node, `ls ${DIR} | wc -l`)).stdout.trim()) || 0;
}

describe('membership changes during write storms', () => {
  beforeAll(async () => {
    await ensureCluster();
    await removeTree('node1', 'e2e-membership');
    expectAllOk(await remoteFs('node1', [{ op: 'mkdir', path: DIR }]));
    await expectConverged();
  });

  afterAll(async () => {
    await (await lab()).heal();
    await removeTree('node1', 'e2e-membership').catch(() => undefined);
  });

  it('node3 cut off and healed while node1 and node2 write: every write succeeds (EACCES only where the own corosync left the primary component), all converge', async () => {
    const tag = `majority-${Date.now()}`;
    const specs: [string, WriteManySpec][] = [
      ['node1', { dir: DIR, prefix: 'a1-', count: COUNT, tag }],
      ['node2', { dir: DIR, prefix: 'a2-', count: COUNT, tag }],
    ];
    const lossesBefore = await Promise.all(specs.map(([node]) => quorumLosses(node)));
    const storm = Promise.all(specs.map(([node, spec]) => writeMany(node, spec)));
    await waitUntil('the storm under way', () => filesIn('node1'), (n) => n >= 200, { timeoutMs: 60_000, intervalMs: 100 });
    await (await lab()).partition(['node3']);
    await waitDaemonQuorate('node3', false);
    const cutAt = await filesIn('node1');
    await (await lab()).heal();
    await waitDaemonQuorate('node3', true);
    const healedAt = await filesIn('node1');
    const results = await storm;
    console.log(`majority storm: node3 cut at ${cutAt} files, back at ${healedAt}; failed ${results.map((r) => r.failed.length).join('+')}`);
    const lossesAfter = await Promise.all(specs.map(([node]) => quorumLosses(node)));
    results.forEach((r, i) => {
      const node = specs[i]![0];
      expect(r.acked.length + r.failed.length, `answers on ${node}`).toBe(COUNT);
      if (lossesAfter[i]! > lossesBefore[i]!) {
        // Its corosync left the primary component (a starved corosync): EACCES is the right answer then.
        console.log(`${node}: corosync left the primary component during the storm; ${r.failed.length} writes answered EACCES`);
        expect([...new Set(r.failed.map((f) => f.code))].filter((c) => c !== 'EACCES'), `failure codes on ${node}`).toEqual([]);
      } else {
        expect(r.failed, `failed writes on ${node}`).toEqual([]);
      }
    });

    await (await lab()).waitHealthy({ timeoutMs: 60_000 });
    await waitDcdbSynced(NAMES, 3);
    await expectConverged(NAMES, 120_000);
    await expectMembersOnline(NAMES);
    for (const node of NAMES) {
      const expected = specs.flatMap(([, spec], k) =>
        results[k]!.acked.map((i) => ({ path: `${spec.dir}/${spec.prefix}${i}`, data: writeManyContent(spec, i) })),
      );
      const got = await remoteFs(node, expected.map((e) => ({ op: 'read' as const, path: e.path })), 120_000);
      const wrong = got.filter((g, i) => g.data !== expected[i]!.data).map((g) => `${g.path}: ${g.code ?? 'content differs'}`);
      expect(wrong, `missing or wrong on ${node}`).toEqual([]);
    }
  });

  it('node3 writing while it is cut off: what it cannot commit fails with EACCES, nothing hangs; the heal converges', async () => {
    const spec: WriteManySpec = { dir: DIR, prefix: 'c3-', count: 4000, tag: 'node3' }; // far more than fit before the cut
    const storm = writeMany('node3', spec, 180_000);
    await waitUntil('node3 writing', () => filesIn('node3'), (n) => n >= 2 * COUNT + 100, { timeoutMs: 60_000, intervalMs: 100 });
    await (await lab()).partition(['node3']);
    const r = await storm; // must come back: in-flight writes are answered when quorum goes
    const codes = [...new Set(r.failed.map((f) => f.code))];
    console.log(`node3 storm across the cut: ${r.acked.length} acknowledged, ${r.failed.length} failed (${codes.join(', ') || '-'})`);
    expect(r.acked.length + r.failed.length).toBe(spec.count);
    expect(codes.filter((c) => c !== 'EACCES')).toEqual([]);
    expect(r.failed.length).toBeGreaterThan(0); // the storm outlasts the cut (it is still running there)

    await (await lab()).heal();
    await (await lab()).waitHealthy({ timeoutMs: 60_000 });
    await waitDaemonQuorate('node3', true);
    await waitDcdbSynced(NAMES, 3);
    await expectConverged(NAMES, 120_000);
    // Not asserted: a write node3 saw delivered just before the cut need not have reached the others
    // (agreed order, not safe delivery; the reference behaves the same). Reported for the record.
    const acked = await remoteFs('node1', r.acked.map((i) => ({ op: 'read' as const, path: `${DIR}/${spec.prefix}${i}` })), 120_000);
    console.log(`node3's acknowledged writes present after the heal: ${acked.filter((x) => x.ok).length} of ${r.acked.length}`);
    expectAllOk(await remoteFs('node3', [{ op: 'write', path: `${DIR}/c3-after-heal`, data: 'ok\n' }]));
    await expectConverged();
  });
});
