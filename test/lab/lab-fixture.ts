// Shared by the lab's end-to-end tests: bring the three-node lab up once (reusing a running one),
// and put it back in shape when a test leaves it partitioned or grown.
import { containerState } from '../../lab/docker';
import { heal, labDown, labUp } from '../../lab/lab';
import type { NodeStatus } from '../../lab/node-status';
import { EXTRA_NODE } from '../../lab/topology';

export { heal, partition, fence, start, waitHealthy, waitQuorate, labStatus, addNode } from '../../lab/lab';
export { execIn, shIn } from '../../lab/docker';
export { BASE_NODES, ALL_NODES, nodeByName } from '../../lab/topology';
export type { NodeStatus } from '../../lab/node-status';

const verbose = process.env.LAB_VERBOSE === '1';
const log = (l: string): void => {
  if (verbose) process.stderr.write(`[lab] ${l}\n`);
};

/**
 * A healthy node1..node3 lab built from the current dist/ (docker's layer cache makes the rebuild
 * a few seconds when nothing changed; compose recreates the containers only when the image did).
 * A lab left with node4 from `add` is removed first so every suite starts with three nodes.
 */
export async function ensureLab(): Promise<NodeStatus[]> {
  if ((await containerState(EXTRA_NODE.name)).exists) {
    log('node4 exists: removing the grown lab');
    await labDown(log);
  } else if ((await containerState('node1')).exists) {
    await heal();
  }
  const build = process.env.LAB_NO_BUILD !== '1';
  try {
    return (await labUp({ log, build })).statuses;
  } catch (e) {
    // A node left broken by an earlier run (dead daemon, exited container): start fresh containers.
    log(`lab not healthy (${e instanceof Error ? e.message.split('\n')[0] : String(e)}): recreating`);
    return (await labUp({ log, build: false, recreate: true })).statuses;
  }
}
