/**
 * The mount point is itself a mount of another kind, as in containers and private mount namespaces
 * (a bind mount, a tmpfs): the daemon mounts over it; after kill -9 a plain restart detaches its own
 * dead mount and mounts over the same mount again, with the data back. Each case runs in a private
 * mount namespace owned by a holder process (`unshare --mount`), the daemon started in it with
 * `nsenter`; the test reads the mount through /proc/<holder>/root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mountsAt } from '../../src/daemon/mountinfo';
import { MAIN_JS, makeTempDir, waitUntil } from './daemon-harness';

interface Namespace {
  holder: ChildProcess;
  holderGone: Promise<unknown>;
  /** Runs a command in the namespace and fails the test when it fails. */
  run(cmd: string[]): void;
  /** `path` (absolute, as seen in the namespace) seen from here. */
  outside(path: string): string;
  mountinfo(): string;
  /** The holder has unshared (its mount namespace is no longer ours). */
  inOwnNamespace(): boolean;
}

function privateNamespace(): Namespace {
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sleep', '100000'], { stdio: 'ignore' });
  const holderGone = new Promise((r) => holder.on('exit', r));
  const pid = holder.pid!;
  return {
    holder,
    holderGone,
    run(cmd) {
      const r = spawnSync('nsenter', [`--target=${pid}`, '--mount', '--', ...cmd], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd.join(' ')} in the namespace failed: ${r.stderr}`);
    },
    outside: (path) => `/proc/${pid}/root${path}`,
    mountinfo: () => fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'),
    inOwnNamespace: () => fs.readlinkSync(`/proc/${pid}/ns/mnt`) !== fs.readlinkSync('/proc/self/ns/mnt'),
  };
}

interface NsDaemon {
  proc: ChildProcess;
  exited: Promise<unknown>;
  stderr: () => string;
}

/** The daemon started inside the namespace (nsenter execs it: its pid is the daemon's). */
function startInNamespace(ns: Namespace, dir: string): NsDaemon {
  const proc = spawn(
    'nsenter',
    [`--target=${ns.holder.pid}`, '--mount', '--', process.execPath, MAIN_JS, '-f', '-l', '--mount', join(dir, 'mnt'), '--db', join(dir, 'config.db'), '--nodename', 'node1'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise((r) => proc.on('exit', r));
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return { proc, exited, stderr: () => err };
}

async function waitStarted(d: NsDaemon): Promise<void> {
  await waitUntil('the daemon to start in the namespace', () => {
    if (d.proc.exitCode !== null) throw new Error(`daemon exited: ${d.stderr()}`);
    return d.stderr().includes('pmxcfs-ts started in') ? true : undefined;
  });
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const canUnshare = spawnSync('unshare', ['--mount', 'true']).status === 0;

describe.runIf(canUnshare)('mount point that is a mount of another kind (private mount namespace)', () => {
  for (const kind of ['bind mount', 'tmpfs'] as const) {
    it(`a ${kind}: mounted over; kill -9 then a plain restart mounts over it again, data kept`, async () => {
      const dir = makeTempDir('pmxcfs-ns-');
      const mnt = join(dir, 'mnt');
      fs.mkdirSync(mnt);
      const ns = privateNamespace();
      const daemons: NsDaemon[] = [];
      cleanups.push(async () => {
        for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) d.proc.kill('SIGKILL');
        for (const d of daemons) await d.exited;
        ns.holder.kill('SIGKILL'); // the namespace and every mount in it go with its last process
        await ns.holderGone;
        fs.rmSync(dir, { recursive: true, force: true });
      });
      await waitUntil('the holder in its own mount namespace', () => (ns.inOwnNamespace() ? true : undefined));
      if (kind === 'tmpfs') ns.run(['mount', '-t', 'tmpfs', '-o', 'mode=0750', 'pmxcfs-test', mnt]);
      else {
        fs.mkdirSync(join(dir, 'volume'));
        ns.run(['mount', '--bind', join(dir, 'volume'), mnt]);
      }
      const under = kind === 'tmpfs' ? 'tmpfs' : mountsAt(ns.mountinfo(), mnt)[0]!.fstype;

      const d1 = startInNamespace(ns, dir);
      daemons.push(d1);
      await waitStarted(d1);
      expect(d1.stderr()).toContain(`mounting over the ${under} mount at ${mnt}`);
      expect(mountsAt(ns.mountinfo(), mnt).map((m) => m.fstype)).toEqual([under, 'fuse']);
      fs.writeFileSync(ns.outside(join(mnt, 'datacenter.cfg')), 'keyboard: de\n');

      d1.proc.kill('SIGKILL');
      await d1.exited;
      // No clean-up step: the dead FUSE mount still sits on the other mount.
      expect(mountsAt(ns.mountinfo(), mnt).map((m) => m.fstype)).toEqual([under, 'fuse']);

      const d2 = startInNamespace(ns, dir);
      daemons.push(d2);
      await waitStarted(d2);
      expect(d2.stderr()).toContain(`detached the dead FUSE mount at ${mnt}`);
      expect(mountsAt(ns.mountinfo(), mnt).map((m) => m.fstype)).toEqual([under, 'fuse']);
      expect(fs.readFileSync(ns.outside(join(mnt, 'datacenter.cfg')), 'utf8')).toBe('keyboard: de\n');
      expect(mountsAt(fs.readFileSync('/proc/self/mountinfo', 'utf8'), mnt)).toEqual([]); // private: nothing leaked out
    });
  }
});
