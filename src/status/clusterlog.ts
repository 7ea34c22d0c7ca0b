/**
 * `.clusterlog` (spec §8.4) and the reply of IPC op 8 GET_CLUSTER_LOG: entries newest first.
 * Only `msg` is escaped (at insert time); node, ident and tag are printed as stored.
 */
import { fnv1a64CString } from '../kvstore/fnv';

/** What the renderer needs of a cluster-log entry (src/kvstore/clusterlog's entries fit). */
export interface ClusterLogView {
  uid: number;
  time: number;
  priority: number;
  tag: string;
  pid: number;
  node: string;
  ident: string;
  msg: string;
  /** FNV-1a 64 of ident incl. NUL as stored in the entry; the ident filter compares this. */
  identDigest?: bigint;
}

export interface ClusterLogDumpOptions {
  /** At most this many entries are printed; 0 or absent means 50 (the reference's default). */
  maxEntries?: number;
  /** Only entries of this ident ("user"); empty or absent means all. */
  ident?: string;
}

export const CLUSTERLOG_DEFAULT_MAX_ENTRIES = 50;

/** `entries` must be newest first, as ClusterLog.entriesNewestFirst() returns them. */
export function renderClusterLog(
  entries: Iterable<ClusterLogView>,
  options: ClusterLogDumpOptions = {},
): string {
  const max = options.maxEntries ? options.maxEntries : CLUSTERLOG_DEFAULT_MAX_ENTRIES;
  const filter = options.ident ? fnv1a64CString(options.ident) : undefined;
  const lines: string[] = [];
  for (const e of entries) {
    if (lines.length >= max) break;
    if (filter !== undefined && (e.identDigest ?? fnv1a64CString(e.ident)) !== filter) continue;
    lines.push(
      `{"uid": ${e.uid >>> 0}, "time": ${e.time >>> 0}, "pri": ${e.priority}, "tag": "${e.tag}", ` +
        `"pid": ${e.pid >>> 0}, "node": "${e.node}", "user": "${e.ident}", "msg": "${e.msg}"}`,
    );
  }
  return `{\n"data": [\n${lines.length ? lines.join(',\n') + '\n' : ''}]\n}\n`;
}
