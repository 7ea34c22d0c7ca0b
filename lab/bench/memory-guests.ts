/**
 * `node dist/lab/bench/memory-guests.js [--guests 10000] [--daemon FILE] [--tmp DIR]`
 *
 * Memory per guest config (issue 10): starts an own local-mode daemon (with the Node options of
 * src/daemon/v8-flags.ts, as the daemonized and packaged daemon runs), reads its RSS, creates
 * `--guests` guest configs of realistic size (the bench's 1,000-config figure uses the same text)
 * in nodes/node1/qemu-server, waits until the RSS is steady and reads it again. The growth divided
 * by the number of guests is the figure; the reference grows by about 1.2 KB per guest.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { DAEMON_NODE_OPTIONS } from '../../src/daemon/v8-flags';
import { guestConfig } from './operations';
import { isMountPoint } from './target';

interface Options {
  guests: number;
  daemon: string;
  tmp: string;
}

function parse(argv: readonly string[]): Options {
  const o: Options = { guests: 10_000, daemon: path.resolve(__dirname, '../../src/main.js'), tmp: os.tmpdir() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === '--guests' && /^[1-9][0-9]*$/.test(value)) o.guests = Number(value);
    else if (arg === '--daemon') o.daemon = path.resolve(value);
    else if (arg === '--tmp') o.tmp = value;
    else throw new Error(`unknown or bad option ${arg} ${value}`);
  }
  return o;
}

/** Resident set size of a process in KiB (VmRSS of /proc/<pid>/status). */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * RSS once the daemon was quiet for 6 s (its idle collection, src/daemon/idle-gc.ts, runs after
 * 2-4 s) and then stopped moving by more than 1 % over 1 s; at most 15 s more.
 */
async function steadyRss(pid: number): Promise<number> {
  await sleep(6000);
  let last = rssKiB(pid);
  for (let i = 0; i < 15; i++) {
    await sleep(1000);
    const now = rssKiB(pid);
    if (Math.abs(now - last) <= last * 0.01) return now;
    last = now;
  }
  return last;
}

/** A local-mode daemon started with the Node options it runs with in production (v8-flags.ts). */
async function startDaemon(o: Options): Promise<{ mount: string; proc: ChildProcess; base: string }> {
  const base = fs.mkdtempSync(path.join(o.tmp, 'pmxcfs-memory-'));
  const mount = path.join(base, 'mnt');
  fs.mkdirSync(mount);
  const proc = spawn(process.execPath, [...DAEMON_NODE_OPTIONS, o.daemon, '-f', '-l', '--mount', mount, '--db', path.join(base, 'config.db'), '--nodename', 'node1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 200 && !isMountPoint(mount); i++) {
    if (proc.exitCode !== null) throw new Error(`daemon exited with ${proc.exitCode}`);
    await sleep(100);
  }
  if (!isMountPoint(mount)) throw new Error('daemon did not mount within 20 s');
  return { mount, proc, base };
}

async function stopDaemon(d: { mount: string; proc: ChildProcess; base: string }): Promise<void> {
  if (d.proc.exitCode === null) {
    const exited = new Promise((r) => d.proc.once('exit', r));
    d.proc.kill('SIGTERM');
    await exited;
  }
  if (isMountPoint(d.mount)) spawnSync('fusermount', ['-uz', d.mount]);
  if (!isMountPoint(d.mount)) fs.rmSync(d.base, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const target = await startDaemon(o);
  try {
    const pid = target.proc.pid!;
    const dir = path.join(target.mount, 'nodes', 'node1', 'qemu-server');
    fs.mkdirSync(dir, { recursive: true });
    const before = await steadyRss(pid);
    let bytes = 0;
    const start = Date.now();
    for (let i = 0; i < o.guests; i++) {
      const data = guestConfig(100 + i);
      bytes += data.length;
      fs.writeFileSync(path.join(dir, `${100 + i}.conf`), data);
    }
    const seconds = (Date.now() - start) / 1000;
    const after = await steadyRss(pid);
    const perGuest = ((after - before) * 1024) / o.guests;
    process.stdout.write(
      `guests: ${o.guests} (${(bytes / o.guests).toFixed(0)} bytes each, created in ${seconds.toFixed(1)} s)\n` +
        `daemon RSS before: ${(before / 1024).toFixed(1)} MiB, after: ${(after / 1024).toFixed(1)} MiB\n` +
        `growth per guest: ${(perGuest / 1024).toFixed(2)} KiB (reference: about 1.2 KiB; goal: at most 2.4 KiB)\n` +
        `load average: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`,
    );
  } finally {
    await stopDaemon(target);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`memory-guests: ${err.message}\n`);
  process.exit(1);
});
