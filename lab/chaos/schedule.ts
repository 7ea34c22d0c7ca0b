// The seeded fault schedule: the same seed, nodes, duration and fault kinds always give the same
// list of faults (times relative to the run's start). Faults may overlap: a fence or a killed
// daemon can fall inside a partition; at most one partition is in force at a time.
import { Prng } from '../prng';
import type { FaultKind } from './history';

export interface PlannedFault {
  id: number;
  kind: FaultKind;
  at: number; // ms from the start of the run
  durationMs: number; // how long until it is reverted
  nodes: string[]; // the nodes it hits
  groups?: string[][]; // partition: the groups, each a set of nodes that see each other
}

export interface ScheduleOptions {
  seed: number;
  nodes: readonly string[];
  durationMs: number;
  faults: readonly FaultKind[];
  /** Quiet time at the end (no fault in force) before the final heal, as a fraction of the run. */
  quietTail?: number;
  minGapMs?: number;
  maxGapMs?: number;
  minFaultMs?: number;
  maxFaultMs?: number;
  /** Chance that a second fault starts while one is in force. */
  overlap?: number;
}

/** Split the nodes into 2..min(n,3) non-empty groups in a random shape (any sizes, any members). */
export function randomGroups(rng: Prng, nodes: readonly string[]): string[][] {
  const shuffled = [...nodes];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const count = rng.range(2, Math.min(3, shuffled.length));
  // count-1 distinct cut points in 1..n-1
  const cuts = new Set<number>();
  while (cuts.size < count - 1) cuts.add(rng.range(1, shuffled.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const groups: string[][] = [];
  let from = 0;
  for (const c of [...sorted, shuffled.length]) {
    groups.push(shuffled.slice(from, c).sort());
    from = c;
  }
  return groups.sort((a, b) => b.length - a.length || a[0]!.localeCompare(b[0]!));
}

export function generateSchedule(o: ScheduleOptions): PlannedFault[] {
  if (o.nodes.length < 2) throw new RangeError('a chaos schedule needs at least two nodes');
  if (o.faults.length === 0) return [];
  const rng = new Prng(o.seed);
  const minGap = o.minGapMs ?? 3_000;
  const maxGap = o.maxGapMs ?? 10_000;
  const minFault = o.minFaultMs ?? 5_000;
  const maxFault = o.maxFaultMs ?? 20_000;
  const end = Math.floor(o.durationMs * (1 - (o.quietTail ?? 0.15)));
  const out: PlannedFault[] = [];
  let t = rng.range(minGap, maxGap);
  while (t < end) {
    const first = planOne(rng, o, out.length, t, Math.min(rng.range(minFault, maxFault), end - t), []);
    if (first.durationMs < 1_000) break;
    out.push(first);
    let until = first.at + first.durationMs;
    if (rng.chance(o.overlap ?? 0.3)) {
      const at = first.at + rng.range(1_000, Math.max(1_000, Math.floor(first.durationMs / 2)));
      const dur = Math.min(rng.range(minFault, maxFault), end - at);
      const busy = first.kind === 'partition' ? [] : first.nodes;
      const kinds = o.faults.filter((k) => k !== 'partition' || first.kind !== 'partition');
      if (dur >= 1_000 && kinds.length > 0 && busy.length < o.nodes.length) {
        const second = planOne(rng, { ...o, faults: kinds }, out.length, at, dur, busy);
        out.push(second);
        until = Math.max(until, second.at + second.durationMs);
      }
    }
    t = until + rng.range(minGap, maxGap);
  }
  return out;
}

function planOne(rng: Prng, o: ScheduleOptions, id: number, at: number, durationMs: number, busy: readonly string[]): PlannedFault {
  const kind = rng.pick(o.faults);
  if (kind === 'partition') {
    const groups = randomGroups(rng, o.nodes);
    return { id, kind, at, durationMs, nodes: groups.slice(1).flat().sort(), groups };
  }
  const free = o.nodes.filter((n) => !busy.includes(n));
  return { id, kind, at, durationMs, nodes: [rng.pick(free)] };
}

/** One line per fault, for logs and the report. */
export function describeFault(f: Pick<PlannedFault, 'kind' | 'nodes' | 'groups'>): string {
  if (f.kind === 'partition' && f.groups) return `partition ${f.groups.map((g) => g.join(',')).join(' | ')}`;
  return `${f.kind} ${f.nodes.join(',')}`;
}
