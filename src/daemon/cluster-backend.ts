/**
 * Cluster mode (spec §1, §4–§7, §9): the corosync services wired to the replicated applications.
 * - quorum (libquorum): quorate() of the file system; losing it releases in-flight writers (EACCES)
 * - cmap: the cluster description for `.members` and the kvstore's nodelist
 * - CPG `pve_dcdb_v1`: DfsmRunner over DcdbApp (the file tree); FUSE changes go through DcdbClient
 * - CPG `pve_kvstore_v1`: DfsmRunner over Kvstore (online flags, node IPs, cluster log, RRD cache)
 * - a 1 s tick driving the DFSM verify timer; corosync.conf copied to the host file (§9)
 * Every service starts before corosync may be up and keeps retrying by itself; stop() undoes all.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { ClusterConfigTracker } from '../corosync/cmap';
import { CpgGroup } from '../corosync/cpg-group';
import type { Logger as CorosyncLogger } from '../corosync/log';
import { QuorumTracker } from '../corosync/quorum';
import { DcdbApp, type DcdbEffect } from '../dcdb/app';
import { DcdbClient } from '../dcdb/client';
import { DCDB_GROUP_NAME } from '../dcdb/messages';
import type { LogLevel as DfsmLogLevel } from '../dfsm/app';
import { Dfsm } from '../dfsm/dfsm';
import { modeName } from '../dfsm/modes';
import { DfsmRunner } from '../dfsm/runner';
import { DfsmMessageType } from '../dfsm/header';
import { writeSpans } from '../trace/write-spans';
import type { GroupHandler, GroupMember } from '../dfsm/transport';
import { Kvstore, type KvOutMessage, type KvstoreEffect } from '../kvstore/kvstore';
import { KVSTORE_GROUP_NAME } from '../kvstore/messages';
import type { MemDb } from '../memdb/memdb';
import type { FsOp } from '../memdb/types';
import type { BackendContext, BackendSnapshot, DfsmSnapshot, FsBackend } from './backend';
import { ClusterStatusSource, clusterConfigOf } from './cluster-status';
import { CorosyncConfSync, type ReloadRunner } from './corosync-conf-sync';
import type { Logger, LogPriority } from './logger';

/** spec §4.7: DCDB_VERIFY_TIME. */
export const DCDB_VERIFY_INTERVAL_S = 3600;
/** Environment overrides for tests (seconds / milliseconds). */
export const VERIFY_INTERVAL_ENV = 'PMXCFS_VERIFY_INTERVAL';
export const RECONNECT_DELAY_ENV = 'PMXCFS_RECONNECT_DELAY_MS';

export interface ClusterBackendOptions extends BackendContext {
  /** Seconds between dcdb verify rounds (default 3600). */
  verifyIntervalS?: number;
  /** Delay between attempts to reach corosync again (default 5000 ms, the reference's 5 s). */
  reconnectDelayMs?: number;
  /** The address announced as `nodeip`; default: the first non-loopback address of this host. */
  nodeIp?: string | null;
  /** Period of the DFSM tick (default 1000 ms). */
  tickMs?: number;
  runReload?: ReloadRunner;
}

/** Tuning from the environment (tests shorten the verify interval and the reconnect delay). */
export function clusterTuningFromEnv(env: NodeJS.ProcessEnv = process.env): { verifyIntervalS?: number; reconnectDelayMs?: number } {
  const positive = (text: string | undefined): number | undefined => {
    if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
    const n = Number(text.trim());
    return n > 0 ? n : undefined;
  };
  const out: { verifyIntervalS?: number; reconnectDelayMs?: number } = {};
  const verify = positive(env[VERIFY_INTERVAL_ENV]);
  if (verify !== undefined) out.verifyIntervalS = verify;
  const reconnect = positive(env[RECONNECT_DELAY_ENV]);
  if (reconnect !== undefined) out.reconnectDelayMs = reconnect;
  return out;
}

/** The node's first non-loopback IPv4 address, else its first global IPv6 one, else undefined. */
export function pickNodeIp(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const v4 = all.find((a) => a.family === 'IPv4' && !a.internal && !a.address.startsWith('127.'));
  if (v4 !== undefined) return v4.address;
  const v6 = all.find((a) => a.family === 'IPv6' && !a.internal && a.address !== '::1' && !/^fe80:/i.test(a.address));
  return v6?.address;
}

const DFSM_PRIORITY: Record<DfsmLogLevel, LogPriority> = {
  debug: 'debug',
  info: 'info',
  notice: 'notice',
  warning: 'warning',
  error: 'err',
  critical: 'crit',
};

function corosyncLogger(logger: Logger, domain: string): CorosyncLogger {
  return (level, message) => logger.log(domain, level === 'error' ? 'err' : level, message);
}

/**
 * The kvstore's view of membership follows its own CPG group; when the group is lost every node
 * is offline until the next view (the reference shows the same once corosync is gone).
 */
class KvstoreMembership implements GroupHandler {
  constructor(
    private readonly runner: DfsmRunner<KvstoreEffect>,
    private readonly kvstore: Kvstore,
  ) {}
  joined(self: GroupMember): void {
    this.runner.joined(self);
  }
  confchg(members: GroupMember[], left: GroupMember[], joined: GroupMember[]): void {
    this.runner.confchg(members, left, joined);
  }
  deliver(from: GroupMember, data: Buffer): void {
    this.runner.deliver(from, data);
  }
  disconnected(reason: string): void {
    this.runner.disconnected(reason);
    this.kvstore.membersChanged([]);
  }
}

/** The dcdb group's handler with latency spans around every NORMAL message's delivery. */
class TracedDelivery implements GroupHandler {
  constructor(
    private readonly runner: DfsmRunner<DcdbEffect>,
    private readonly group: () => CpgGroup,
  ) {}
  joined(self: GroupMember): void {
    this.runner.joined(self);
  }
  confchg(members: GroupMember[], left: GroupMember[], joined: GroupMember[]): void {
    this.runner.confchg(members, left, joined);
  }
  deliver(from: GroupMember, data: Buffer): void {
    if (data.length < 2 || data.readUInt16LE(0) !== DfsmMessageType.NORMAL) return this.runner.deliver(from, data);
    const group = this.group();
    const self = group.member;
    writeSpans.deliveryStart(group.dispatchStart, self !== null && self.nodeid === from.nodeid && self.pid === from.pid);
    try {
      this.runner.deliver(from, data);
    } finally {
      writeSpans.deliveryEnd();
    }
  }
  disconnected(reason: string): void {
    this.runner.disconnected(reason);
  }
}

export class ClusterBackend implements FsBackend {
  readonly memdb: MemDb;
  readonly status: ClusterStatusSource;
  readonly kvstore: Kvstore;
  readonly corosyncConf: CorosyncConfSync;

  private readonly quorum: QuorumTracker;
  private readonly cmap: ClusterConfigTracker;
  private readonly dcdbDfsm: Dfsm<DcdbEffect>;
  private readonly dcdbRunner: DfsmRunner<DcdbEffect>;
  private readonly dcdbGroup: CpgGroup;
  private readonly dcdbClient: DcdbClient;
  private readonly kvDfsm: Dfsm<KvstoreEffect>;
  private readonly kvRunner: DfsmRunner<KvstoreEffect>;
  private readonly kvGroup: CpgGroup;
  private readonly unsubscribe: (() => void)[] = [];
  private tickTimer: NodeJS.Timeout | null = null;
  private lastNodeid = 0;
  private started = false;

  constructor(private readonly o: ClusterBackendOptions) {
    const { memdb, logger, clock } = o;
    this.memdb = memdb;
    const reconnectDelayMs = o.reconnectDelayMs ?? 5000;

    this.quorum = new QuorumTracker({ log: corosyncLogger(logger, 'quorum'), reconnectDelayMs });
    this.cmap = new ClusterConfigTracker({ log: corosyncLogger(logger, 'confdb'), reconnectDelayMs });
    this.corosyncConf = new CorosyncConfSync({ memdb, logger, hostPath: o.hostCorosyncConf, runReload: o.runReload });

    // dcdb: the file tree. The runner is the group's handler and the group is the runner's
    // transport, so the transport is a forwarder bound once the group exists.
    const dcdbApp = new DcdbApp(memdb, this.quorum);
    this.dcdbDfsm = new Dfsm(dcdbApp, { name: DCDB_GROUP_NAME, verifyInterval: o.verifyIntervalS ?? DCDB_VERIFY_INTERVAL_S });
    let dcdbGroup: CpgGroup | undefined;
    this.dcdbRunner = new DfsmRunner(this.dcdbDfsm, { mcast: (d) => dcdbGroup!.mcast(d), leave: (r) => dcdbGroup!.leave(r) }, {
      now: clock,
      onLog: (level, message) => logger.log('dcdb', DFSM_PRIORITY[level], message),
      onAppEffect: (effect) => this.onDcdbEffect(effect),
      onModeChange: (from, to) => this.onModeChange(DCDB_GROUP_NAME, from, to),
      trace: writeSpans,
    });
    this.dcdbGroup = dcdbGroup = new CpgGroup(DCDB_GROUP_NAME, new TracedDelivery(this.dcdbRunner, () => dcdbGroup!), {
      log: corosyncLogger(logger, 'dcdb'),
      reconnectDelayMs,
      onMcast: (start, end) => writeSpans.mcast(start, end),
    });
    this.dcdbClient = new DcdbClient(this.dcdbRunner, memdb, this.quorum);

    // kvstore: status, node IPs, cluster log.
    const nodeIp = o.nodeIp === undefined ? pickNodeIp(networkInterfaces()) : (o.nodeIp ?? undefined);
    this.kvstore = new Kvstore({ nodename: o.nodename, startupIp: nodeIp });
    this.kvDfsm = new Dfsm(this.kvstore, { name: KVSTORE_GROUP_NAME });
    let kvGroup: CpgGroup | undefined;
    this.kvRunner = new DfsmRunner(this.kvDfsm, { mcast: (d) => kvGroup!.mcast(d), leave: (r) => kvGroup!.leave(r) }, {
      now: clock,
      onLog: (level, message) => logger.log('status', DFSM_PRIORITY[level], message),
      onAppEffect: (effect) => this.onKvstoreEffect(effect),
      onModeChange: (from, to) => this.onModeChange(KVSTORE_GROUP_NAME, from, to),
    });
    this.kvGroup = kvGroup = new CpgGroup(KVSTORE_GROUP_NAME, new KvstoreMembership(this.kvRunner, this.kvstore), {
      log: corosyncLogger(logger, 'status'),
      reconnectDelayMs,
    });

    this.status = new ClusterStatusSource(memdb, this.kvstore, () => this.quorum.quorate(), o.starttime, clock);
    // The first entry of every daemon's log; it reaches the others through the kvstore state merge.
    this.kvstore.startClusterLog(process.pid, o.starttime);
  }

  /** Starts every service (each retries until corosync answers) and the tick. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.unsubscribe.push(
      this.quorum.onChange((quorate) => {
        this.o.logger.log('status', 'notice', quorate ? 'node has quorum' : 'node lost quorum');
        this.dcdbClient.quorumChanged(quorate);
      }),
      this.cmap.onChange((info) => {
        // the reference's line, double space included
        this.o.logger.log('status', 'notice', `update cluster info (cluster name  ${info.clusterName}, version = ${info.configVersion})`);
        // Online flags are only tracked once a nodelist is known: take them from the current view
        // (one clinfo change, as the reference counts a new cluster info).
        this.kvstore.setClusterInfo(clusterConfigOf(info), this.kvGroup.isJoined ? this.kvDfsm.members : []);
      }),
    );
    // Spec §1/§9: at start-up in cluster mode the tree's corosync.conf goes to the host, reload allowed.
    this.corosyncConf.sync(true);
    this.quorum.start();
    this.cmap.start();
    this.dcdbGroup.start();
    this.kvGroup.start();
    this.tickTimer = setInterval(() => this.tick(), this.o.tickMs ?? 1000);
  }

  /** Leaves both groups, finalizes every corosync handle and clears every timer. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.tickTimer = null;
    for (const off of this.unsubscribe.splice(0)) off();
    this.corosyncConf.stop();
    this.dcdbGroup.stop();
    this.kvGroup.stop();
    this.cmap.stop();
    this.quorum.stop();
    // Writers still waiting will never see their message: answer them now.
    this.dcdbRunner.disconnected('daemon stopping');
    this.kvRunner.disconnected('daemon stopping');
  }

  // ---- FsBackend ----

  quorate(): boolean {
    return this.quorum.quorate();
  }

  submit(op: FsOp): Promise<number> {
    return this.dcdbClient.submit(op);
  }

  onQuorumChange(listener: (quorate: boolean) => void): () => void {
    return this.quorum.onChange(listener);
  }

  requestUnlock(path: string): Promise<number> {
    return this.dcdbClient.requestUnlock(path);
  }

  /** The corosync nodeid (kept after corosync goes away; 0 before it first answered). */
  nodeId(): number {
    const member = this.dcdbGroup.member ?? this.kvGroup.member;
    if (member !== null) this.lastNodeid = member.nodeid;
    return this.lastNodeid;
  }

  snapshot(): BackendSnapshot {
    const members = this.kvstore.membersStatus(this.quorate());
    const snap: BackendSnapshot = {
      mode: 'cluster',
      nodename: this.o.nodename,
      nodeid: this.nodeId(),
      quorate: this.quorate(),
      version: this.memdb.version,
      memdbErrors: this.memdb.errors,
      members: (members.cluster?.nodes ?? []).map((n) =>
        n.ip === undefined ? { name: n.name, nodeid: n.id, online: n.online } : { name: n.name, nodeid: n.id, online: n.online, ip: n.ip },
      ),
      dfsm: {
        dcdb: this.dfsmSnapshot(DCDB_GROUP_NAME, this.dcdbDfsm, this.dcdbGroup),
        kvstore: this.dfsmSnapshot(KVSTORE_GROUP_NAME, this.kvDfsm, this.kvGroup),
      },
    };
    if (members.cluster !== undefined) {
      snap.cluster = { name: members.cluster.name, configVersion: members.cluster.version, clinfoVersion: members.version };
    }
    return snap;
  }

  // ---- kvstore API for the IPC layer (SET_STATUS, LOG_CLUSTER_MSG) ----

  /** IPC SET_STATUS: applied locally, then multicast (best effort, also without quorum). */
  setStatus(key: string, value: Buffer): number {
    const res = this.kvstore.setStatus(key, value, this.o.clock());
    for (const line of res.log) this.o.logger.log('status', 'warning', line);
    for (const effect of res.effects) this.onKvstoreEffect(effect);
    this.sendKv(res.send);
    return res.result;
  }

  /** A cluster-log entry from this node (IPC LOG_CLUSTER_MSG): inserted here and sent to the others. */
  logCluster(fields: { ident: string; tag: string; pid: number; priority: number; msg: string | Uint8Array }): void {
    this.sendKv(this.kvstore.log(fields, this.o.clock()).send);
  }

  // ---- internals ----

  private sendKv(messages: KvOutMessage[]): void {
    if (!this.kvGroup.isJoined) return; // others get it through the state merge on the next sync
    for (const m of messages) void this.kvRunner.sendAsync(m.subtype, m.payload);
  }

  private tick(): void {
    this.dcdbRunner.tick();
    this.kvRunner.tick();
  }

  private onDcdbEffect(effect: DcdbEffect): void {
    if (effect.kind === 'corosync-conf-changed') this.corosyncConf.sync(effect.reloadAllowed);
  }

  private onKvstoreEffect(effect: KvstoreEffect): void {
    // Every node writes every node's samples (spec §6); the writer never throws.
    if (effect.kind === 'rrd-update') {
      if (this.o.rrd !== undefined) this.o.rrd.write(effect.target);
      else this.o.logger.log('status', 'debug', `rrd update ${effect.key} (not written to disk)`);
    }
  }

  private onModeChange(group: string, from: number, to: number): void {
    this.o.logger.log(group === DCDB_GROUP_NAME ? 'dcdb' : 'status', 'debug', `${group}: mode ${modeName(from)} -> ${modeName(to)}`);
  }

  private dfsmSnapshot(group: string, dfsm: Dfsm<DcdbEffect> | Dfsm<KvstoreEffect>, cpg: CpgGroup): DfsmSnapshot {
    return {
      group,
      mode: modeName(dfsm.mode),
      joined: cpg.isJoined,
      members: dfsm.members,
      queued: dfsm.queuedCount,
      waiting: dfsm.pendingWaiters.length,
    };
  }
}
