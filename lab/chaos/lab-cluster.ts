// ChaosCluster over today's fixed lab (lab/lab.ts, lab/docker.ts): node1..node3 (+ node4), one
// compose project. Kept thin so it can be swapped for the lab library's cluster object.
//
// Partitions of any shape: today's lab can only take a node off the network (each cut node alone),
// so groups are made here instead with blackhole routes in each container's network namespace
// (`nsenter -n ip route add blackhole <peer>/32`, from the host: the containers lack NET_ADMIN).
// A node sees exactly the nodes of its own group. A container that is started again gets a new
// namespace, so the routes of a partition in force are put back after `start`.
import { spawn } from 'child_process';
import * as readline from 'readline';
import { containerState, dockerBin, execIn, killNode, startNode } from '../docker';
import { requireNode } from '../lab';
import { parseQuorumtool } from '../quorum';
import { docker } from '../docker';
import { run } from '../run';
import { waitUntil } from '../wait';
import { splitSections } from '../node-status';
import type { ChaosCluster, ChaosNodeStatus, DaemonView, ExecResult, NodeProcess } from './cluster';

const MAIN = '/opt/pmxcfs-ts/dist/src/main.js';
const DB = '/var/lib/pve-cluster/config.db';
// The daemon runs with -f; `pmxcfs-ts status` (which the status probe runs) is the same program.
const DAEMON_PATTERN = '^(/usr/local/bin/)?node .*dist/src/main[.]js -f ';

const PROBE = `
echo '@@quorum'; corosync-quorumtool -s 2>&1
echo '@@mount'; awk '$2=="/etc/pve"{print $3}' /proc/mounts
echo '@@daemon'; timeout 3 pmxcfs-ts status --json --log=0 2>/dev/null
echo '@@end'
`;

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
  readonly notes: string[] = [
    'partitions are blackhole routes inside each container (today\'s lab can only cut single nodes off its network)',
    'corosync-restart is a clean restart of the whole container (the lab entrypoint ends the container when corosync exits)',
  ];
  private groups: string[][] | null = null;
  private execDaemons = new Set<string>(); // nodes whose daemon was started by startDaemon (not supervised)

  constructor(readonly nodes: readonly string[]) {
    for (const n of nodes) requireNode(n);
  }

  exec(node: string, argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return execIn(node, argv, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
  }

  spawn(node: string, argv: readonly string[], input: string): NodeProcess {
    const child = spawn(dockerBin(), ['exec', '-i', node, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    const listeners: ((l: string) => void)[] = [];
    readline.createInterface({ input: child.stdout }).on('line', (l) => listeners.forEach((f) => f(l)));
    child.stderr.resume();
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const exited = new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('close', (code) => resolve(code ?? 128));
    });
    return { onLine: (cb) => listeners.push(cb), exited };
  }

  private async pid(node: string): Promise<number> {
    const r = await docker(['inspect', '-f', '{{.State.Pid}}', node], { timeoutMs: 15_000 });
    const pid = Number(r.stdout.trim());
    if (r.code !== 0 || !(pid > 0)) throw new Error(`${node} is not running (no pid)`);
    return pid;
  }

  private async routes(node: string, action: 'add' | 'del', peers: readonly string[]): Promise<void> {
    if (peers.length === 0) return;
    const pid = await this.pid(node);
    const script = peers.map((p) => `ip route ${action} blackhole ${requireNode(p).ip}/32`).join('; ');
    const r = await run('nsenter', ['-t', String(pid), '-n', 'sh', '-c', script + (action === 'del' ? '; true' : '')], { timeoutMs: 15_000 });
    if (r.code !== 0 && action === 'add') throw new Error(`${node}: ${script}: ${r.stderr.trim()}`);
  }

  private async applyGroups(only?: string): Promise<void> {
    if (!this.groups) return;
    for (const g of this.groups)
      for (const n of g) {
        if (only && n !== only) continue;
        if (!(await containerState(n)).running) continue;
        await this.routes(n, 'add', this.nodes.filter((p) => !g.includes(p)));
      }
  }

  async partition(groups: readonly (readonly string[])[]): Promise<{ note?: string }> {
    const all = groups.flat();
    if (new Set(all).size !== all.length) throw new Error('a node is in two groups');
    const rest = this.nodes.filter((n) => !all.includes(n));
    const gs = [...groups.map((g) => [...g]), ...(rest.length ? [rest] : [])];
    if (this.groups) await this.heal();
    this.groups = gs;
    await this.applyGroups();
    return {};
  }

  async heal(): Promise<void> {
    for (const n of this.nodes) {
      if (!(await containerState(n)).running) continue;
      await this.routes(n, 'del', this.nodes.filter((p) => p !== n));
    }
    this.groups = null;
  }

  currentGroups(): string[][] | null {
    return this.groups;
  }

  async fence(node: string): Promise<void> {
    await killNode(requireNode(node));
    this.execDaemons.delete(node);
  }

  async start(node: string): Promise<void> {
    await startNode(requireNode(node));
    await this.applyGroups(node);
  }

  async killDaemon(node: string): Promise<void> {
    const r = await execIn(node, ['sh', '-c', `pkill -KILL -f '${DAEMON_PATTERN}'`], { timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`no daemon to kill on ${node}`);
  }

  async startDaemon(node: string): Promise<void> {
    // The entrypoint never restarts a daemon; start it the way the entrypoint does (unsupervised),
    // once the dead daemon's mount is gone. The entrypoint unmounts only the mount of the daemon it
    // supervises: a daemon started here leaves its dead mount behind, so it is unmounted here.
    await execIn(node, ['sh', '-c', `pgrep -f '${DAEMON_PATTERN}' >/dev/null || ! awk '$2=="/etc/pve"{f=1} END{exit !f}' /proc/mounts || umount -l /etc/pve`], {
      timeoutMs: 15_000,
    });
    await waitUntil(`/etc/pve free on ${node}`, () => execIn(node, ['sh', '-c', "awk '$2==\"/etc/pve\"' /proc/mounts"]), (r) => r.code === 0 && r.stdout.trim() === '', {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    const cmd = `exec /usr/local/bin/node ${MAIN} -f --mount /etc/pve --db ${DB} --nodename ${node} >>/var/log/pmxcfs-ts-exec.log 2>&1`;
    const r = await docker(['exec', '-d', node, 'sh', '-c', cmd], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`starting the daemon on ${node} failed: ${r.stderr.trim()}`);
    this.execDaemons.add(node);
  }

  async restartCorosync(node: string): Promise<{ note?: string }> {
    const r = await docker(['restart', '-t', '20', node], { timeoutMs: 90_000 });
    if (r.code !== 0) throw new Error(`docker restart ${node} failed: ${r.stderr.trim()}`);
    this.execDaemons.delete(node);
    await this.applyGroups(node);
    return { note: 'container restarted' };
  }

  async status(node: string): Promise<ChaosNodeStatus> {
    const st = await containerState(node);
    const base: ChaosNodeStatus = { node, running: st.running, corosyncQuorate: null, members: [], mounted: false, daemon: null };
    if (!st.running) return base;
    const r = await execIn(node, ['sh', '-c', PROBE], { timeoutMs: 10_000 });
    const s = splitSections(r.stdout);
    const q = parseQuorumtool(s.get('quorum') ?? '');
    return {
      ...base,
      corosyncQuorate: q?.quorate ?? null,
      members: q?.members.map((m) => m.name) ?? [],
      mounted: (s.get('mount') ?? '').startsWith('fuse'),
      daemon: parseDaemonJson(s.get('daemon') ?? ''),
    };
  }

  async restore(): Promise<void> {
    await this.heal();
    for (const n of this.nodes) {
      const st = await containerState(n);
      if (!st.running) await startNode(requireNode(n));
      else if (this.execDaemons.has(n)) await docker(['restart', '-t', '20', n], { timeoutMs: 90_000 });
    }
    this.execDaemons.clear();
  }
}
