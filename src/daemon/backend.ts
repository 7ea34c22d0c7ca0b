/**
 * The seam between the FUSE layer and whatever applies changes: the local backend below (local
 * mode, spec §7) or the cluster backend (dcdb over CPG, engineers C/D) with the same interface.
 */
import type { MemDb } from '../memdb/memdb';
import type { FsOp } from '../memdb/types';
import type { Logger } from './logger';
import type { RrdSink } from '../rrd/rrd-writer';

/** Text of the status files (spec §8.4), rendered on demand. */
export interface StatusSource {
  version(): string;
  members(): string;
  vmlist(): string;
  clusterLog(): string;
  rrdDump(): string;
}

export interface FsBackend {
  readonly memdb: MemDb;
  /** Not quorate => every mutation is refused with EACCES and modes lose their write bits. */
  quorate(): boolean;
  /** Applies (local) or replicates and applies (cluster) one operation: >= 0 or -errno. */
  submit(op: FsOp): Promise<number>;
  /** utime(0,0) on a lock directory (spec §8.7): 0 when it was released, else -errno. */
  requestUnlock(path: string): Promise<number>;
  /** corosync nodeid of this node (0 in local mode). */
  nodeId(): number;
  readonly status: StatusSource;
  /** What the operator's `pmxcfs-ts status` shows; a backend without it is treated as local. */
  snapshot?(): BackendSnapshot;
  /** Calls `listener` when quorum changes (the modes change with it); returns the unsubscribe. */
  onQuorumChange?(listener: (quorate: boolean) => void): () => void;
}

/** One DFSM group as the status command shows it. */
export interface DfsmSnapshot {
  /** CPG group name, e.g. pve_dcdb_v1. */
  group: string;
  /** DFSM mode name (START, START_SYNC, SYNCED, UPDATE, LEAVE, VERSION_ERROR, ERROR). */
  mode: string;
  /** In the CPG group right now. */
  joined: boolean;
  /** Members of the current view (nodeid/pid). */
  members: { nodeid: number; pid: number }[];
  /** NORMAL messages queued until the group is synced. */
  queued: number;
  /** Local writers waiting for their own message. */
  waiting: number;
}

export interface BackendSnapshot {
  mode: 'local' | 'cluster';
  nodename: string;
  /** corosync nodeid (0 in local mode or before corosync answered). */
  nodeid: number;
  quorate: boolean;
  /** memdb root version. */
  version: number;
  /** memdb error flag (mutations answer EIO). */
  memdbErrors: boolean;
  /** From cmap; absent in local mode or before it was read. */
  cluster?: { name: string; configVersion: number; clinfoVersion: number };
  /** The corosync nodelist with online flags and known IPs (empty in local mode). */
  members: { name: string; nodeid: number; online: boolean; ip?: string }[];
  dfsm?: { dcdb: DfsmSnapshot; kvstore: DfsmSnapshot };
}

/** Seconds since the epoch as the daemon sees them (injectable for tests). */
export type Clock = () => number;

/** Local mode: apply at once, writer 0, local time, always quorate. */
export class LocalBackend implements FsBackend {
  constructor(
    readonly memdb: MemDb,
    readonly status: StatusSource,
    private readonly clock: Clock,
    private readonly nodename = '',
  ) {}

  quorate(): boolean {
    return true;
  }

  snapshot(): BackendSnapshot {
    return {
      mode: 'local',
      nodename: this.nodename,
      nodeid: 0,
      quorate: true,
      version: this.memdb.version,
      memdbErrors: this.memdb.errors,
      members: [],
    };
  }

  nodeId(): number {
    return 0;
  }

  submit(op: FsOp): Promise<number> {
    const now = this.clock();
    return Promise.resolve(this.memdb.apply(op, { writer: 0, mtime: now }, now));
  }

  requestUnlock(path: string): Promise<number> {
    const now = this.clock();
    return Promise.resolve(this.memdb.unlockLocal(path, now, { writer: 0, mtime: now }));
  }
}

/** What every backend is built from (the daemon's start-up hands it over). */
export interface BackendContext {
  memdb: MemDb;
  nodename: string;
  starttime: number;
  clock: Clock;
  logger: Logger;
  /** Host corosync.conf for the §9 sync (default /etc/corosync/corosync.conf). */
  hostCorosyncConf?: string;
  /** Where RRD samples (SET_STATUS `rrd/...`, local or from peers) are written; absent = not written. */
  rrd?: RrdSink;
}
