// Who was quorate when, according to the faults the runner applied: the model the checkers judge
// operations against. A node is quorate when it is up and its side of the partition holds a
// majority of the configured votes (expected votes = number of nodes, one vote each). A killed
// daemon leaves corosync (and its vote) in place; a fence or a corosync restart takes the vote away.
import type { FaultRecord, History, RecoveryRecord } from './history';

export interface MembershipModel {
  nodes: readonly string[];
  /** Is the node, by the model, in the quorate component with a running daemon at time t? */
  quorateAt(node: string, t: number): boolean;
  /** Is the node up (container, corosync and daemon running) at time t? */
  upAt(node: string, t: number): boolean;
  /**
   * Quorate for the whole of [a, b + margin]: an acknowledgement proves the node was quorate when it
   * applied the change, so only a cut within `margin` after the op (not yet noticed) makes it doubtful.
   */
  stableQuorate(node: string, a: number, b: number, margin: number): boolean;
  /** Up but not quorate for the whole of [a - margin, b]: its daemon must refuse every change. */
  surelyNotQuorate(node: string, a: number, b: number, margin: number): boolean;
  /** Times at which the model's state can change. */
  changePoints: readonly number[];
}

interface Span {
  fault: FaultRecord;
  from: number;
  to: number;
}

/**
 * When a fault's effect ends. Pessimistic: a fenced or restarted node is back only when its rejoin
 * was measured (which can wait for other faults to end). Optimistic: it may vote again as soon as
 * it was started. "Stably quorate" uses the first, "surely not quorate" the second.
 */
function spanOf(f: FaultRecord, recoveries: readonly RecoveryRecord[], optimistic: boolean): Span {
  const rejoin = recoveries.find((r) => r.kind === 'rejoin' && r.faultId === f.id);
  let to = f.end ?? Infinity;
  if (!optimistic && f.kind !== 'partition' && rejoin) to = Math.max(to, rejoin.at ?? Infinity);
  return { fault: f, from: f.start, to };
}

interface Evaluator {
  upAt(node: string, t: number): boolean;
  quorateAt(node: string, t: number): boolean;
}

function evaluator(nodes: readonly string[], spans: readonly Span[]): Evaluator {
  const quorum = Math.floor(nodes.length / 2) + 1;
  const active = (t: number): Span[] => spans.filter((s) => s.from <= t && t < s.to);
  const downAt = (node: string, t: number, kinds: readonly string[]): boolean =>
    active(t).some((s) => kinds.includes(s.fault.kind) && s.fault.nodes.includes(node));
  const upAt = (node: string, t: number): boolean => !downAt(node, t, ['fence', 'kill', 'corosync-restart']);
  const quorateAt = (node: string, t: number): boolean => {
    if (!upAt(node, t)) return false;
    const part = active(t).find((s) => s.fault.kind === 'partition');
    const side = part?.fault.groups?.find((g) => g.includes(node)) ?? nodes;
    return side.filter((n) => !downAt(n, t, ['fence', 'corosync-restart'])).length >= quorum;
  };
  return { upAt, quorateAt };
}

export function membershipModel(h: Pick<History, 'faults' | 'recoveries'> & { meta: { nodes: string[] } }): MembershipModel {
  const nodes = h.meta.nodes;
  const pess = evaluator(nodes, h.faults.map((f) => spanOf(f, h.recoveries, false)));
  const opt = evaluator(nodes, h.faults.map((f) => spanOf(f, h.recoveries, true)));
  const spans = [...h.faults.map((f) => spanOf(f, h.recoveries, false)), ...h.faults.map((f) => spanOf(f, h.recoveries, true))];
  const changePoints = [...new Set(spans.flatMap((s) => [s.from, s.to]).filter(Number.isFinite))].sort((a, b) => a - b);
  const holdsOver = (pred: (t: number) => boolean, a: number, b: number): boolean =>
    pred(a) && changePoints.every((c) => c < a || c > b || pred(c));
  return {
    nodes,
    quorateAt: pess.quorateAt,
    upAt: pess.upAt,
    changePoints,
    stableQuorate: (node, a, b, margin) => holdsOver((t) => pess.quorateAt(node, t), a, b + margin),
    // Surely up (pessimistic) and surely short of votes (optimistic: every started node votes).
    surelyNotQuorate: (node, a, b, margin) => holdsOver((t) => pess.upAt(node, t) && !opt.quorateAt(node, t), a - margin, b),
  };
}
