// Issue 5, scenario B (docs/recovery.md, "separating a node without reinstalling"): node3 leaves the
// cluster and goes on alone in local mode with its whole tree; node1 and node2 drop it from
// corosync.conf (config_version + 1) and keep working, quorate with two. The cluster is started afresh after.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigVersion, parseNodeNames } from '../../lab/corosync-conf';
import { removeCluster } from '../../lab/cluster';
import { waitUntil } from '../../lab/wait';
import { ensureLab, lab, shIn } from './lab-fixture';
import { daemonStatus, ensureQuorateLab, listing, readBytes, sh, startDaemon, stopCorosync, stopDaemon, writeAtomic } from './ops-helpers';

const DIR = '/etc/pve/ops-separate';

/** The edit an operator makes: drop one node's `node { ... }` block and raise config_version. */
function withoutNode(conf: string, name: string): string {
  const version = parseConfigVersion(conf);
  const dropped = conf.replace(/\n[ \t]*node\s*\{[^}]*\}/g, (block) => (new RegExp(`\\bname\\s*:\\s*${name}\\s`).test(block) ? '' : block));
  return dropped.replace(/config_version\s*:\s*\d+/, `config_version: ${version + 1}`);
}

describe('separating a node without reinstalling', () => {
  beforeAll(async () => {
    await ensureQuorateLab();
    await sh('node1', `rm -rf ${DIR} && mkdir -p ${DIR} /etc/pve/priv/lock`);
    for (let i = 0; i < 10; i++) await writeAtomic('node1', `${DIR}/shared-${i}.cfg`, `before the separation ${i}\n`);
    await waitUntil('shared files on node3', () => shIn('node3', `ls ${DIR} | wc -l`), (r) => r.stdout.trim() === '10', { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    // node3 no longer belongs to the cluster and node1/node2 run a 2-node corosync.conf: start over.
    await removeCluster((await lab()).name);
    await ensureLab();
  });

  it('node3 goes on alone in local mode with the whole tree; node1 and node2 stay quorate with two', async () => {
    const before = await listing('node3');

    // On node3: stop the daemon, start it in local mode, remove the cluster configuration.
    await stopDaemon('node3');
    await startDaemon('node3', '-l');
    expect((await daemonStatus('node3')).status?.mode).toBe('local');
    await sh('node3', 'rm /etc/pve/corosync.conf');
    await stopDaemon('node3');
    await sh('node3', 'rm -r /etc/corosync/*');
    await stopCorosync('node3');
    // Started normally (no -l): no corosync.conf in the database, so local mode.
    await startDaemon('node3');

    const alone = await daemonStatus('node3');
    expect(alone.healthy).toBe(true);
    expect(alone.status?.mode).toBe('local');
    expect(alone.status?.quorate).toBe(true);
    expect(await sh('node3', 'pgrep -x corosync || echo none')).toBe('none\n');
    expect(await sh('node3', 'ls -A /etc/corosync')).toBe('');
    // The whole tree but corosync.conf, with its modes (local mode is writable).
    expect(await listing('node3')).toEqual(before.filter((l) => l.split(' ')[4] !== './corosync.conf'));
    expect(await sh('node3', 'test -e /etc/pve/corosync.conf || echo gone')).toBe('gone\n');
    await writeAtomic('node3', `${DIR}/node3-alone.cfg`, 'written in local mode\n');
    expect((await readBytes('node3', `${DIR}/node3-alone.cfg`)).toString()).toBe('written in local mode\n');
    await sh('node3', `mkdir /etc/pve/priv/lock/ops-separate && rmdir /etc/pve/priv/lock/ops-separate`);

    // On the remaining cluster: node3 is gone from corosync; remove it from corosync.conf.
    for (const n of ['node1', 'node2']) await (await lab()).node(n).waitQuorate(true, { members: 2, timeoutMs: 60_000 });
    const conf = (await readBytes('node1', '/etc/pve/corosync.conf')).toString();
    const next = withoutNode(conf, 'node3');
    expect(parseNodeNames(next)).toEqual(['node1', 'node2']);
    await sh('node1', 'cat > /etc/pve/corosync.conf.new && mv /etc/pve/corosync.conf.new /etc/pve/corosync.conf', { input: next });
    const version = parseConfigVersion(next);
    for (const n of ['node1', 'node2']) {
      // pmxcfs writes it to /etc/corosync and node1 reloads corosync cluster-wide.
      await waitUntil(`${n}: corosync config_version ${version}`, () => shIn(n, 'corosync-cmapctl -g totem.config_version'),
        (r) => r.stdout.trim().endsWith(`= ${version}`), { timeoutMs: 60_000 });
      expect((await readBytes(n, '/etc/corosync/corosync.conf')).toString()).toBe(next);
      const q = await sh(n, 'corosync-quorumtool -s');
      expect(q).toMatch(/Quorate:\s+Yes/);
      expect(q).toMatch(/Expected votes:\s+2\b/);
      expect(q).toMatch(/Total votes:\s+2\b/);
    }

    // node1 and node2 keep working; the two sides no longer share anything.
    await writeAtomic('node1', `${DIR}/after-separation.cfg`, 'cluster of two\n');
    await waitUntil('node1 write on node2', () => shIn('node2', `cat ${DIR}/after-separation.cfg`), (r) => r.stdout === 'cluster of two\n', { timeoutMs: 60_000 });
    await sh('node2', `mkdir /etc/pve/priv/lock/ops-separate && rmdir /etc/pve/priv/lock/ops-separate`);
    expect(await sh('node3', `test -e ${DIR}/after-separation.cfg || echo absent`)).toBe('absent\n');
    expect(await sh('node1', `test -e ${DIR}/node3-alone.cfg || echo absent`)).toBe('absent\n');
    const members = (await daemonStatus('node1')).status?.members.map((m) => m.name);
    expect(members).toEqual(['node1', 'node2']);
  });
});
