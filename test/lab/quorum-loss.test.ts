// Scenarios 2 and 3, quorum loss: a node cut off from the others (and later every node cut off from
// every other) becomes read-only — every change fails with EACCES and stat shows no write bits —
// while reads keep working; the majority keeps writing; after the heal the trees are identical
// again and every node can write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMES, expectConverged, removeTree, waitDaemonQuorate, ensureCluster, expectMembersOnline } from './cluster-checks';
import { lab } from './lab-fixture';
import { remoteFs, type FsOp } from './remote-fs';

const D = '/etc/pve/e2e-quorum';
const PRIV = '/etc/pve/priv/e2e-quorum';

/** Every kind of change, each of which must fail with EACCES on a node without quorum. */
function changes(tag: string): FsOp[] {
  return [
    { op: 'write', path: `${D}/file`, data: `changed ${tag}\n` },
    { op: 'create', path: `${D}/new-${tag}` },
    { op: 'mkdir', path: `${D}/newdir-${tag}` },
    { op: 'rmdir', path: `${D}/empty` },
    { op: 'unlink', path: `${D}/file` },
    { op: 'rename', path: `${D}/file`, to: `${D}/renamed-${tag}` },
    { op: 'utimes', path: `${D}/file`, atime: 1_700_000_000, mtime: 1_700_000_000 },
    { op: 'write', path: `${PRIV}/secret`, data: 'x' },
  ];
}

async function expectReadOnly(node: string): Promise<void> {
  const results = await remoteFs(node, changes(node));
  for (const r of results) expect({ op: r.op, path: r.path, code: r.code }, `${node}: ${r.op} ${r.path}`).toEqual({ op: r.op, path: r.path, code: 'EACCES' });
}

describe('quorum loss', () => {
  beforeAll(async () => {
    await ensureCluster();
    await removeTree('node1', 'e2e-quorum');
    await removeTree('node1', 'priv/e2e-quorum');
    const setup = await remoteFs('node1', [
      { op: 'mkdir', path: D },
      { op: 'write', path: `${D}/file`, data: 'original\n' },
      { op: 'mkdir', path: `${D}/empty` },
      { op: 'mkdir', path: '/etc/pve/priv' },
      { op: 'mkdir', path: PRIV },
      { op: 'write', path: `${PRIV}/secret`, data: 'secret\n' },
    ]);
    for (const r of setup) expect(r.ok || (r.path === '/etc/pve/priv' && r.code === 'EEXIST'), `${r.op} ${r.path}: ${r.code}`).toBe(true);
    await expectConverged();
  });

  afterAll(async () => {
    await (await lab()).heal(); // never leave the shared lab cut in pieces
  });

  it('node3 cut off: every change fails with EACCES, modes lose their write bits, reads work', async () => {
    await (await lab()).partition(['node3']);
    await waitDaemonQuorate('node3', false);

    await expectReadOnly('node3');

    const seen = await remoteFs('node3', [
      { op: 'stat', path: `${D}/file` },
      { op: 'stat', path: D },
      { op: 'stat', path: '/etc/pve/priv' },
      { op: 'stat', path: `${PRIV}/secret` },
      { op: 'lstat', path: '/etc/pve/local' },
      { op: 'read', path: `${D}/file` },
      { op: 'read', path: `${PRIV}/secret` },
      { op: 'readdir', path: D },
    ]);
    expect(seen.map((r) => r.mode)).toEqual([0o440, 0o555, 0o500, 0o400, 0o555, undefined, undefined, undefined]);
    expect(seen.slice(5).map((r) => r.data)).toEqual(['original\n', 'secret\n', 'empty\nfile']);
  });

  it('node1 and node2 keep writing meanwhile', async () => {
    for (const n of ['node1', 'node2']) await waitDaemonQuorate(n, true);
    const r1 = await remoteFs('node1', [
      { op: 'write', path: `${D}/file`, data: 'written by node1 during the partition\n' },
      { op: 'write', path: `${D}/from-node1`, data: 'node1\n' },
      { op: 'rmdir', path: `${D}/empty` },
    ]);
    const r2 = await remoteFs('node2', [
      { op: 'mkdir', path: `${D}/from-node2` },
      { op: 'write', path: `${D}/from-node2/data`, data: 'node2\n' },
      { op: 'rename', path: `${D}/from-node1`, to: `${D}/moved-by-node2` },
      { op: 'utimes', path: `${D}/file`, atime: 1_700_000_000, mtime: 1_700_000_000 },
      { op: 'write', path: `${PRIV}/secret`, data: 'secret v2\n' },
    ]);
    for (const r of [...r1, ...r2]) expect(r, `${r.op} ${r.path}`).toMatchObject({ ok: true });
    await expectConverged(['node1', 'node2']);
  });

  it('after the heal node3 has the majority\'s tree (same version, rows and files) and is writable again', async () => {
    await (await lab()).heal();
    await (await lab()).waitHealthy({ timeoutMs: 60_000 });
    await waitDaemonQuorate('node3', true);
    await expectConverged();
    await expectMembersOnline(NAMES);

    const got = await remoteFs('node3', [
      { op: 'read', path: `${D}/file` },
      { op: 'read', path: `${D}/moved-by-node2` },
      { op: 'read', path: `${D}/from-node2/data` },
      { op: 'readdir', path: D },
      { op: 'stat', path: `${D}/file` },
      { op: 'stat', path: D },
      { op: 'write', path: `${D}/from-node3`, data: 'node3 again\n' },
    ]);
    expect(got.map((r) => r.data ?? r.mode ?? r.ok)).toEqual([
      'written by node1 during the partition\n',
      'node1\n',
      'node2\n',
      'file\nfrom-node2\nmoved-by-node2',
      0o640,
      0o755,
      true,
    ]);
    await expectConverged();
  });

  it('every node cut off from every other: nobody is quorate, nobody writes; the heal converges', async () => {
    expect((await remoteFs('node1', [{ op: 'mkdir', path: `${D}/empty` }]))[0]).toMatchObject({ ok: true }); // for rmdir
    await expectConverged();
    await (await lab()).isolate(...NAMES);
    await Promise.all(NAMES.map((n) => waitDaemonQuorate(n, false)));
    for (const n of NAMES) await expectReadOnly(n);

    await (await lab()).heal();
    await (await lab()).waitHealthy({ timeoutMs: 60_000 });
    await Promise.all(NAMES.map((n) => waitDaemonQuorate(n, true)));
    await expectConverged();
    await expectMembersOnline(NAMES);
    for (const n of NAMES) {
      const [w] = await remoteFs(n, [{ op: 'write', path: `${D}/after-full-split-${n}`, data: `${n}\n` }]);
      expect(w, `write on ${n} after the heal`).toMatchObject({ ok: true });
    }
    const views = await expectConverged();
    expect(views[0]!.version).toBeGreaterThan(0);
  });
});
