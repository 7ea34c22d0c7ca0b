/**
 * Issue 9 on a real local-mode daemon and FUSE mount:
 * - each config.db written by the reference (test/fixtures/reference-db) is served exactly as the
 *   reference served it: its manifest (type, path, size, sha256, mtime) and its guests;
 * - the reference's commands that produced it, replayed on a fresh pmxcfs-ts daemon, fail where they
 *   failed on the reference and leave the same tree and the same `.vmlist` counters;
 * - the databases pmxcfs-ts writes (512-byte pages, a large commit outside WAL, renamed and touched
 *   directories, lock directories, empty files) pass the reference's load rules;
 * - an in-place edit of a guest config gives that guest a new version in `.vmlist` and in the IPC
 *   GET_GUEST_LIST answer.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { QbIpcClient } from '../../src/ipc/qb-client';
import { IpcOp } from '../../src/ipc/protocol';
import {
  manifestOfMount,
  parseVmlist,
  readFixture,
  referenceDbNames,
  referenceLoadProblems,
  referenceWriteProblems,
  type ManifestEntry,
} from '../helpers/reference-db';
import { cleanupAll, makeTempDir, startDaemon, stopDaemon, type DaemonHandle } from './daemon-harness';

const NODE = 'oracle-node';
const started: DaemonHandle[] = [];
afterEach(async () => {
  await cleanupAll(started.splice(0));
});

async function daemonOn(dbFile: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<DaemonHandle> {
  const dir = makeTempDir('pmxcfs-refdb-');
  const db = join(dir, 'config.db');
  if (dbFile !== undefined) {
    fs.copyFileSync(dbFile, db);
    fs.chmodSync(db, 0o600);
  }
  const d = await startDaemon({ dir, args: ['-f', '-l', '--mount', join(dir, 'mnt'), '--db', db, '--nodename', NODE], env });
  started.push(d);
  return d;
}

const withoutMtime = (m: ManifestEntry[]) => m.map(({ mtime: _mtime, ...rest }) => rest);

/** The commands of an ops.txt, each with whether the reference reported it failed. */
function opsOf(text: string): { cmd: string; failed: boolean }[] {
  const out: { cmd: string; failed: boolean }[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#   ^ FAILED')) out[out.length - 1]!.failed = true;
    else if (line.length > 0 && !line.startsWith('#')) out.push({ cmd: line, failed: false });
  }
  return out;
}

describe('config.db written by the reference, served by pmxcfs-ts', () => {
  for (const name of referenceDbNames()) {
    it(`${name}: the daemon serves exactly its manifest and its guests; the file still passes the reference's rules`, async () => {
      const fx = readFixture(name);
      const d = await daemonOn(fx.db);
      expect(d.stderr()).not.toMatch(/loaded anyway/);
      expect(manifestOfMount(d.mnt)).toEqual(fx.manifest);
      const vmlist = fs.readFileSync(join(d.mnt, '.vmlist'), 'utf8');
      const got = parseVmlist(vmlist);
      const want = parseVmlist(fx.vmlist);
      const nodeType = (ids: typeof got.ids) => Object.fromEntries(Object.entries(ids).map(([id, g]) => [id, `${g.node}/${g.type}`]));
      expect(nodeType(got.ids)).toEqual(nodeType(want.ids));
      if (Object.keys(want.ids).length === 0 && !fs.existsSync(join(d.mnt, 'nodes'))) expect(vmlist).toBe(fx.vmlist); // byte for byte
      expect(await stopDaemon(d)).toBe(0);
      expect(referenceWriteProblems(d.db)).toEqual([]);
    });
  }
});

describe("the reference's commands replayed on pmxcfs-ts", () => {
  // a fixture from a cluster (5-mixed-cluster) describes its history in comments only: nothing to replay
  const replayable = referenceDbNames().filter((name) => opsOf(readFixture(name).ops).length > 0);
  it('the local-mode fixtures are replayable', () => expect(replayable.length).toBeGreaterThanOrEqual(3));
  for (const name of replayable) {
    it(`${name}: the same commands fail, the same tree (mtimes aside), the same .vmlist counters`, async () => {
      const fx = readFixture(name);
      const d = await daemonOn(undefined);
      const failed: string[] = [];
      for (const op of opsOf(fx.ops)) {
        const cmd = op.cmd.split('/etc/pve').join(d.mnt);
        const r = spawnSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
        if (r.status !== 0) failed.push(op.cmd);
      }
      // Same failures, `touch -m`/`touch -a` included (a silent no-op on both: utimens only with both times).
      expect(failed).toEqual(opsOf(fx.ops).filter((o) => o.failed).map((o) => o.cmd));
      expect(withoutMtime(manifestOfMount(d.mnt))).toEqual(withoutMtime(fx.manifest));
      // The list and every guest carry the same counter values as on the reference.
      expect(parseVmlist(fs.readFileSync(join(d.mnt, '.vmlist'), 'utf8'))).toEqual(parseVmlist(fx.vmlist));
      expect(await stopDaemon(d)).toBe(0);
      expect(referenceWriteProblems(d.db)).toEqual([]);
    });
  }
});

describe('a config.db written by pmxcfs-ts passes the reference load rules', () => {
  it('512-byte pages, a large commit outside WAL, renamed/touched dirs, locks, empty files; after a clean stop and after kill -9', async () => {
    const d = await daemonOn(undefined);
    const m = (p: string) => join(d.mnt, p);
    fs.mkdirSync(m('nodes/n1/qemu-server'), { recursive: true });
    fs.mkdirSync(m('priv/lock'), { recursive: true });
    fs.writeFileSync(m('nodes/n1/qemu-server/100.conf'), 'memory: 1\n');
    fs.mkdirSync(m('dirA'));
    fs.renameSync(m('dirA'), m('dirB')); // the reference stores X'' here
    fs.utimesSync(m('dirB'), 1700000000, 1700000000);
    fs.utimesSync(m('priv'), 1600000000, 1600000000);
    fs.mkdirSync(m('priv/lock/file-user_cfg'));
    fs.utimesSync(m('priv/lock/file-user_cfg'), 4000000000, 4000000000);
    fs.writeFileSync(m('empty'), '');
    fs.renameSync(m('empty'), m('dirB/empty-moved'));
    fs.writeFileSync(m('big.cfg'), Buffer.alloc(600 * 1024, 'large '));
    // Written once, to the main file: the WAL does not hold the 600 KiB.
    const walSize = fs.existsSync(`${d.db}-wal`) ? fs.statSync(`${d.db}-wal`).size : 0;
    expect(walSize).toBeLessThan(300 * 1024);
    fs.writeFileSync(m('nodes/n1/qemu-server/100.conf'), 'memory: 2\n');
    fs.rmSync(m('nodes/n1/qemu-server/100.conf'));

    // kill -9: the WAL is not checkpointed; a copy of db + WAL must load by the reference's rules.
    const crashCopy = join(d.dir, 'crash');
    fs.mkdirSync(crashCopy);
    d.proc.kill('SIGKILL');
    await d.exited;
    for (const f of ['config.db', 'config.db-wal']) if (fs.existsSync(join(d.dir, f))) fs.copyFileSync(join(d.dir, f), join(crashCopy, f));
    const copy = new Database(join(crashCopy, 'config.db'));
    expect(copy.pragma('page_size', { simple: true })).toBe(512);
    copy.pragma('wal_checkpoint(TRUNCATE)');
    copy.close();
    expect(referenceWriteProblems(join(crashCopy, 'config.db'))).toEqual([]);

    // Restart on the same files, then stop cleanly: still valid for the reference.
    spawnSync('fusermount', ['-uz', d.mnt]);
    const again = await startDaemon({ dir: d.dir, args: ['-f', '-l', '--mount', d.mnt, '--db', d.db, '--nodename', NODE] });
    started.push(again);
    expect(fs.readFileSync(join(again.mnt, 'big.cfg')).length).toBe(600 * 1024);
    expect(fs.readdirSync(join(again.mnt, 'dirB'))).toEqual(['empty-moved']);
    expect(await stopDaemon(again)).toBe(0);
    expect(referenceLoadProblems(d.db)).toEqual([]);
    expect(referenceWriteProblems(d.db)).toEqual([]);
  });
});

describe('guest versions after an in-place edit (local mode): .vmlist and GET_GUEST_LIST', () => {
  it('open without O_TRUNC + write, >>, cat > each give the guest a new version and the list + 1', async () => {
    const service = `pve2-refdb-${process.pid}`;
    const d = await daemonOn(undefined, { PMXCFS_IPC_SERVICE: service });
    const cfg = join(d.mnt, `nodes/${NODE}/qemu-server/100.conf`);
    fs.mkdirSync(join(d.mnt, `nodes/${NODE}/qemu-server`), { recursive: true });
    fs.writeFileSync(join(d.mnt, `nodes/${NODE}/qemu-server/101.conf`), 'memory: 1\n');
    fs.writeFileSync(cfg, 'memory: 512\n');
    const client = QbIpcClient.connect(service);
    try {
      const read = () => {
        const fromFile = parseVmlist(fs.readFileSync(join(d.mnt, '.vmlist'), 'utf8'));
        const fromIpc = client.request(IpcOp.GET_GUEST_LIST);
        expect(fromIpc.error).toBe(0);
        expect(parseVmlist(fromIpc.data.toString())).toEqual(fromFile);
        return fromFile;
      };
      const edits: [string, () => void][] = [
        ['open without O_TRUNC + write', () => {
          const fd = fs.openSync(cfg, 'r+');
          fs.writeSync(fd, 'memory: 999\n', 0);
          fs.closeSync(fd);
        }],
        ['>>', () => expect(spawnSync('bash', ['-c', `echo 'cores: 2' >> '${cfg}'`]).status).toBe(0)],
        ['cat >', () => expect(spawnSync('bash', ['-c', `printf 'memory: 1024\\n' | cat > '${cfg}'`]).status).toBe(0)],
        ['the same bytes again', () => expect(spawnSync('bash', ['-c', `printf 'memory: 1024\\n' | cat > '${cfg}'`]).status).toBe(0)],
      ];
      for (const [what, edit] of edits) {
        const before = read();
        edit();
        const after = read();
        expect({ what, listUp: after.version > before.version, guestUp: after.ids['100']!.version > before.ids['100']!.version }).toEqual({ what, listUp: true, guestUp: true });
        // the guest's version is the newest one handed out; the other guest keeps its own
        expect(Math.max(...Object.values(after.ids).map((g) => g.version))).toBe(after.ids['100']!.version);
        expect(after.ids['101']).toEqual(before.ids['101']);
      }
      // a utime registers nothing
      const before = read();
      fs.utimesSync(cfg, 1700000000, 1700000000);
      expect(read()).toEqual(before);
      expect(fs.readFileSync(cfg, 'utf8')).toBe('memory: 1024\n');
    } finally {
      client.close();
    }
  });
});
