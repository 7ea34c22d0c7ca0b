// What the dashboard shows, gathered from a ChaosCluster: per node the status (or "not answering"
// when the probe does not come back in time), who sees whom, locks, the newest cluster-log lines,
// and the write rate from the growth of each daemon's database version.
import type { ChaosCluster, ChaosNodeStatus } from '../chaos/cluster';

export interface DashboardNode extends ChaosNodeStatus {
  answering: boolean; // the status probe came back within the deadline
  readOnly: boolean; // up and answering but the daemon is not quorate
}

export interface LiveStats {
  at: number; // wall clock ms
  writesPerSec: number | null; // growth of the highest db version per second
  chaos?: { opsPerSec: number; p50Ms: number | null; p99Ms: number | null; errorsPerSec: number };
}

export interface DashboardState {
  at: number;
  nodes: DashboardNode[];
  /** Groups of nodes that see each other (corosync membership agreed both ways). */
  groups: string[][];
  quorateNodes: string[];
  clusterLog: { time: number; node: string; tag: string; msg: string }[];
  stats: LiveStats[];
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);
}

/** Connected components of the "both see each other" relation among answering, running nodes. */
export function visibilityGroups(nodes: readonly DashboardNode[]): string[][] {
  const up = nodes.filter((n) => n.running && n.answering && n.corosyncQuorate !== null);
  const sees = (a: DashboardNode, b: DashboardNode): boolean => a.members.includes(b.node) && b.members.includes(a.node);
  const seen = new Set<string>();
  const groups: string[][] = [];
  for (const n of up) {
    if (seen.has(n.node)) continue;
    const group: string[] = [];
    const stack = [n];
    seen.add(n.node);
    while (stack.length) {
      const x = stack.pop()!;
      group.push(x.node);
      for (const y of up) if (!seen.has(y.node) && sees(x, y)) (seen.add(y.node), stack.push(y));
    }
    groups.push(group.sort());
  }
  return groups.sort((a, b) => b.length - a.length);
}

interface ClusterLogJson {
  data?: { time: number; node: string; tag: string; msg: string }[];
}

export function parseClusterLog(text: string, newest = 12): DashboardState['clusterLog'] {
  try {
    const d = (JSON.parse(text) as ClusterLogJson).data ?? [];
    return d
      .map((e) => ({ time: e.time, node: e.node, tag: e.tag, msg: e.msg }))
      .sort((a, b) => b.time - a.time)
      .slice(0, newest);
  } catch {
    return [];
  }
}

export class DashboardPoller {
  private lastVersion: { at: number; version: number } | null = null;
  private stats: LiveStats[] = [];
  private log: DashboardState['clusterLog'] = [];

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly probeTimeoutMs = 4_000,
    private readonly chaosLive?: () => LiveStats['chaos'] | undefined,
  ) {}

  async poll(): Promise<DashboardState> {
    const nodes = await Promise.all(
      this.cluster.nodes.map(async (node): Promise<DashboardNode> => {
        const s = await withTimeout(this.cluster.status(node).catch(() => null), this.probeTimeoutMs);
        if (s === 'timeout' || s === null)
          return { node, running: true, corosyncQuorate: null, members: [], mounted: false, daemon: null, answering: false, readOnly: false };
        return { ...s, answering: s.running, readOnly: s.running && s.mounted && s.daemon !== null && !s.daemon.quorate };
      }),
    );
    const now = Date.now();
    const version = Math.max(0, ...nodes.map((n) => n.daemon?.version ?? 0));
    let rate: number | null = null;
    if (this.lastVersion && version >= this.lastVersion.version && now > this.lastVersion.at)
      rate = ((version - this.lastVersion.version) * 1000) / (now - this.lastVersion.at);
    this.lastVersion = { at: now, version };
    this.stats = [...this.stats, { at: now, writesPerSec: rate, ...(this.chaosLive?.() ? { chaos: this.chaosLive()! } : {}) }].slice(-120);
    const reader = nodes.find((n) => n.answering && n.mounted);
    if (reader) {
      const r = await withTimeout(this.cluster.exec(reader.node, ['timeout', '3', 'cat', '/etc/pve/.clusterlog'], { timeoutMs: 5_000 }), this.probeTimeoutMs);
      if (r !== 'timeout' && r.code === 0) this.log = parseClusterLog(r.stdout);
    }
    return {
      at: now,
      nodes,
      groups: visibilityGroups(nodes),
      quorateNodes: nodes.filter((n) => n.daemon?.quorate).map((n) => n.node),
      clusterLog: this.log,
      stats: this.stats,
    };
  }
}
