// Scenario 5, catching up: a node that was down while hundreds of changes happened gets all of them
// when it comes back, and a fourth node added through /etc/pve/corosync.conf (`lab add`) receives the
// whole tree. The grown lab is removed afterwards so later files find node1..node3 again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMES, ensureCluster, expectConverged, removeTree, waitDaemonQuorate, waitDcdbSynced, expectMembersOnline } from './cluster-checks';
import { lab } from './lab-fixture';
import { expectAllOk, remoteFs, writeMany } from './remote-fs';

const DIR = '/etc/pve/e2e-resync';
const FILES = 500;
let grown = false;

describe('resync of a node that missed changes, and a node added later', () => {
  beforeAll(async () => {
    await ensureCluster();
    await removeTree('node1', 'e2e-resync');
    expectAllOk(
      await remoteFs('node1', [
        { op: 'mkdir', path: DIR },
        { op: 'write', path: `${DIR}/old-file`, data: 'before node3 stopped\n' },
        { op: 'mkdir', path: `${DIR}/old-dir` },
      ]),
    );
    await expectConverged();
  });

  afterAll(async () => {
    await (await lab()).heal();
    if (grown) await ensureCluster(); // removes the lab with node4 and brings up node1..node3 afresh
    else await (await lab()).node('node3').start().catch(() => undefined);
  });

  it(`node3 stopped while ${FILES} files are written (and older entries change) catches up when started`, async () => {
    await (await lab()).node('node3').stop();
    for (const n of ['node1', 'node2']) await (await lab()).node(n).waitQuorate(true, { members: 2, timeoutMs: 60_000 });
    await waitDcdbSynced(['node1', 'node2'], 2);

    const w = await writeMany('node1', { dir: DIR, prefix: 'f', count: FILES, tag: 'while node3 was down' });
    expect(w.failed).toEqual([]);
    expect(w.acked).toHaveLength(FILES);
    expectAllOk(
      await remoteFs('node2', [
        { op: 'write', path: `${DIR}/old-file`, data: 'changed while node3 was down\n' },
        { op: 'rmdir', path: `${DIR}/old-dir` },
        { op: 'rename', path: `${DIR}/f0`, to: `${DIR}/renamed-f0` },
        { op: 'unlink', path: `${DIR}/f1` },
      ]),
    );

    await (await lab()).node('node3').start();
    await (await lab()).waitHealthy({ nodes: ['node3'], daemonQuorate: false, timeoutMs: 90_000 });
    await waitDaemonQuorate('node3', true);
    await waitDcdbSynced(NAMES, 3);
    const views = await expectConverged();
    await expectMembersOnline(NAMES);
    console.log(`after the catch-up: memdb version ${views[0]!.version}, ${views[0]!.dbRows} rows in config.db on each node`);

    const got = await remoteFs('node3', [
      { op: 'read', path: `${DIR}/old-file` },
      { op: 'stat', path: `${DIR}/old-dir` },
      { op: 'stat', path: `${DIR}/f1` },
      { op: 'read', path: `${DIR}/renamed-f0` },
      { op: 'read', path: `${DIR}/f${FILES - 1}` },
      { op: 'readdir', path: DIR },
    ]);
    expect(got.slice(0, 5).map((r) => r.data ?? r.code)).toEqual([
      'changed while node3 was down\n',
      'ENOENT',
      'ENOENT',
      'f0:while node3 was down\n',
      `f${FILES - 1}:while node3 was down\n`,
    ]);
    expect(got[5]!.data!.split('\n')).toHaveLength(FILES - 2 + 2); // f2..f499, renamed-f0, old-file
  });

  it('node4 added through /etc/pve/corosync.conf receives the whole tree', async () => {
    grown = true;
    await (await lab()).addNode();
    const four = (await lab()).nodeNames;
    await waitDaemonQuorate('node4', true);
    await waitDcdbSynced(four, 4);
    const views = await expectConverged(four, 120_000);
    await expectMembersOnline(four);
    expect(views[3]!.dbRows).toBe(views[0]!.dbRows);

    const got = await remoteFs('node4', [
      { op: 'read', path: `${DIR}/old-file` },
      { op: 'read', path: `${DIR}/f${FILES - 1}` },
      { op: 'write', path: `${DIR}/from-node4`, data: 'node4\n' },
    ]);
    expect(got.map((r) => r.data ?? r.ok)).toEqual(['changed while node3 was down\n', `f${FILES - 1}:while node3 was down\n`, true]);
    await expectConverged(four);
  });
});
