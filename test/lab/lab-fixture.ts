// The end-to-end suite's cluster: one three-node cluster of the lab library (lab/cluster.ts), named
// "e2e" (LAB_E2E_CLUSTER overrides), started on first use and reused by the following files while it
// runs this checkout's image; every file leaves it healed with three healthy nodes. The old fixed-lab
// helpers (partition, heal, fence, start, waitHealthy, waitQuorate, labStatus, addNode, execIn,
// shIn) are re-exported and act on this cluster, so tests written against them keep working.
import type { Cluster } from '../../lab/cluster';
import { labCluster, labUp } from '../../lab/lab';
import type { NodeStatus } from '../../lab/node-status';

process.env.LAB_CLUSTER = process.env.LAB_E2E_CLUSTER || 'e2e';

export { heal, partition, fence, start, waitHealthy, waitQuorate, labStatus, addNode } from '../../lab/lab';
export { execIn, shIn } from '../../lab/docker';
export { BASE_NODES, ALL_NODES, nodeByName } from '../../lab/topology';
export type { NodeStatus } from '../../lab/node-status';

const verbose = process.env.LAB_VERBOSE === '1';
const log = (l: string): void => {
  if (verbose) process.stderr.write(`[lab] ${l}\n`);
};

/**
 * The suite's cluster, up and healthy with node1..node3, built from the current dist/ (a new image
 * only when dist/ changed; then the cluster is started afresh). Also prepares the host like
 * `npm run lab -- up` (apt packages, dockerd, the base image) for a fresh CI machine.
 */
export async function ensureLab(): Promise<NodeStatus[]> {
  return (await labUp({ log, nodes: 3, space: 'e2e', corosyncRealtime: false })).statuses;
}

/** The suite's cluster object (after ensureLab), for the library's own API. */
export function lab(): Promise<Cluster> {
  return labCluster();
}
