// A chaos run: clients on every node, the seeded fault schedule applied on time, recoveries
// measured, a final heal, the final state of every node read, the checkers run, and the history
// (JSON lines) and report (HTML) written.
import * as fs from 'fs';
import * as path from 'path';
import { sleep, waitUntil } from '../wait';
import { AGENT_PROGRAM, parseAgentLine, type AgentConfig } from './agent';
import { runCheckers, type CheckResult } from './checkers';
import { fullyHealthy, type ChaosCluster, type ChaosNodeStatus } from './cluster';
import { prepareScript, readFinalState } from './final-state';
import { writeHistory, type FaultKind, type FaultRecord, type History, type OpRecord, type RecoveryRecord } from './history';
import { renderReport } from './report';
import { liveRates, writeLive } from './live';
import { describeFault, generateSchedule, type PlannedFault } from './schedule';

export const monotonicMs = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  faults: readonly FaultKind[];
  clientsPerNode?: number;
  thinkMs?: number;
  settleMs?: number;
  outDir: string;
  log?: (line: string) => void;
  /** How long a recovery may take before it counts as never. */
  recoveryTimeoutMs?: number;
  /** A file kept up to date with the live rates, for the dashboard. */
  liveFile?: string;
  /** Live events (ops, faults). */
  onEvent?: (e: { type: 'op'; op: OpRecord } | { type: 'fault'; fault: FaultRecord }) => void;
}

export interface ChaosResult {
  history: History;
  results: CheckResult[];
  historyFile: string;
  reportFile: string;
  passed: boolean;
}

export function replayCommand(o: Pick<ChaosOptions, 'seed' | 'durationMs' | 'faults'>, nodes: number): string {
  return `npm run lab -- chaos --nodes ${nodes} --duration ${Math.round(o.durationMs / 1000)} --seed ${o.seed} --faults ${o.faults.join(',')}`;
}

class Recorder {
  readonly ops: OpRecord[] = [];
  constructor(private readonly t0: number, private readonly onOp?: (o: OpRecord) => void) {}
  rel(mono: number): number {
    return Math.round((mono - this.t0) * 1000) / 1000;
  }
  add(o: Omit<OpRecord, 'id' | 'type'>): void {
    const rec: OpRecord = { type: 'op', id: this.ops.length, ...o };
    this.ops.push(rec);
    this.onOp?.(rec);
  }
}

/** One workload client: starts the agent in its node, restarts it after the node came back. */
async function runClient(cluster: ChaosCluster, rec: Recorder, cfg: Omit<AgentConfig, 'seq0'>, stopAt: number, log: (l: string) => void): Promise<void> {
  let seq = 0;
  let lastCode: number | null = null;
  while (monotonicMs() < stopAt - 1_000) {
    const st = await cluster.status(cfg.node).catch(() => null);
    if (!st?.running || !st.mounted) {
      await sleep(1_000);
      continue;
    }
    const pending = new Map<number, Omit<OpRecord, 'id' | 'type' | 'end' | 'outcome'>>();
    const proc = cluster.spawn(cfg.node, ['node', '-e', AGENT_PROGRAM, `chaos-agent-${cfg.client}`], JSON.stringify({ ...cfg, seq0: seq }));
    proc.onLine((line) => {
      const l = parseAgentLine(line);
      if (!l) return;
      if (l.k === 'b') {
        seq = Math.max(seq, l.q);
        pending.set(l.q, {
          node: cfg.node, client: cfg.client, op: l.op, path: l.p, start: rec.rel(l.s),
          ...(l.to !== undefined ? { to: l.to } : {}), ...(l.vmid !== undefined ? { vmid: l.vmid } : {}), ...(l.v !== undefined ? { value: l.v } : {}),
        });
      } else if (l.k === 'e') {
        const b = pending.get(l.q);
        if (!b) return;
        pending.delete(l.q);
        rec.add({ ...b, end: rec.rel(l.e), outcome: l.ok ? 'ok' : 'fail', ...(l.err ? { errno: l.err } : {}), ...(l.r !== undefined ? { read: l.r } : {}) });
      }
    });
    const code = await proc.exited;
    const now = rec.rel(monotonicMs());
    for (const b of pending.values()) rec.add({ ...b, end: now, outcome: 'unknown' });
    if (monotonicMs() < stopAt - 1_000) {
      if (code !== lastCode) log(`client ${cfg.client} ended (status ${code}); restarting it once ${cfg.node} is back`);
      lastCode = code;
      await sleep(1_000); // the mount may still be listed while it is gone (a dead daemon's)
    }
  }
}

async function statuses(cluster: ChaosCluster): Promise<ChaosNodeStatus[]> {
  return Promise.all(cluster.nodes.map((n) => cluster.status(n)));
}

export async function runChaos(cluster: ChaosCluster, o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => undefined);
  const nodes = [...cluster.nodes];
  const settleMs = o.settleMs ?? 6_000;
  const recoveryTimeout = o.recoveryTimeoutMs ?? 120_000;
  const schedule = generateSchedule({ seed: o.seed, nodes, durationMs: o.durationMs, faults: o.faults });
  log(`schedule (seed ${o.seed}): ${schedule.length} faults`);
  for (const f of schedule) log(`  ${(f.at / 1000).toFixed(1)}s +${(f.durationMs / 1000).toFixed(1)}s ${describeFault(f)}`);

  // Start from a healthy cluster and an empty chaos area.
  await waitUntil('every node healthy before the run', () => statuses(cluster), (s) => fullyHealthy(s, nodes.length), { timeoutMs: 120_000, intervalMs: 1_000 });
  const prep = await cluster.exec(nodes[0]!, ['sh', '-c', prepareScript(nodes)]);
  if (prep.code !== 0) throw new Error(`preparing /etc/pve/chaos on ${nodes[0]} failed: ${prep.stderr.trim()}`);
  await waitUntil('the prepared tree on every node', () => Promise.all(nodes.map((n) => readFinalState(cluster, n))), (f) => new Set(f.map((x) => x.digest)).size === 1, {
    timeoutMs: 60_000,
    intervalMs: 1_000,
  });

  const t0 = monotonicMs();
  const startedAt = new Date().toISOString();
  const rec = new Recorder(t0, o.onEvent ? (op) => o.onEvent!({ type: 'op', op }) : undefined);
  const stopAt = t0 + o.durationMs;
  const clients: Promise<void>[] = [];
  for (const node of nodes)
    for (let c = 0; c < (o.clientsPerNode ?? 1); c++)
      clients.push(
        runClient(
          cluster,
          rec,
          { node, client: `${node}-c${c}`, nodes, deadline: stopAt, thinkMs: o.thinkMs ?? 20, vmids: Array.from({ length: 8 }, (_, i) => 9000 + i), locks: 2, sharedFiles: 4, ownFiles: 3 },
          stopAt,
          log,
        ),
      );

  let liveTimer: NodeJS.Timeout | undefined;
  if (o.liveFile) {
    fs.mkdirSync(path.dirname(o.liveFile), { recursive: true });
    liveTimer = setInterval(() => writeLive(o.liveFile!, liveRates(rec.ops, rec.rel(monotonicMs()))), 1_000);
  }
  const faults: FaultRecord[] = [];
  const recoveries: RecoveryRecord[] = [];
  const measuring: Promise<void>[] = [];
  const measure = (r: Omit<RecoveryRecord, 'type' | 'at'>, done: (s: ChaosNodeStatus[]) => boolean): void => {
    measuring.push(
      waitUntil(`${r.kind}`, () => statuses(cluster), done, { timeoutMs: recoveryTimeout, intervalMs: 500 }).then(
        () => void recoveries.push({ type: 'recovery', ...r, at: rec.rel(monotonicMs()) }),
        () => void recoveries.push({ type: 'recovery', ...r, at: null }),
      ),
    );
  };
  const active = new Map<number, FaultRecord>();

  const apply = async (p: PlannedFault): Promise<void> => {
    const f: FaultRecord = { type: 'fault', id: p.id, kind: p.kind, nodes: p.nodes, ...(p.groups ? { groups: p.groups } : {}), start: rec.rel(monotonicMs()), end: null };
    try {
      if (p.kind === 'partition') await cluster.partition(p.groups!);
      else if (p.kind === 'fence') await cluster.fence(p.nodes[0]!);
      else if (p.kind === 'kill') await cluster.killDaemon(p.nodes[0]!);
      else {
        const r = await cluster.restartCorosync(p.nodes[0]!);
        f.end = rec.rel(monotonicMs());
        if (r.note) f.note = r.note;
        measure({ kind: 'rejoin', faultId: p.id, node: p.nodes[0]!, from: f.start }, (s) => rejoined(s, p.nodes[0]!));
      }
    } catch (e) {
      f.error = (e as Error).message;
      log(`fault #${p.id} failed: ${f.error}`);
    }
    faults.push(f);
    active.set(p.id, f);
    o.onEvent?.({ type: 'fault', fault: f });
    log(`${(f.start / 1000).toFixed(1)}s fault #${p.id}: ${describeFault(p)}`);
  };
  // The members a node should see: its partition side, if one is in force, minus fenced nodes.
  const reachableMembers = (node: string): number => {
    const part = [...active.values()].find((f) => f.kind === 'partition' && f.end === null);
    const side = part?.groups?.find((g) => g.includes(node)) ?? nodes;
    const down = new Set([...active.values()].filter((f) => f.kind === 'fence' && f.end === null).flatMap((f) => f.nodes));
    return side.filter((n) => !down.has(n)).length;
  };
  // Back: mounted, the daemon answering, seeing every member it can reach, quorate if its side is.
  const rejoined = (s: readonly ChaosNodeStatus[], n: string): boolean => {
    const x = s.find((y) => y.node === n);
    const reach = reachableMembers(n);
    return x !== undefined && x.running && x.mounted && x.daemon !== null && x.members.length === reach && (x.daemon.quorate || reach * 2 <= nodes.length);
  };
  const revert = async (p: PlannedFault): Promise<void> => {
    const f = active.get(p.id);
    if (!f || f.end !== null) return;
    try {
      if (p.kind === 'partition') {
        await cluster.heal();
        f.end = rec.rel(monotonicMs());
        measure({ kind: 'heal', faultId: p.id, from: f.end }, (s) => s.filter((x) => x.running).every((x) => x.corosyncQuorate === true && x.members.length === reachableMembers(x.node) && x.daemon?.quorate === true));
      } else if (p.kind === 'fence') {
        await cluster.start(p.nodes[0]!);
        f.end = rec.rel(monotonicMs());
      } else if (p.kind === 'kill') {
        await cluster.startDaemon(p.nodes[0]!);
        f.end = rec.rel(monotonicMs());
      }
      if (p.kind === 'fence' || p.kind === 'kill') {
        const n = p.nodes[0]!;
        measure({ kind: 'rejoin', faultId: p.id, node: n, from: f.end! }, (s) => rejoined(s, n));
      }
    } catch (e) {
      f.error = (f.error ? f.error + '; ' : '') + `revert: ${(e as Error).message}`;
      log(`reverting fault #${p.id} failed: ${(e as Error).message}`);
    }
    active.delete(p.id);
    log(`${(rec.rel(monotonicMs()) / 1000).toFixed(1)}s reverted #${p.id}`);
  };

  const events = schedule
    .flatMap((p) => [
      { at: p.at, run: () => apply(p) },
      { at: p.at + p.durationMs, run: () => revert(p) },
    ])
    .sort((a, b) => a.at - b.at);
  for (const ev of events) {
    const wait = t0 + ev.at - monotonicMs();
    if (wait > 0) await sleep(wait);
    await ev.run();
  }
  await Promise.all(clients);
  if (liveTimer) clearInterval(liveTimer);
  if (o.liveFile) fs.rmSync(o.liveFile, { force: true });
  log(`${rec.ops.length} operations recorded; final heal`);

  // Final heal: anything still in force is reverted, then the whole cluster must converge.
  for (const p of schedule) if (active.has(p.id)) await revert(p);
  const finalFrom = rec.rel(monotonicMs());
  let finals = await Promise.all(nodes.map((n) => readFinalState(cluster, n)));
  try {
    await waitUntil(
      'identical trees on every node',
      async () => {
        const s = await statuses(cluster);
        if (!fullyHealthy(s, nodes.length)) return null;
        finals = await Promise.all(nodes.map((n) => readFinalState(cluster, n)));
        return finals;
      },
      (f) => f !== null && f.every((x) => x.reachable) && new Set(f.map((x) => x.digest)).size === 1,
      { timeoutMs: recoveryTimeout, intervalMs: 1_000 },
    );
    recoveries.push({ type: 'recovery', kind: 'final-convergence', from: finalFrom, at: rec.rel(monotonicMs()) });
  } catch {
    recoveries.push({ type: 'recovery', kind: 'final-convergence', from: finalFrom, at: null });
    finals = await Promise.all(nodes.map((n) => readFinalState(cluster, n)));
  }
  await Promise.all(measuring);
  await cluster.restore();

  const history: History = {
    meta: { type: 'meta', seed: o.seed, nodes, durationMs: o.durationMs, faults: [...o.faults], clientsPerNode: o.clientsPerNode ?? 1, startedAt, settleMs, notes: [...cluster.notes] },
    ops: rec.ops.sort((a, b) => a.start - b.start).map((op, id) => ({ ...op, id })),
    faults: faults.sort((a, b) => a.id - b.id),
    recoveries,
    finals,
  };
  const results = runCheckers(history);
  fs.mkdirSync(o.outDir, { recursive: true });
  const historyFile = path.join(o.outDir, `chaos-${o.seed}.jsonl`);
  const reportFile = path.join(o.outDir, `chaos-${o.seed}.html`);
  writeHistory(historyFile, history);
  fs.writeFileSync(reportFile, renderReport({ history, results, replayCommand: replayCommand(o, nodes.length) }));
  return { history, results, historyFile, reportFile, passed: results.every((r) => r.verdict === 'pass') };
}
