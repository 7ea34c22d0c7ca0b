/**
 * Assembles what `pmxcfs-ts status` shows from the running daemon's state: the backend's snapshot
 * (cluster mode) or the local facts, the lock directories with their ages from the lock table, and
 * the newest cluster-log lines. Pure: the time comes in as a parameter; nothing here touches the
 * mount (the daemon must never call into its own FUSE mount).
 */
import type { MemDb } from '../memdb/memdb';
import { writeSpans } from '../trace/write-spans';
import { CFS_LOCK_TIMEOUT } from '../memdb/lock-table';
import { DT_DIR } from '../memdb/types';
import type { BackendSnapshot, FsBackend } from './backend';
import type { ClusterLogLine, LockStatus, NodeStatus } from './control-protocol';

export interface StatusContext {
  backend: FsBackend;
  nodename: string;
  /** The mode start-up decided (the backend's snapshot, when it has one, wins). */
  mode: 'local' | 'cluster';
  mount: string;
  db: string;
  pid: number;
  starttime: number;
  debug: () => boolean;
}

export function collectNodeStatus(ctx: StatusContext, now: number, logLines: number): NodeStatus {
  const snap: BackendSnapshot = ctx.backend.snapshot?.() ?? localSnapshot(ctx);
  const memdb = ctx.backend.memdb;
  const status: NodeStatus = {
    nodename: snap.nodename,
    pid: ctx.pid,
    mode: snap.mode,
    mount: ctx.mount,
    db: ctx.db,
    starttime: ctx.starttime,
    now,
    quorate: snap.quorate,
    nodeid: snap.nodeid,
    version: snap.version,
    memdbErrors: snap.memdbErrors,
    debug: ctx.debug(),
    members: snap.members.map((m) => ({ ...m })),
    guests: memdb.vmlist().guests.size,
    locks: collectLocks(memdb, now),
    clusterLog: parseClusterLog(safeText(() => ctx.backend.status.clusterLog())).slice(0, logLines),
  };
  if (snap.cluster !== undefined) status.cluster = { ...snap.cluster };
  if (snap.dfsm !== undefined) status.dfsm = snap.dfsm;
  status.writeSpans = writeSpans.summary();
  return status;
}

function localSnapshot(ctx: StatusContext): BackendSnapshot {
  return {
    mode: ctx.mode,
    nodename: ctx.nodename,
    nodeid: ctx.backend.nodeId(),
    quorate: ctx.backend.quorate(),
    version: ctx.backend.memdb.version,
    memdbErrors: ctx.backend.memdb.errors,
    members: [],
  };
}

/** Every directory under priv/lock with its age on this node's clock (spec §8.7). */
export function collectLocks(memdb: MemDb, now: number): LockStatus[] {
  const lockDir = memdb.lookup('priv/lock');
  if (lockDir === undefined || lockDir.children === null) return [];
  const table = memdb.lockTable();
  const locks: LockStatus[] = [];
  for (const entry of lockDir.children.values()) {
    if (entry.type !== DT_DIR) continue;
    // The lock table knows since when this node has seen the lock unchanged; fall back to mtime.
    const seen = table.get(`priv/lock/${entry.name}`)?.ltime ?? entry.mtime;
    const age = Math.max(0, now - seen);
    locks.push({
      name: entry.name,
      writer: entry.writer,
      mtime: entry.mtime,
      age,
      expiresIn: Math.max(0, CFS_LOCK_TIMEOUT + 1 - age),
    });
  }
  return locks.sort((a, b) => a.name.localeCompare(b.name));
}

function safeText(render: () => string): string {
  try {
    return render();
  } catch {
    return '';
  }
}

/**
 * The `.clusterlog` text (spec §8.4) as records, newest first. It is parsed line by line because
 * the reference's escaping leaves backslashes alone, so one odd message must not hide the others.
 */
export function parseClusterLog(text: string): ClusterLogLine[] {
  const out: ClusterLogLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/,$/, '');
    if (!line.startsWith('{"')) continue;
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      out.push({ time: 0, node: '?', pri: 6, tag: '?', user: '?', msg: line });
      continue;
    }
    out.push({
      time: typeof v.time === 'number' ? v.time : 0,
      node: String(v.node ?? ''),
      pri: typeof v.pri === 'number' ? v.pri : 6,
      tag: String(v.tag ?? ''),
      user: String(v.user ?? ''),
      msg: String(v.msg ?? ''),
    });
  }
  return out;
}
