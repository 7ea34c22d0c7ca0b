/**
 * Every figure the benchmark reports, with the yardstick of the C pmxcfs per client pattern and the
 * goal pmxcfs-ts aims for. Pure data plus the pass/miss rule.
 *
 * Yardsticks: issue 10's one-node table (reference pve-cluster 9.1.6 in local mode, measured side by
 * side with pmxcfs-ts on this machine kind, same client program, one operation in flight, medians).
 * A figure is only ever compared with the yardstick of its own client pattern (fs-client.ts).
 */
import type { ClientPattern } from './fs-client';

export type Goal =
  | { kind: 'atLeast'; value: number; text: string }
  | { kind: 'atMost'; value: number; text: string };

/** A goal relative to the yardstick of the same pattern (factor x C), or an absolute one. */
export type GoalRule =
  | { kind: 'atLeast' | 'atMost'; factor: number; text: string }
  | { kind: 'atLeast' | 'atMost'; value: number; text: string };

export interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  /** The C pmxcfs per client pattern; absent where none was measured. */
  yardstick?: Partial<Record<ClientPattern, number>>;
  /** Absent: the figure is reported for information only. */
  goal?: GoalRule;
}

export type Verdict = 'pass' | 'miss' | 'info' | 'n/a';

/** issue 10: one node, every small-operation figure at least 1.5x the reference. */
const smallOp: GoalRule = { kind: 'atLeast', factor: 1.5, text: '>= 1.5x C' };

export const FIGURES: readonly FigureSpec[] = [
  { key: 'statMissingPerSec', label: 'stat of a missing name', unit: '/s', yardstick: { async: 11_852, sync: 25_390 }, goal: smallOp },
  { key: 'statExistingPerSec', label: 'stat of an existing file', unit: '/s' },
  { key: 'read4kPerSec', label: 'read 4 KiB file', unit: '/s', yardstick: { async: 4_210, sync: 9_236 }, goal: smallOp },
  { key: 'read4kP50Ms', label: 'read 4 KiB file p50', unit: 'ms' },
  { key: 'atomicWrite1kPerSec', label: 'atomic 1 KiB write (tmp+rename)', unit: '/s', yardstick: { async: 1_793, sync: 2_500 }, goal: smallOp },
  { key: 'atomicWrite1kP50Ms', label: 'atomic 1 KiB write p50', unit: 'ms' },
  { key: 'atomicWrite1kP99Ms', label: 'atomic 1 KiB write p99', unit: 'ms' },
  { key: 'guestConfigs1000Sec', label: '1,000 guest configs created', unit: 's', yardstick: { async: 0.379, sync: 0.211 },
    goal: { kind: 'atMost', factor: 1, text: '<= C' } },
  { key: 'write500kChunksSec', label: '500 KiB in 512 B chunks', unit: 's', yardstick: { async: 2.718, sync: 2.258 },
    goal: { kind: 'atMost', factor: 0.1, text: '>= 10x faster' } },
  { key: 'write1mOnceMs', label: '1 MiB in one write', unit: 'ms', yardstick: { async: 69, sync: 84 } },
  { key: 'lockPairsPerSec', label: 'lock mkdir+rmdir pairs', unit: '/s', yardstick: { async: 3_043, sync: 4_379 }, goal: smallOp },
  { key: 'readdir1000PerSec', label: 'readdir of 1,000 entries', unit: '/s' },
  { key: 'amp1k', label: 'write amplification 1 KiB', unit: 'x', yardstick: { async: 22.7, sync: 22.6 },
    goal: { kind: 'atMost', value: 8, text: '<= 8x' } },
  { key: 'amp128k', label: 'write amplification 128 KiB', unit: 'x' },
  { key: 'amp1m', label: 'write amplification 1 MiB', unit: 'x', yardstick: { async: 12.4, sync: 11.4 },
    goal: { kind: 'atMost', value: 1.5, text: '<= 1.5x' } },
];

export function figureSpec(key: string): FigureSpec {
  const spec = FIGURES.find((f) => f.key === key);
  if (!spec) throw new Error(`unknown figure ${key}`);
  return spec;
}

/** The goal of a figure for one client pattern; undefined when it has none (or no yardstick to scale). */
export function goalFor(spec: FigureSpec, pattern: ClientPattern): Goal | undefined {
  const rule = spec.goal;
  if (rule === undefined) return undefined;
  if ('value' in rule) return { kind: rule.kind, value: rule.value, text: rule.text };
  const c = spec.yardstick?.[pattern];
  return c === undefined ? undefined : { kind: rule.kind, value: c * rule.factor, text: rule.text };
}

/** pass/miss against the goal; info when there is no goal; n/a when the value is missing. */
export function verdict(value: number | undefined, goal: Goal | undefined): Verdict {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  if (!goal) return 'info';
  return (goal.kind === 'atLeast' ? value >= goal.value : value <= goal.value) ? 'pass' : 'miss';
}
