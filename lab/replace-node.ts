// "The hardware died, a replacement host takes its name and address": the node's container and its
// config.db volume are removed and a new container with the same name, address and an EMPTY volume
// is created. With `bare` (default) the replacement starts nothing — no corosync, no pmxcfs-ts,
// nothing in /etc/corosync — so the operator can copy config.db and /etc/corosync in with the
// daemon stopped and then start both by hand (docs/recovery.md).
import * as fs from 'fs';
import * as path from 'path';
import { compose, containerState, docker } from './docker';
import { LabError } from './lab';
import { labPaths, nodeByName, PROJECT, type LabNode } from './topology';

/** The compose volume that holds a node's /var/lib/pve-cluster. */
export function volumeName(node: LabNode): string {
  return `${PROJECT}_${node.name}-db`;
}

export interface ReplaceOptions {
  /** Start nothing in the replacement (LAB_BARE_HOST=1). Default true. */
  bare?: boolean;
}

export async function replaceNode(name: string, opts: ReplaceOptions = {}): Promise<void> {
  const node = nodeByName(name);
  if (!node) throw new LabError(`unknown node "${name}"`);
  const p = labPaths();
  // Only this lab's own container and volume, by name.
  if ((await containerState(node.name)).exists) {
    const rm = await docker(['rm', '-f', node.name], { timeoutMs: 60_000 });
    if (rm.code !== 0) throw new LabError(`docker rm ${node.name} failed: ${rm.stderr.trim()}`);
  }
  const vol = volumeName(node);
  const inspect = await docker(['volume', 'inspect', vol], { timeoutMs: 15_000 });
  if (inspect.code === 0) {
    const rmv = await docker(['volume', 'rm', vol], { timeoutMs: 60_000 });
    if (rmv.code !== 0) throw new LabError(`docker volume rm ${vol} failed: ${rmv.stderr.trim()}`);
  }
  const argsFile = path.join(p.stateDir, 'daemon-args');
  const daemonArgs = process.env.PMXCFS_ARGS ?? (fs.existsSync(argsFile) ? fs.readFileSync(argsFile, 'utf8').trim() : '');
  const env = { ...process.env, PMXCFS_ARGS: daemonArgs, LAB_BARE_HOST: opts.bare === false ? '0' : '1' };
  const up = await compose(['up', '-d', '--no-deps', node.name], { env, timeoutMs: 300_000 });
  if (up.code !== 0) throw new LabError(`docker-compose up ${node.name} failed:\n${(up.stderr + up.stdout).trim()}`);
}
