// The recorded history of a chaos run: every client operation, every fault the runner applied,
// every recovery it measured, and the final state of each node. Times are milliseconds since the
// run's start on one clock (CLOCK_MONOTONIC, which the host and its containers share).
import * as fs from 'fs';

export type OpKind =
  | 'write' // atomic write: create <path>.tmp.<client>, write, close, rename over <path>
  | 'read'
  | 'create-vm' // open(O_CREAT|O_EXCL) of nodes/<node>/qemu-server/<vmid>.conf
  | 'migrate-vm' // rename nodes/<from>/qemu-server/<vmid>.conf -> nodes/<to>/...
  | 'delete-vm'
  | 'lock' // mkdir priv/lock/<name>
  | 'renew' // utime(lock, 0, now)
  | 'unlock' // rmdir priv/lock/<name>
  | 'unlock-request'; // utime(lock, 0, 0): ask the cluster to remove an expired lock

export const MUTATIONS: ReadonlySet<OpKind> = new Set<OpKind>(['write', 'create-vm', 'migrate-vm', 'delete-vm', 'lock', 'renew', 'unlock', 'unlock-request']);

export type Outcome = 'ok' | 'fail' | 'unknown';

export interface OpRecord {
  type: 'op';
  id: number;
  node: string;
  client: string;
  op: OpKind;
  path: string; // relative to /etc/pve
  to?: string; // migrate-vm target path
  vmid?: number;
  value?: string; // write: the bytes written
  start: number;
  end: number; // for unknown: when the runner gave up on it
  outcome: Outcome;
  errno?: string; // fail: the errno code
  read?: string | null; // read: the content, null when the file was absent
}

export type FaultKind = 'partition' | 'fence' | 'kill' | 'corosync-restart';
export const FAULT_KINDS: readonly FaultKind[] = ['partition', 'fence', 'kill', 'corosync-restart'];

export interface FaultRecord {
  type: 'fault';
  id: number;
  kind: FaultKind;
  nodes: string[]; // the nodes it hits (partition: every node not in the largest group)
  groups?: string[][]; // partition: who sees whom
  start: number; // when the fault was applied
  end: number | null; // when it was reverted (heal, start, daemon started again); null: never
  note?: string; // e.g. how the adapter had to approximate it
  error?: string; // applying or reverting failed
}

export type RecoveryKind = 'heal' | 'rejoin' | 'final-convergence';

export interface RecoveryRecord {
  type: 'recovery';
  kind: RecoveryKind;
  faultId?: number;
  node?: string;
  from: number; // the heal / start / final heal
  at: number | null; // when the cluster (or node) was back; null when it never was within the deadline
}

export interface MetaRecord {
  type: 'meta';
  seed: number;
  nodes: string[];
  durationMs: number;
  faults: FaultKind[];
  clientsPerNode: number;
  startedAt: string; // ISO wall clock of time 0
  settleMs: number; // how long a membership change takes to be noticed (checkers' margin)
  notes: string[]; // what the cluster adapter could not do as asked
}

/** What a node holds at the end: the chaos files with their contents and a digest of its whole tree. */
export interface FinalNodeState {
  type: 'final';
  node: string;
  reachable: boolean;
  digest: string; // sha256 over names, types and contents of every entry under /etc/pve
  files: Record<string, string>; // path (relative to /etc/pve) -> content, for the chaos area
}

export type HistoryRecord = MetaRecord | OpRecord | FaultRecord | RecoveryRecord | FinalNodeState;

export interface History {
  meta: MetaRecord;
  ops: OpRecord[];
  faults: FaultRecord[];
  recoveries: RecoveryRecord[];
  finals: FinalNodeState[];
}

export function historyRecords(h: History): HistoryRecord[] {
  return [h.meta, ...h.faults, ...h.ops, ...h.recoveries, ...h.finals];
}

export function toJsonLines(h: History): string {
  return historyRecords(h).map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export class HistoryFormatError extends Error {
  override name = 'HistoryFormatError';
}

export function parseJsonLines(text: string): History {
  let meta: MetaRecord | undefined;
  const h: Omit<History, 'meta'> = { ops: [], faults: [], recoveries: [], finals: [] };
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let r: HistoryRecord;
    try {
      r = JSON.parse(line) as HistoryRecord;
    } catch (e) {
      throw new HistoryFormatError(`line ${i + 1}: not JSON (${(e as Error).message})`);
    }
    switch (r.type) {
      case 'meta': meta = r; break;
      case 'op': h.ops.push(r); break;
      case 'fault': h.faults.push(r); break;
      case 'recovery': h.recoveries.push(r); break;
      case 'final': h.finals.push(r); break;
      default: throw new HistoryFormatError(`line ${i + 1}: unknown record type ${JSON.stringify((r as { type?: unknown }).type)}`);
    }
  });
  if (!meta) throw new HistoryFormatError('no meta record');
  return { meta, ...h };
}

export function writeHistory(file: string, h: History): void {
  fs.writeFileSync(file, toJsonLines(h));
}
