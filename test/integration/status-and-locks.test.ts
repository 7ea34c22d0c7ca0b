/**
 * Local mode: the status files' exact text (spec §8.4, §7) and the cluster-wide locks of
 * spec §8.7 evaluated locally, with the daemon's clock moved forward through PMXCFS_TEST_CLOCK_FILE.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBSERVED_PATHS } from '../../src/status/observed-paths';
import { cleanup, errnoOf, makeTempDir, startDaemon, type DaemonHandle } from './daemon-harness';

let d: DaemonHandle;

/** Retries `ok` until it holds (kernel attribute/entry caches live 1 s); 60 s is a hang, not a speed check. */
async function eventually(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  let done = ok();
  while (!done && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    done = ok();
  }
  expect(done).toBe(true);
}
let clockFile: string;
const p = (rel: string) => join(d.mnt, rel);
const read = (rel: string) => fs.readFileSync(p(rel), 'utf8');

beforeAll(async () => {
  const dir = makeTempDir();
  clockFile = join(dir, 'clock-offset');
  fs.writeFileSync(clockFile, '0');
  d = await startDaemon({ dir, env: { PMXCFS_TEST_CLOCK_FILE: clockFile } });
});
afterAll(async () => {
  await cleanup(d);
});

describe('status files in local mode', () => {
  it('.members is the short form', () => {
    expect(read('.members')).toBe('{\n"nodename": "node1",\n"version": 0\n}\n');
  });

  it('.vmlist of a fresh database has no ids and a blank line before the brace', () => {
    expect(read('.vmlist')).toMatch(/^\{\n"version": \d+\n\n\}\n$/);
  });

  it('.clusterlog holds the "starting cluster log" entry', () => {
    expect(read('.clusterlog')).toMatch(
      /^\{\n"data": \[\n\{"uid": 1, "time": \d+, "pri": 6, "tag": "cluster", "pid": \d+, "node": "node1", "user": "root", "msg": "starting cluster log"\}\n\]\n\}\n$/,
    );
  });

  it('.rrd is empty', () => {
    expect(read('.rrd')).toBe('');
  });

  it('.version lists starttime, clinfo, vmlist, the 43 observed paths and this node', () => {
    const text = read('.version');
    const lines = text.split('\n');
    expect(lines[0]).toBe('{');
    expect(lines[1]).toMatch(/^"starttime": \d+,$/);
    expect(lines[2]).toBe('"clinfo": 0,');
    expect(lines[3]).toMatch(/^"vmlist": \d+,$/);
    const pathLines = lines.slice(4, 4 + 43);
    expect(pathLines.map((l) => JSON.parse(`{${l.replace(/,$/, '')}}`))).toEqual(
      OBSERVED_PATHS.map((path) => ({ [path]: 1 })), // one full load at start-up
    );
    expect(text.endsWith('"kvstore": {\n"node1": {\n}\n}\n}\n')).toBe(true);
  });

  it('a write of an observed path bumps its counter, mkdir does not', () => {
    const counter = (path: string) => Number(new RegExp(`"${path}": (\\d+),`).exec(read('.version'))![1]);
    const before = counter('datacenter.cfg');
    fs.writeFileSync(p('datacenter.cfg'), 'keyboard: en-us\n');
    expect(counter('datacenter.cfg')).toBeGreaterThan(before);
    const ha = counter('ha/groups.cfg');
    fs.mkdirSync(p('ha'));
    expect(counter('ha/groups.cfg')).toBe(ha);
  });
});

describe('locks in local mode', () => {
  it('mkdir acquires, EEXIST while held, rmdir releases', () => {
    fs.mkdirSync(p('priv/lock'), { recursive: true });
    fs.mkdirSync(p('priv/lock/file-storage_cfg'));
    expect(errnoOf(() => fs.mkdirSync(p('priv/lock/file-storage_cfg')))).toBe('EEXIST');
    fs.rmdirSync(p('priv/lock/file-storage_cfg'));
    expect(errnoOf(() => fs.mkdirSync(p('priv/lock/file-storage_cfg')))).toBe('ok');
  });

  it('utime(0,0) is EACCES before expiry and removes the lock after 120 s', async () => {
    fs.mkdirSync(p('priv/lock/expiring'));
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/expiring'), 0, 0))).toBe('EACCES');
    expect(fs.existsSync(p('priv/lock/expiring'))).toBe(true);
    fs.writeFileSync(clockFile, '60');
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/expiring'), 0, 0))).toBe('EACCES');
    fs.writeFileSync(clockFile, '121');
    // The lock is deleted; libfuse then re-reads the attributes of the gone directory, so the
    // caller sees ENOENT (as with the reference, whose Perl callers ignore utime's result).
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/expiring'), 0, 0))).toBe('ENOENT');
    expect(fs.readdirSync(p('priv/lock'))).not.toContain('expiring');
    // The kernel may keep the old dentry for its 1 s entry timeout; then mkdir acquires again.
    await eventually(() => errnoOf(() => fs.mkdirSync(p('priv/lock/expiring'))) === 'ok');
  });

  it('renewal utime(0, now) by the owner restarts the expiry timer', () => {
    fs.writeFileSync(clockFile, '1000');
    fs.mkdirSync(p('priv/lock/renewed'));
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/renewed'), 0, 0))).toBe('EACCES');
    fs.writeFileSync(clockFile, '1100');
    const renewedAt = Math.floor(Date.now() / 1000) + 1100;
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/renewed'), 0, renewedAt))).toBe('ok');
    expect(Math.floor(fs.statSync(p('priv/lock/renewed')).mtimeMs / 1000)).toBe(renewedAt);
    // An older mtime is refused: renewal only moves forward.
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/renewed'), 0, renewedAt - 10))).toBe('EACCES');
    // 200 s after creation but 100 s after renewal: not expired yet.
    fs.writeFileSync(clockFile, '1200');
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/renewed'), 0, 0))).toBe('EACCES');
    fs.writeFileSync(clockFile, '1300');
    expect(errnoOf(() => fs.utimesSync(p('priv/lock/renewed'), 0, 0))).toBe('ENOENT');
    expect(fs.readdirSync(p('priv/lock'))).not.toContain('renewed');
  });

  it('utimes sets the modification time it is given, not the access time', () => {
    fs.writeFileSync(p('times.txt'), 'x');
    fs.utimesSync(p('times.txt'), 1000, 2000);
    expect(fs.statSync(p('times.txt')).mtimeMs).toBe(2000_000);
  });

  it('lock directories cannot be renamed', () => {
    expect(errnoOf(() => fs.renameSync(p('priv/lock/expiring'), p('priv/lock/other')))).toBe('EACCES');
  });
});
