// kill -9 of node2's daemon, then a plain restart with no clean-up step in between (issue 9): the
// dead FUSE mount stays on /etc/pve until the new daemon detaches it itself; node2 is back with its
// data, in the group, synced, and sees what the others wrote while it was down.
// The daemon killed is one started by hand (`execDaemon`): the entrypoint unmounts whatever its own
// supervised daemon leaves behind, which would be exactly the clean-up step this test must not have.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import {
  NAMES,
  daemonPid,
  ensureCluster,
  execDaemon,
  expectConverged,
  expectMembersOnline,
  removeTree,
  restartContainer,
  shOk,
  stopDaemon,
  waitDaemonQuorate,
  waitDcdbSynced,
} from './cluster-checks';
import { heal, shIn } from './lab-fixture';
import { expectAllOk, remoteFs } from './remote-fs';

const REL = 'e2e-restart';
const DIR = `/etc/pve/${REL}`;
let handStarted = false;

/** The type of what is mounted at /etc/pve on a node ('' when nothing), from /proc/mounts. */
async function pveMountType(node: string): Promise<string> {
  return (await shOk(node, "awk '$2==\"/etc/pve\"{t=$3} END{print t}' /proc/mounts")).trim();
}

/** Content of a file under /etc/pve on a node, or the error code. */
async function readOn(node: string, path: string): Promise<string> {
  const [r] = await remoteFs(node, [{ op: 'read', path }]);
  return r!.ok ? r!.data ?? '' : `error ${r!.code}`;
}

describe('kill -9 of a daemon, then a plain restart (no clean-up step)', () => {
  beforeAll(async () => {
    await ensureCluster();
    await removeTree('node1', REL);
    expectAllOk(await remoteFs('node1', [{ op: 'mkdir', path: DIR }, { op: 'write', path: `${DIR}/before`, data: 'written before' }]));
  });

  afterAll(async () => {
    await heal();
    // node2 back to the entrypoint's supervised daemon.
    if (handStarted) await restartContainer('node2');
    await removeTree('node1', REL).catch(() => undefined);
  });

  it('node2 killed: the dead mount stays; started again as is, it detaches it, has its data and rejoins', async () => {
    // A daemon the entrypoint does not watch (see the header).
    await stopDaemon('node2', 'TERM');
    handStarted = true;
    await execDaemon('node2');
    await waitDaemonQuorate('node2', true);
    expectAllOk(await remoteFs('node2', [{ op: 'write', path: `${DIR}/from-node2`, data: 'written on node2' }]));
    await waitUntil('node2\'s write on node1', () => readOn('node1', `${DIR}/from-node2`), (d) => d === 'written on node2', { timeoutMs: 60_000, intervalMs: 300 });

    const killed = await daemonPid('node2');
    expect(killed).not.toBeNull();
    await shOk('node2', `kill -KILL ${killed}`);
    await waitUntil(`daemon ${killed} gone on node2`, () => shIn('node2', `kill -0 ${killed}`), (r) => r.code !== 0, { timeoutMs: 60_000, intervalMs: 200 });
    // Nothing cleaned up: the dead FUSE mount is still there and answers "not connected".
    expect(await pveMountType('node2')).toBe('fuse');
    const dead = await shIn('node2', 'stat /etc/pve 2>&1');
    expect(dead.code).not.toBe(0);
    expect(dead.stdout).toMatch(/not connected/);

    // The others (still a quorate majority) write on while node2 is down.
    expectAllOk(await remoteFs('node1', [{ op: 'write', path: `${DIR}/while-down`, data: 'written while node2 was down' }]));

    // The plain restart. execDaemon's own "mounted" wait is met by the dead mount already, so wait
    // here for what counts: a new daemon that answers through /etc/pve and on its control socket.
    await shOk('node2', ': > /var/log/pmxcfs-ts-exec.log');
    await execDaemon('node2');
    await waitUntil(
      'a new daemon serving /etc/pve on node2',
      async () => ({ pid: await daemonPid('node2'), version: await shIn('node2', 'timeout -s KILL 10 cat /etc/pve/.version') }),
      (s) => s.pid !== null && s.pid !== killed && s.version.code === 0,
      { timeoutMs: 120_000, intervalMs: 300 },
    );
    expect(await shOk('node2', 'cat /var/log/pmxcfs-ts-exec.log')).toContain('detached the dead FUSE mount at /etc/pve');
    expect((await shOk('node2', "awk '$2==\"/etc/pve\"' /proc/mounts")).trim().split('\n')).toHaveLength(1); // one mount, the new one

    await waitDaemonQuorate('node2', true, 120_000);
    await waitDcdbSynced(NAMES, 3, 120_000);
    await expectConverged(NAMES, 120_000);
    await expectMembersOnline(NAMES, NAMES, 120_000);
    expect(await readOn('node2', `${DIR}/before`)).toBe('written before');
    expect(await readOn('node2', `${DIR}/from-node2`)).toBe('written on node2');
    expect(await readOn('node2', `${DIR}/while-down`)).toBe('written while node2 was down');
  });
});
