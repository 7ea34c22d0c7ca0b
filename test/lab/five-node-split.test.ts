// Five nodes split 2|3 (a cluster of its own, not the suite's shared one): the three-node side keeps
// quorum and writing, the two-node side answers EACCES for every change, and after the heal all five
// hold byte-identical trees (memdb version, config.db rows, files under /etc/pve).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../lab/cluster';
import { expectConverged, waitDaemonQuorate, waitDcdbSynced } from './cluster-checks';

const D = '/etc/pve/e2e-five';
let c: Cluster;

describe('five nodes split 2|3', () => {
  beforeAll(async () => {
    c = await startCluster({ nodes: 5, space: 'e2e-own', log: (l) => process.env.LAB_VERBOSE === '1' && console.log(l) });
  });

  afterAll(async () => {
    await c?.stop();
  });

  it('the 3-side writes, the 2-side answers EACCES, the heal converges byte-identically', async () => {
    const [minority, majority] = [['node1', 'node2'], ['node3', 'node4', 'node5']];
    for (const s of await c.status()) expect(s.quorum?.expectedVotes, s.node).toBe(5);
    await c.node('node1').shOk(`mkdir ${D}`);
    await expectConverged(c.nodes);

    await c.partition(minority, majority);
    for (const n of minority) await waitDaemonQuorate(c.node(n), false);
    for (const n of majority) await c.node(n).waitQuorate(true, { members: 3, daemon: true });

    for (const n of majority) await c.node(n).writeFile(`${D}/from-${n}`, `${n} during the split\n`.repeat(100));
    await c.node('node3').writeFile(`${D}/shared`, 'majority version\n');
    for (const n of minority) {
      await expect(c.node(n).writeFile(`${D}/from-${n}`, 'x'), `write on ${n}`).rejects.toMatchObject({ code: 'EACCES' });
      await expect(c.node(n).writeFile(`${D}/shared`, 'minority version\n'), `overwrite on ${n}`).rejects.toMatchObject({ code: 'EACCES' });
      const mk = await c.node(n).sh(`mkdir ${D}/dir-${n} 2>&1`);
      expect(mk.stdout, `mkdir on ${n}`).toMatch(/Permission denied/);
    }
    await expectConverged(majority.map((n) => c.node(n)));

    await c.heal();
    await c.waitHealthy({ timeoutMs: 120_000 });
    await waitDcdbSynced(c.nodes, 5);
    const views = await expectConverged(c.nodes, 120_000);
    expect(views).toHaveLength(5);
    for (const n of c.nodes) {
      expect((await n.readFile(`${D}/shared`)).toString(), n.name).toBe('majority version\n');
      expect((await n.readFile(`${D}/from-node5`)).toString(), n.name).toBe('node5 during the split\n'.repeat(100));
    }
    await c.node('node1').writeFile(`${D}/after-heal`, 'node1 writes again\n');
    await expectConverged(c.nodes);
  });
});
