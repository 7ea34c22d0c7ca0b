/**
 * The mount point at start-up (after the instance lock is held), as the reference which clears it
 * with umount2(MNT_FORCE) before mounting: a dead FUSE mount (its daemon crashed or was killed) is
 * detached; a mount of another kind (bind mount, tmpfs, container volume) is mounted over; only a
 * FUSE mount that still answers, i.e. is served by another process, is refused, naming that process.
 *
 * "Dead" needs positive evidence: a FUSE mount whose connection is gone answers every request with
 * ENOTCONN at once. The question is asked by a child process under a deadline, so a live mount whose
 * server is slow or hung can only delay the start (then it is refused), never block this process.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { detachMount } from '../fuse/kernel/dev-fuse';
import { describeServer, findFuseServers } from './fuse-servers';
import { describeMount, fuseConnectionId, isFuse, readMountinfo, topMountAt, type MountEntry } from './mountinfo';

export type FuseState = { kind: 'dead' } | { kind: 'answers' } | { kind: 'no-answer'; detail: string };

/** How long the probe of a FUSE mount may take before it counts as "served, but not answering". */
export const FUSE_PROBE_TIMEOUT_MS = 15_000;

// Run by the probe child: stat the root and look up a name nobody has (so no cached answer can stand
// in for the server's), and print ENOTCONN when either says the connection is gone.
const PROBE_SCRIPT = `
const fs = require('fs');
const dir = process.argv[1];
let dead = false;
for (const p of [dir, dir + '/.pmxcfs-ts-probe-' + process.pid + '-' + Date.now()]) {
  try { fs.lstatSync(p); } catch (e) { if (e.code === 'ENOTCONN' || e.code === 'ECONNABORTED') dead = true; }
}
process.stdout.write(dead ? 'ENOTCONN' : 'answers');`;

/** Asks, from a child process with a deadline, whether the FUSE mount at `dir` still has a server. */
export function probeFuseMount(dir: string, timeoutMs = FUSE_PROBE_TIMEOUT_MS): Promise<FuseState> {
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT, dir], { stdio: ['ignore', 'pipe', 'ignore'] });
    const finish = (s: FuseState): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(s);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // a FUSE request waits killably
      finish({ kind: 'no-answer', detail: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (c: string) => (out += c));
    child.on('error', (e) => finish({ kind: 'no-answer', detail: `probe not run: ${e.message}` }));
    child.on('close', (code) => {
      if (out === 'ENOTCONN') finish({ kind: 'dead' });
      else if (out === 'answers') finish({ kind: 'answers' });
      else finish({ kind: 'no-answer', detail: `probe ended with status ${code}` });
    });
  });
}

/** Names what serves a live FUSE mount: the process(es) holding its connection, else the mount. */
export function describeFuseServer(m: MountEntry): string {
  const servers = findFuseServers(fuseConnectionId(m));
  if (servers.length > 0) return servers.map(describeServer).join(', ');
  return `${describeMount(m)}, served by a process not visible here`;
}

export type MountLog = (msg: string) => void;

/**
 * Prepares the mount point and returns null, or a message saying why the daemon must not mount
 * there. A missing directory is created with mode 0750; a plain directory must be empty (as FUSE's
 * own mount helpers require).
 */
export async function prepareMountPoint(dir: string, log: MountLog, probeTimeoutMs = FUSE_PROBE_TIMEOUT_MS): Promise<string | null> {
  // A few rounds: under a detached dead mount there may be another one (or a mount to mount over).
  for (let round = 0; ; round++) {
    const top = topMountAt(readMountinfo(), dir);
    if (top === undefined) break;
    if (!isFuse(top)) {
      log(`mounting over the ${top.fstype} mount at ${dir}`);
      break;
    }
    if (round === 8) return `mount point '${dir}': dead FUSE mounts keep appearing (${describeMount(top)})`;
    const state = await probeFuseMount(dir, probeTimeoutMs);
    if (state.kind === 'answers') {
      return `mount point '${dir}' is served by a running FUSE daemon: ${describeFuseServer(top)} (another pmxcfs? stop it first)`;
    }
    if (state.kind === 'no-answer') {
      return `mount point '${dir}' holds a FUSE mount that does not answer (${state.detail}); its server still runs: ${describeFuseServer(top)}`;
    }
    const r = detachMount(dir);
    if (r !== 0) return `mount point '${dir}' holds a dead FUSE mount that could not be detached (errno ${-r}): ${describeMount(top)}`;
    log(`detached the dead FUSE mount at ${dir} (its daemon ended without unmounting: crash or kill -9)`);
  }
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    return null;
  }
  if (!statSync(dir).isDirectory()) return `mount point '${dir}' is not a directory`;
  if (readdirSync(dir).length > 0) return `mount point '${dir}' is busy: the directory is not empty`;
  return null;
}
