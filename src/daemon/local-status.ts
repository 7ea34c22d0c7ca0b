/**
 * Status file contents on a node without cluster services (local mode, spec §7): `.members` in its
 * short form, a cluster log holding the start-up entry, an empty `.rrd`, `.vmlist` from memdb and
 * `.version` with the observed-path counters (kept in step through the memdb listener).
 */
import type { MemDb } from '../memdb/memdb';
import { ClusterLog } from '../kvstore/clusterlog';
import { Kvstore } from '../kvstore/kvstore';
import { renderClusterLog, type ClusterLogDumpOptions } from '../status/clusterlog';
import { renderMembers } from '../status/members';
import { ObservedPathVersions } from '../status/observed-paths';
import { renderVersion } from '../status/version';
import { renderVmlist } from '../status/vmlist';
import type { Clock, StatusSource } from './backend';
import type { LogPriority } from './logger';
import type { RrdSink } from '../rrd/rrd-writer';

/** What SET_STATUS leads to besides the in-memory store: RRD files written, problems logged. */
export interface LocalStatusEffects {
  rrd?: RrdSink;
  log?: (prio: LogPriority, msg: string) => void;
}

export class LocalStatusSource implements StatusSource {
  readonly observed = new ObservedPathVersions();
  readonly clusterLog_ = new ClusterLog();
  /** Key/values, node IP and RRD cache set through IPC SET_STATUS (no group: nothing is sent). */
  readonly kv: Kvstore;

  constructor(
    private readonly memdb: MemDb,
    private readonly nodename: string,
    private readonly starttime: number,
    private readonly clock: Clock,
    private readonly effects: LocalStatusEffects = {},
  ) {
    this.kv = new Kvstore({ nodename });
    // The tree was loaded before we could listen: that load counts like every full load.
    this.observed.bumpAll();
    memdb.setListener({
      pathChanged: (path) => this.observed.pathChanged(path),
      treeReloaded: () => this.observed.bumpAll(),
    });
    this.clusterLog_.add({
      node: nodename,
      ident: 'root',
      tag: 'cluster',
      pid: process.pid,
      time: starttime,
      priority: 6,
      msg: 'starting cluster log',
    });
  }

  version(): string {
    return renderVersion({
      starttime: this.starttime,
      clinfo: this.kv.clinfoVersion,
      vmlist: this.memdb.vmlist().version,
      paths: this.observed.entries(),
      kvstore: this.kv.kvstoreVersions(),
    });
  }

  members(): string {
    // No cluster info in local mode; the version still counts `nodeip` changes, as the reference's.
    return renderMembers({ nodename: this.nodename, version: this.kv.clinfoVersion });
  }

  vmlist(): string {
    const list = this.memdb.vmlist();
    return renderVmlist({ version: list.version, guests: list.guests });
  }

  clusterLog(): string {
    return this.clusterLogJson();
  }

  /** `.clusterlog` and IPC GET_CLUSTER_LOG (count and ident filter). */
  clusterLogJson(options: ClusterLogDumpOptions = {}): string {
    return renderClusterLog(this.clusterLog_.entriesNewestFirst(), options);
  }

  /** IPC SET_STATUS in local mode: stored (nothing is sent), `rrd/...` samples written to disk. */
  setStatus(key: string, value: Buffer, now: number): number {
    const res = this.kv.setStatus(key, value, now);
    for (const line of res.log) this.effects.log?.('warning', line);
    for (const effect of res.effects) if (effect.kind === 'rrd-update') this.effects.rrd?.write(effect.target);
    return res.result;
  }

  rrdDump(): string {
    return this.kv.rrdDump(this.clock());
  }
}
