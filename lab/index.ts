// pmxcfs-ts/lab: pmxcfs clusters in Docker containers for end-to-end tests (docs/lab.md).
//
//   import { startCluster } from 'pmxcfs-ts/lab';
//   const cluster = await startCluster({ nodes: 3 });
//   await cluster.partition(['node1', 'node2'], ['node3']);
//   await cluster.node('node3').writeFile('/etc/pve/x', 'y'); // rejects with code EACCES
//   await cluster.heal();
//   await cluster.stop();
export {
  attachCluster,
  Cluster,
  ClusterError,
  describeStatus,
  listClusters,
  MAX_NODES,
  removeCluster,
  removeLeftovers,
  startCluster,
  type ClusterOptions,
  type ClusterSummary,
  type HealthOptions,
} from './cluster';
export { ClusterNode, NodeFsError, type NodeIdentity } from './cluster-node';
export type { ExecOptions, ExecResult } from './dockerode-client';
export { ensureNodeImage } from './node-image';
export type { NodeStatus } from './node-status';
export type { QuorumInfo } from './quorum';
export { waitUntil, WaitTimeout } from './wait';
