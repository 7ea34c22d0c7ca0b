/**
 * `pmxcfs-ts status` against a real local-mode daemon: the healthy report and its exit status, locks
 * with their age on the daemon's clock, the control socket's answers to malformed requests, and the
 * unhealthy cases (daemon stopped, daemon frozen with a hung mount, daemon killed).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asWwwData, cleanup, MAIN_JS, makeTempDir, startDaemon, stopDaemon, waitForControlSocket, type DaemonHandle } from './daemon-harness';

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the status command as a separate process (asynchronously: the daemon may be frozen). Unless
 * the test sets its own, the deadline is 30 s instead of 3 s: a daemon that answers late on a busy
 * machine is still healthy, and only the frozen-daemon test is about the deadline.
 */
function statusCli(args: string[]): Promise<CliResult> {
  const withTimeout = args.includes('--timeout') ? args : ['--timeout', '30000', ...args];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN_JS, 'status', ...withTimeout], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr })); // 'close': all output read
  });
}

/** Sends raw bytes to the control socket and returns everything it answers. */
function rawRequest(path: string, bytes: string, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    sock.on('connect', () => {
      sock.write(bytes);
      if (halfClose) sock.end();
    });
    sock.on('data', (c: Buffer) => (text += c.toString()));
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
  });
}

let d: DaemonHandle;
let clockFile: string;
let socket: string;

beforeAll(async () => {
  const dir = makeTempDir('pmxcfs-ops-');
  clockFile = join(dir, 'clock-offset');
  fs.writeFileSync(clockFile, '0');
  d = await startDaemon({ dir, env: { PMXCFS_TEST_CLOCK_FILE: clockFile } });
  socket = join(dir, 'pmxcfs-ts.sock');
  await waitForControlSocket(socket);
});
afterAll(async () => {
  if (d?.proc.signalCode === null && d.proc.exitCode === null) d.proc.kill('SIGCONT');
  await cleanup(d);
});

describe('pmxcfs-ts status against a healthy local-mode daemon', () => {
  it('exits 0 and reports mode, quorum, database version, mount and the cluster log (--json)', async () => {
    const r = await statusCli(['--db', d.db, '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.healthy).toBe(true);
    expect(report.problems).toEqual([]);
    expect(report.socket).toBe(socket);
    expect(report.mount).toMatchObject({ path: d.mnt, mounted: true, fstype: 'fuse', responsive: true });
    expect(report.status).toMatchObject({
      nodename: 'node1',
      pid: d.proc.pid,
      mode: 'local',
      mount: d.mnt,
      db: d.db,
      quorate: true,
      nodeid: 0,
      memdbErrors: false,
      debug: false,
      members: [],
      guests: 0,
      locks: [],
    });
    expect(report.status.version).toBeGreaterThanOrEqual(1);
    expect(report.status.clusterLog[0]).toMatchObject({ node: 'node1', tag: 'cluster', user: 'root', msg: 'starting cluster log', pri: 6 });
  });

  it('prints a readable summary without --json', async () => {
    const r = await statusCli(['--db', d.db]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^health: +OK$/m);
    expect(r.stdout).toMatch(/^mode: +local$/m);
    expect(r.stdout).toMatch(/^quorum: +quorate$/m);
    expect(r.stdout).toMatch(new RegExp(`^mount: +${d.mnt}: mounted, responsive`, 'm'));
    expect(r.stdout).toMatch(/starting cluster log/);
  });

  it('the database version follows changes and guests are counted', async () => {
    const before = JSON.parse((await statusCli(['--db', d.db, '--json'])).stdout).status.version as number;
    fs.mkdirSync(join(d.mnt, 'nodes/node1/qemu-server'), { recursive: true });
    fs.writeFileSync(join(d.mnt, 'nodes/node1/qemu-server/100.conf'), 'memory: 512\n');
    const after = JSON.parse((await statusCli(['--db', d.db, '--json'])).stdout).status;
    expect(after.version).toBeGreaterThan(before);
    expect(after.guests).toBe(1);
  });

  it('lists held locks with their age on the daemon clock and the time left before expiry', async () => {
    fs.mkdirSync(join(d.mnt, 'priv/lock'), { recursive: true });
    fs.mkdirSync(join(d.mnt, 'priv/lock/file-storage_cfg'));
    fs.mkdirSync(join(d.mnt, 'priv/lock/authkey'));
    fs.writeFileSync(clockFile, '50'); // the daemon's clock jumps 50 s ahead
    const s = JSON.parse((await statusCli(['--db', d.db, '--json'])).stdout).status;
    expect(s.locks.map((l: { name: string }) => l.name)).toEqual(['authkey', 'file-storage_cfg']);
    for (const l of s.locks) {
      expect(l.writer).toBe(0);
      expect(l.age).toBeGreaterThanOrEqual(50);
      expect(l.age).toBeLessThan(50 + 60); // generous: only the clock jump is asserted
      expect(l.expiresIn).toBe(121 - l.age);
    }
    const text = (await statusCli(['--db', d.db])).stdout;
    expect(text).toMatch(/^ +authkey +held \d+s, writer 0, expires in \d+s$/m);

    fs.writeFileSync(clockFile, '200'); // past the 120 s timeout
    const late = JSON.parse((await statusCli(['--db', d.db, '--json'])).stdout).status;
    expect(late.locks.every((l: { expiresIn: number }) => l.expiresIn === 0)).toBe(true);
    expect((await statusCli(['--db', d.db])).stdout).toMatch(/authkey +held .*expired/);
    fs.writeFileSync(clockFile, '0');
  });

  it('the socket is root only: mode 0600, and www-data is refused with a clear message', async () => {
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(socket).isSocket()).toBe(true);
    const r = asWwwData([process.execPath, MAIN_JS, 'status', '--db', d.db]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/permission denied on .*needs root/);
  });

  it('answers malformed requests with an error and keeps serving', async () => {
    const answers = [
      await rawRequest(socket, 'not json\n'),
      await rawRequest(socket, '[1,2]\n'),
      await rawRequest(socket, '{"cmd":"reboot"}\n'),
      await rawRequest(socket, '{"cmd":"status","logLines":-1}\n'),
      await rawRequest(socket, ''),
      await rawRequest(socket, 'x'.repeat(100_000), false),
      await rawRequest(socket, '\u0000\u00ff\n'),
    ].map((t) => JSON.parse(t));
    for (const a of answers) {
      expect(a.ok).toBe(false);
      expect(typeof a.error).toBe('string');
    }
    expect(answers[2].error).toMatch(/unknown command "reboot"/);
    expect(answers[5].error).toMatch(/longer than/);
    expect(JSON.parse(await rawRequest(socket, '{"cmd":"ping"}\n'))).toEqual({ ok: true, pid: d.proc.pid });
    expect((await statusCli(['--db', d.db])).status).toBe(0);
  });

  it('refuses bad options with exit status 64', async () => {
    const r = await statusCli(['--bogus']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/unknown option --bogus/);
    const h = await statusCli(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/Exit status: 0 healthy/);
  });

  it('the daemon flags still work beside the subcommand', () => {
    const r = spawnSync(process.execPath, [MAIN_JS, '-f', '-l', '-d', 'extra'], { encoding: 'utf8' });
    expect(r.status).toBe(255);
    expect(r.stderr).toMatch(/too many arguments/);
  });
});

describe('pmxcfs-ts status --mount DIR finds the daemon serving DIR', () => {
  it('a daemon with a non-default --db: found from the mount alone, reported healthy', async () => {
    const r = await statusCli(['--mount', d.mnt, '--json', '--timeout', '30000']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.socket).toBe(socket);
    expect(report.status).toMatchObject({ pid: d.proc.pid, db: d.db, mount: d.mnt });
  });

  it('a daemon with its own --control-socket: found; once the socket is gone, named and never called "not running"', async () => {
    const dir = makeTempDir('pmxcfs-ops-sock-');
    const sock = join(dir, 'elsewhere', 'ctl.sock');
    fs.mkdirSync(join(dir, 'elsewhere'));
    const other = await startDaemon({
      dir,
      args: ['-f', '-l', '--mount', join(dir, 'mnt'), '--db', join(dir, 'config.db'), '--nodename', 'node1', '--control-socket', sock],
    });
    try {
      await waitForControlSocket(sock);
      const found = await statusCli(['--mount', other.mnt, '--json', '--timeout', '30000']);
      expect(found.status).toBe(0);
      expect(JSON.parse(found.stdout)).toMatchObject({ socket: sock, status: { pid: other.proc.pid } });
      // The daemon asked first (a default socket of another daemon) serves another mount: not that one.
      const wrong = await statusCli(['--db', d.db, '--mount', other.mnt, '--json', '--timeout', '30000']);
      expect(JSON.parse(wrong.stdout)).toMatchObject({ socket: sock, status: { pid: other.proc.pid } });

      fs.rmSync(sock);
      const lost = await statusCli(['--mount', other.mnt, '--json', '--timeout', '30000']);
      expect(lost.status).toBe(2);
      const report = JSON.parse(lost.stdout);
      expect(report.daemon.error).not.toMatch(/not running/);
      expect(report.daemon.error).toContain(`is served by pid ${other.proc.pid} (`);
      expect(report.daemon.error).toContain(`which does not answer on ${sock}`);
      expect(report.mount).toMatchObject({ mounted: true, responsive: true });
    } finally {
      await cleanup(other);
    }
  });
});

describe('pmxcfs-ts status when the daemon is unhealthy', () => {
  it('a frozen daemon: not answering and the mount hung, reported within the timeout (exit 2)', async () => {
    d.proc.kill('SIGSTOP');
    try {
      const r = await statusCli(['--db', d.db, '--mount', d.mnt, '--timeout', '1000', '--json']);
      expect(r.status).toBe(2);
      const report = JSON.parse(r.stdout);
      expect(report.healthy).toBe(false);
      expect(report.daemon.error).toMatch(/not answering .* within 1000 ms/);
      expect(report.mount).toMatchObject({ mounted: true, responsive: false });
      expect(report.mount.detail).toMatch(/no answer .* within 1000 ms/);
    } finally {
      d.proc.kill('SIGCONT');
    }
    expect((await statusCli(['--db', d.db])).status).toBe(0);
  });

  it('a stopped daemon: exit 2, "daemon not running", file system not mounted', async () => {
    await stopDaemon(d);
    expect(fs.existsSync(socket)).toBe(false); // removed at shutdown
    const r = await statusCli(['--db', d.db, '--mount', d.mnt]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^health: +UNHEALTHY$/m);
    expect(r.stdout).toMatch(/daemon not running: no control socket at/);
    expect(r.stdout).toMatch(/file system not mounted/);
  });

  it('a killed daemon: stale socket and a dead mount are both reported', async () => {
    d = await startDaemon({ dir: d.dir });
    await waitForControlSocket(socket); // kill only once it is there
    d.proc.kill('SIGKILL');
    await d.exited;
    const r = await statusCli(['--db', d.db, '--mount', d.mnt, '--json']);
    expect(r.status).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.daemon.error).toMatch(/nothing listens .*stale socket/);
    expect(report.mount).toMatchObject({ mounted: true, responsive: false });
    expect(report.problems.join('\n')).toMatch(/mount not responsive/);
  });
});
