// The lab CLI's cluster and the functions code written for the old fixed lab calls (partition, heal,
// fence, start, waitHealthy, waitQuorate, labStatus, addNode, labUp, labDown): thin wrappers over one
// named cluster of the library (lab/cluster.ts), "lab" unless LAB_CLUSTER names another.
import { attachCluster, ClusterError, describeStatus, removeCluster, startCluster, type Cluster } from './cluster';
import type { ClusterNode } from './cluster-node';
import { prepareHost, type Log } from './engine';
import { ensureNodeImage } from './node-image';
import type { NodeStatus } from './node-status';
import { labPaths, nodeByName, type LabNode } from './topology';

export const quiet: Log = () => undefined;

export { ClusterError as LabError };

/** The CLI's cluster: LAB_CLUSTER or "lab". */
export function defaultClusterName(): string {
  return process.env.LAB_CLUSTER || 'lab';
}

/** The running default cluster; a clear error when there is none. */
export async function labCluster(name = defaultClusterName()): Promise<Cluster> {
  const c = await attachCluster(name);
  if (!c) throw new ClusterError(`no lab cluster "${name}" (start one with \`npm run lab -- up\`)`);
  return c;
}

export function requireNode(name: string): LabNode {
  const n = nodeByName(name);
  if (!n) throw new ClusterError(`unknown node "${name}"`);
  return n;
}

const nameOf = (n: LabNode | string): string => (typeof n === 'string' ? n : n.name);

async function labNode(name: string): Promise<ClusterNode> {
  return (await labCluster()).node(name);
}

export const describe = describeStatus;

export interface HealthOptions {
  timeoutMs?: number;
  members?: number;
  requireMount?: boolean;
  requireDaemonQuorate?: boolean;
}

export async function waitHealthy(nodes: ReadonlyArray<LabNode | string>, opts: HealthOptions = {}): Promise<NodeStatus[]> {
  const names = nodes.map(nameOf);
  const c = await labCluster();
  return c.waitHealthy({
    nodes: names,
    members: opts.members ?? names.length,
    mounted: opts.requireMount ?? true,
    daemonQuorate: opts.requireDaemonQuorate ?? false,
    timeoutMs: opts.timeoutMs,
  });
}

export async function waitQuorate(
  node: LabNode | string,
  quorate: boolean,
  opts: { timeoutMs?: number; members?: number } = {},
): Promise<{ status: NodeStatus; elapsedMs: number }> {
  return (await labNode(nameOf(node))).waitQuorate(quorate, opts);
}

export interface UpOptions {
  log?: Log;
  /** Nodes (default 3, or as many as the running cluster has). */
  nodes?: number;
  daemonArgs?: string; // PMXCFS_ARGS, e.g. "-l"
  recreate?: boolean; // new containers even when the running ones are up to date
  timeoutMs?: number;
  /** Ignored (kept for old callers): the image is rebuilt only when its inputs changed. */
  build?: boolean;
  /** Label space of a newly started cluster (default "cli"). */
  space?: string;
  /** corosync at real-time priority as on a host (default: as the running cluster, else false). */
  corosyncRealtime?: boolean;
}

export interface UpResult {
  statuses: NodeStatus[];
  timings: Record<string, number>; // ms per phase
}

/**
 * The default cluster up and healthy: reused when it runs this checkout's image with the same daemon
 * arguments and node count (healed if it was left partitioned), else started afresh.
 */
export async function labUp(opts: UpOptions = {}): Promise<UpResult> {
  const log = opts.log ?? quiet;
  const timings: Record<string, number> = {};
  let t = Date.now();
  const phase = (name: string): void => {
    timings[name] = Date.now() - t;
    t = Date.now();
  };
  await prepareHost(labPaths(), log);
  const image = await ensureNodeImage({ log });
  phase('image');
  const name = defaultClusterName();
  const existing = await attachCluster(name);
  const nodes = opts.nodes ?? existing?.nodes.length ?? 3;
  const daemonArgs = opts.daemonArgs ?? existing?.daemonArgs ?? '';
  const corosyncRealtime = opts.corosyncRealtime ?? existing?.corosyncRealtime ?? false;
  if (existing && !opts.recreate && existing.image === image && existing.daemonArgs === daemonArgs && existing.nodes.length === nodes &&
    existing.corosyncRealtime === corosyncRealtime) {
    await existing.heal();
    for (const n of existing.nodes) {
      if (await existing.isBare(n.name)) await existing.recreateNode(n.name); // a replacement left by a test
      else if (!(await n.running())) await n.start();
    }
    try {
      const statuses = await existing.waitHealthy({ timeoutMs: 30_000 });
      phase('healthy');
      return { statuses, timings };
    } catch (e) {
      log(`the running cluster is not healthy (${(e as Error).message.split('\n')[0]}): starting it afresh`);
    }
  }
  if (existing) {
    log(`removing cluster ${name}`);
    await removeCluster(name);
    phase('remove');
  }
  const c = await startCluster({ name, nodes, image, daemonArgs, corosyncRealtime, persistent: true, space: opts.space ?? 'cli', log, timeoutMs: opts.timeoutMs });
  phase('start');
  return { statuses: await c.status(), timings };
}

export async function labDown(log: Log = quiet): Promise<void> {
  await removeCluster(defaultClusterName());
  log(`cluster ${defaultClusterName()} removed (containers, volumes, network)`);
}

export async function labStatus(nodes?: ReadonlyArray<LabNode | string>): Promise<NodeStatus[]> {
  const c = await labCluster();
  return c.status(nodes ? nodes.map(nameOf).filter((n) => c.nodeNames.includes(n)) : c.nodeNames);
}

/** Cut each named node off (each one alone; the others stay together). */
export async function partition(names: readonly string[]): Promise<void> {
  await (await labCluster()).isolate(...names);
}

/** Undo every partition; returns the nodes that were cut off. */
export async function heal(_names: readonly string[] = []): Promise<string[]> {
  const c = await attachCluster(defaultClusterName());
  return c ? c.heal() : [];
}

export async function fence(name: string): Promise<void> {
  await (await labNode(name)).fence();
}

export async function start(name: string, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<NodeStatus[]> {
  const c = await labCluster();
  await c.node(name).start();
  if (opts.wait === false) return [];
  return c.waitHealthy({ nodes: [name], daemonQuorate: false, timeoutMs: opts.timeoutMs ?? 90_000 });
}

export async function addNode(opts: { log?: Log; direct?: boolean; timeoutMs?: number } = {}): Promise<NodeStatus[]> {
  const c = await labCluster();
  await c.addNode(opts);
  return c.status();
}

/** The status of one node of the default cluster (the old node-status.ts nodeStatus). */
export async function nodeStatus(node: LabNode | string): Promise<NodeStatus> {
  return (await labNode(nameOf(node))).status();
}
