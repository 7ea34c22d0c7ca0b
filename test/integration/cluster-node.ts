/**
 * A pmxcfs-ts daemon in cluster mode on the one corosync of a CorosyncNamespace, for tests that run
 * several daemons on it (same nodeid, different pids: two CPG members): start, wait for the mount,
 * and the teardown that kills and unmounts whatever is left.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { CorosyncNamespace } from '../helpers/corosync';
import { isMounted, MAIN_JS, makeTempDir, waitUntil } from './daemon-harness';

export interface ClusterNode {
  dir: string;
  mnt: string;
  db: string;
  proc: ChildProcess;
  log: () => string;
  alive: () => boolean;
}

/**
 * Starts the compiled daemon (`-f` plus `extraArgs`) in `ns`, adds it to `into` at once (so the
 * teardown finds it even if it never mounts) and waits for its mount. The compiled one: npm test
 * builds first, and loading the sources on the fly outlasts the start-up waits on a loaded machine.
 */
export async function startClusterNode(
  ns: CorosyncNamespace,
  into: ClusterNode[],
  o: { prefix: string; env: NodeJS.ProcessEnv; extraArgs?: string[] },
): Promise<ClusterNode> {
  const { prefix, env, extraArgs = [] } = o;
  const dir = makeTempDir(prefix);
  const mnt = join(dir, 'mnt');
  const db = join(dir, 'config.db');
  const proc = ns.spawnNode(MAIN_JS, ['-f', ...extraArgs, '--mount', mnt, '--db', db, '--nodename', 'node1', '--corosync-conf', ns.configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const node: ClusterNode = { dir, mnt, db, proc, log: () => log, alive: () => proc.exitCode === null && proc.signalCode === null };
  into.push(node);
  await waitUntil('the mount', () => {
    if (!node.alive()) throw new Error(`daemon exited: ${log}`);
    return isMounted(mnt) ? true : undefined;
  }).catch((err: unknown) => {
    // Say what the daemon said: a start-up that never mounts is otherwise a bare timeout.
    throw new Error(`${err instanceof Error ? err.message : String(err)}; daemon log:\n${log}`);
  });
  return node;
}

/** Kills every node still running, unmounts what is left and removes their directories. */
export async function stopClusterNodes(nodes: readonly ClusterNode[]): Promise<void> {
  for (const n of nodes) {
    if (n.alive()) {
      n.proc.kill('SIGKILL');
      await once(n.proc, 'exit');
    }
    if (isMounted(n.mnt)) spawnSync('fusermount', ['-uz', n.mnt]);
    if (!isMounted(n.mnt)) fs.rmSync(n.dir, { recursive: true, force: true });
  }
}
