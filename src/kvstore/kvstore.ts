/**
 * The status store, application `pve_kvstore_v1` of the DFSM (spec §6): per-node key/values, node
 * IPs, the RRD sample cache and the cluster log. Non-persistent: everything is lost when every
 * node restarts.
 *
 * Pure. Local operations (IPC SET_STATUS, LOG_CLUSTER_MSG) return the NORMAL messages to multicast
 * (`send`), which the shell hands to the DFSM fire-and-forget when the kvstore group exists
 * (local mode sends nothing). Callbacks from the DFSM send through the context.
 */
import { Errno } from '../memdb/errno';
import type { AppContext, DeliverOutcome, DfsmApp, MemberState } from '../dfsm/app';
import type { GroupMember } from '../dfsm/transport';
import { ClusterLog } from './clusterlog';
import { ClogEntry } from './clog-entry';
import { decodeLog, decodeUpdate, encodeLog, encodeUpdate, KvstoreMessage, KVSTORE_PROTOCOL_VERSION } from './messages';
import { rrdTargetFor, RrdTarget } from './rrd-key';
import { renderClusterLog, ClusterLogDumpOptions } from '../status/clusterlog';
import { renderRrdDump, RRD_SAMPLE_MAX_AGE } from '../status/rrd';
import type { KvstoreVersions } from '../status/version';
import type { MembersStatus } from '../status/members';

/** Values above this are refused with EFBIG (CFS_MAX_STATUS_SIZE). */
export const CFS_MAX_STATUS_SIZE = 32768;
/** RRD values must be shorter than this, NUL included. */
export const RRD_MAX_VALUE_SIZE = 4096;
/** nodeip values must be shorter than this, NUL included. */
export const NODEIP_MAX_SIZE = 256;
/** At most this many nodes' IPs wait for a nodelist that names them (corosync's own node limit). */
const MAX_PENDING_IPS = 512;

/** Effects for the shell. */
export type KvstoreEffect =
  /** Write one sample to the RRD file (every node keeps every node's RRDs). */
  | { kind: 'rrd-update'; key: string; target: RrdTarget };

/** A NORMAL message to multicast (subtype + payload), fire and forget. */
export interface KvOutMessage {
  subtype: number;
  payload: Buffer;
}

export interface KvSetResult {
  /** 0 or a negative errno. */
  result: number;
  send: KvOutMessage[];
  effects: KvstoreEffect[];
  log: string[];
}

export interface KvEntry {
  data: Buffer;
  /** 0 when created, +1 per update. */
  version: number;
}

export interface ClusterNodeConfig {
  name: string;
  nodeid: number;
  votes?: number;
}

/** The corosync nodelist as read from cmap. */
export interface ClusterConfig {
  name: string;
  /** totem.config_version */
  configVersion: number;
  nodes: ClusterNodeConfig[];
}

interface ClusterNodeState {
  name: string;
  nodeid: number;
  votes: number;
  online: boolean;
}

interface RrdSample {
  data: string;
  /** Local receive time. */
  time: number;
}

export interface KvstoreOptions {
  nodename: string;
  /** The address resolved at start-up; broadcast as `nodeip` on reaching SYNCED if none was set. */
  startupIp?: string;
  clusterLogSize?: number;
}

/** Bytes up to (not including) the terminating NUL, if `value` is a C string of 1..max-1 bytes. */
function cStringValue(value: Buffer, max: number): string | undefined {
  if (value.length === 0 || value.length >= max || value[value.length - 1] !== 0) return undefined;
  const text = value.subarray(0, value.length - 1);
  const nul = text.indexOf(0);
  return (nul < 0 ? text : text.subarray(0, nul)).toString('utf8');
}

function setKv(table: Map<string, KvEntry>, key: string, value: Buffer): void {
  if (value.length === 0) {
    table.delete(key);
    return;
  }
  const old = table.get(key);
  table.set(key, { data: Buffer.from(value), version: old ? (old.version + 1) >>> 0 : 0 });
}

export class Kvstore implements DfsmApp<KvstoreEffect> {
  readonly protocolVersion = KVSTORE_PROTOCOL_VERSION;
  readonly nodename: string;
  readonly clusterLog: ClusterLog;

  private startupIp: string | undefined;
  private localKv = new Map<string, KvEntry>();
  /** Other nodes' tables by nodeid. */
  private remoteKv = new Map<number, Map<string, KvEntry>>();
  private cluster: { name: string; configVersion: number; nodes: Map<number, ClusterNodeState> } | undefined;
  private clinfoVersionValue = 0;
  /** Node name -> IP. */
  private ips = new Map<string, string>();
  /**
   * nodeip values from node ids our nodelist does not know yet (cmap answers later than the
   * kvstore group at start-up, or a node added to corosync.conf speaks before the new nodelist
   * reached us); applied by setClusterInfo once the id has a name. Each node sends its IP only
   * when a sync round ends, so a dropped one would be missing until the next membership change.
   */
  private pendingIps = new Map<number, Buffer>();
  private rrd = new Map<string, RrdSample>();

  constructor(options: KvstoreOptions) {
    this.nodename = options.nodename;
    this.startupIp = options.startupIp;
    this.clusterLog = new ClusterLog(options.clusterLogSize ? { size: options.clusterLogSize } : {});
  }

  // ---- views ----

  get clinfoVersion(): number {
    return this.clinfoVersionValue;
  }

  /** IPC GET_STATUS: a node's value (own node when `nodename` is empty or ours), or -ENOENT. */
  getStatus(key: string, nodename?: string): Buffer | number {
    let table: Map<string, KvEntry> | undefined;
    if (!nodename || nodename === this.nodename) table = this.localKv;
    else {
      const node = this.nodeByName(nodename);
      table = node ? this.remoteKv.get(node.nodeid) : undefined;
    }
    const entry = table?.get(key);
    return entry ? Buffer.from(entry.data) : -Errno.ENOENT;
  }

  nodeIp(nodename: string): string | undefined {
    return this.ips.get(nodename);
  }

  isOnline(nodeid: number): boolean {
    return this.cluster?.nodes.get(nodeid)?.online ?? false;
  }

  /** The kvstore block of `.version`: our table first, then every node that has one. */
  kvstoreVersions(): KvstoreVersions[] {
    const blocks: KvstoreVersions[] = [{ node: this.nodename, keys: [...this.localKv].map(([k, e]) => [k, e.version]) }];
    const ids = [...this.remoteKv.keys()].sort((a, b) => a - b);
    for (const id of ids) {
      const name = this.cluster?.nodes.get(id)?.name;
      if (name === undefined) continue;
      blocks.push({ node: name, keys: [...this.remoteKv.get(id)!].map(([k, e]) => [k, e.version]) });
    }
    return blocks;
  }

  /** Input of renderMembers; `quorate` comes from the quorum service. Nodes by id. */
  membersStatus(quorate: boolean): MembersStatus {
    const status: MembersStatus = { nodename: this.nodename, version: this.clinfoVersionValue };
    if (this.cluster && this.cluster.nodes.size > 0) {
      const nodes = [...this.cluster.nodes.values()].sort((a, b) => a.nodeid - b.nodeid);
      status.cluster = {
        name: this.cluster.name,
        version: this.cluster.configVersion,
        quorate,
        nodes: nodes.map((n) => {
          const ip = this.ips.get(n.name);
          return ip === undefined ? { name: n.name, id: n.nodeid, online: n.online } : { name: n.name, id: n.nodeid, online: n.online, ip };
        }),
      };
    }
    return status;
  }

  /** `.clusterlog` / IPC op 8. */
  clusterLogJson(options: ClusterLogDumpOptions = {}): string {
    return renderClusterLog(this.clusterLog.iterateNewestFirst(), options);
  }

  /** `.rrd` text; samples older than 300 s are dropped from the cache first. */
  rrdDump(now: number): string {
    for (const [key, s] of this.rrd) if (now - s.time > RRD_SAMPLE_MAX_AGE) this.rrd.delete(key);
    return renderRrdDump([...this.rrd].map(([key, s]) => ({ key, data: s.data, time: s.time })), now);
  }

  // ---- cluster configuration and membership ----

  /**
   * New nodelist from cmap: keeps the kv tables of nodes with the same id, and their online flags —
   * or, given the kvstore group's current view, takes the flags from it. Counts one clinfo change,
   * as the reference does for a new cluster info.
   */
  setClusterInfo(config: ClusterConfig, currentMembers?: readonly GroupMember[]): void {
    const old = this.cluster;
    const online = currentMembers === undefined ? undefined : new Set(currentMembers.map((m) => m.nodeid));
    const nodes = new Map<number, ClusterNodeState>();
    for (const n of config.nodes) {
      nodes.set(n.nodeid, {
        name: n.name,
        nodeid: n.nodeid,
        votes: n.votes ?? 1,
        online: online !== undefined ? online.has(n.nodeid) : (old?.nodes.get(n.nodeid)?.online ?? false),
      });
    }
    for (const id of [...this.remoteKv.keys()]) if (!nodes.has(id)) this.remoteKv.delete(id);
    this.cluster = { name: config.name, configVersion: config.configVersion, nodes };
    this.clinfoVersionValue = (this.clinfoVersionValue + 1) >>> 0;
    for (const [nodeid, value] of this.pendingIps) {
      const node = nodes.get(nodeid);
      if (node === undefined) continue;
      this.pendingIps.delete(nodeid);
      this.setIp(node.name, value);
    }
  }

  /** Online = member of the kvstore group (only tracked once a nodelist is known). */
  membersChanged(members: readonly GroupMember[]): void {
    if (!this.cluster) return;
    for (const n of this.cluster.nodes.values()) n.online = false;
    for (const m of members) {
      const n = this.cluster.nodes.get(m.nodeid);
      if (n) n.online = true;
    }
    this.clinfoVersionValue = (this.clinfoVersionValue + 1) >>> 0;
  }

  private nodeByName(name: string): ClusterNodeState | undefined {
    if (!this.cluster) return undefined;
    for (const n of this.cluster.nodes.values()) if (n.name === name) return n;
    return undefined;
  }

  // ---- local operations ----

  /** IPC SET_STATUS (spec §6 local setter). */
  setStatus(key: string, value: Buffer, now: number): KvSetResult {
    const res: KvSetResult = { result: 0, send: [], effects: [], log: [] };
    if (value.length > CFS_MAX_STATUS_SIZE) {
      res.result = -Errno.EFBIG;
      return res;
    }
    let applied: boolean;
    if (key.startsWith('rrd/')) applied = this.setRrd(key.slice(4), value, now, res);
    else if (key === 'nodeip') applied = this.setIp(this.nodename, value);
    else {
      setKv(this.localKv, key, value);
      applied = true;
    }
    if (!applied) {
      // The reference's answer for a value its rrd/nodeip tables refuse (its setters return FALSE).
      res.result = -Errno.ENOMEM;
      return res;
    }
    res.send.push({ subtype: KvstoreMessage.UPDATE, payload: encodeUpdate(key, value) });
    return res;
  }

  /**
   * IPC LOG_CLUSTER_MSG / the daemon's own cluster-log lines: stamp our node name, insert, and
   * return the LOG message to multicast. Priorities >= 8 are dropped silently.
   */
  log(fields: { ident: string; tag: string; pid: number; priority: number; msg: string | Uint8Array }, now: number): {
    entry?: ClogEntry;
    send: KvOutMessage[];
  } {
    const entry = this.clusterLog.add({ ...fields, node: this.nodename, time: now });
    if (!entry) return { send: [] };
    return { entry, send: [{ subtype: KvstoreMessage.LOG, payload: encodeLog(entry) }] };
  }

  /** The first line of every daemon's log (the reference writes it at start-up). */
  startClusterLog(pid: number, now: number): { entry?: ClogEntry; send: KvOutMessage[] } {
    return this.log({ ident: 'root', tag: 'cluster', pid, priority: 6, msg: 'starting cluster log' }, now);
  }

  private setRrd(key: string, value: Buffer, now: number, res: { effects: KvstoreEffect[]; log: string[] }): boolean {
    const data = cStringValue(value, RRD_MAX_VALUE_SIZE);
    if (data === undefined) return false;
    this.rrd.set(key, { data, time: now });
    const target = rrdTargetFor(key, data);
    if ('error' in target) res.log.push(target.error);
    else res.effects.push({ kind: 'rrd-update', key, target });
    return true;
  }

  private setIp(nodename: string, value: Buffer): boolean {
    const ip = cStringValue(value, NODEIP_MAX_SIZE);
    if (ip === undefined) return false;
    if (this.ips.get(nodename) !== ip) {
      this.ips.set(nodename, ip);
      this.clinfoVersionValue = (this.clinfoVersionValue + 1) >>> 0;
    }
    return true;
  }

  // ---- remote updates (also usable without a DFSM, e.g. in tests) ----

  /**
   * An UPDATE from another node. Ignored when a nodelist is known and `nodeid` is not in it.
   * Returns what the shell must do and what to log.
   */
  applyRemoteUpdate(nodeid: number, key: string, value: Buffer, now: number): { effects: KvstoreEffect[]; log: string[] } {
    const res = { effects: [] as KvstoreEffect[], log: [] as string[] };
    const node = this.cluster?.nodes.get(nodeid);
    if (key === 'nodeip') {
      if (node !== undefined) {
        if (!this.setIp(node.name, value)) res.log.push(`invalid nodeip from node ${nodeid}`);
      } else if (cStringValue(value, NODEIP_MAX_SIZE) === undefined) {
        res.log.push(`invalid nodeip from node ${nodeid}`);
      } else if (this.pendingIps.size < MAX_PENDING_IPS || this.pendingIps.has(nodeid)) {
        // Kept until the nodelist names this id (a deliberate difference: the reference drops it).
        this.pendingIps.set(nodeid, Buffer.from(value));
      }
      return res;
    }
    if (this.cluster && !node) {
      res.log.push(`ignore kvstore update from node ${nodeid}: not in the nodelist`);
      return res;
    }
    if (key.startsWith('rrd/')) {
      if (!this.setRrd(key.slice(4), value, now, res)) res.log.push(`invalid rrd value for ${key} from node ${nodeid}`);
    } else {
      let table = this.remoteKv.get(nodeid);
      if (!table) this.remoteKv.set(nodeid, (table = new Map()));
      setKv(table, key, value);
    }
    return res;
  }

  // ---- DfsmApp ----

  getState(): Buffer {
    return this.clusterLog.state();
  }

  /** Everyone is synced (no UPDATE phase): merge all logs and re-send our kv entries. */
  processStateUpdate(states: readonly MemberState[], ctx: AppContext<KvstoreEffect>): GroupMember[] {
    const others = states.filter((s) => !(s.member.nodeid === ctx.self.nodeid && s.member.pid === ctx.self.pid));
    const { rejected } = this.clusterLog.merge(others.map((s) => s.state));
    for (const r of rejected) {
      const m = others[r.index]!.member;
      ctx.log('critical', `received log with wrong format from ${m.nodeid}/${m.pid}: ${r.reason}`);
    }
    for (const [key, entry] of this.localKv) ctx.sendAsync(KvstoreMessage.UPDATE, encodeUpdate(key, entry.data));
    return states.map((s) => s.member);
  }

  processUpdate(_from: GroupMember, _payload: Buffer, ctx: AppContext<KvstoreEffect>): boolean {
    ctx.log('critical', 'received unexpected update message');
    return false;
  }

  commit(): boolean {
    return true;
  }

  deliver(from: GroupMember, subtype: number, payload: Buffer, _time: number, ctx: AppContext<KvstoreEffect>): DeliverOutcome {
    // Our own messages were applied when they were made.
    if (from.nodeid === ctx.self.nodeid && from.pid === ctx.self.pid) return { kind: 'processed', result: 0 };

    if (subtype === KvstoreMessage.UPDATE) {
      const update = decodeUpdate(payload);
      if (!update.ok) {
        ctx.log('critical', `cant parse update message: ${update.error}`);
      } else {
        const res = this.applyRemoteUpdate(from.nodeid, update.value.key, update.value.value, ctx.now);
        for (const line of res.log) ctx.log('warning', line);
        for (const effect of res.effects) ctx.emit(effect);
      }
      return { kind: 'processed', result: 0 };
    }
    if (subtype === KvstoreMessage.LOG) {
      ctx.log('notice', 'received log'); // the reference logs every peer's entry so (its "fixme: remove")
      const entry = decodeLog(payload);
      if (!entry.ok) ctx.log('critical', `cant parse log message: ${entry.error}`);
      else if (!this.clusterLog.insert(entry.value)) ctx.log('notice', 'ignore insert of duplicate cluster log');
      return { kind: 'processed', result: 0 };
    }
    ctx.log('critical', `received unknown message type ${subtype}`);
    return { kind: 'processed', result: -Errno.EACCES };
  }

  confchg(members: readonly GroupMember[]): void {
    this.membersChanged(members);
  }

  /** On SYNCED: announce our IP (the one set through SET_STATUS, else the start-up one). */
  synced(ctx: AppContext<KvstoreEffect>): void {
    const ip = this.ips.get(this.nodename) ?? this.startupIp;
    if (ip === undefined) return;
    const value = Buffer.from(ip + '\0', 'utf8');
    const res = this.setStatus('nodeip', value, ctx.now);
    for (const m of res.send) ctx.sendAsync(m.subtype, m.payload);
  }
}
