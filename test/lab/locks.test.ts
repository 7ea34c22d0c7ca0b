// Scenario 6, cluster-wide locks (priv/lock/<name> directories): two nodes racing for the same
// lock — exactly one wins each round; an expired lock is broken only once it is older than 120 s on
// the clock of the lowest-nodeid node (node1), whose daemon runs here with the test clock hook
// (PMXCFS_TEST_CLOCK_FILE, docs/differences.md) so no test waits two minutes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import {
  NAMES,
  daemonStatus,
  execDaemon,
  expectConverged,
  restartContainer,
  shOk,
  stopDaemon,
  waitDaemonQuorate,
  waitDcdbSynced,
  ensureCluster,
} from './cluster-checks';
import { lab } from './lab-fixture';
import { mkdirRace, remoteFs } from './remote-fs';

const LOCKS = '/etc/pve/priv/lock';
const CLOCK_FILE = '/run/pmxcfs-e2e-clock'; // in node1's container, outside the mount
const ROUNDS = 60;
let clockHooked = false;

/** Move node1's daemon clock: seconds added to the real time. */
async function setClockOffset(seconds: number): Promise<void> {
  await shOk('node1', `echo ${seconds} > ${CLOCK_FILE}`);
}

/**
 * Ordered after an UNLOCK_REQUEST that has already returned elsewhere: node1 delivered the request
 * before its first write here was delivered, so any UNLOCK it decided to send went out before its
 * second write and is applied on node1 by the time that write returns.
 */
async function barrierOnNode1(): Promise<void> {
  const r = await remoteFs('node1', [
    { op: 'write', path: '/etc/pve/e2e-locks-barrier', data: '1' },
    { op: 'write', path: '/etc/pve/e2e-locks-barrier', data: '2' },
  ]);
  for (const x of r) expect(x).toMatchObject({ ok: true });
}

async function lockExists(node: string, name: string): Promise<boolean> {
  const [r] = await remoteFs(node, [{ op: 'stat', path: `${LOCKS}/${name}` }]);
  if (!r!.ok && r!.code !== 'ENOENT') throw new Error(`stat on ${node}: ${r!.code}`);
  return r!.ok;
}

describe('cluster locks', () => {
  beforeAll(async () => {
    await ensureCluster();
    const made = await remoteFs('node1', [
      { op: 'mkdir', path: '/etc/pve/priv' },
      { op: 'mkdir', path: LOCKS },
    ]);
    for (const r of made) expect(r.ok || r.code === 'EEXIST', `${r.path}: ${r.code}`).toBe(true);
    const left = await shOk('node1', `ls ${LOCKS}`);
    for (const name of left.split('\n').filter((n) => n.startsWith('e2e-'))) await shOk('node1', `rmdir ${LOCKS}/${name}`);
  });

  afterAll(async () => {
    await (await lab()).heal();
    if (clockHooked) {
      // Back to the entrypoint's own daemon, real clock.
      await shOk('node1', `rm -f ${CLOCK_FILE}`).catch(() => undefined);
      await restartContainer('node1');
    }
  });

  it(`node1 and node2 race for the same lock ${ROUNDS} times: exactly one wins every round`, async () => {
    const names = Array.from({ length: ROUNDS }, (_, i) => `${LOCKS}/e2e-race-${i}`);
    // Both send each round's mkdir at the same moment; the total order decides who gets it.
    const startAt = Date.now() + 2000;
    const [a, b] = await Promise.all([mkdirRace('node1', names, startAt, 100), mkdirRace('node2', names, startAt, 100)]);
    const outcomes = names.map((_, i) => [a[i], b[i]].sort().join(','));
    for (const [i, o] of outcomes.entries()) expect(o, `round ${i}`).toBe('EEXIST,ok');
    const wins = { node1: a.filter((x) => x === 'ok').length, node2: b.filter((x) => x === 'ok').length };
    console.log(`lock race: node1 won ${wins.node1}, node2 won ${wins.node2} of ${ROUNDS} rounds`);
    await expectConverged();

    const cleanup = await remoteFs('node3', names.map((p) => ({ op: 'rmdir' as const, path: p })));
    for (const r of cleanup) expect(r, r.path).toMatchObject({ ok: true });
  });

  it('an unlock request (utime 0,0) is answered EACCES and breaks the lock only after 120 s on node1\'s clock', async () => {
    // node1's daemon again, with the clock hook (the entrypoint's daemon cannot get new environment).
    await setClockOffset(0);
    await stopDaemon('node1', 'TERM');
    clockHooked = true;
    await execDaemon('node1', { PMXCFS_TEST_CLOCK_FILE: CLOCK_FILE });
    await waitDaemonQuorate('node1', true);
    await waitDcdbSynced(NAMES, 3);

    const lock = `${LOCKS}/e2e-expiry`;
    expect((await remoteFs('node2', [{ op: 'mkdir', path: lock }]))[0]).toMatchObject({ ok: true });
    await expectConverged();

    // Young lock: the unlock request fails and nothing is removed; renewal only by its owner.
    const young = await remoteFs('node3', [
      { op: 'utimes', path: lock, atime: 0, mtime: 0 },
      { op: 'utimes', path: lock, atime: 0, mtime: Math.floor(Date.now() / 1000) + 5 },
    ]);
    expect(young.map((r) => r.code)).toEqual(['EACCES', 'EACCES']);
    await barrierOnNode1();
    for (const n of NAMES) expect(await lockExists(n, 'e2e-expiry'), `${n} still has the lock`).toBe(true);

    // 100 s later on node1's clock: still not expired.
    await setClockOffset(100);
    const s100 = await daemonStatus('node1');
    const seen100 = s100?.locks.find((l) => l.name === 'e2e-expiry');
    expect(seen100?.age).toBeGreaterThanOrEqual(100);
    expect(seen100?.expiresIn).toBeGreaterThan(0);
    expect((await remoteFs('node3', [{ op: 'utimes', path: lock, atime: 0, mtime: 0 }]))[0]!.code).toBe('EACCES');
    await barrierOnNode1();
    for (const n of NAMES) expect(await lockExists(n, 'e2e-expiry'), `${n} still has the lock at 100 s`).toBe(true);

    // 125 s: the next unlock request makes node1 multicast UNLOCK. Its answer is the result of the
    // MTIME that node3 multicasts right after the UNLOCK_REQUEST (as the reference does): EACCES when
    // the MTIME is ordered before node1's UNLOCK, ENOENT when node3 was slow enough between its two
    // multicasts for the UNLOCK to come first (seen on a loaded CI machine). PVE's cfs_lock ignores it.
    await setClockOffset(125);
    expect((await daemonStatus('node1'))?.locks.find((l) => l.name === 'e2e-expiry')?.expiresIn).toBe(0);
    const expiredAnswer = (await remoteFs('node3', [{ op: 'utimes', path: lock, atime: 0, mtime: 0 }]))[0]!.code;
    expect(['EACCES', 'ENOENT']).toContain(expiredAnswer);
    for (const n of NAMES) {
      await waitUntil(`lock removed on ${n}`, () => lockExists(n, 'e2e-expiry'), (exists) => !exists, {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
    }
    await expectConverged();

    // The lock is free: node3 takes it, and releases it.
    const again = await remoteFs('node3', [
      { op: 'mkdir', path: lock },
      { op: 'rmdir', path: lock },
    ]);
    expect(again.map((r) => r.ok)).toEqual([true, true]);
  });
});
