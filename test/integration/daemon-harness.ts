/**
 * Starts the built daemon (dist/src/main.js) as a separate process on a private mount and database
 * and cleans up after it. Only the test process touches the mount; only our own daemon is killed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isFuse, topMountAt } from '../../src/daemon/mountinfo';

export const MAIN_JS = resolve(__dirname, '../../dist/src/main.js');

export interface DaemonHandle {
  dir: string;
  mnt: string;
  db: string;
  proc: ChildProcess;
  /** Mount id of what was mounted at mnt before the daemon started (a dead mount it will replace). */
  mountIdBefore: number | undefined;
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited and its stderr is read. */
  exited: Promise<number | string>;
}

export function makeTempDir(prefix = 'pmxcfs-it-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // www-data must be able to reach the mount inside
  return dir;
}

export function isMounted(dir: string): boolean {
  return topMountAt(readFileSync('/proc/self/mountinfo', 'utf8'), dir) !== undefined;
}

/** Mount id of the visible mount at `dir`, or undefined. */
export function topMountId(dir: string): number | undefined {
  return topMountAt(readFileSync('/proc/self/mountinfo', 'utf8'), dir)?.mountId;
}

/**
 * True once the daemon's own FUSE mount is the visible one at its mount point. When something was
 * mounted there before (a dead mount it replaces), the mount alone proves nothing (a detached mount's
 * id can be reused at once), so its "started" line must be there too.
 */
export function hasMounted(d: DaemonHandle): boolean {
  const top = topMountAt(readFileSync('/proc/self/mountinfo', 'utf8'), d.mnt);
  if (top === undefined || !isFuse(top)) return false;
  return d.mountIdBefore === undefined || d.stderr().includes('pmxcfs-ts started in');
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` every 200 ms until it returns a value other than undefined (a throwing probe counts
 * as "not yet"); fails after `timeoutMs` — a hang detector, not a speed check.
 */
export async function waitUntil<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** The daemon binds its control socket after the mount appears (what startDaemon waits for). */
export async function waitForControlSocket(path: string): Promise<void> {
  await waitUntil(`the control socket ${path}`, () => (existsSync(path) ? true : undefined));
}

export interface StartOptions {
  dir?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for the mount (default true). */
  waitMounted?: boolean;
}

export function spawnDaemon(o: StartOptions = {}): DaemonHandle {
  const dir = o.dir ?? makeTempDir();
  const mnt = join(dir, 'mnt');
  const db = join(dir, 'config.db');
  const args = o.args ?? ['-f', '-l', '--mount', mnt, '--db', db, '--nodename', 'node1'];
  const mountIdBefore = topMountId(mnt);
  const proc = spawn(process.execPath, [MAIN_JS, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  // 'close', not 'exit': 'exit' may come before the last stderr bytes, which tests read right after.
  const exited = new Promise<number | string>((res) =>
    proc.on('close', (code, signal) => res(code ?? signal ?? 'unknown')),
  );
  return { dir, mnt, db, proc, mountIdBefore, stderr: () => err, exited };
}

/** Waits until the daemon's own mount is there (not a dead one left at the mount point before it). */
export async function waitUntilMounted(d: DaemonHandle, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!hasMounted(d)) {
    if (d.proc.exitCode !== null || d.proc.signalCode !== null) {
      throw new Error(`daemon exited (${d.proc.exitCode ?? d.proc.signalCode}): ${d.stderr()}`);
    }
    if (Date.now() > deadline) throw new Error(`daemon did not mount ${d.mnt}: ${d.stderr()}`);
    await sleep(50);
  }
}

export async function startDaemon(o: StartOptions = {}): Promise<DaemonHandle> {
  const d = spawnDaemon(o);
  if (o.waitMounted !== false) await waitUntilMounted(d);
  return d;
}

/** SIGTERM our daemon and wait for it to exit; SIGKILL if it does not within 60 s (a hang, not slowness). */
export async function stopDaemon(d: DaemonHandle): Promise<number | string> {
  if (d.proc.exitCode === null && d.proc.signalCode === null) {
    d.proc.kill('SIGTERM');
    const timer = setTimeout(() => d.proc.kill('SIGKILL'), 60_000);
    const r = await d.exited;
    clearTimeout(timer);
    return r;
  }
  return d.exited;
}

/** SIGKILL our daemon process if it still runs and wait for it; then lazily unmount its mount if left. */
export async function killAndUnmount(proc: ChildProcess | undefined, mnt: string | undefined): Promise<void> {
  if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
  if (mnt !== undefined && isMounted(mnt)) spawnSync('fusermount', ['-uz', mnt]);
}

/** afterAll: make sure our daemon is gone, our mount is removed and the temp dir deleted. */
export async function cleanup(d: DaemonHandle | undefined, removeDir = true): Promise<void> {
  if (d === undefined) return;
  await cleanupAll([d], removeDir);
}

/**
 * Cleans up daemons that may share a directory (a restart reuses its predecessor's): every process
 * is killed before any mount is detached or directory removed. Cleaning them one by one would detach
 * a later daemon's mount while it still runs and writes its database into the directory being removed.
 */
export async function cleanupAll(handles: readonly DaemonHandle[], removeDir = true): Promise<void> {
  for (const d of handles) await killAndUnmount(d.proc, undefined);
  for (const mnt of new Set(handles.map((d) => d.mnt))) await killAndUnmount(undefined, mnt);
  if (!removeDir) return;
  for (const d of handles) {
    if (existsSync(d.dir) && !isMounted(d.mnt)) rmSync(d.dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

/** The errno code of a synchronous fs call, or 'ok'. */
export function errnoOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

/** Runs a command as www-data (uid/gid 33, no supplementary groups). */
export function asWwwData(cmd: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid', '33', '--regid', '33', '--clear-groups', ...cmd], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
