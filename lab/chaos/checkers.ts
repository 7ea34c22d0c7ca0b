// Checkers over a chaos history: pure functions, each giving a verdict and the operations that
// break it. Operations made while a node's membership was changing (the "fork window": acknowledged
// by a node that the model does not show stably in the quorate component) are judged apart and
// counted as such, never dropped: pmxcfs delivers agreed, not safe, so a change a node applied just
// before it noticed it was cut off may be undone by the resync when it rejoins (docs/chaos.md).
import { MUTATIONS, type History, type OpRecord } from './history';
import { membershipModel, type MembershipModel } from './membership';

export type Verdict = 'pass' | 'fail';

export interface CheckResult {
  name: string;
  verdict: Verdict;
  summary: string;
  offending: OpRecord[]; // the operations that break it (at most MAX_LISTED)
  offendingCount: number;
  /** Operations in the fork window that the property would otherwise flag: reported, not failed. */
  forkCount: number;
  forkOps: OpRecord[];
  details?: Record<string, number | string | null>;
}

export const MAX_LISTED = 50;
/** Lock timeout of pmxcfs (CFS_LOCK_TIMEOUT): after it, another node may have a lock removed. */
export const LOCK_TIMEOUT_MS = 120_000;

function result(name: string, offending: OpRecord[], fork: OpRecord[], summary: string, details?: CheckResult['details']): CheckResult {
  return {
    name,
    verdict: offending.length === 0 ? 'pass' : 'fail',
    summary,
    offending: offending.slice(0, MAX_LISTED),
    offendingCount: offending.length,
    forkCount: fork.length,
    forkOps: fork.slice(0, MAX_LISTED),
    ...(details ? { details } : {}),
  };
}

const notFailed = (o: OpRecord): boolean => o.outcome !== 'fail';
const byStart = (a: OpRecord, b: OpRecord): number => a.start - b.start || a.id - b.id;

interface Ctx {
  h: History;
  model: MembershipModel;
  margin: number;
  stable: (o: OpRecord) => boolean;
}

function context(h: History): Ctx {
  const model = membershipModel(h);
  const margin = h.meta.settleMs;
  return { h, model, margin, stable: (o) => model.stableQuorate(o.node, o.start, o.end, margin) };
}

/** 1. After the final heal every node holds the same tree (digest over everything under /etc/pve). */
export function checkIdentical(h: History): CheckResult {
  const finals = h.finals;
  const unreachable = finals.filter((f) => !f.reachable).map((f) => f.node);
  const digests = new Set(finals.filter((f) => f.reachable).map((f) => f.digest));
  const differing = new Set<string>();
  const reachable = finals.filter((f) => f.reachable);
  for (const f of reachable)
    for (const g of reachable)
      for (const p of new Set([...Object.keys(f.files), ...Object.keys(g.files)])) if (f.files[p] !== g.files[p]) differing.add(p);
  const bad = finals.length !== h.meta.nodes.length || unreachable.length > 0 || digests.size !== 1 || differing.size > 0;
  const summary = bad
    ? `${finals.length}/${h.meta.nodes.length} nodes read` +
      (unreachable.length ? `; unreachable: ${unreachable.join(', ')}` : '') +
      `; ${digests.size} distinct tree digests; differing chaos files: ${[...differing].slice(0, 10).join(', ') || 'none'}`
    : `${finals.length} nodes byte-identical (digest ${[...digests][0]!.slice(0, 12)})`;
  const offending = bad ? h.ops.filter((o) => differing.has(o.path) || (o.to !== undefined && differing.has(o.to))).filter(notFailed) : [];
  const r = result('identical trees after the final heal', offending, [], summary, { distinctDigests: digests.size, differingFiles: differing.size });
  if (bad) r.verdict = 'fail';
  return r;
}

/** The node state everything else is checked against: the first reachable node's final files. */
function finalFiles(h: History): Record<string, string> | null {
  return h.finals.find((f) => f.reachable)?.files ?? null;
}

/**
 * 2. Every write acknowledged on a node that stayed in the quorate component survives: the final
 * content of its file is its own value or that of a write not known to have finished before it.
 */
export function checkDurability(h: History): CheckResult {
  const c = context(h);
  const files = finalFiles(h);
  const writes = h.ops.filter((o) => o.op === 'write');
  const lost: OpRecord[] = [];
  const forkLost: OpRecord[] = [];
  let stableAcked = 0;
  for (const w of writes.filter((o) => o.outcome === 'ok')) {
    const stable = c.stable(w);
    if (stable) stableAcked++;
    const final = files?.[w.path];
    if (final === w.value) continue;
    // Explained when the final bytes come from a write (ok or unknown) that did not end before w began.
    const explained = final !== undefined && writes.some((x) => x.path === w.path && notFailed(x) && x.value === final && x.end > w.start);
    if (explained) continue;
    (stable ? lost : forkLost).push(w);
  }
  const acked = writes.filter((o) => o.outcome === 'ok').length;
  return result(
    'acknowledged writes survive',
    files ? lost : writes.filter((o) => o.outcome === 'ok'),
    forkLost,
    files
      ? `${acked} writes acknowledged (${stableAcked} while stably quorate): ${lost.length} lost; ${forkLost.length} acknowledged in the fork window and later replaced by the resync`
      : 'no final state to check against',
    { acked, stableAcked, lost: lost.length, forkLost: forkLost.length },
  );
}

interface Placement {
  node: string;
  op: OpRecord; // the create or migrate that put the vmid there
  from: number; // certainly there from
  to: number; // certainly there until
}

function vmNode(path: string): string | undefined {
  return /^nodes\/([^/]+)\/qemu-server\//.exec(path)?.[1];
}

/** 3. No VMID is registered on two nodes at once (history and final trees). */
export function checkVmids(h: History): CheckResult {
  const c = context(h);
  const vmOps = h.ops.filter((o) => o.vmid !== undefined).sort(byStart);
  const placements = new Map<number, Placement[]>();
  for (const o of vmOps) {
    if (o.outcome !== 'ok' || (o.op !== 'create-vm' && o.op !== 'migrate-vm')) continue;
    const node = vmNode(o.op === 'migrate-vm' ? o.to! : o.path)!;
    const targetPath = o.op === 'migrate-vm' ? o.to! : o.path;
    // It stays until the first later delete or migrate away from that node that may have happened:
    // one that did not fail, or failed while its node's quorum changed (its message may have reached
    // the others before the node left, and then they applied it although its caller got EACCES).
    const leave = vmOps.find(
      (x) => x.vmid === o.vmid && x.start >= o.start && x.id !== o.id && (notFailed(x) || !c.stable(x)) && (x.op === 'delete-vm' || x.op === 'migrate-vm') && x.path === targetPath,
    );
    const list = placements.get(o.vmid!) ?? [];
    list.push({ node, op: o, from: o.end, to: leave ? leave.start : Infinity });
    placements.set(o.vmid!, list);
  }
  const twice: OpRecord[] = [];
  const fork: OpRecord[] = [];
  for (const list of placements.values())
    for (const p of list)
      for (const q of list) {
        if (p === q || p.node === q.node) continue;
        // q's registration certainly happened while p's certainly held.
        if (q.op.start > p.from && q.op.end < p.to) (c.stable(p.op) && c.stable(q.op) ? twice : fork).push(q.op);
      }
  const files = finalFiles(h);
  const finalOwners = new Map<string, string[]>();
  for (const p of Object.keys(files ?? {})) {
    const m = /^nodes\/([^/]+)\/qemu-server\/(\d+)\.conf$/.exec(p);
    if (m) finalOwners.set(m[2]!, [...(finalOwners.get(m[2]!) ?? []), m[1]!]);
  }
  const dupFinal = [...finalOwners.entries()].filter(([, n]) => n.length > 1);
  for (const [vmid] of dupFinal) twice.push(...vmOps.filter((o) => String(o.vmid) === vmid && o.outcome === 'ok'));
  const r = result(
    'no VMID on two nodes at once',
    [...new Set(twice)],
    fork,
    `${placements.size} VMIDs registered by ${[...placements.values()].reduce((a, l) => a + l.length, 0)} acknowledged creates/migrations; ` +
      `${twice.length} overlapping registrations; in final trees ${dupFinal.length ? `duplicates: ${dupFinal.map(([v, n]) => `${v} on ${n.join('+')}`).join(', ')}` : 'each VMID on one node'}`,
    { vmids: placements.size, duplicatesInFinal: dupFinal.length },
  );
  if (dupFinal.length > 0) r.verdict = 'fail';
  return r;
}

interface Hold {
  client: string;
  op: OpRecord;
  from: number;
  to: number;
}

/** 4. No two overlapping holds of one lock among acknowledged operations. */
export function checkLocks(h: History): CheckResult {
  const c = context(h);
  const lockOps = h.ops.filter((o) => o.op === 'lock' || o.op === 'renew' || o.op === 'unlock').sort(byStart);
  const holds = new Map<string, Hold[]>();
  for (const o of lockOps) {
    if (o.op !== 'lock' || o.outcome !== 'ok') continue;
    const mine = lockOps.filter((x) => x.client === o.client && x.path === o.path && x.start > o.start);
    // Locks have no owner: any client's rmdir that may have succeeded ends the hold.
    const release = lockOps.find((x) => x.path === o.path && x.start > o.start && x.op === 'unlock' && notFailed(x)) ?? mine.find((x) => x.op === 'lock');
    // Without a renewal for CFS_LOCK_TIMEOUT the lock may be broken by anyone's unlock request.
    let lastRenew = o.start;
    for (const x of mine) if (x.op === 'renew' && x.outcome === 'ok' && (!release || x.start < release.start)) lastRenew = x.start;
    const to = Math.min(release ? release.start : Infinity, lastRenew + LOCK_TIMEOUT_MS);
    holds.set(o.path, [...(holds.get(o.path) ?? []), { client: o.client, op: o, from: o.end, to }]);
  }
  const overlap: OpRecord[] = [];
  const fork: OpRecord[] = [];
  for (const list of holds.values())
    for (const a of list)
      for (const b of list)
        if (a !== b && a.client !== b.client && b.op.start > a.from && b.op.end < a.to) (c.stable(a.op) && c.stable(b.op) ? overlap : fork).push(b.op);
  // A release that removed somebody else's lock: another client acquired the lock after this
  // client's own acquisition, so this client's was gone (undone by a resync after the fork window,
  // or removed). Counted with the fork window.
  const stray: OpRecord[] = [];
  for (const u of lockOps) {
    if (u.op !== 'unlock' || u.outcome !== 'ok') continue;
    const acq = [...lockOps].reverse().find((x) => x.client === u.client && x.path === u.path && x.op === 'lock' && x.outcome === 'ok' && x.start < u.start);
    if (!acq) continue;
    if (lockOps.some((x) => x.path === u.path && x.op === 'lock' && x.client !== u.client && x.outcome === 'ok' && x.start > acq.end && x.end < u.start)) stray.push(u);
  }
  const n = [...holds.values()].reduce((s, l) => s + l.length, 0);
  return result(
    'no lock held twice',
    overlap,
    [...fork, ...stray],
    `${n} acknowledged acquisitions of ${holds.size} locks; ${overlap.length} inside another client's hold; ${stray.length} releases that removed another client's lock (their own acquisition was undone or removed)`,
    { acquisitions: n, strayReleases: stray.length },
  );
}

/** Errnos the kernel may answer from its own lookup before the daemon sees the call. */
const LOOKUP_ERRNOS: Partial<Record<string, readonly string[]>> = {
  'create-vm': ['EEXIST'],
  lock: ['EEXIST'],
  'migrate-vm': ['ENOENT'],
  'delete-vm': ['ENOENT'],
  unlock: ['ENOENT'],
  renew: ['ENOENT'],
  'unlock-request': ['ENOENT'],
};

/** 5. Every mutation on a node that is surely not quorate is refused with EACCES. */
export function checkReadOnlyWithoutQuorum(h: History): CheckResult {
  const c = context(h);
  const judged = h.ops.filter((o) => MUTATIONS.has(o.op) && c.model.surelyNotQuorate(o.node, o.start, o.end, c.margin));
  const bad = judged.filter(
    (o) => o.outcome === 'ok' || (o.outcome === 'fail' && o.errno !== 'EACCES' && !(LOOKUP_ERRNOS[o.op] ?? []).includes(o.errno ?? '')),
  );
  const eacces = judged.filter((o) => o.errno === 'EACCES').length;
  return result('no change without quorum (EACCES)', bad, [], `${judged.length} mutations on non-quorate nodes: ${eacces} EACCES, ${bad.length} not refused or with another errno`, {
    judged: judged.length,
    eacces,
  });
}

/** 6. A client reading its own file after its acknowledged write sees that write (or a later one of its own). */
export function checkReadYourWrites(h: History): CheckResult {
  const c = context(h);
  const bad: OpRecord[] = [];
  const fork: OpRecord[] = [];
  let judged = 0;
  const byClient = new Map<string, OpRecord[]>();
  for (const o of h.ops) if (o.op === 'write' || o.op === 'read') byClient.set(o.client + ' ' + o.path, [...(byClient.get(o.client + ' ' + o.path) ?? []), o]);
  for (const list of byClient.values()) {
    list.sort(byStart);
    // Only single-writer files: nobody else writes this path.
    const path = list[0]!.path;
    if (h.ops.some((o) => o.op === 'write' && o.path === path && o.client !== list[0]!.client)) continue;
    for (const r of list) {
      if (r.op !== 'read' || r.outcome !== 'ok') continue;
      const before = list.filter((w) => w.op === 'write' && w.end < r.start && w.outcome === 'ok');
      const last = before[before.length - 1];
      if (!last) continue;
      judged++;
      // Writes that may have landed after `last` and before the read (unknown, or overlapping the read).
      const allowed = new Set([last.value, ...list.filter((w) => w.op === 'write' && notFailed(w) && w.start > last.start && w.start < r.end).map((w) => w.value)]);
      if (allowed.has(r.read ?? undefined)) continue;
      (c.stable(last) && c.stable(r) ? bad : fork).push(r);
    }
  }
  return result('read-your-writes', bad, fork, `${judged} reads after an own acknowledged write: ${bad.length} saw something else`, { judged });
}

/** 7. Recovery: every heal converged and every restarted node rejoined; the times, in ms. */
export function checkRecovery(h: History): CheckResult {
  const never = h.recoveries.filter((r) => r.at === null);
  const stats: Record<string, number | string | null> = {};
  for (const kind of ['heal', 'rejoin', 'final-convergence'] as const) {
    const times = h.recoveries.filter((r) => r.kind === kind && r.at !== null).map((r) => Math.round(r.at! - r.from)).sort((a, b) => a - b);
    stats[`${kind} count`] = times.length;
    stats[`${kind} median ms`] = times.length ? times[Math.floor(times.length / 2)]! : null;
    stats[`${kind} max ms`] = times.length ? times[times.length - 1]! : null;
  }
  const finalConv = h.recoveries.some((r) => r.kind === 'final-convergence' && r.at !== null);
  const r = result(
    'recovery (heal → converged, restart → rejoined)',
    [],
    [],
    `${h.recoveries.length - never.length}/${h.recoveries.length} recoveries completed` +
      (never.length ? `; never: ${never.map((x) => `${x.kind}${x.node ? ' ' + x.node : ''} from ${Math.round(x.from)} ms`).join(', ')}` : ''),
    stats,
  );
  if (never.length > 0 || !finalConv) {
    r.verdict = 'fail';
    r.offendingCount = never.length || 1;
    if (!finalConv && never.length === 0) r.summary += '; no final convergence recorded';
  }
  return r;
}

export const CHECKERS = [checkIdentical, checkDurability, checkVmids, checkLocks, checkReadOnlyWithoutQuorum, checkReadYourWrites, checkRecovery] as const;

export function runCheckers(h: History): CheckResult[] {
  return CHECKERS.map((f) => f(h));
}
