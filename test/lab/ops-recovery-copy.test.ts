// Issue 5, scenario A (docs/recovery.md, "recovery by copying config.db"): node3's hardware dies; a
// replacement host with the same name and address and an EMPTY disk gets node3's config.db and
// /etc/corosync copied in with the daemon stopped; pmxcfs-ts then serves the same tree from it and
// rejoins the cluster, receiving what node1 wrote meanwhile.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../lab/wait';
import { lab, shIn } from './lab-fixture';
import { copyIn, copyOut, daemonStatus, ensureQuorateLab, listing, readBytes, sh, startDaemon, writeAtomic } from './ops-helpers';

const DIR = '/etc/pve/ops-recovery';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ops-recovery-'));
let before: string[] = [];

describe('recovery by copying config.db to a replacement node', () => {
  beforeAll(async () => {
    await ensureQuorateLab();
    await sh('node1', `rm -rf ${DIR} && mkdir -p ${DIR}/sub /etc/pve/nodes/node3/qemu-server`);
    for (let i = 0; i < 20; i++) await writeAtomic('node3', `${DIR}/sub/file-${i}.cfg`, `node3 wrote ${i}\n`.repeat(i + 1));
    await writeAtomic('node3', '/etc/pve/nodes/node3/qemu-server/9931.conf', 'name: recover-me\nmemory: 512\n');
    // Everything node3 wrote is on node1 too before the hardware "dies".
    await waitUntil('node3 files on node1', () => sh('node1', `ls ${DIR}/sub | wc -l`), (n) => n.trim() === '20', { timeoutMs: 60_000 });
    before = await listing('node3', '/etc/pve', { modes: false });
  });

  afterAll(async () => {
    // node3 is a bare replacement running services started by hand: the fixture gives it a normal
    // container again, keeping the restored volume.
    await ensureQuorateLab();
    await shIn('node1', `rm -rf ${DIR} /etc/pve/nodes/node3/qemu-server/9931.conf`);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('rebuilds node3 from its config.db and /etc/corosync and it rejoins with the cluster tree', async () => {
    // 1. The hardware dies: no shutdown, the daemon's last commits may be only in config.db-wal.
    const c = await lab();
    await c.node('node3').fence();
    await c.node('node1').waitQuorate(true, { members: 2, timeoutMs: 60_000 });

    // 2. Take node3's files from the dead machine's disk: config.db with its WAL (SQLite replays it
    //    when the file is opened), and /etc/corosync/{authkey,corosync.conf}.
    const old = await shIn('node3', 'true'); // container is stopped: exec fails, docker cp still works
    expect(old.code).not.toBe(0);
    await copyOut('node3', '/var/lib/pve-cluster/config.db', path.join(tmp, 'config.db'));
    const hasWal = (await copyOut('node3', '/var/lib/pve-cluster/config.db-wal', path.join(tmp, 'config.db-wal')).then(() => true, () => false));
    await copyOut('node3', '/etc/corosync/authkey', path.join(tmp, 'authkey'));
    await copyOut('node3', '/etc/corosync/corosync.conf', path.join(tmp, 'corosync.conf'));

    // 3. The replacement: same host name and address, empty /var/lib/pve-cluster, nothing running.
    await c.replaceNode('node3', { bare: true });
    expect(await sh('node3', 'find /var/lib/pve-cluster -mindepth 1')).toBe('');
    // A fresh Debian corosync package: its example corosync.conf, no authkey, nothing of the lab's.
    expect(await sh('node3', 'ls /etc/corosync/authkey 2>/dev/null; grep -c pmxcfs-lab /etc/corosync/corosync.conf || true')).toBe('0\n');
    expect(await sh('node3', 'pgrep -x corosync || echo none')).toBe('none\n');

    // 4. Meanwhile the cluster goes on: node1 writes (quorate with node2).
    for (let i = 0; i < 10; i++) await writeAtomic('node1', `${DIR}/meanwhile-${i}.cfg`, `written while node3 was dead ${i}\n`);

    // 5. Copy the files in with the daemon stopped, with the modes of the originals.
    await copyIn('node3', path.join(tmp, 'config.db'), '/var/lib/pve-cluster/config.db');
    if (hasWal) await copyIn('node3', path.join(tmp, 'config.db-wal'), '/var/lib/pve-cluster/config.db-wal');
    await copyIn('node3', path.join(tmp, 'authkey'), '/etc/corosync/authkey');
    await copyIn('node3', path.join(tmp, 'corosync.conf'), '/etc/corosync/corosync.conf');
    await sh('node3', 'chown root:root /var/lib/pve-cluster/* /etc/corosync/* && chmod 0600 /var/lib/pve-cluster/config.db* && chmod 0400 /etc/corosync/authkey && chmod 0644 /etc/corosync/corosync.conf');

    // 6. pmxcfs starts before corosync (as the reference's unit orders it): cluster mode, no quorum
    //    yet, the tree served read-only from the copied config.db is node3's tree from before.
    await startDaemon('node3');
    const early = await daemonStatus('node3');
    expect(early.status?.mode).toBe('cluster');
    expect(early.status?.quorate).toBe(false);
    expect(await listing('node3', '/etc/pve', { modes: false })).toEqual(before);
    expect((await sh('node3', 'stat -c %a /var/lib/pve-cluster/config.db')).trim()).toBe('600');

    // 7. corosync starts: three quorate members, node3's daemon quorate and writable again.
    await sh('node3', 'corosync');
    await c.waitHealthy({ daemonQuorate: false, timeoutMs: 90_000 });
    await waitUntil('node3 daemon quorate', () => daemonStatus('node3'), (s) => s.healthy && s.status?.quorate === true, { timeoutMs: 60_000 });

    // 8. The files node1 wrote meanwhile arrived, bytes equal; whole trees and versions agree.
    await waitUntil('meanwhile files on node3', () => shIn('node3', `ls ${DIR} | grep -c meanwhile`), (r) => r.stdout.trim() === '10', { timeoutMs: 60_000 });
    for (let i = 0; i < 10; i++) {
      expect((await readBytes('node3', `${DIR}/meanwhile-${i}.cfg`)).toString()).toBe(`written while node3 was dead ${i}\n`);
    }
    await waitUntil('same version on node1 and node3', async () => [await daemonStatus('node1'), await daemonStatus('node3')],
      ([a, b]) => a!.status !== null && a!.status.version === b!.status?.version, { timeoutMs: 60_000 });
    expect(await listing('node3')).toEqual(await listing('node1'));
    await writeAtomic('node3', `${DIR}/after-rejoin.cfg`, 'node3 is back\n');
    await waitUntil('node3 write on node2', () => shIn('node2', `cat ${DIR}/after-rejoin.cfg`), (r) => r.stdout === 'node3 is back\n', { timeoutMs: 60_000 });
  });
});
