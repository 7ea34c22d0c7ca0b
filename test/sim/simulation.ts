/**
 * The deterministic cluster simulation (design.md principle 1): N nodes running the real Dfsm,
 * DfsmRunner, DcdbApp, DcdbClient and MemDb over MemoryTreeStore, connected by a simulated CPG
 * (group.ts) with a simulated clock and quorum, plus each node's Kvstore in a second simulated
 * group (kv-process.ts). A seeded PRNG decides every step: operations from every node,
 * deliveries, partitions and heals, crashes and restarts, clock jumps, verify rounds and (rarely)
 * an injected store fault; a second one the kvstore steps and how late quorum notifications and
 * view changes come. Invariants are checked as it runs; the same seed replays the same trace.
 */
import { DfsmMode } from '../../src/dfsm/modes';
import { CLOG_DEFAULT_SIZE, CLOG_MIN_SIZE } from '../../src/kvstore/clusterlog';
import type { ClusterConfig, KvstoreEffect } from '../../src/kvstore/kvstore';
import { isLockDir, parseGuestConfigPath } from '../../src/memdb/paths';
import { DT_REG, type FsOp } from '../../src/memdb/types';
import { SimGroup } from './group';
import { KvTracker } from './kv-checks';
import type { KvProcess, KvProcessOptions } from './kv-process';
import type { TreeModel } from './model';
import { NodeProcess, SimNode, type ProcessHooks } from './node';
import { Prng } from '../../lab/prng';

export interface SimOptions {
  seed: number;
  /** Scheduler steps before the final settle. */
  steps: number;
  /** 3..5; chosen by the seed when omitted. */
  nodes?: number;
  /** Keep the trace lines (for printing a failing seed); the hash is always computed. */
  keepTrace?: boolean;
  /** Probability weight of injected store faults (0 disables). */
  faults?: boolean;
  /**
   * Let quorum notifications and view changes lag each other (default: chosen by the seed for
   * two thirds of the seeds). false replays the dcdb trace a seed had before lags existed.
   */
  lags?: boolean;
}

export interface Violation {
  kind: string;
  detail: string;
  step: number;
}

export interface SimStats {
  ops: number;
  acked: number;
  refused: number;
  delivered: number;
  partitions: number;
  crashes: number;
  leaves: number;
  syncs: number;
  lockAcks: number;
  unlocks: number;
  faults: number;
  /** Acknowledged writes lost because a quorate group without them moved on (by design). */
  forkedAcks: number;
  /** Lock acquisitions granted on a branch that lacked an earlier acknowledged one (by design). */
  forkedLocks: number;
  /** Verify rounds that compared equal (per node). */
  verified: number;
  /** Local kvstore SET_STATUS calls / refused ones / cluster-log lines made. */
  kvSets: number;
  kvRefused: number;
  kvLogs: number;
  /** kvstore DFSM entering LEAVE. */
  kvLeaves: number;
  /** Quorum notifications delivered late / view changes delivered after the quorum change. */
  quorumLags: number;
  viewLags: number;
  /** Keys another node keeps for a node that deleted them or restarted (by design, see README). */
  staleKv: number;
  /** Ops submitted while the node's quorum flag was stale (quorate by notification, not by the network). */
  staleQuorumOps: number;
  /** dcdb members that left because a write arrived while they were not (yet) told quorate. */
  notQuorateLeaves: number;
  /** Cluster-log entries on each node after the final settle. */
  clogEntries: number;
  /** Seeds whose whole cluster log fitted the merge budget (so completeness was checked). */
  clogCompleteChecked: number;
}

export interface SimResult {
  seed: number;
  nodes: number;
  steps: number;
  violations: Violation[];
  traceHash: string;
  trace: string[];
  stats: SimStats;
}

const START_TIME = 1_700_000_000;
const LEAVE_REJOIN_DELAY = 5;
const MAX_SETTLE_DELIVERIES = 200_000;
/** Most steps a quorum notification or a view change may lag behind the network change. */
const MAX_LAG_STEPS = 30;
/** Seeds the auxiliary PRNG (kvstore steps, lags) apart from the main one. */
const AUX_SEED_SALT = 0x6b765f31;

interface PendingOp {
  id: number;
  node: SimNode;
  proc: NodeProcess;
  op: FsOp | { kind: 'unlock'; path: string };
  key: string | undefined;
  /** The process's own record of what applying each message gave (outlives a crash). */
  results: Map<string, number>;
  /** The node's quorum flag when the op was submitted. */
  quorate: boolean;
}

/** Replay instructions for a seed. */
export function replayCommand(seed: number, steps: number): string {
  return `SIM_SEED=${seed} SIM_STEPS=${steps} npx vitest run test/sim`;
}

export async function runSeed(options: SimOptions): Promise<SimResult> {
  const sim = new Simulation(options);
  return sim.run();
}

class Simulation implements ProcessHooks {
  private readonly prng: Prng;
  /**
   * Everything added after the dcdb scheduler (kvstore steps, quorum and view lags) draws from
   * this one, so a seed without lags makes the same dcdb choices as before they existed.
   */
  private readonly aux: Prng;
  private readonly nodes: SimNode[];
  private readonly group: SimGroup<NodeProcess>;
  private readonly kvGroup: SimGroup<KvProcess>;
  private readonly kvTracker: KvTracker;
  private readonly kvOptions: Omit<KvProcessOptions, 'now' | 'nodename' | 'startupIp'>;
  /** Probability that a quorum change is notified late (0 for a third of the seeds). */
  private readonly quorumLag: number;
  /** Probability that a partition/heal reaches the CPG views only some steps after quorum. */
  private readonly viewLag: number;
  /** Late quorum notifications: node -> step at which it learns its current quorum. */
  private readonly pendingQuorum = new Map<SimNode, number>();
  /** Step at which the views catch up with the network, if they lag. */
  private pendingRegroup: number | undefined;
  private time = START_TIME;
  private step = 0;
  private readonly violations: Violation[] = [];
  private readonly trace: string[] = [];
  private hash = 0x811c9dc5;
  private nextOpId = 1;
  private readonly stats: SimStats = {
    ops: 0, acked: 0, refused: 0, delivered: 0, partitions: 0, crashes: 0, leaves: 0, syncs: 0, lockAcks: 0, unlocks: 0, faults: 0, forkedAcks: 0, forkedLocks: 0, verified: 0,
    kvSets: 0, kvRefused: 0, kvLogs: 0, kvLeaves: 0, staleQuorumOps: 0, notQuorateLeaves: 0, quorumLags: 0, viewLags: 0, staleKv: 0, clogEntries: 0, clogCompleteChecked: 0,
  };
  /** Acknowledged ops (result >= 0): key -> description. */
  private readonly acked = new Map<string, string>();
  /** Last acknowledged acquisition of each lock path. */
  private readonly lockAcks = new Map<string, string>();
  readonly snapshots = new Map<string, { state: Buffer; model: TreeModel }>();
  readonly agreement = new Map<string, number>();
  /** Messages that changed some tree -> the view they first did so in. */
  private readonly mutated = new Map<string, number>();
  /**
   * Messages that a quorate group forked away from: a node whose lineage lacked them changed its
   * tree in another view. pmxcfs needs only corosync quorum to write, so a quorate group that
   * does not contain the writer's data may move on without it (see README).
   */
  private readonly forked = new Set<string>();

  onMutation(node: { model: TreeModel }, key: string): void {
    const view = this.group.currentViewId();
    if (!this.mutated.has(key)) this.mutated.set(key, view);
    for (const [other, otherView] of this.mutated) {
      if (otherView !== view && !node.model.applied.has(other)) {
        // Two branches: the one without `other`, and `key` written on it.
        this.forked.add(other);
        this.forked.add(key);
      }
    }
  }

  constructor(private readonly options: SimOptions) {
    this.prng = new Prng(options.seed);
    const n = options.nodes ?? this.prng.range(3, 5);
    this.nodes = [];
    for (let i = 1; i <= n; i++) this.nodes.push(new SimNode(i, `node${i}`, () => this.time, this.prng.range(-3, 3)));
    this.group = new SimGroup<NodeProcess>(
      (what, fn) => this.guard(what, fn),
      (line) => this.log(line),
      () => this.time,
    );
    this.kvGroup = new SimGroup<KvProcess>(
      (what, fn) => this.guard(what, fn),
      (line) => this.log(line),
      () => this.time,
      'kv ',
    );
    this.kvTracker = new KvTracker((kind, detail) => this.violation(kind, detail));
    this.aux = new Prng((options.seed ^ AUX_SEED_SALT) >>> 0);
    const cluster: ClusterConfig = { name: 'sim', configVersion: 1, nodes: this.nodes.map((m) => ({ name: m.name, nodeid: m.nodeid })) };
    // A third of the seeds use the smallest ring and long messages, so the size bound is reached.
    this.kvOptions = { cluster, clusterLogSize: this.aux.chance(1 / 3) ? CLOG_MIN_SIZE : CLOG_DEFAULT_SIZE };
    const lagFree = this.aux.chance(1 / 3);
    this.quorumLag = lagFree || options.lags === false ? 0 : 0.5;
    this.viewLag = this.quorumLag > 0 ? 0.3 : 0;
  }

  // ---- hooks ----

  currentKey(): string | undefined {
    return this.group.currentKey();
  }
  currentViewId(): number {
    return this.group.currentViewId();
  }

  violation(kind: string, detail: string): void {
    if (this.violations.length < 20) this.violations.push({ kind, detail, step: this.step });
    this.log(`VIOLATION ${kind}: ${detail}`);
  }

  onModeChange(proc: NodeProcess, to: number): void {
    this.log(`mode ${proc.key} -> ${to}`);
    if (to === DfsmMode.LEAVE) this.stats.leaves++;
    if (to === DfsmMode.SYNCED) this.stats.syncs++;
    if ((to === DfsmMode.ERROR || to === DfsmMode.VERSION_ERROR) && !proc.node.faulted) {
      this.violation('error-mode', `${proc.key} entered mode ${to} without an injected fault`);
    }
  }

  onKvModeChange(proc: KvProcess, to: number): void {
    this.log(`kv mode ${proc.key} -> ${to}`);
    if (to === DfsmMode.LEAVE) this.stats.kvLeaves++;
    if (to === DfsmMode.ERROR || to === DfsmMode.VERSION_ERROR) this.violation('error-mode', `kvstore ${proc.key} entered mode ${to}`);
  }

  onKvLog(proc: KvProcess, level: string, message: string): void {
    // The kvstore application's complaints about malformed or unexpected messages: never in a
    // correct run (the DFSM's own critical lines, e.g. a carried old SYNC_START, are normal).
    if (level === 'critical' && /wrong format|cant parse|unknown message type|unexpected update/.test(message)) {
      this.violation('kv-log', `kvstore ${proc.key}: ${message}`);
    }
  }

  onKvEffect(proc: KvProcess, effect: KvstoreEffect): void {
    this.kvTracker.onRrdEffect(proc.key, effect);
  }

  onLog(proc: NodeProcess, level: string, message: string): void {
    if (message.includes('wrong checksum')) this.violation('verify', `${proc.key}: ${message}`);
    if (message.includes('removed expired lock')) this.stats.unlocks++;
    if (message.includes('received write while not quorate')) this.stats.notQuorateLeaves++;
    if (message.includes('data verification successful')) this.stats.verified++;
    if (this.options.keepTrace && (level === 'critical' || level === 'warning')) this.log(`log ${proc.key} ${level}: ${message}`);
  }

  // ---- plumbing ----

  private log(line: string): void {
    for (let i = 0; i < line.length; i++) this.hash = Math.imul(this.hash ^ line.charCodeAt(i), 0x01000193) >>> 0;
    this.hash = Math.imul(this.hash ^ 10, 0x01000193) >>> 0;
    if (this.options.keepTrace) this.trace.push(`${this.step}: ${line}`);
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.violation('exception', `${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  /** Let promise callbacks (runner results, client answers) run; deterministic, no timers. */
  private async settleMicrotasks(): Promise<void> {
    for (let i = 0; i < 12; i++) await Promise.resolve();
  }

  private upNodes(): SimNode[] {
    return this.nodes.filter((n) => n.up);
  }

  // ---- topology ----

  /** What corosync's quorum says: a partition with a majority of the configured nodes (up) is quorate. */
  private networkQuorum(n: SimNode): boolean {
    const need = Math.floor(this.nodes.length / 2) + 1;
    return n.up && this.nodes.filter((m) => m.up && m.partition === n.partition).length >= need;
  }

  /**
   * Bring each node's quorum flag (what libquorum last told its process) towards the network's.
   * With `lag`, a change may be notified only some steps later (libquorum and CPG deliver
   * independently); a node that is down has no process to tell and is never quorate.
   */
  private updateQuorum(lag: boolean): void {
    for (const n of this.nodes) {
      const q = this.networkQuorum(n);
      if (q === n.quorate) {
        this.pendingQuorum.delete(n);
        continue;
      }
      if (lag && n.up && this.quorumLag > 0 && (this.pendingQuorum.has(n) || this.aux.chance(this.quorumLag))) {
        if (!this.pendingQuorum.has(n)) {
          const due = this.step + this.aux.range(1, MAX_LAG_STEPS);
          this.pendingQuorum.set(n, due);
          this.stats.quorumLags++;
          this.log(`quorum node${n.nodeid} ${q} late (step ${due})`);
        }
        continue;
      }
      this.notifyQuorum(n, q);
    }
  }

  private notifyQuorum(n: SimNode, q: boolean): void {
    this.pendingQuorum.delete(n);
    n.quorate = q;
    this.log(`quorum node${n.nodeid} ${q}`);
    if (n.proc !== null) {
      const proc = n.proc;
      this.guard(`quorumChanged ${proc.key}`, () => proc.client.quorumChanged(q));
    }
  }

  /** Late quorum notifications and late view changes whose step has come. */
  private deliverLagged(): void {
    for (const [n, due] of [...this.pendingQuorum]) {
      if (this.step < due) continue;
      this.pendingQuorum.delete(n);
      const q = this.networkQuorum(n);
      if (q !== n.quorate) this.notifyQuorum(n, q);
    }
    if (this.pendingRegroup !== undefined && this.step >= this.pendingRegroup) {
      this.log('views catch up');
      this.regroup();
    }
  }

  /** Both groups' views follow the partitions and who wants to be in each group. */
  private regroup(): void {
    this.pendingRegroup = undefined;
    const byPartition = new Map<number, NodeProcess[]>();
    const kvByPartition = new Map<number, KvProcess[]>();
    for (const n of this.nodes) {
      const p = n.proc;
      if (p === null) continue;
      if (p.inGroup) byPartition.set(n.partition, [...(byPartition.get(n.partition) ?? []), p]);
      if (p.kv.inGroup) kvByPartition.set(n.partition, [...(kvByPartition.get(n.partition) ?? []), p.kv]);
    }
    const inOrder = <T>(m: Map<number, T[]>): T[][] => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([, procs]) => procs);
    this.group.regroup(inOrder(byPartition));
    this.kvGroup.regroup(inOrder(kvByPartition));
  }

  /**
   * A view change: random prefix delivered in the old views, then the world changes, then quorum
   * (maybe late) and confchgs. With `viewsMayLag` (partition, heal) the views may follow only some
   * steps later, so a node can learn its new quorum before its new view.
   */
  private topologyChange(change: () => void, viewsMayLag = false): void {
    this.group.flushRandomPrefix(this.prng);
    this.kvGroup.flushRandomPrefix(this.aux);
    change();
    const settling = this.step > this.options.steps;
    this.updateQuorum(!settling);
    if (viewsMayLag && !settling && this.viewLag > 0 && this.aux.chance(this.viewLag)) {
      this.pendingRegroup = this.step + this.aux.range(1, MAX_LAG_STEPS);
      this.stats.viewLags++;
      this.log(`views late (step ${this.pendingRegroup})`);
      return;
    }
    this.regroup();
  }

  /** The process dies (RAM lost, rows kept). */
  private crashNode(n: SimNode): void {
    if (n.proc !== null) this.kvTracker.onProcessEnd(n.name, n.proc.kv);
    n.crash();
  }

  private startProcess(n: SimNode): void {
    let proc: NodeProcess | undefined;
    this.guard(`start node${n.nodeid}`, () => {
      proc = n.start(this.group, this.kvGroup, this, { ...this.kvOptions, nodename: n.name, startupIp: `10.0.0.${n.nodeid}` });
    });
    if (proc === undefined) {
      this.crashNode(n);
      return;
    }
    proc.inGroup = true;
    proc.kv.inGroup = true;
    this.kvTracker.onLogged(proc.kv.key, proc.kv.startEntry);
    this.log(`start ${proc.key}`);
  }

  // ---- the run ----

  async run(): Promise<SimResult> {
    const onRejection = (reason: unknown): void => this.violation('exception', `unhandled rejection: ${String(reason)}`);
    process.on('unhandledRejection', onRejection);
    try {
      this.log(`seed ${this.options.seed} nodes ${this.nodes.length}`);
      this.topologyChange(() => {
        for (const n of this.nodes) this.startProcess(n);
      });
      for (this.step = 1; this.step <= this.options.steps && this.violations.length === 0; this.step++) {
        this.stepOnce();
        await this.settleMicrotasks();
        this.deliverLagged();
        this.kvStep();
        await this.settleMicrotasks();
        this.checkQuiescent();
      }
      if (this.violations.length === 0) await this.settle();
    } finally {
      process.off('unhandledRejection', onRejection);
    }
    this.stats.delivered = this.group.delivered + this.kvGroup.delivered;
    return {
      seed: this.options.seed,
      nodes: this.nodes.length,
      steps: this.options.steps,
      violations: this.violations,
      traceHash: this.hash.toString(16).padStart(8, '0'),
      trace: this.trace,
      stats: this.stats,
    };
  }

  private stepOnce(): void {
    const busy = this.group.busyViews();
    const up = this.upNodes();
    const down = this.nodes.filter((n) => !n.up);
    const rejoinable = up.filter((n) => !n.proc!.inGroup && n.proc!.mayRejoin && this.time >= n.proc!.leftAt + LEAVE_REJOIN_DELAY);
    const faultable = this.options.faults ? up.filter((n) => !n.faulted) : [];
    const weights = [
      up.length > 0 ? 30 : 0, // 0 op
      busy.length > 0 ? 60 : 0, // 1 deliver
      12, // 2 small clock step
      1, // 3 clock jump past the lock timeout
      2, // 4 partition
      2, // 5 heal
      up.length > 1 ? 1 : 0, // 6 crash
      down.length > 0 ? 2 : 0, // 7 restart
      rejoinable.length > 0 ? 5 : 0, // 8 re-join after LEAVE
      1, // 9 verify
      faultable.length > 0 ? 0.05 : 0, // 10 fault
      up.some((n) => n.faulted || !n.proc!.mayRejoin) ? 1 : 0, // 11 restart a faulted / errored node
    ];
    switch (this.prng.weighted(weights)) {
      case 0:
        this.operation(this.prng.pick(up));
        break;
      case 1:
        this.group.deliverOne(this.prng.pick(busy));
        break;
      case 2:
        this.time += this.prng.range(1, 5);
        this.log(`time ${this.time}`);
        break;
      case 3:
        this.time += this.prng.range(121, 200);
        this.log(`time ${this.time}`);
        break;
      case 4: {
        const parts = this.prng.range(2, Math.min(3, this.nodes.length));
        this.stats.partitions++;
        this.topologyChange(() => {
          for (const n of this.nodes) n.partition = this.prng.int(parts);
          this.log(`partition ${this.nodes.map((n) => n.partition).join('')}`);
        }, true);
        break;
      }
      case 5:
        this.topologyChange(() => {
          for (const n of this.nodes) n.partition = 0;
          this.log('heal');
        }, true);
        break;
      case 6: {
        const victim = this.prng.pick(up);
        this.stats.crashes++;
        this.topologyChange(() => {
          this.log(`crash ${victim.proc!.key}`);
          this.crashNode(victim);
        });
        break;
      }
      case 7: {
        const n = this.prng.pick(down);
        this.topologyChange(() => this.startProcess(n));
        break;
      }
      case 8: {
        const n = this.prng.pick(rejoinable);
        this.topologyChange(() => {
          n.proc!.inGroup = true;
          this.log(`rejoin ${n.proc!.key}`);
        });
        break;
      }
      case 9: {
        const members = up.filter((n) => n.proc!.dfsm.isSynced);
        if (members.length > 0) {
          const p = this.prng.pick(members).proc!;
          this.log(`verify ${p.key}`);
          this.guard(`verify ${p.key}`, () => p.runner.verifyRequest());
        }
        break;
      }
      case 10: {
        const n = this.prng.pick(faultable);
        n.faulted = true;
        n.proc!.store.failCommits = 1;
        this.stats.faults++;
        this.log(`fault node${n.nodeid}`);
        break;
      }
      case 11: {
        const n = this.prng.pick(up.filter((m) => m.faulted || !m.proc!.mayRejoin));
        this.topologyChange(() => {
          this.log(`restart ${n.proc!.key}`);
          this.crashNode(n);
          this.startProcess(n);
        });
        break;
      }
    }
  }

  // ---- kvstore ----

  /** After each dcdb step, maybe one kvstore step (own PRNG): a local set or log, a delivery, a re-join. */
  private kvStep(): void {
    const rnd = this.aux;
    const up = this.upNodes();
    const busy = this.kvGroup.busyViews();
    const rejoinable = up.filter((n) => !n.proc!.kv.inGroup && n.proc!.kv.mayRejoin && this.time >= n.proc!.kv.leftAt + LEAVE_REJOIN_DELAY);
    switch (rnd.weighted([50, up.length > 0 ? 12 : 0, busy.length > 0 ? 35 : 0, rejoinable.length > 0 ? 5 : 0])) {
      case 1:
        this.kvOperation(rnd.pick(up));
        break;
      case 2:
        this.kvGroup.deliverOne(rnd.pick(busy));
        break;
      case 3: {
        const kv = rnd.pick(rejoinable).proc!.kv;
        this.kvGroup.flushRandomPrefix(rnd);
        kv.inGroup = true;
        this.log(`kv rejoin ${kv.key}`);
        this.regroup();
        break;
      }
    }
  }

  /** IPC SET_STATUS of a kv key, an RRD sample or the node IP, or LOG_CLUSTER_MSG, on node n. */
  private kvOperation(n: SimNode): void {
    const rnd = this.aux;
    const kv = n.proc!.kv;
    const now = n.now();
    const nul = (text: string) => Buffer.from(`${text}\0`, 'utf8');
    let key: string;
    let value: Buffer;
    const smallRing = this.kvOptions.clusterLogSize === CLOG_MIN_SIZE;
    switch (rnd.weighted([5, 3, 1, smallRing ? 12 : 4])) {
      case 0: // a plain key: set, delete (empty value) or too big (EFBIG)
        key = rnd.pick(['k1', 'k2', 'k3']);
        value = rnd.chance(0.2) ? Buffer.alloc(0) : rnd.chance(0.03) ? Buffer.alloc(32769, 0x78) : Buffer.from(`${n.name}-${rnd.int(1000)}`);
        break;
      case 1: {
        // an RRD sample under a valid key; sometimes not NUL-terminated (ENOMEM, as the reference)
        const ts = this.time;
        key = rnd.pick([`rrd/pve2-node/${n.name}`, `rrd/pve-node-9.0/${n.name}`, `rrd/pve2.3-vm/${rnd.range(100, 103)}`, `rrd/pve-storage-9.0/${n.name}/local`]);
        const sample = `${rnd.int(100000)}:0:${ts}:${rnd.int(100)}:${rnd.int(8)}:${rnd.int(1000)}`;
        value = rnd.chance(0.1) ? Buffer.from(sample) : nul(sample);
        break;
      }
      case 2:
        key = 'nodeip';
        value = rnd.chance(0.1) ? Buffer.from('10.1.1.1') : nul(`10.${rnd.int(4)}.0.${n.nodeid}`);
        break;
      default: {
        // a cluster-log line; priority 8 is dropped; long ones on small-ring seeds reach the bound
        const long = smallRing && rnd.chance(0.7);
        const msg = `m${this.step}-${rnd.int(1000)} ` + (long ? 'x'.repeat(rnd.range(1000, 4100)) : '');
        const fields = { ident: 'sim', tag: 'test', pid: kv.member.pid, priority: rnd.int(9), msg };
        this.guard(`log ${kv.key}`, () => {
          const res = kv.kvstore.log(fields, now);
          this.kvTracker.onLogged(kv.key, res.entry);
          if (res.entry !== undefined) this.stats.kvLogs++;
          this.log(`kv log ${kv.key} ${res.entry === undefined ? '-' : `${res.entry.time}/${res.entry.uid}`}`);
          kv.sendKv(res.send);
        });
        return;
      }
    }
    this.stats.kvSets++;
    this.guard(`set ${kv.key} ${key}`, () => {
      const res = kv.kvstore.setStatus(key, value, now);
      this.log(`kv set ${kv.key} ${key} ${value.length} = ${res.result}`);
      if (res.result < 0) this.stats.kvRefused++;
      this.kvTracker.onSet(n.name, key, value, res.result);
      for (const effect of res.effects) this.onKvEffect(kv, effect);
      kv.sendKv(res.send);
    });
  }

  // ---- operations ----

  private operation(n: SimNode): void {
    const proc = n.proc!;
    const op = this.chooseOp(n, proc);
    if (op === undefined) return;
    const id = this.nextOpId++;
    this.stats.ops++;
    if (n.quorate && !this.networkQuorum(n)) this.stats.staleQuorumOps++;
    const desc = op.kind === 'rename' ? `rename ${op.path} ${op.to}` : op.kind === 'write' ? `write ${op.path}@${op.offset}+${op.data.length}${op.truncate ? 't' : ''}` : `${op.kind} ${op.path}`;
    proc.lastSentKey = undefined;
    let promise: Promise<number> | undefined;
    this.guard(`submit ${desc}`, () => {
      promise = op.kind === 'unlock' ? proc.client.requestUnlock(op.path) : proc.client.submit(op);
    });
    const pending: PendingOp = { id, node: n, proc, op, key: proc.lastSentKey, results: n.appliedResults, quorate: n.quorate };
    this.log(`op ${id} ${proc.key} ${desc} ${pending.key ?? '-'}`);
    promise?.then(
      (r) => this.opResult(pending, desc, r),
      (err: unknown) => this.violation('exception', `op ${desc}: ${String(err)}`),
    );
  }

  private opResult(p: PendingOp, desc: string, r: number): void {
    this.log(`result ${p.id} ${r}`);
    if (r < 0) {
      this.stats.refused++;
      return;
    }
    if (p.key === undefined) {
      this.violation('ack', `op ${p.id} (${desc}) answered ${r} without being sent`);
      return;
    }
    if (!p.quorate) this.violation('quorum', `op ${p.id} (${desc}) answered ${r} though node${p.node.nodeid} was not quorate when it was made`);
    const applied = p.results.get(p.key);
    if (applied !== r && !(p.node.faulted && p.node.proc === p.proc)) {
      this.violation('ack', `op ${p.id} (${desc}) answered ${r} but applying ${p.key} on its node gave ${applied}`);
    }
    if (p.op.kind === 'unlock') return;
    this.stats.acked++;
    this.acked.set(p.key, `op ${p.id} ${p.proc.key} ${desc} = ${r}`);
    if (p.op.kind === 'mkdir' && isLockDir(p.op.path) && !p.node.faulted) {
      this.stats.lockAcks++;
      const path = p.op.path;
      const prev = this.lockAcks.get(path);
      if (prev !== undefined && !p.node.model.applied.has(prev) && this.forked.has(prev)) {
        this.stats.forkedLocks++;
      } else if (prev !== undefined && !p.node.model.applied.has(prev)) {
        this.violation('lock', `${path} acquired by ${p.key} (${desc}) while the earlier acquisition ${prev} is not in this lineage: two owners`);
      }
      this.lockAcks.set(path, p.key);
    }
  }

  private chooseOp(n: SimNode, proc: NodeProcess): FsOp | { kind: 'unlock'; path: string } | undefined {
    const rnd = this.prng;
    const db = proc.memdb;
    const nodeNames = this.nodes.map((m) => m.name);
    const own = `nodes/${n.name}`;
    const dirs = ['nodes', own, `${own}/qemu-server`, 'priv', 'priv/lock', 'd'];
    const files = ['datacenter.cfg', 'user.cfg', 'd/f1', 'd/f2', `${own}/a.cfg`];
    const vmConf = (node: string, vmid: number) => `nodes/${node}/qemu-server/${vmid}.conf`;
    const locks = ['priv/lock/a', 'priv/lock/b'];
    const exists = (p: string) => db.lookup(p) !== undefined;
    /** The first missing ancestor directory, if any (users create parents first). */
    const missingParent = (p: string): string | undefined => {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!exists(dir)) return dir;
      }
      return undefined;
    };
    const withParents = (op: FsOp): FsOp => {
      const parent = missingParent(op.path);
      return parent !== undefined && rnd.chance(0.8) ? { kind: 'mkdir', path: parent } : op;
    };
    const content = () => Buffer.from(`v${this.nextOpId}-${rnd.int(1000)}\n`.repeat(rnd.range(1, 3)));
    switch (rnd.weighted([20, 6, 4, 8, 6, 6, 6, 8, 8, 4, 4, 4, 2])) {
      case 0: // full rewrite (what an editor does), incl. guest configs
        return withParents({ kind: 'write', path: rnd.chance(0.3) ? vmConf(n.name, rnd.range(100, 103)) : rnd.pick(files), offset: 0, data: content(), truncate: true });
      case 1:
        return withParents({ kind: 'write', path: rnd.pick(files), offset: rnd.int(12), data: content(), truncate: false });
      case 2:
        return withParents({ kind: 'write', path: rnd.pick(files), offset: rnd.int(8), data: Buffer.alloc(0), truncate: true });
      case 3:
        return withParents({ kind: 'create', path: rnd.chance(0.4) ? vmConf(rnd.pick(nodeNames), rnd.range(100, 103)) : rnd.pick(files) });
      case 4:
        return withParents({ kind: 'mkdir', path: rnd.pick(dirs) });
      case 5:
        return { kind: 'delete', path: rnd.pick([...files, ...dirs, vmConf(n.name, rnd.range(100, 103))]) };
      case 6: {
        // migration of a guest config between node dirs, or a plain rename
        const vmid = rnd.range(100, 103);
        const guest = db.vmlist().guests.get(vmid);
        if (guest !== undefined && rnd.chance(0.7)) {
          return withParents({ kind: 'rename', path: vmConf(guest.node, vmid), to: vmConf(rnd.pick(nodeNames), vmid) });
        }
        return withParents({ kind: 'rename', path: rnd.pick(files), to: rnd.pick(files) });
      }
      case 7:
        return withParents({ kind: 'mkdir', path: rnd.pick(locks) });
      case 8: // release
        return { kind: 'delete', path: rnd.pick(locks) };
      case 9: // renewal: utime(path, 0, now)
        return { kind: 'mtime', path: rnd.pick(locks), mtime: n.now() };
      case 10:
        return { kind: 'unlock', path: rnd.pick(locks) };
      case 11:
        return { kind: 'mtime', path: rnd.pick(files), mtime: n.now() };
      case 12:
        return withParents({ kind: 'write', path: `${own}/big.bin`, offset: 0, data: Buffer.alloc(rnd.range(1, 4096), 0x61 + rnd.int(26)), truncate: true });
    }
    return undefined;
  }

  // ---- invariants ----

  /** When nothing is in flight: every view synced, identical trees, models and VMIDs right. */
  private checkQuiescent(): void {
    if (this.group.busyViews().length > 0) return;
    for (const view of this.group.views) {
      const live = view.members.filter((m) => m.node.proc === m && !m.node.faulted);
      for (const m of live) {
        if (!m.dfsm.isSynced) this.violation('liveness', `${m.key} is in mode ${m.dfsm.mode} with nothing in flight (view v${view.id})`);
      }
      const first = live[0];
      if (first === undefined) continue;
      const index = first.memdb.encodeIndex();
      const csum = first.memdb.verifyChecksum();
      for (const m of live.slice(1)) {
        if (!m.memdb.encodeIndex().equals(index)) this.violation('convergence', `${m.key} and ${first.key} differ in view v${view.id}`);
        else if (!m.memdb.verifyChecksum().equals(csum)) this.violation('convergence', `${m.key} and ${first.key}: same index, different verify checksum`);
      }
    }
    for (const n of this.upNodes()) this.checkNode(n);
    if (this.kvGroup.busyViews().length > 0) return;
    for (const view of this.kvGroup.views) {
      const live = view.members.filter((m) => this.nodes[m.member.nodeid - 1]!.proc?.kv === m);
      for (const m of live) {
        if (!m.dfsm.isSynced) this.violation('liveness', `kvstore ${m.key} is in mode ${m.dfsm.mode} with nothing in flight (view v${view.id})`);
      }
      if (live.length === view.members.length) this.kvTracker.checkView(live.map((m) => this.kvMember(m)), this.configuredIds(), undefined);
    }
  }

  private kvMember(kv: KvProcess): { name: string; nodeid: number; kv: KvProcess } {
    return { name: this.nodes[kv.member.nodeid - 1]!.name, nodeid: kv.member.nodeid, kv };
  }

  private configuredIds(): number[] {
    return this.nodes.map((n) => n.nodeid);
  }

  private checkNode(n: SimNode): void {
    if (n.faulted) return;
    const proc = n.proc!;
    const diff = n.model.diff(proc.memdb);
    if (diff.length > 0) this.violation('model', `node${n.nodeid} (${proc.key}) differs from its lineage: ${diff.join('; ')}`);
    // VMIDs: each at most once in the tree, and the vmlist says exactly where.
    const seen = new Map<number, string>();
    for (const e of proc.memdb.entries()) {
      if (e.type !== DT_REG) continue;
      const path = proc.memdb.pathOf(e);
      const cfg = parseGuestConfigPath(path);
      if (cfg === undefined) continue;
      const other = seen.get(cfg.vmid);
      if (other !== undefined) this.violation('vmid', `node${n.nodeid}: VMID ${cfg.vmid} at ${other} and ${path}`);
      seen.set(cfg.vmid, path);
      const listed = proc.memdb.vmlist().guests.get(cfg.vmid);
      if (listed === undefined || listed.node !== cfg.node) this.violation('vmid', `node${n.nodeid}: vmlist does not list ${path}`);
    }
    if (proc.memdb.vmlist().guests.size !== seen.size) {
      this.violation('vmid', `node${n.nodeid}: vmlist has ${proc.memdb.vmlist().guests.size} guests, the tree ${seen.size}`);
    }
  }

  /** Deliveries pending in either group: dcdb's first, then the kvstore's. */
  private allBusy(): (() => void)[] {
    const dcdb = this.group.busyViews().map((v) => () => this.group.deliverOne(v));
    const kv = this.kvGroup.busyViews().map((v) => () => this.kvGroup.deliverOne(v));
    return [...dcdb, ...kv];
  }

  /** Heal everything, restart what is down or broken, let every process re-join and drain. */
  private async settle(): Promise<void> {
    this.log('settle');
    for (let round = 0; round < 6; round++) {
      this.topologyChange(() => {
        for (const n of this.nodes) {
          n.partition = 0;
          if (!n.up || n.faulted || !n.proc!.mayRejoin || !n.proc!.kv.mayRejoin) {
            this.crashNode(n);
            this.startProcess(n);
          }
        }
      });
      this.time += LEAVE_REJOIN_DELAY + 1;
      const out = this.upNodes().filter((n) => !n.proc!.inGroup || !n.proc!.kv.inGroup);
      if (out.length > 0) {
        this.topologyChange(() => {
          for (const n of out) {
            n.proc!.inGroup = true;
            n.proc!.kv.inGroup = true;
          }
        });
      }
      let budget = MAX_SETTLE_DELIVERIES;
      for (let busy = this.allBusy(); busy.length > 0 && budget > 0; busy = this.allBusy(), budget--) {
        busy[0]!();
        if (budget % 64 === 0) await this.settleMicrotasks();
      }
      await this.settleMicrotasks();
      if (budget === 0) {
        this.violation('liveness', 'no quiescence after many deliveries while settling');
        return;
      }
      const allIn = this.nodes.every((n) => n.up && n.proc!.inGroup && n.proc!.kv.inGroup && !n.faulted && n.proc!.mayRejoin && n.proc!.kv.mayRejoin);
      if (allIn && this.group.views.length === 1 && this.kvGroup.views.length === 1) break;
    }
    this.checkQuiescent();
    for (const views of [this.group.views, this.kvGroup.views]) {
      if (views.length !== 1 || views[0]!.members.length !== this.nodes.length) {
        this.violation('liveness', `after settling: ${views.length} views, members ${views.map((v) => v.members.map((m) => m.key).join(',')).join(' | ')}`);
        return;
      }
    }
    this.kvTracker.finalCheck(
      this.nodes.map((n) => this.kvMember(n.proc!.kv)),
      this.configuredIds(),
      this.time,
      this.stats,
    );
    // Durability of acknowledged ops: in the final lineage of the cluster.
    const final = this.nodes[0]!.model;
    for (const [key, desc] of this.acked) {
      // An op that changed nothing (rename onto itself) leaves no trace to look for.
      if (final.applied.has(key) || !this.mutated.has(key)) continue;
      if (this.forked.has(key)) this.stats.forkedAcks++;
      else this.violation('durability', `acknowledged ${desc} (${key}) is not in the final lineage`);
    }
  }
}
