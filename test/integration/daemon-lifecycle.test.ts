/**
 * The daemon as a process (spec §1): restart keeps the tree, kill -9 loses no closed write, a second
 * instance and a corrupt database are refused, SIGTERM commits and unmounts, daemonizing, flags.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAIN_JS,
  cleanupAll,
  isMounted,
  makeTempDir,
  spawnDaemon,
  startDaemon,
  stopDaemon,
  waitUntil,
  type DaemonHandle,
} from './daemon-harness';

const started: DaemonHandle[] = [];
const track = (d: DaemonHandle) => (started.push(d), d);
const tempDirs: string[] = [];
const tempDir = () => {
  const dir = makeTempDir();
  tempDirs.push(dir);
  return dir;
};
afterEach(async () => {
  await cleanupAll(started.splice(0));
  for (const dir of tempDirs.splice(0)) if (!isMounted(join(dir, 'mnt'))) fs.rmSync(dir, { recursive: true, force: true });
});

describe('command line', () => {
  it('an extra positional argument: "too many arguments", exit 255', () => {
    const r = spawnSync(process.execPath, [MAIN_JS, '-f', 'extra'], { encoding: 'utf8' });
    expect(r.status).toBe(255);
    expect(r.stderr).toContain('too many arguments');
  });

  it('--help prints the options', () => {
    const r = spawnSync(process.execPath, [MAIN_JS, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('--foreground');
    expect(r.stdout).toContain('--local');
  });
});

describe('persistence', () => {
  it('a restart with the same database keeps every file', async () => {
    const d1 = track(await startDaemon());
    fs.mkdirSync(join(d1.mnt, 'nodes/node1/qemu-server'), { recursive: true });
    fs.writeFileSync(join(d1.mnt, 'nodes/node1/qemu-server/100.conf'), 'cores: 2\n');
    fs.mkdirSync(join(d1.mnt, 'priv'));
    fs.writeFileSync(join(d1.mnt, 'priv/authkey.key'), Buffer.alloc(3000, 7));
    fs.writeFileSync(join(d1.mnt, 'datacenter.cfg'), 'keyboard: de\n');
    expect(await stopDaemon(d1)).toBe(0);
    expect(isMounted(d1.mnt)).toBe(false);

    const d2 = track(await startDaemon({ dir: d1.dir }));
    expect(fs.readFileSync(join(d2.mnt, 'nodes/node1/qemu-server/100.conf'), 'utf8')).toBe('cores: 2\n');
    expect(fs.readFileSync(join(d2.mnt, 'priv/authkey.key'))).toEqual(Buffer.alloc(3000, 7));
    expect(fs.readFileSync(join(d2.mnt, 'datacenter.cfg'), 'utf8')).toBe('keyboard: de\n');
    expect(fs.readFileSync(join(d2.mnt, '.vmlist'), 'utf8')).toContain('"100": { "node": "node1", "type": "qemu"');
  });

  it('SIGTERM commits writes pending on an open file, unmounts and exits 0', async () => {
    const d1 = track(await startDaemon());
    const fd = fs.openSync(join(d1.mnt, 'open-at-exit'), 'w');
    fs.writeSync(fd, 'pending');
    expect(await stopDaemon(d1)).toBe(0);
    expect(isMounted(d1.mnt)).toBe(false);
    try {
      fs.closeSync(fd);
    } catch {
      // the mount is gone
    }
    const d2 = track(await startDaemon({ dir: d1.dir }));
    expect(fs.readFileSync(join(d2.mnt, 'open-at-exit'), 'utf8')).toBe('pending');
  });

  it('SIGTERM right after the mount appears (start-up not finished) still unmounts cleanly and exits 0', async () => {
    const dir = tempDir();
    for (let round = 0; round < 5; round++) {
      const d = track(spawnDaemon({ dir }));
      // Poll fast: the point is to hit the moments between the mount and the end of start-up.
      const deadline = Date.now() + 60_000;
      while (!isMounted(d.mnt) && d.proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      d.proc.kill('SIGTERM');
      expect(await d.exited, d.stderr()).toBe(0);
      expect(isMounted(d.mnt)).toBe(false);
    }
  });

  it('an unmount from outside ends the daemon like SIGTERM: what was written is kept, exit 0', async () => {
    const d1 = track(await startDaemon());
    fs.writeFileSync(join(d1.mnt, 'before-umount'), 'kept');
    expect(spawnSync('umount', [d1.mnt]).status).toBe(0);
    expect(await d1.exited).toBe(0);
    expect(d1.stderr()).toContain('the kernel ended the connection');
    const d2 = track(await startDaemon({ dir: d1.dir }));
    expect(fs.readFileSync(join(d2.mnt, 'before-umount'), 'utf8')).toBe('kept');
  });

  it('kill -9 during a stream of writes loses no write whose close returned; a plain restart clears the dead mount', async () => {
    const d1 = track(await startDaemon());
    const writer = `
      const fs = require('fs');
      for (let i = 0; ; i++) {
        try { fs.writeFileSync(process.argv[1] + '/f' + i, 'content-' + i + '-'.repeat(i % 700)); }
        catch (e) { process.exit(0); }
        process.stdout.write(i + '\\n');
      }`;
    const w = spawn(process.execPath, ['-e', writer, d1.mnt], { stdio: ['ignore', 'pipe', 'ignore'] });
    // Listen before anything can end: the writer may exit before the daemon's exit is seen here.
    const writerDone = new Promise<void>((r) => w.on('close', () => r()));
    let confirmed = -1;
    let out = '';
    w.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) confirmed = Number(l);
    });
    await waitUntil('300 confirmed writes', () => (confirmed >= 300 ? true : undefined), 120_000);
    d1.proc.kill('SIGKILL');
    await d1.exited;
    await writerDone; // 'close': every confirmation it printed has been read
    const lastConfirmed = confirmed;
    expect(isMounted(d1.mnt)).toBe(true); // the dead mount is left behind: no clean-up step here

    const d2 = track(await startDaemon({ dir: d1.dir }));
    expect(d2.stderr()).toContain('detached the dead FUSE mount');
    for (let i = 0; i <= lastConfirmed; i++) {
      expect(fs.readFileSync(join(d2.mnt, `f${i}`), 'utf8')).toBe(`content-${i}${'-'.repeat(i % 700)}`);
    }
  });

  it('kill -9 while a process still sits in the mount: a plain restart detaches the dead mount and serves the data', async () => {
    const d1 = track(await startDaemon());
    fs.writeFileSync(join(d1.mnt, 'kept'), 'yes');
    // A shell whose working directory is inside the mount keeps the dead mount busy.
    const squatter = spawn('sleep', ['600'], { cwd: d1.mnt, stdio: 'ignore' });
    const squatterGone = new Promise((r) => squatter.on('exit', r));
    try {
      d1.proc.kill('SIGKILL');
      await d1.exited;
      const d2 = track(await startDaemon({ dir: d1.dir }));
      expect(fs.readFileSync(join(d2.mnt, 'kept'), 'utf8')).toBe('yes');
      expect(d2.stderr()).toContain('detached the dead FUSE mount');
    } finally {
      squatter.kill('SIGKILL');
      await squatterGone;
    }
  });
});

describe('refusals', () => {
  it('a second instance on the same database is refused', async () => {
    const d1 = track(await startDaemon());
    const dir2 = makeTempDir();
    const d2 = track(
      spawnDaemon({ dir: dir2, args: ['-f', '-l', '--mount', join(dir2, 'mnt'), '--db', d1.db, '--nodename', 'node1'] }),
    );
    expect(await d2.exited).toBe(255);
    expect(d2.stderr()).toContain('unable to acquire pmxcfs lock');
    expect(isMounted(join(dir2, 'mnt'))).toBe(false);
    expect(isMounted(d1.mnt)).toBe(true);
  });

  it('a mount point served by another live daemon is refused, naming that daemon', async () => {
    const d1 = track(await startDaemon());
    const dir2 = tempDir();
    const d2 = track(
      spawnDaemon({ dir: dir2, args: ['-f', '-l', '--mount', d1.mnt, '--db', join(dir2, 'config.db'), '--nodename', 'n'] }),
    );
    expect(await d2.exited).toBe(255);
    expect(d2.stderr()).toContain(`mount point '${d1.mnt}' is served by a running FUSE daemon: pid ${d1.proc.pid} (`);
    expect(d2.stderr()).toContain(`--db ${d1.db}`);
    expect(fs.readFileSync(join(d1.mnt, '.version'), 'utf8')).toContain('"starttime"'); // still served
  });

  it('a mount point whose daemon is alive but does not answer is left alone and refused', async () => {
    const d1 = track(await startDaemon());
    const dir2 = tempDir();
    d1.proc.kill('SIGSTOP');
    try {
      const d2 = track(
        spawnDaemon({ dir: dir2, args: ['-f', '-l', '--mount', d1.mnt, '--db', join(dir2, 'config.db'), '--nodename', 'n'] }),
      );
      expect(await d2.exited).toBe(255);
      expect(d2.stderr()).toContain('holds a FUSE mount that does not answer');
      expect(d2.stderr()).toContain(`pid ${d1.proc.pid} (`);
    } finally {
      d1.proc.kill('SIGCONT');
    }
    expect(isMounted(d1.mnt)).toBe(true);
    expect(await stopDaemon(d1)).toBe(0);
  }, 120_000);

  it('a corrupt database is refused and left untouched', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'config.db');
    const garbage = Buffer.alloc(8192, 0x5a);
    fs.writeFileSync(db, garbage);
    const d = track(spawnDaemon({ dir }));
    expect(await d.exited).toBe(255);
    expect(d.stderr()).toContain('unable to open database');
    expect(fs.readFileSync(db)).toEqual(garbage);
    expect(isMounted(d.mnt)).toBe(false);
  });

  it('a database with an invalid tree is refused and left untouched', async () => {
    const dir = makeTempDir();
    const db = join(dir, 'config.db');
    const d1 = track(await startDaemon({ dir }));
    fs.writeFileSync(join(d1.mnt, 'x'), 'x');
    await stopDaemon(d1);
    // A row whose parent does not exist.
    const r = spawnSync('sqlite3', [db, "INSERT INTO tree VALUES (999, 777, 3, 0, 0, 8, 'orphan', NULL);"]);
    expect(r.status).toBe(0);
    const before = fs.readFileSync(db);
    const d2 = track(spawnDaemon({ dir }));
    expect(await d2.exited).toBe(255);
    expect(d2.stderr()).toContain('unable to load database');
    expect(fs.readFileSync(db)).toEqual(before);
  });
});

describe('daemon mode', () => {
  // As the reference (observed 2026-12-07, pmxcfs -f -l): -f writes the pid file too; the restart
  // flag PVE::IPCC waits on is removed once the daemon is up and made again (0440 root:www-data) at shutdown.
  it('with -f: pid file with our pid while running; restart flag cleared when up, raised at shutdown', async () => {
    const dir = tempDir();
    const flag = join(dir, 'cfs-restart-flag');
    fs.writeFileSync(flag, '', { mode: 0o440 }); // left by an earlier shutdown
    const d = track(await startDaemon({ dir }));
    const pidFile = join(dir, 'pmxcfs.pid');
    await waitUntil('the pid file and the flag to go', () =>
      fs.existsSync(pidFile) && !fs.existsSync(flag) ? true : undefined,
    );
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(`${d.proc.pid}\n`);
    expect(fs.statSync(pidFile).mode & 0o7777).toBe(0o644);
    expect(await stopDaemon(d)).toBe(0);
    const st = fs.statSync(flag);
    expect(st.mode & 0o7777).toBe(0o440);
    expect([st.uid, st.gid]).toEqual([0, Number(spawnSync('getent', ['group', 'www-data'], { encoding: 'utf8' }).stdout.split(':')[2])]);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('without -f: exits 0 once mounted, writes the pid file, SIGTERM stops and removes it', async () => {
    const dir = tempDir();
    const mnt = join(dir, 'mnt');
    const db = join(dir, 'config.db');
    const r = spawnSync(process.execPath, [MAIN_JS, '-l', '--mount', mnt, '--db', db, '--nodename', 'node1'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(isMounted(mnt)).toBe(true);
    const pid = Number(fs.readFileSync(join(dir, 'pmxcfs.pid'), 'utf8').trim());
    expect(pid).toBeGreaterThan(0);
    try {
      expect(fs.readFileSync(join(mnt, '.members'), 'utf8')).toContain('"nodename": "node1"');
    } finally {
      process.kill(pid, 'SIGTERM');
      await waitUntil('the daemon to unmount', () => (isMounted(mnt) ? undefined : true));
    }
    await waitUntil('the pid file to go', () => (fs.existsSync(join(dir, 'pmxcfs.pid')) ? undefined : true));
  });

  it('without -f: relative path options are taken from the caller\'s directory, not the daemon\'s /', async () => {
    const dir = tempDir();
    // Names unique to this run: a daemon that resolved them against / must not hit anything real.
    const tag = basename(dir);
    const rel = { mnt: `mnt-${tag}`, db: `state-${tag}/config.db`, socket: `ctl-${tag}.sock` };
    const r = spawnSync(
      process.execPath,
      [MAIN_JS, '-l', '--mount', rel.mnt, `--db=${rel.db}`, '--nodename', 'node1', '--control-socket', rel.socket, '--rrdcached-socket', 'none'],
      { encoding: 'utf8', cwd: dir },
    );
    const mnt = join(dir, rel.mnt);
    const pidFile = join(dir, `state-${tag}`, 'pmxcfs.pid');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    expect(pid).toBeGreaterThan(0);
    try {
      expect(isMounted(mnt)).toBe(true);
      fs.writeFileSync(join(mnt, 'a.cfg'), 'relative\n');
      const status = spawnSync(process.execPath, [MAIN_JS, 'status', '--json', '--socket', join(dir, rel.socket), '--mount', mnt], {
        encoding: 'utf8',
      });
      expect(status.status).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ mount: { path: mnt, responsive: true }, status: { mount: mnt, db: join(dir, rel.db) } });
    } finally {
      process.kill(pid, 'SIGTERM');
      await waitUntil('the daemon to unmount', () => (isMounted(mnt) ? undefined : true));
    }
    await waitUntil('the pid file to go', () => (fs.existsSync(pidFile) ? undefined : true));
    const rows = spawnSync('sqlite3', [join(dir, rel.db), "SELECT name FROM tree WHERE name = 'a.cfg';"], { encoding: 'utf8' });
    expect(rows.stdout.trim()).toBe('a.cfg');
  });

  it('without -f, a pid file that cannot be written: a warning, exit 0, the daemon runs (as the reference)', async () => {
    const dir = tempDir();
    const mnt = join(dir, 'mnt');
    fs.mkdirSync(join(dir, 'pmxcfs.pid')); // rename onto a directory fails
    const r = spawnSync(process.execPath, [MAIN_JS, '-l', '--mount', mnt, '--db', join(dir, 'config.db'), '--nodename', 'node1'], {
      encoding: 'utf8',
    });
    const status = spawnSync(process.execPath, [MAIN_JS, 'status', '--json', '--db', join(dir, 'config.db'), '--mount', mnt], { encoding: 'utf8' });
    const pid = (JSON.parse(status.stdout) as { status: { pid: number } }).status.pid;
    try {
      expect(r.stderr).toContain(`unable to write pid file (daemon pid ${pid})`);
      expect(r.status).toBe(0);
      expect(isMounted(mnt)).toBe(true);
      expect(fs.readdirSync(dir).filter((n) => n.startsWith('pmxcfs.pid.tmp'))).toEqual([]);
    } finally {
      process.kill(pid, 'SIGTERM');
      await waitUntil('the daemon to unmount', () => (isMounted(mnt) ? undefined : true));
    }
  });

  it('without -f, a failing start reports the error and exits 255', () => {
    const dir = tempDir();
    fs.writeFileSync(join(dir, 'config.db'), 'not a database at all, definitely not one'.repeat(200));
    const r = spawnSync(
      process.execPath,
      [MAIN_JS, '-l', '--mount', join(dir, 'mnt'), '--db', join(dir, 'config.db'), '--nodename', 'node1'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(255);
    expect(r.stderr).toContain('unable to open database');
  });
});
