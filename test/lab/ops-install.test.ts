/**
 * The Debian package on a Debian 12 container: build it with packaging/build-deb.sh, install it with
 * dpkg, run the daemon from the installed location with the unit's own ExecStartPre/ExecStart lines
 * (no systemd in the container; the unit is checked with `systemd-analyze verify` on the host),
 * check paths, modes and owners, recover from a crash, uninstall and purge (config.db stays), and
 * reinstall onto the kept database.
 *
 * Runs in the lab group: it starts the Docker engine and makes the debian:bookworm-slim base image
 * (docker/make-base-image.sh, no registry needed) the same way `npm run lab -- up` does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBaseImage, ensureEngine, ensureHostPackages } from '../../lab/engine';
import { labPaths } from '../../lab/topology';

const REPO = resolve(__dirname, '../..');
const BASE_IMAGE = 'debian:bookworm-slim';
const log = (line: string): void => console.log(`[ops-install] ${line}`);
const DEPS_IMAGE = 'pmxcfs-ts-ops-test:deps-librrd'; // the package Depends on librrd8 (new tag: an older cached image lacks it)
const CONTAINER = `pmxcfs-ts-ops-${process.pid}`;

function run(cmd: string, args: string[], timeoutMs = 300_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** A shell command in our container. */
function sh(script: string, timeoutMs = 120_000): { status: number | null; stdout: string; stderr: string } {
  return run('docker', ['exec', CONTAINER, 'sh', '-c', script], timeoutMs);
}

/** `stat -c '%a %U:%G %F'` of a path in the container. */
function statIn(path: string): string {
  return sh(`stat -c '%a %U:%G %F' ${path}`).stdout.trim();
}

let work: string;
let deb: string;

/** The runtime dependencies of the package, installed once into a cached image. */
function ensureDepsImage(): void {
  if (run('docker', ['image', 'inspect', DEPS_IMAGE]).status === 0) return;
  const ctx = join(work, 'deps-image');
  spawnSync('mkdir', ['-p', ctx]);
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM ${BASE_IMAGE}\nRUN apt-get update && apt-get install -y --no-install-recommends libfuse2 fuse3 procps librrd8 && rm -rf /var/lib/apt/lists/*\n`,
  );
  const r = run('docker', ['build', '-t', DEPS_IMAGE, ctx], 600_000);
  if (r.status !== 0) throw new Error(`docker build of ${DEPS_IMAGE} failed: ${r.stderr.slice(-2000)}`);
}

/** The unit's command lines as systemd would run them here ($DAEMON_OPTS from /etc/default). */
function unitCommand(key: 'ExecStart' | 'ExecStartPre'): string {
  const unit = sh('cat /lib/systemd/system/pmxcfs-ts.service').stdout;
  const line = unit.split('\n').find((l) => l.startsWith(`${key}=`));
  if (line === undefined) throw new Error(`no ${key} in the unit`);
  // "-" prefix: failure ignored; $DAEMON_OPTS comes from the EnvironmentFile.
  const cmd = line.slice(key.length + 1).replace(/^-/, '');
  return `. /etc/default/pmxcfs-ts; ${cmd}`;
}

/** Whether /etc/pve is in the container's mount table (mountpoint(1) fails on a dead FUSE mount). */
function pveMounted(): boolean {
  return sh(`awk '$2 == "/etc/pve" { f = 1 } END { exit !f }' /proc/mounts`).status === 0;
}

function waitGone(pid: string): void {
  sh(`i=0; while kill -0 ${pid} 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done`);
}

describe('Debian package: install, run under the unit command line, uninstall', () => {
  beforeAll(async () => {
    const paths = labPaths();
    await ensureHostPackages(log);
    await ensureEngine(log, paths.stateDir);
    await ensureBaseImage(paths, log);
    work = mkdtempSync(join(tmpdir(), 'pmxcfs-ops-install-'));
    if (!existsSync(join(REPO, 'dist/src/main.js'))) throw new Error('dist/src/main.js missing: npm run build first');
    const out = join(work, 'out');
    const built = run('sh', [join(REPO, 'packaging/build-deb.sh'), '--no-build', '--out', out], 600_000);
    if (built.status !== 0) throw new Error(`build-deb.sh failed: ${built.stdout}${built.stderr}`);
    const name = run('sh', ['-c', `ls ${out}/*.deb`]).stdout.trim().split('\n')[0]!;
    deb = name.slice(out.length + 1);
    ensureDepsImage();
    run('docker', ['rm', '-f', CONTAINER], 60_000);
    const started = run('docker', [
      'run', '-d', '--init', '--name', CONTAINER, '--hostname', 'opsnode', '--cap-add', 'SYS_ADMIN', '--device', '/dev/fuse',
      '-v', `${out}:/pkg:ro`, DEPS_IMAGE, 'sleep', 'infinity',
    ]);
    if (started.status !== 0) throw new Error(`docker run failed: ${started.stderr}`);
  }, 1_200_000);

  afterAll(() => {
    run('docker', ['rm', '-f', CONTAINER], 60_000);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('systemd-analyze verify accepts the unit (in the unpacked package as root)', () => {
    if (run('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
      console.warn('systemd-analyze not installed on this host: unit verification skipped');
      return;
    }
    const root = join(work, 'unpacked');
    expect(run('dpkg-deb', ['-x', join(work, 'out', deb), root]).status).toBe(0);
    const v = run('systemd-analyze', ['verify', `--root=${root}`, '/lib/systemd/system/pmxcfs-ts.service']);
    expect(v.stderr + v.stdout).toBe(''); // verify exits 0 on "ignoring" warnings: require silence
    expect(v.status).toBe(0);
    const unit = readFileSync(join(root, 'lib/systemd/system/pmxcfs-ts.service'), 'utf8');
    for (const line of [
      'Wants=corosync.service', 'Wants=rrdcached.service', 'Before=corosync.service', 'ConditionFileIsExecutable=/usr/bin/pmxcfs-ts',
      'Type=forking', 'PIDFile=/run/pve-cluster.pid', 'ExecStart=/usr/bin/pmxcfs-ts $DAEMON_OPTS', 'KillMode=mixed',
      'Restart=on-failure', 'TimeoutStopSec=10',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  it('installs with dpkg, creating the www-data group when it is missing', () => {
    expect(sh('userdel www-data; groupdel www-data; getent group www-data').status).not.toBe(0);
    const r = sh(`dpkg -i /pkg/${deb}`);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(sh('getent group www-data').status).toBe(0);
    expect(statIn('/usr/bin/pmxcfs-ts')).toBe('755 root:root regular file');
    expect(statIn('/usr/lib/pmxcfs-ts/node')).toBe('755 root:root regular file');
    expect(statIn('/lib/systemd/system/pmxcfs-ts.service')).toBe('644 root:root regular file');
    expect(statIn('/var/lib/pve-cluster')).toBe('755 root:root directory');
    expect(statIn('/run/pve-cluster')).toBe('750 root:www-data directory');
    expect(sh('/usr/lib/pmxcfs-ts/node --version').stdout).toMatch(/^v20\./);
    // Only production modules were packaged.
    expect(sh('ls /usr/lib/pmxcfs-ts/node_modules').stdout.split('\n')).not.toContain('vitest');
    expect(sh('pmxcfs-ts --help').stdout).toMatch(/--foreground/);
  });

  it('the unit command line starts the daemon: forks after the mount is up, pid file, modes, healthy status', () => {
    expect(sh(unitCommand('ExecStartPre')).status).toBe(0); // nothing stale: no-op
    const started = sh(unitCommand('ExecStart'), 60_000);
    expect(started.status, started.stderr).toBe(0);
    // The parent has exited 0: the mount must already be there (Type=forking readiness).
    expect(pveMounted()).toBe(true);
    const pid = sh('cat /run/pve-cluster.pid').stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    expect(sh(`kill -0 ${pid}`).status).toBe(0);
    expect(sh(`cat /proc/${pid}/cmdline | tr '\\0' ' '`).stdout).toMatch(/^\/usr\/lib\/pmxcfs-ts\/node \/usr\/lib\/pmxcfs-ts\/dist\/src\/main.js/);
    expect(statIn('/run/pve-cluster.pid')).toBe('644 root:root regular file');
    expect(statIn('/var/lib/pve-cluster/config.db')).toBe('600 root:root regular file');
    expect(statIn('/run/pve-cluster/pmxcfs-ts.sock')).toBe('600 root:root socket');
    expect(statIn('/run/pve-cluster')).toBe('750 root:www-data directory');
    expect(statIn('/etc/pve')).toMatch(/^755 root:www-data directory$/);
    const st = sh('pmxcfs-ts status --json');
    expect(st.status, st.stdout).toBe(0);
    const report = JSON.parse(st.stdout);
    expect(report.status).toMatchObject({ nodename: 'opsnode', mode: 'local', quorate: true, mount: '/etc/pve', db: '/var/lib/pve-cluster/config.db', pid: Number(pid) });
    expect(sh('echo "keep: me" > /etc/pve/datacenter.cfg && cat /etc/pve/datacenter.cfg').stdout).toBe('keep: me\n');
  });

  it('SIGTERM (what systemctl stop sends) unmounts, removes the pid file and the socket', () => {
    const pid = sh('cat /run/pve-cluster.pid').stdout.trim();
    sh(`kill -TERM ${pid}`);
    waitGone(pid);
    expect(sh(`kill -0 ${pid}`).status).not.toBe(0);
    expect(pveMounted()).toBe(false);
    expect(sh('test -e /run/pve-cluster.pid').status).not.toBe(0);
    expect(sh('test -e /run/pve-cluster/pmxcfs-ts.sock').status).not.toBe(0);
    const st = sh('pmxcfs-ts status');
    expect(st.status).toBe(2);
    expect(st.stdout).toMatch(/daemon not running/);
  });

  it('after a crash (kill -9) ExecStart alone starts again (the daemon detaches the dead mount) and keeps the data', () => {
    expect(sh(unitCommand('ExecStart'), 60_000).status).toBe(0);
    const pid = sh('cat /run/pve-cluster.pid').stdout.trim();
    sh(`kill -KILL ${pid}`);
    waitGone(pid);
    expect(pveMounted()).toBe(true); // dead FUSE mount left behind
    const again = sh(unitCommand('ExecStart'), 60_000); // no clean-up step
    expect(again.status, again.stderr).toBe(0);
    expect(sh('cat /etc/pve/datacenter.cfg').stdout).toBe('keep: me\n');
    expect(sh('pmxcfs-ts status').status).toBe(0);
    expect(sh("awk '$2 == \"/etc/pve\"' /proc/mounts | wc -l").stdout.trim()).toBe('1'); // the new mount only
  });

  it('the unit ExecStartPre (belt and braces) also removes a dead mount, and the restart keeps the data', () => {
    const pid = sh('cat /run/pve-cluster.pid').stdout.trim();
    sh(`kill -KILL ${pid}`);
    waitGone(pid);
    expect(pveMounted()).toBe(true);
    const pre = sh(unitCommand('ExecStartPre'));
    expect(pre.stdout).toMatch(/removing the dead FUSE mount/);
    expect(pveMounted()).toBe(false);
    const again = sh(unitCommand('ExecStart'), 60_000);
    expect(again.status, again.stderr).toBe(0);
    expect(sh('cat /etc/pve/datacenter.cfg').stdout).toBe('keep: me\n');
    expect(sh('pmxcfs-ts status').status).toBe(0);
  });

  it('dpkg -r stops the running daemon and keeps config.db; purge keeps it too', () => {
    const pid = sh('cat /run/pve-cluster.pid').stdout.trim();
    const r = sh('dpkg -r pmxcfs-ts');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/config.db is kept/);
    expect(sh(`kill -0 ${pid}`).status).not.toBe(0);
    expect(pveMounted()).toBe(false);
    expect(sh('test -e /usr/bin/pmxcfs-ts || test -e /usr/lib/pmxcfs-ts/node').status).not.toBe(0);
    expect(statIn('/var/lib/pve-cluster/config.db')).toBe('600 root:root regular file');
    expect(sh('dpkg -P pmxcfs-ts').status).toBe(0);
    expect(sh('test -e /etc/default/pmxcfs-ts').status).not.toBe(0);
    expect(statIn('/var/lib/pve-cluster/config.db')).toBe('600 root:root regular file');
  });

  it('a reinstall serves the kept database', () => {
    expect(sh(`dpkg -i /pkg/${deb}`).status).toBe(0);
    expect(sh(unitCommand('ExecStart'), 60_000).status).toBe(0);
    expect(sh('cat /etc/pve/datacenter.cfg').stdout).toBe('keep: me\n');
    const pid = sh('cat /run/pve-cluster.pid').stdout.trim();
    sh(`kill -TERM ${pid}`);
    waitGone(pid);
    expect(pveMounted()).toBe(false);
  });
});
