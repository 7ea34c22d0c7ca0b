/**
 * A full disk under a running local-mode daemon: the database directory is a 2 MiB tmpfs mounted
 * by this test (the FUSE mount is elsewhere). Once a filler file has taken every free byte, writes
 * through the mount fail with ENOSPC at close (or at create) while the daemon keeps serving: what
 * was written before reads back intact. After the filler is removed writes succeed again (no
 * sticky EIO), and a restart loads every file whose close returned OK.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fillDisk, mountSmallTmpfs } from '../helpers/small-fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, errnoOf, isMounted, makeTempDir, startDaemon, stopDaemon, type DaemonHandle } from './daemon-harness';

let top: string;
let dbDir: string;
let daemon: DaemonHandle | undefined;

function daemonArgs(): string[] {
  return ['-f', '-l', '--mount', join(top, 'mnt'), '--db', join(dbDir, 'config.db'), '--nodename', 'node1'];
}

beforeAll(() => {
  top = makeTempDir('pmxcfs-full-');
  dbDir = join(top, 'db');
  mountSmallTmpfs(dbDir, '2m');
});

afterAll(async () => {
  await cleanup(daemon, false);
  if (isMounted(dbDir)) spawnSync('umount', [dbDir]);
  if (!isMounted(dbDir) && !isMounted(join(top, 'mnt'))) fs.rmSync(top, { recursive: true, force: true });
});

afterEach(async () => {
  // A failed test must not leave the next one a full disk or a running daemon.
  fs.rmSync(join(dbDir, 'filler'), { force: true });
  if (daemon !== undefined) await stopDaemon(daemon);
});

const payload = (i: number, size: number): Buffer => Buffer.alloc(size, `file ${i};`);

describe('full disk under a local-mode daemon', () => {
  it('ENOSPC at close, nothing committed is lost, writable again after freeing space, everything reloads', async () => {
    daemon = await startDaemon({ dir: top, args: daemonArgs() });
    const mnt = daemon.mnt;
    fs.mkdirSync(join(mnt, 'nodes'));
    const before = Buffer.from('keyboard: de\n');
    fs.writeFileSync(join(mnt, 'datacenter.cfg'), before);

    const filler = join(dbDir, 'filler');
    fillDisk(filler);

    // Keep writing new files until one fails; every write whose close returned OK is remembered.
    const ok = new Map<string, Buffer>();
    let failed: { name: string; data: Buffer; code: string } | undefined;
    for (let i = 0; i < 40 && failed === undefined; i++) {
      const name = `nodes/f${i}.cfg`;
      const data = payload(i, 64 * 1024);
      const code = errnoOf(() => fs.writeFileSync(join(mnt, name), data));
      if (code === 'ok') ok.set(name, data);
      else failed = { name, data, code };
    }
    expect(failed?.code).toBe('ENOSPC');

    // The daemon is alive and serves what it had.
    expect(daemon.proc.exitCode).toBeNull();
    expect(fs.readFileSync(join(mnt, 'datacenter.cfg'))).toEqual(before);
    for (const [name, data] of ok) expect(fs.readFileSync(join(mnt, name))).toEqual(data);
    expect(fs.readdirSync(join(mnt, 'nodes')).length).toBeGreaterThanOrEqual(ok.size);
    // A rewrite of an existing file fails too, and leaves the old content.
    expect(errnoOf(() => fs.writeFileSync(join(mnt, 'datacenter.cfg'), Buffer.alloc(200 * 1024, 1)))).toBe('ENOSPC');
    const afterFail = fs.readFileSync(join(mnt, 'datacenter.cfg'));
    // O_TRUNC is a separate truncate the kernel sends before the write; it may have been stored.
    expect([before.toString(), '']).toContain(afterFail.toString());
    expect(fs.readFileSync(join(mnt, '.version'), 'utf8')).toContain('"starttime"');

    // Space again: the very same writes succeed; no sticky EIO.
    fs.unlinkSync(filler);
    fs.writeFileSync(join(mnt, failed!.name), failed!.data);
    ok.set(failed!.name, failed!.data);
    fs.writeFileSync(join(mnt, 'datacenter.cfg'), before);
    fs.mkdirSync(join(mnt, 'priv'));
    fs.writeFileSync(join(mnt, 'priv/after.key'), 'written after the disk was freed\n');
    expect(fs.readFileSync(join(mnt, failed!.name))).toEqual(failed!.data);

    expect(await stopDaemon(daemon)).toBe(0);
    expect(daemon.stderr()).not.toMatch(/TypeError|RangeError|Uncaught|unhandled/i);

    daemon = await startDaemon({ dir: top, args: daemonArgs() });
    for (const [name, data] of ok) expect(fs.readFileSync(join(mnt, name))).toEqual(data);
    expect(fs.readFileSync(join(mnt, 'datacenter.cfg'))).toEqual(before);
    expect(fs.readFileSync(join(mnt, 'priv/after.key'), 'utf8')).toBe('written after the disk was freed\n');
    expect(await stopDaemon(daemon)).toBe(0);
  });

  it('fsync reports ENOSPC for chunks written through one descriptor; later writes on the same file work after freeing space', async () => {
    daemon = await startDaemon({ dir: top, args: daemonArgs() });
    const mnt = daemon.mnt;
    const file = join(mnt, 'chunked.cfg');
    fs.writeFileSync(file, 'v1\n');
    const filler = join(dbDir, 'filler');
    fillDisk(filler);

    const fd = fs.openSync(file, 'r+');
    for (let i = 0; i < 8; i++) fs.writeSync(fd, Buffer.alloc(32 * 1024, 0x30 + i), 0, 32 * 1024, i * 32 * 1024);
    expect(errnoOf(() => fs.fsyncSync(fd))).toBe('ENOSPC');
    fs.closeSync(fd); // the error was reported once; nothing is buffered any more
    expect(fs.readFileSync(file, 'utf8')).toBe('v1\n');

    fs.unlinkSync(filler);
    const fd2 = fs.openSync(file, 'r+');
    for (let i = 0; i < 8; i++) fs.writeSync(fd2, Buffer.alloc(32 * 1024, 0x30 + i), 0, 32 * 1024, i * 32 * 1024);
    fs.closeSync(fd2);
    const back = fs.readFileSync(file);
    expect(back.length).toBe(256 * 1024);
    expect(back[255 * 1024]).toBe(0x37);
    expect(await stopDaemon(daemon)).toBe(0);
  });
});
