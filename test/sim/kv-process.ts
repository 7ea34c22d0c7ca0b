/**
 * The kvstore side of a simulated node process: the real Kvstore (`pve_kvstore_v1`) under its own
 * Dfsm + DfsmRunner, in its own simulated CPG group, wired the way src/daemon/cluster-backend.ts
 * wires it: the nodelist is known from the start (cmap), the first cluster-log line is written at
 * start-up, local SET_STATUS / LOG_CLUSTER_MSG apply here first and are multicast fire-and-forget
 * only while the group is joined, and losing the group marks every node offline.
 */
import { Dfsm } from '../../src/dfsm/dfsm';
import { DfsmRunner } from '../../src/dfsm/runner';
import type { GroupHandler, GroupMember, GroupTransport } from '../../src/dfsm/transport';
import { Kvstore, type KvOutMessage, type KvstoreEffect, type ClusterConfig } from '../../src/kvstore/kvstore';
import { KVSTORE_GROUP_NAME } from '../../src/kvstore/messages';
import type { ClogEntry } from '../../src/kvstore/clog-entry';
import type { GroupEndpoint, ProcessNetwork } from './group';

export interface KvHooks {
  onKvModeChange(proc: KvProcess, to: number): void;
  onKvLog(proc: KvProcess, level: string, message: string): void;
  onKvEffect(proc: KvProcess, effect: KvstoreEffect): void;
}

export interface KvProcessOptions {
  nodename: string;
  startupIp: string;
  cluster: ClusterConfig;
  clusterLogSize: number;
  now: () => number;
}

export class KvProcess implements GroupEndpoint, GroupTransport {
  readonly kvstore: Kvstore;
  readonly dfsm: Dfsm<KvstoreEffect>;
  readonly runner: DfsmRunner<KvstoreEffect>;
  readonly handler: GroupHandler;
  inGroup = false;
  leaving = false;
  mayRejoin = true;
  leftAt = 0;
  lastSentKey: string | undefined;
  /** Between joined() and disconnected(): what CpgGroup.isJoined says in the daemon. */
  joined = false;
  /** The "starting cluster log" entry this process wrote at start-up. */
  readonly startEntry: ClogEntry | undefined;

  constructor(
    readonly member: GroupMember,
    private readonly net: ProcessNetwork<KvProcess>,
    hooks: KvHooks,
    options: KvProcessOptions,
  ) {
    this.kvstore = new Kvstore({ nodename: options.nodename, startupIp: options.startupIp, clusterLogSize: options.clusterLogSize });
    this.kvstore.setClusterInfo(options.cluster);
    this.dfsm = new Dfsm(this.kvstore, { name: `${KVSTORE_GROUP_NAME}@${member.nodeid}` });
    this.runner = new DfsmRunner(this.dfsm, this, {
      now: options.now,
      onModeChange: (_from, to) => hooks.onKvModeChange(this, to),
      onLog: (level, message) => hooks.onKvLog(this, level, message),
      onAppEffect: (effect) => hooks.onKvEffect(this, effect),
    });
    const runner = this.runner;
    const kvstore = this.kvstore;
    // As the daemon's KvstoreMembership: the runner, plus "everyone offline" when the group is lost.
    this.handler = {
      joined: (self) => {
        this.joined = true;
        runner.joined(self);
      },
      confchg: (members, left, joinedList) => runner.confchg(members, left, joinedList),
      deliver: (from, data) => runner.deliver(from, data),
      disconnected: (reason) => {
        this.joined = false;
        runner.disconnected(reason);
        kvstore.membersChanged([]);
      },
    };
    this.startEntry = this.kvstore.startClusterLog(member.pid, options.now()).entry;
  }

  get key(): string {
    return `${this.member.nodeid}/${this.member.pid}`;
  }

  /** Multicast what a local set/log returned, if the group is joined (else the next sync carries it). */
  sendKv(messages: KvOutMessage[]): void {
    if (!this.joined) return;
    for (const m of messages) void this.runner.sendAsync(m.subtype, m.payload);
  }

  // ---- GroupTransport ----

  mcast(data: Buffer): Promise<number> {
    return Promise.resolve(this.net.mcast(this, Buffer.from(data)));
  }

  leave(rejoin?: boolean): void {
    this.net.leave(this, rejoin !== false);
  }
}
