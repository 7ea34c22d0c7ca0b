// ChaosCluster over a cluster of the lab library (lab/cluster.ts): partition, heal, fence, start and
// restartCorosync are the library's; exec and spawn are execs in the node's container (dockerode);
// status is the library's node status plus the daemon's own view (`pmxcfs-ts status --json`).
import type { Cluster } from '../cluster';
import { DAEMON_PATTERN } from '../cluster-node';
import { execInContainer } from '../dockerode-client';
import { waitUntil } from '../wait';
import type { ChaosCluster, ChaosNodeStatus, DaemonView, ExecResult, NodeProcess } from './cluster';


interface StatusJson {
  status: {
    quorate: boolean;
    version: number;
    dfsm?: { dcdb?: { mode: string } };
    locks?: { name: string; writer: number; age: number }[];
  } | null;
}

export function parseDaemonJson(text: string): DaemonView | null {
  try {
    const s = (JSON.parse(text) as StatusJson).status;
    if (!s) return null;
    return { quorate: s.quorate, version: s.version, dcdbMode: s.dfsm?.dcdb?.mode ?? null, locks: (s.locks ?? []).map((l) => ({ name: l.name, writer: l.writer, age: l.age })) };
  } catch {
    return null;
  }
}

export class LabChaosCluster implements ChaosCluster {
  readonly notes: string[] = [];
  readonly nodes: readonly string[];
  private groups: string[][] | null = null; // the partition in force
  private handStarted = new Set<string>(); // nodes whose daemon startDaemon started (the entrypoint does not supervise it)

  constructor(readonly cluster: Cluster) {
    this.nodes = cluster.nodeNames;
  }

  async exec(node: string, argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    try {
      const r = await this.cluster.node(node).exec(argv, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
      return { code: r.code, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      // a stopped or fenced node: a failed command, as the runner and the dashboard expect
      return { code: 1, stdout: '', stderr: `${node}: ${(e as Error).message}` };
    }
  }

  spawn(node: string, argv: readonly string[], input: string): NodeProcess {
    const listeners: ((l: string) => void)[] = [];
    let partial = '';
    const onStdout = (chunk: Buffer): void => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const l of lines) listeners.forEach((f) => f(l));
    };
    const exited = execInContainer(this.cluster.node(node).container, argv, { input, onStdout }).then(
      (r) => {
        if (partial) listeners.forEach((f) => f(partial));
        return r.code;
      },
      () => 127, // the container is not running
    );
    return { onLine: (cb) => listeners.push(cb), exited };
  }

  async partition(groups: readonly (readonly string[])[]): Promise<{ note?: string }> {
    await this.cluster.partition(...groups);
    this.groups = groups.map((g) => [...g]);
    return {};
  }

  async heal(): Promise<void> {
    await this.cluster.heal();
    this.groups = null;
  }

  async fence(node: string): Promise<void> {
    await this.cluster.node(node).fence();
    this.handStarted.delete(node);
  }

  /** Power on; a partition in force is put back (a started container has a new network namespace). */
  async start(node: string): Promise<void> {
    await this.cluster.node(node).start();
    if (this.groups) await this.cluster.partition(...this.groups);
  }

  /** SIGKILL of the daemon only (corosync keeps running); returns once the process is gone. */
  async killDaemon(node: string): Promise<void> {
    const n = this.cluster.node(node);
    const r = await n.sh(`pkill -KILL -f ${DAEMON_PATTERN}`, { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`no daemon to kill on ${node}`);
    await waitUntil(`daemon gone on ${node}`, () => n.sh(`pgrep -f ${DAEMON_PATTERN}`), (x) => x.code !== 0, { timeoutMs: 60_000, intervalMs: 100 });
  }

  /**
   * The daemon started again in the node, unsupervised. The entrypoint unmounts only the dead mount of
   * the daemon it supervises; a hand-started daemon's dead mount stays, and the new daemon detaches
   * it at start by itself.
   */
  async startDaemon(node: string): Promise<void> {
    await this.cluster.node(node).startDaemon();
    this.handStarted.add(node);
  }

  async restartCorosync(node: string): Promise<{ note?: string }> {
    await this.cluster.node(node).restartCorosync();
    return {};
  }

  async status(node: string): Promise<ChaosNodeStatus> {
    const n = this.cluster.node(node);
    const s = await n.status();
    const base: ChaosNodeStatus = {
      node,
      running: s.container === 'running',
      corosyncQuorate: s.quorum?.quorate ?? null,
      members: s.quorum?.members.map((m) => m.name) ?? [],
      mounted: s.mounted,
      daemon: null,
    };
    if (!base.running || !s.daemonPid) return base;
    // Its exit status says healthy or not (a node without quorum is not): the JSON is read either way.
    const r = await this.exec(node, ['timeout', '3', 'pmxcfs-ts', 'status', '--json', '--log=0'], { timeoutMs: 10_000 });
    return { ...base, daemon: parseDaemonJson(r.stdout) };
  }

  /** Healed, every node running, and nodes with a hand-started daemon rebooted (supervised again). */
  async restore(): Promise<void> {
    await this.heal();
    for (const n of this.cluster.nodes) {
      if (!(await n.running())) await n.start();
      else if (this.handStarted.has(n.name)) await n.restart();
    }
    this.handStarted.clear();
  }
}
