// Small hand-written histories for the checker tests.
import type { FaultRecord, FinalNodeState, History, OpKind, OpRecord, RecoveryRecord } from '../../../lab/chaos/history';

export const NODES = ['node1', 'node2', 'node3'];

export class HistoryBuilder {
  private ops: OpRecord[] = [];
  private faults: FaultRecord[] = [];
  private recoveries: RecoveryRecord[] = [];
  private finals: FinalNodeState[] = [];

  op(node: string, op: OpKind, path: string, start: number, end: number, extra: Partial<OpRecord> = {}): this {
    this.ops.push({ type: 'op', id: this.ops.length, node, client: extra.client ?? `${node}-c0`, op, path, start, end, outcome: 'ok', ...extra });
    return this;
  }

  fault(f: Omit<FaultRecord, 'type' | 'id'>): this {
    this.faults.push({ type: 'fault', id: this.faults.length, ...f });
    return this;
  }

  recovery(r: Omit<RecoveryRecord, 'type'>): this {
    this.recoveries.push({ type: 'recovery', ...r });
    return this;
  }

  final(files: Record<string, string>, nodes = NODES, digest = 'd1'): this {
    for (const node of nodes) this.finals.push({ type: 'final', node, reachable: true, digest, files: { ...files } });
    return this;
  }

  finalOn(node: string, files: Record<string, string>, digest: string): this {
    this.finals.push({ type: 'final', node, reachable: true, digest, files });
    return this;
  }

  build(): History {
    return {
      meta: { type: 'meta', seed: 1, nodes: NODES, durationMs: 100_000, faults: ['partition'], clientsPerNode: 1, startedAt: '2026-01-01T00:00:00Z', settleMs: 5_000, notes: [] },
      ops: this.ops,
      faults: this.faults,
      recoveries: this.recoveries,
      finals: this.finals,
    };
  }
}
