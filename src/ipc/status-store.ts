/**
 * What the IPC operations need of the status services (spec §6, §10, §11): the per-node key/value
 * store (SET_STATUS/GET_STATUS), the cluster log (LOG_CLUSTER_MSG/GET_CLUSTER_LOG) and the RRD dump.
 * In cluster mode this is the kvstore of the ClusterBackend (changes are multicast); in local mode
 * the same pure Kvstore without a group, and the local status source's cluster log.
 */
import type { FsBackend } from '../daemon/backend';
import { ClusterBackend } from '../daemon/cluster-backend';
import { LocalStatusSource } from '../daemon/local-status';
import type { Clock } from '../daemon/backend';

export interface ClusterLogFields {
  ident: string;
  tag: string;
  pid: number;
  priority: number;
  msg: Uint8Array;
}

export interface IpcStatusStore {
  /** SET_STATUS: 0 or -errno (EFBIG; ENOMEM for an rrd/nodeip value without its NUL or too long). An empty value deletes the key. */
  setStatus(key: string, value: Buffer): number;
  /** GET_STATUS: the node's value (own node for '' or our name), or -ENOENT. */
  getStatus(key: string, nodename: string): Buffer | number;
  /** LOG_CLUSTER_MSG: stamped with this node's name and the current time; priority >= 8 dropped. */
  logCluster(fields: ClusterLogFields): void;
  /** GET_CLUSTER_LOG JSON: newest first, at most `maxEntries` (0 = 50), only `ident` unless ''. */
  clusterLog(maxEntries: number, ident: string): string;
  /** `.rrd` text (without the NUL the IPC reply adds). */
  rrdDump(): string;
}

/** Cluster mode: through the ClusterBackend, which applies locally and multicasts. */
export class ClusterIpcStatusStore implements IpcStatusStore {
  constructor(private readonly backend: ClusterBackend) {}

  setStatus(key: string, value: Buffer): number {
    return this.backend.setStatus(key, value);
  }
  getStatus(key: string, nodename: string): Buffer | number {
    return this.backend.kvstore.getStatus(key, nodename);
  }
  logCluster(fields: ClusterLogFields): void {
    this.backend.logCluster(fields);
  }
  clusterLog(maxEntries: number, ident: string): string {
    return this.backend.kvstore.clusterLogJson({ maxEntries, ident });
  }
  rrdDump(): string {
    return this.backend.status.rrdDump();
  }
}

/** Local mode: the local status source's kvstore (nothing is sent) and cluster log. */
export class LocalIpcStatusStore implements IpcStatusStore {
  constructor(
    private readonly status: LocalStatusSource,
    private readonly nodename: string,
    private readonly clock: Clock,
  ) {}

  setStatus(key: string, value: Buffer): number {
    return this.status.setStatus(key, value, this.clock());
  }
  getStatus(key: string, nodename: string): Buffer | number {
    return this.status.kv.getStatus(key, nodename);
  }
  logCluster(fields: ClusterLogFields): void {
    this.status.clusterLog_.add({ ...fields, node: this.nodename, time: this.clock() });
  }
  clusterLog(maxEntries: number, ident: string): string {
    return this.status.clusterLogJson({ maxEntries, ident });
  }
  rrdDump(): string {
    return this.status.rrdDump();
  }
}

/** The store for the daemon's backend, or undefined for a backend the IPC layer does not know. */
export function ipcStatusStoreFor(backend: FsBackend, nodename: string, clock: Clock): IpcStatusStore | undefined {
  if (backend instanceof ClusterBackend) return new ClusterIpcStatusStore(backend);
  if (backend.status instanceof LocalStatusSource) return new LocalIpcStatusStore(backend.status, nodename, clock);
  return undefined;
}
