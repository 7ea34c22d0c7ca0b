/**
 * What the benchmark measures: either an own local-mode pmxcfs-ts daemon on a temp mount and temp
 * database (started here, stopped and cleaned up afterwards), or a mount point given with --mount.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isMountPoint } from '../../src/daemon/mountinfo';
import { DAEMON_NODE_OPTIONS } from '../../src/daemon/v8-flags';

export interface Target {
  mount: string;
  /** The daemon's pid, if known (needed for write amplification). */
  pid?: number;
  /** The daemon's config.db, if known (for the closing WAL checkpoint). */
  db?: string;
  description: string;
  stop(): Promise<void>;
}

const MOUNT_WAIT_MS = 20_000;
const STOP_WAIT_MS = 10_000;
const TMPFS_MAGIC = 0x01021994;

export { isMountPoint } from '../../src/daemon/mountinfo';

export function isTmpfs(dir: string): boolean {
  return fs.statfsSync(dir).type === TMPFS_MAGIC;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function externalTarget(mount: string, pid?: number, db?: string): Target {
  const resolved = path.resolve(mount);
  const stat = fs.statSync(resolved, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new Error(`--mount ${mount}: not a directory`);
  if (pid !== undefined && !fs.existsSync(`/proc/${pid}/io`)) throw new Error(`--pid ${pid}: no such process`);
  if (db !== undefined && !fs.existsSync(db)) throw new Error(`--db ${db}: no such file`);
  return {
    mount: resolved,
    ...(pid !== undefined ? { pid } : {}),
    ...(db !== undefined ? { db: path.resolve(db) } : {}),
    description: `${resolved}${pid !== undefined ? ` (pid ${pid})` : ''}`,
    stop: async () => {},
  };
}

/**
 * Starts `node <daemon> -f -l --mount <tmp>/mnt --db <tmp>/config.db --nodename <node>` and waits
 * until the mount appears. stop() ends it with SIGTERM (SIGKILL after 10 s), lazily unmounts the
 * mount if the daemon left it behind (it is ours), and removes the temp directory.
 */
export async function startLocalDaemon(daemonJs: string, node: string, tmpParent: string): Promise<Target> {
  if (!fs.existsSync(daemonJs)) throw new Error(`daemon ${daemonJs} does not exist (is src/main.ts there and built?)`);
  const base = fs.mkdtempSync(path.join(tmpParent, 'pmxcfs-bench-'));
  const mount = path.join(base, 'mnt');
  const db = path.join(base, 'config.db');
  fs.mkdirSync(mount);
  const output: string[] = [];
  // With the Node options the daemon runs with when daemonized or packaged (src/daemon/v8-flags.ts).
  const child = spawn(process.execPath, [...DAEMON_NODE_OPTIONS, daemonJs, '-f', '-l', '--mount', mount, '--db', db, '--nodename', node], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer): void => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let stopping: Promise<void> | undefined;
  // Every caller (normal end, signal handler) waits for the same, single stop.
  const stop = (): Promise<void> => (stopping ??= stopAndClean());
  const stopAndClean = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_WAIT_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_WAIT_MS);
      }
    }
    if (isMountPoint(mount)) {
      const r = spawnSync('fusermount', ['-uz', mount], { stdio: 'ignore' });
      if (r.status !== 0 && isMountPoint(mount)) spawnSync('umount', ['-l', mount], { stdio: 'ignore' });
    }
    if (!isMountPoint(mount)) fs.rmSync(base, { recursive: true, force: true });
    else process.stderr.write(`bench: ${mount} is still mounted; left ${base} in place\n`);
  };

  const deadline = Date.now() + MOUNT_WAIT_MS;
  while (!isMountPoint(mount)) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      const why = child.exitCode !== null || child.signalCode !== null
        ? `exited (${child.exitCode ?? child.signalCode})`
        : `did not mount within ${MOUNT_WAIT_MS / 1000} s`;
      await stop();
      throw new Error(`daemon ${why}; its output:\n${output.join('')}`);
    }
    await sleep(50);
  }
  if (child.pid === undefined) throw new Error('daemon has no pid');
  return {
    mount,
    pid: child.pid,
    db,
    description: `own local-mode daemon (node ${path.relative(process.cwd(), daemonJs)} -f -l), pid ${child.pid}, ${os.hostname()}`,
    stop,
  };
}
