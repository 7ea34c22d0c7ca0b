// Issue 5, scenario C: config.db portability. A config.db written by pmxcfs-ts in the lab loads in a
// fresh daemon on the host (local mode) with the same tree; a config.db built with literal SQL by
// the reference's rules (schema, __version__ row, NULL data for dirs and empty files, rows in any
// order, a child with a smaller inode than its parent) loads in a lab node.
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, startDaemon as startHostDaemon, stopDaemon as stopHostDaemon, type DaemonHandle } from '../integration/daemon-harness';
import { waitUntil } from '../../lab/wait';
import { shIn } from './lab-fixture';
import { copyIn, copyOut, ensureQuorateLab, listing, LISTING_SCRIPT, parseListing, sh, writeAtomic } from './ops-helpers';

const run = promisify(execFile);
const DIR = '/etc/pve/ops-portability';
const tmp = makeTempDir('ops-portability-');
let host: DaemonHandle | undefined;

// The reference's schema (spec §3), written out as the C daemon's CREATE TABLE does.
const SCHEMA = `CREATE TABLE tree (
  inode INTEGER PRIMARY KEY NOT NULL,
  parent INTEGER NOT NULL CHECK(typeof(parent)=='integer'),
  version INTEGER NOT NULL CHECK(typeof(version)=='integer'),
  writer INTEGER NOT NULL CHECK(typeof(writer)=='integer'),
  mtime INTEGER NOT NULL CHECK(typeof(mtime)=='integer'),
  type INTEGER NOT NULL CHECK(typeof(type)=='integer'),
  name TEXT NOT NULL,
  data BLOB);`;

const hex = (s: string): string => `X'${Buffer.from(s).toString('hex')}'`;
const GUEST = 'name: from-sql\nmemory: 1024\n';
const MOVED = 'renamed into a newer directory\n';
const DATACENTER = 'keyboard: en-us\n';
const SECRET = 'private bytes\n';

// Rows in a deliberately awkward order: children before parents; inode 5 lives in directory 35.
const ROWS = [
  `(0, 0, 40, 2, 1700000040, 8, '__version__', NULL)`,
  `(31, 30, 31, 1, 1700000031, 8, '100.conf', ${hex(GUEST)})`,
  `(30, 20, 30, 1, 1700000030, 4, 'qemu-server', NULL)`,
  `(20, 10, 20, 1, 1700000020, 4, 'refnode', NULL)`,
  `(10, 0, 10, 1, 1700000010, 4, 'nodes', NULL)`,
  `(5, 35, 38, 3, 1700000038, 8, 'moved.cfg', ${hex(MOVED)})`,
  `(35, 0, 35, 1, 1700000035, 4, 'ref-dir', NULL)`,
  `(36, 35, 36, 1, 1700000036, 8, 'empty.cfg', NULL)`,
  `(37, 0, 37, 2, 1700000037, 8, 'datacenter.cfg', ${hex(DATACENTER)})`,
  `(39, 0, 39, 1, 1700000039, 4, 'priv', NULL)`,
  `(40, 39, 40, 2, 1700000040, 8, 'secret.key', ${hex(SECRET)})`,
];

describe('config.db portability', () => {
  beforeAll(async () => {
    await ensureQuorateLab();
  });

  afterAll(async () => {
    if (host) await stopHostDaemon(host).catch(() => undefined);
    await cleanup(host, false);
    fs.rmSync(tmp, { recursive: true, force: true });
    await shIn('node2', 'p=$(cat /tmp/ops-c2/pmxcfs.pid 2>/dev/null) && kill $p; sleep 1; fusermount -uz /tmp/ops-c2/mnt 2>/dev/null; rm -rf /tmp/ops-c2');
    await shIn('node1', `rm -rf ${DIR} /etc/pve/nodes/node1/qemu-server/9941.conf; rm -f /tmp/ops-c1.db`);
  });

  it('a config.db written by pmxcfs-ts in the lab loads on the host in local mode with the same tree', async () => {
    await sh('node1', `rm -rf ${DIR} && mkdir -p ${DIR}/deep/er /etc/pve/nodes/node1/qemu-server /etc/pve/priv`);
    for (let i = 0; i < 5; i++) await writeAtomic('node1', `${DIR}/deep/er/f${i}.cfg`, `lab file ${i}\n`.repeat(50 * i));
    await writeAtomic('node1', '/etc/pve/nodes/node1/qemu-server/9941.conf', 'name: portable\n');
    await writeAtomic('node1', '/etc/pve/priv/ops-portability.key', 'secret\n');
    await sh('node1', `touch ${DIR}/empty.cfg && head -c 300000 /dev/urandom > ${DIR}/binary.bin`);
    const inLab = await listing('node1');

    // An online copy (SQLite's backup API reads one consistent snapshot next to the running daemon).
    await sh('node1', `rm -f /tmp/ops-c1.db && sqlite3 /var/lib/pve-cluster/config.db ".backup '/tmp/ops-c1.db'"`);
    await copyOut('node1', '/tmp/ops-c1.db', path.join(tmp, 'config.db'));
    fs.chmodSync(path.join(tmp, 'config.db'), 0o600);

    // -l: local mode even though the database holds corosync.conf; the host's /etc/corosync stays
    // untouched either way (--corosync-conf points into the temp dir).
    host = await startHostDaemon({
      dir: tmp,
      args: ['-f', '-l', '--mount', path.join(tmp, 'mnt'), '--db', path.join(tmp, 'config.db'), '--nodename', 'node1',
        '--corosync-conf', path.join(tmp, 'corosync.conf')],
    });
    const { stdout } = await run('bash', ['-c', LISTING_SCRIPT(host.mnt)], { maxBuffer: 64 << 20 });
    expect(parseListing(stdout)).toEqual(inLab);
    expect(fs.existsSync(path.join(tmp, 'corosync.conf'))).toBe(false);
    // Still writable and consistent: one more file, then a clean stop.
    fs.writeFileSync(path.join(host.mnt, 'written-on-host.cfg'), 'host\n');
    expect(await stopHostDaemon(host)).toBe(0);
    const check = spawnSync('sqlite3', [path.join(tmp, 'config.db'), 'PRAGMA integrity_check;'], { encoding: 'utf8' });
    expect(check.stdout.trim()).toBe('ok');
  });

  it('a config.db built with literal SQL by the reference rules loads in a lab node', async () => {
    const db = path.join(tmp, 'reference.db');
    const sql = `${SCHEMA}\nBEGIN;\n${ROWS.map((r) => `INSERT INTO tree (inode, parent, version, writer, mtime, type, name, data) VALUES ${r};`).join('\n')}\nCOMMIT;\n`;
    const made = spawnSync('sqlite3', [db], { input: sql, encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);

    // A second, local-mode daemon inside node2 on its own mount and database: the cluster's daemon
    // on /etc/pve is not touched.
    await sh('node2', 'rm -rf /tmp/ops-c2 && mkdir -p /tmp/ops-c2/mnt');
    await copyIn('node2', db, '/tmp/ops-c2/config.db');
    await sh('node2', 'chown root:root /tmp/ops-c2/config.db && chmod 0600 /tmp/ops-c2/config.db');
    await sh('node2', 'pmxcfs-ts -l --mount /tmp/ops-c2/mnt --db /tmp/ops-c2/config.db --corosync-conf /tmp/ops-c2/corosync.conf');

    const m = '/tmp/ops-c2/mnt';
    expect(await sh('node2', `cat ${m}/nodes/refnode/qemu-server/100.conf`)).toBe(GUEST);
    expect(await sh('node2', `cat ${m}/ref-dir/moved.cfg`)).toBe(MOVED);
    expect(await sh('node2', `cat ${m}/datacenter.cfg`)).toBe(DATACENTER);
    expect(await sh('node2', `cat ${m}/priv/secret.key`)).toBe(SECRET);
    expect(await sh('node2', `stat -c '%s %Y %a %F' ${m}/ref-dir/empty.cfg ${m}/ref-dir/moved.cfg ${m}/priv/secret.key ${m}/nodes/refnode`)).toBe(
      [`0 1700000036 640 regular empty file`, `${MOVED.length} 1700000038 640 regular file`, `${SECRET.length} 1700000040 600 regular file`,
        `0 1700000020 755 directory`].join('\n') + '\n',
    );
    expect(await sh('node2', `cat ${m}/.vmlist`)).toMatch(/"100": \{ "node": "refnode", "type": "qemu", "version": \d+ \}/);
    const st = JSON.parse(await sh('node2', `pmxcfs-ts status --json --db /tmp/ops-c2/config.db --mount ${m}`)) as {
      status: { version: number; mode: string };
    };
    expect(st.status).toMatchObject({ version: 40, mode: 'local' });

    // A new file gets inode = version + 1 (create), the global version counts every change, and the
    // rows keep the reference's shape (writer 0 in local mode, NULL data only for dirs/empty files).
    await sh('node2', `printf 'new\\n' > ${m}/ref-dir/new.cfg`);
    await sh('node2', 'kill $(cat /tmp/ops-c2/pmxcfs.pid)');
    await waitUntil('second daemon stopped', () => shIn('node2', `mountpoint -q ${m}`), (r) => r.code !== 0, { timeoutMs: 60_000 });
    const rows = await sh('node2', `sqlite3 /tmp/ops-c2/config.db "SELECT inode, parent, version, writer, type, name, hex(data) FROM tree WHERE inode = 0 OR inode > 40 ORDER BY inode"`);
    const [versionRow, newRow] = rows.trim().split('\n');
    const v = Number(versionRow!.split('|')[2]);
    expect(versionRow).toBe(`0|0|${v}|0|8|__version__|`);
    expect(newRow).toBe(`41|35|${v}|0|8|new.cfg|${Buffer.from('new\n').toString('hex').toUpperCase()}`);
    expect(v).toBeGreaterThanOrEqual(41);
    expect(await sh('node2', `sqlite3 /tmp/ops-c2/config.db "PRAGMA integrity_check; SELECT sql FROM sqlite_master WHERE name = 'tree'"`)).toBe(`ok\n${SCHEMA.replace(/;$/, '')}\n`);
  });
});
