/**
 * The daemon in cluster mode against a real one-node corosync (spec §1, §4–§7, §9). The daemon runs
 * inside the test's private network namespace (where corosync's IPC sockets are); the test process
 * drives the FUSE mount from outside (mounts are visible across network namespaces).
 *
 * Order matters and follows a node's life: started before corosync (read-only), corosync comes up
 * (quorate, writes go through CPG), corosync is killed with writes in flight (they fail, nothing
 * hangs), corosync comes back (the daemon re-joins by itself), a newer corosync.conf lands in the
 * host file and corosync reloads it, SIGTERM ends the daemon cleanly.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorosyncNamespace, corosyncAvailable, renderCorosyncConf } from '../helpers/corosync';
import { errnoOf, isMounted, killAndUnmount, MAIN_JS, makeTempDir, waitUntil } from './daemon-harness';

// The compiled daemon (npm test builds first): loading the TypeScript sources on the fly takes
// tens of seconds on a loaded 2-core machine, longer than the start-up waits.
const DAEMON_JS = MAIN_JS;

/** The errno code of an async fs call, or 'ok'; 'HUNG' when it did not settle in `limitMs`. */
async function outcome(p: Promise<unknown>, limitMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((r) => (timer = setTimeout(() => r('HUNG'), limitMs)));
  const settled = p.then(
    () => 'ok',
    (e: NodeJS.ErrnoException) => e.code ?? String(e),
  );
  const result = await Promise.race([settled, hung]);
  clearTimeout(timer);
  return result;
}

function countBy(list: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of list) out[x] = (out[x] ?? 0) + 1;
  return out;
}

describe.skipIf(!corosyncAvailable())('daemon in cluster mode with a real corosync', () => {
  let ns: CorosyncNamespace;
  let dir: string;
  let mnt: string;
  let db: string;
  let daemon: ChildProcess;
  let daemonLog = '';
  const p = (rel: string) => join(mnt, rel);
  const read = (rel: string) => fs.readFileSync(p(rel), 'utf8');
  const alive = () => daemon.exitCode === null && daemon.signalCode === null;
  const writable = (rel: string) => (fs.statSync(p(rel)).mode & 0o222) !== 0;

  beforeAll(async () => {
    ns = await CorosyncNamespace.create({ clusterName: 'itcluster', configVersion: 2 });
    dir = makeTempDir('pmxcfs-cluster-it-');
    mnt = join(dir, 'mnt');
    db = join(dir, 'config.db');
    // A fresh database imports the host corosync.conf (here: the namespace's) and so starts in
    // cluster mode; the host file is the one corosync itself reads, so a reload picks up changes.
    daemon = ns.spawnNode(
      DAEMON_JS,
      ['-f', '--mount', mnt, '--db', db, '--nodename', 'node1', '--corosync-conf', ns.configPath],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PMXCFS_VERIFY_INTERVAL: '2', PMXCFS_RECONNECT_DELAY_MS: '1000' },
      },
    );
    daemon.stderr!.on('data', (c: Buffer) => (daemonLog += c.toString()));
    // The mount and the log line after it: stderr arrives through this event loop, maybe after the mount.
    await waitUntil(`the mount (daemon log: ${daemonLog})`, () => {
      if (!alive()) throw new Error(`daemon exited: ${daemonLog}`);
      return isMounted(mnt) && /started in cluster mode/.test(daemonLog) ? true : undefined;
    });
  });

  afterAll(async () => {
    if (process.env.PMXCFS_IT_DUMP) fs.writeFileSync(process.env.PMXCFS_IT_DUMP, daemonLog);
    await killAndUnmount(daemon, mnt);
    await ns?.destroy();
    if (dir !== undefined && !isMounted(mnt)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts in cluster mode before corosync: not quorate, writes EACCES, no write bits', () => {
    expect(daemonLog).toMatch(/started in cluster mode/);
    expect(read('corosync.conf')).toBe(fs.readFileSync(ns.configPath, 'utf8'));
    expect(errnoOf(() => fs.writeFileSync(p('early.txt'), 'x'))).toBe('EACCES');
    expect(errnoOf(() => fs.mkdirSync(p('nodes')))).toBe('EACCES');
    expect(fs.statSync(p('corosync.conf')).mode & 0o777).toBe(0o440);
    expect(fs.lstatSync(p('local')).mode & 0o200).toBe(0);
    // No cluster information yet: the short form.
    expect(read('.members')).toBe('{\n"nodename": "node1",\n"version": 0\n}\n');
  });

  it('becomes quorate when corosync starts; writes go through CPG (writer = corosync nodeid)', async () => {
    await ns.startCorosync();
    await waitUntil('write bits', () => (writable('corosync.conf') ? true : undefined));
    // Quorum (the write bits) comes from corosync's quorum service; the daemon joins its CPG group
    // and syncs after that, and a write before the join is refused with EBUSY, as the reference's
    // failed send is. On a loaded machine that gap is long enough for the next line to land in it.
    await waitUntil('the dcdb sync', () => (daemonLog.includes('[dcdb] notice: all data is up to date') ? true : undefined));
    fs.mkdirSync(p('nodes'));
    fs.mkdirSync(p('nodes/node1'));
    fs.writeFileSync(p('nodes/node1/hello.txt'), 'hello cluster\n');
    expect(read('nodes/node1/hello.txt')).toBe('hello cluster\n');
    expect(fs.lstatSync(p('local')).mode & 0o200).toBe(0o200);

    const sqlite = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const row = sqlite.prepare("SELECT writer, data FROM tree WHERE name = 'hello.txt'").get() as { writer: number; data: Buffer };
      expect(row.writer).toBe(1);
      expect(row.data.toString()).toBe('hello cluster\n');
    } finally {
      sqlite.close();
    }
  });

  it('.members shows the node online in the named cluster; .clusterlog has the start entry', async () => {
    const members = await waitUntil('.members with the node online', () => {
      const text = read('.members');
      return /"node1": \{ "id": 1, "online": 1/.test(text) ? text : undefined;
    });
    expect(members).toMatch(/^\{\n"nodename": "node1",\n"version": \d+,\n/);
    expect(members).toContain('"cluster": { "name": "itcluster", "version": 2, "nodes": 1, "quorate": 1 },\n');
    expect(read('.clusterlog')).toMatch(
      /\{"uid": 1, "time": \d+, "pri": 6, "tag": "cluster", "pid": \d+, "node": "node1", "user": "root", "msg": "starting cluster log"\}/,
    );
    const version = read('.version');
    expect(version).toMatch(/^\{\n"starttime": \d+,\n"clinfo": [1-9]\d*,\n"vmlist": \d+,\n"corosync.conf": \d+,\n/);
    expect(version.endsWith('"kvstore": {\n"node1": {\n}\n}\n}\n')).toBe(true);
    // the reference's lines for these events, in its [status] domain (seen from pve-cluster 9.1.6).
    // The daemon logged them before the last test's write went through CPG, but this process reads
    // its stderr pipe only when the event loop gets to it: the checks above are synchronous.
    await waitUntil('the sync lines in the daemon log', () => (daemonLog.includes('[dcdb] notice: all data is up to date') ? true : undefined));
    expect(daemonLog).toContain('[status] notice: node has quorum');
    expect(daemonLog).toContain('[status] notice: update cluster info (cluster name  itcluster, version = 2)');
    expect(daemonLog).toMatch(/\[dcdb\] notice: members: 1\/\d+\n/);
    expect(daemonLog).toContain('[dcdb] notice: all data is up to date');
  });

  it('corosync killed -9 with writes in flight: they fail (EACCES/EBUSY), none hangs, the node goes read-only', async () => {
    const results: string[] = [];
    let inFlightAtKill = 0;
    let stopWriters = false;
    const writer = async (w: number) => {
      for (let i = 0; !stopWriters; i++) {
        const r = await outcome(fs.promises.writeFile(p(`nodes/node1/w${w}.txt`), `writer ${w} round ${i}\n`), 45_000); // a hang detector: generous on a busy machine
        results.push(r);
        if (r === 'HUNG') return;
      }
    };
    const writers = [0, 1, 2, 3, 4, 5].map(writer);
    await waitUntil('writes succeeding', () => (results.filter((r) => r === 'ok').length >= 20 ? true : undefined));
    const before = results.length;
    await ns.killCorosync('SIGKILL');
    inFlightAtKill = results.length;
    await waitUntil('writes failing', () => (results.slice(before).some((r) => r === 'EACCES') ? true : undefined), 60_000);
    stopWriters = true;
    await Promise.all(writers);

    const after = results.slice(before);
    console.log(`writes: ${before} before the kill, ${inFlightAtKill - before} completed while killing, after: ${JSON.stringify(countBy(after))}`);
    expect(after).not.toContain('HUNG');
    expect(after.filter((r) => r !== 'ok' && r !== 'EACCES' && r !== 'EBUSY')).toEqual([]);
    expect(alive()).toBe(true);
    await waitUntil('read-only modes', () => (writable('corosync.conf') ? undefined : true));
    expect(errnoOf(() => fs.writeFileSync(p('nodes/node1/late.txt'), 'x'))).toBe('EACCES');
    // Reads keep working without quorum.
    expect(read('nodes/node1/hello.txt')).toBe('hello cluster\n');
    await waitUntil('.members offline', () => (/"quorate": 0/.test(read('.members')) ? true : undefined));
  });

  it('corosync restarted: the daemon re-joins by itself and writes work again', async () => {
    await ns.startCorosync();
    await waitUntil(
      'a write to succeed',
      () => (errnoOf(() => fs.writeFileSync(p('nodes/node1/again.txt'), 'back\n')) === 'ok' ? true : undefined),
      60_000,
    );
    expect(read('nodes/node1/again.txt')).toBe('back\n');
    await waitUntil('.members online again', () => (/"online": 1/.test(read('.members')) ? true : undefined));
    expect(alive()).toBe(true);
  });

  it('a corosync.conf with a higher config_version lands in the host file and corosync reloads it', async () => {
    const text = renderCorosyncConf({ ...ns.options, configVersion: 3 }, ns.dir);
    fs.writeFileSync(p('corosync.conf'), text);
    expect(fs.readFileSync(ns.configPath, 'utf8')).toBe(text);
    expect(fs.statSync(ns.configPath).mode & 0o777).toBe(0o644);
    // The reload (1 s later, corosync-cfgtool -R) makes cmap report the new version.
    await waitUntil('.members with config version 3', () => (/"version": 3, "nodes": 1/.test(read('.members')) ? true : undefined));
    // An older version is not copied.
    const older = renderCorosyncConf({ ...ns.options, configVersion: 1 }, ns.dir).replace('crypto_hash: none', 'crypto_hash: none\n  # older');
    const refusals = () => daemonLog.match(/local corosync.conf is newer/g)?.length ?? 0;
    const before = refusals();
    fs.writeFileSync(p('corosync.conf'), older);
    // Wait for the daemon's decision on this write (a new log line), then check the host file was left alone.
    await waitUntil('the older corosync.conf refused', () => (refusals() > before ? true : undefined));
    expect(fs.readFileSync(ns.configPath, 'utf8')).toBe(text);
  });

  it('SIGTERM: the daemon leaves, unmounts and exits 0', async () => {
    expect(alive()).toBe(true);
    daemon.kill('SIGTERM');
    const [code] = (await once(daemon, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(isMounted(mnt)).toBe(false);
  });
});
