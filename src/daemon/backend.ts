/**
 * The seam between the FUSE layer and whatever applies changes: the local backend below (local
 * mode, spec §7) or the cluster backend (dcdb over CPG, engineers C/D) with the same interface.
 */
import type { MemDb } from '../memdb/memdb';
import type { FsOp } from '../memdb/types';

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
}

/** Seconds since the epoch as the daemon sees them (injectable for tests). */
export type Clock = () => number;

/** Local mode: apply at once, writer 0, local time, always quorate. */
export class LocalBackend implements FsBackend {
  constructor(
    readonly memdb: MemDb,
    readonly status: StatusSource,
    private readonly clock: Clock,
  ) {}

  quorate(): boolean {
    return true;
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
