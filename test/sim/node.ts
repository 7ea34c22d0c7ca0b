/**
 * One simulated cluster node: its persistent rows (survive a crash), the tree model of its lineage,
 * and the current process (pid, MemDb reopened from the rows, the real Dfsm + DfsmRunner + DcdbApp
 * + DcdbClient, and the kvstore's Dfsm in its own group: kv-process.ts) or none while it is down.
 */
import { Dfsm } from '../../src/dfsm/dfsm';
import { DfsmRunner } from '../../src/dfsm/runner';
import type { GroupHandler, GroupMember, GroupTransport } from '../../src/dfsm/transport';
import { DcdbApp, type DcdbEffect } from '../../src/dcdb/app';
import { DcdbClient } from '../../src/dcdb/client';
import { DCDB_GROUP_NAME } from '../../src/dcdb/messages';
import { MemDb } from '../../src/memdb/memdb';
import { MemoryTreeStore } from '../../src/memdb/memory-store';
import type { DbRow } from '../../src/memdb/types';
import type { GroupEndpoint, ProcessNetwork } from './group';
import { KvProcess, type KvHooks, type KvProcessOptions } from './kv-process';
import { TreeModel } from './model';
import { RecordingApp, type RecordedNode, type RecorderHooks } from './recording-app';

export interface ProcessHooks extends RecorderHooks, KvHooks {
  onModeChange(proc: NodeProcess, to: number): void;
  onLog(proc: NodeProcess, level: string, message: string): void;
}

export class NodeProcess implements GroupTransport, GroupEndpoint {
  readonly member: GroupMember;
  readonly memdb: MemDb;
  readonly store: MemoryTreeStore;
  readonly dfsm: Dfsm<DcdbEffect>;
  readonly runner: DfsmRunner<DcdbEffect>;
  readonly client: DcdbClient;
  /** The same process's kvstore, in the kvstore group. */
  readonly kv: KvProcess;
  /** Wants to be / is in the group (false after a completed leave). */
  inGroup = false;
  /** A leave was asked for and its view change is pending. */
  leaving = false;
  /** After the last leave: may re-join (LEAVE) or must wait for a restart (ERROR modes). */
  mayRejoin = true;
  leftAt = 0;
  /** Key of the last NORMAL message this process multicast. */
  lastSentKey: string | undefined;

  constructor(
    readonly node: SimNode,
    pid: number,
    private readonly net: ProcessNetwork<NodeProcess>,
    kvNet: ProcessNetwork<KvProcess>,
    hooks: ProcessHooks,
    kvOptions: Omit<KvProcessOptions, 'now'>,
  ) {
    this.member = { nodeid: node.nodeid, pid };
    this.store = new MemoryTreeStore(node.rows);
    this.memdb = MemDb.open(this.store, node.now());
    const quorum = { quorate: () => node.quorate };
    const app = new RecordingApp(new DcdbApp(this.memdb, quorum), this.memdb, node, hooks);
    this.dfsm = new Dfsm(app, { name: `${DCDB_GROUP_NAME}@${node.nodeid}` });
    this.runner = new DfsmRunner(this.dfsm, this, {
      now: () => node.now(),
      onModeChange: (_from, to) => hooks.onModeChange(this, to),
      onLog: (level, message) => hooks.onLog(this, level, message),
    });
    this.client = new DcdbClient(this.runner, this.memdb, quorum);
    this.kv = new KvProcess({ ...this.member }, kvNet, hooks, { ...kvOptions, now: () => node.now() });
  }

  get handler(): GroupHandler {
    return this.runner;
  }

  get key(): string {
    return `${this.member.nodeid}/${this.member.pid}`;
  }

  mcast(data: Buffer): Promise<number> {
    return Promise.resolve(this.net.mcast(this, Buffer.from(data)));
  }

  leave(rejoin?: boolean): void {
    this.net.leave(this, rejoin !== false);
  }
}

export class SimNode implements RecordedNode {
  /** The persistent rows (config.db); they survive crashes. */
  readonly rows = new Map<number, DbRow>();
  /** The model of the lineage of the persisted tree; survives crashes like the rows. */
  model = new TreeModel();
  proc: NodeProcess | null = null;
  quorate = false;
  /** Network partition this node is in. */
  partition = 0;
  faulted = false;
  private pids = 0;

  constructor(
    readonly nodeid: number,
    readonly name: string,
    private readonly clock: () => number,
    /** Seconds this node's clock is off from the simulation clock. */
    readonly skew: number,
  ) {}

  get appliedResults(): Map<string, number> {
    return this.results;
  }
  private results = new Map<string, number>();

  get up(): boolean {
    return this.proc !== null;
  }

  now(): number {
    return this.clock() + this.skew;
  }

  /** Start a new process (fresh pid) that reopens the tree from the rows. */
  start(net: ProcessNetwork<NodeProcess>, kvNet: ProcessNetwork<KvProcess>, hooks: ProcessHooks, kvOptions: Omit<KvProcessOptions, 'now'>): NodeProcess {
    this.pids++;
    this.results = new Map();
    this.faulted = false;
    this.proc = new NodeProcess(this, this.nodeid * 1000 + this.pids, net, kvNet, hooks, kvOptions);
    return this.proc;
  }

  /** The process dies: everything in RAM is gone, the rows stay. */
  crash(): void {
    this.proc = null;
  }
}
