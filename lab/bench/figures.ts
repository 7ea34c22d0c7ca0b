/**
 * Every figure the benchmark reports, with the yardstick of the C pmxcfs (local mode, same machine
 * kind) and the goal pmxcfs-ts aims for. Pure data plus the pass/miss rule.
 */

export type Goal =
  | { kind: 'atLeast'; value: number; text: string }
  | { kind: 'atMost'; value: number; text: string };

export interface FigureSpec {
  key: string;
  label: string;
  unit: string;
  /** The C pmxcfs in local mode on this machine kind; absent when none was measured. */
  yardstick?: number;
  /** Absent: the figure is reported for information only. */
  goal?: Goal;
}

export type Verdict = 'pass' | 'miss' | 'info' | 'n/a';

const atLeastC = (c: number): Goal => ({ kind: 'atLeast', value: c, text: '>= C' });

export const FIGURES: readonly FigureSpec[] = [
  { key: 'statMissingPerSec', label: 'stat of a missing name', unit: '/s', yardstick: 12_500, goal: atLeastC(12_500) },
  { key: 'statExistingPerSec', label: 'stat of an existing file', unit: '/s' },
  { key: 'read4kPerSec', label: 'read 4 KiB file', unit: '/s', yardstick: 3_900, goal: atLeastC(3_900) },
  { key: 'read4kP50Ms', label: 'read 4 KiB file p50', unit: 'ms', yardstick: 0.24 },
  { key: 'atomicWrite1kPerSec', label: 'atomic 1 KiB write (tmp+rename)', unit: '/s', yardstick: 1_440,
    goal: { kind: 'atLeast', value: 2 * 1_440, text: '>= 2x C' } },
  { key: 'atomicWrite1kP50Ms', label: 'atomic 1 KiB write p50', unit: 'ms', yardstick: 0.54 },
  { key: 'atomicWrite1kP99Ms', label: 'atomic 1 KiB write p99', unit: 'ms' },
  { key: 'guestConfigs1000Sec', label: '1,000 guest configs created', unit: 's', yardstick: 0.52 },
  { key: 'write500kChunksSec', label: '500 KiB in 512 B chunks', unit: 's', yardstick: 3.2,
    goal: { kind: 'atMost', value: 3.2 / 10, text: '>= 10x faster' } },
  { key: 'write1mOnceMs', label: '1 MiB in one write', unit: 'ms', yardstick: 82 },
  { key: 'lockPairsPerSec', label: 'lock mkdir+rmdir pairs', unit: '/s', yardstick: 1_780, goal: atLeastC(1_780) },
  { key: 'readdir1000PerSec', label: 'readdir of 1,000 entries', unit: '/s', yardstick: 410, goal: atLeastC(410) },
  { key: 'amp1k', label: 'write amplification 1 KiB', unit: 'x', yardstick: 22.7,
    goal: { kind: 'atMost', value: 8, text: '<= 8x' } },
  { key: 'amp128k', label: 'write amplification 128 KiB', unit: 'x', yardstick: 1.2 },
  { key: 'amp1m', label: 'write amplification 1 MiB', unit: 'x', yardstick: 12.3,
    goal: { kind: 'atMost', value: 1.5, text: '<= 1.5x' } },
];

export function figureSpec(key: string): FigureSpec {
  const spec = FIGURES.find((f) => f.key === key);
  if (!spec) throw new Error(`unknown figure ${key}`);
  return spec;
}

/** pass/miss against the goal; info when there is no goal; n/a when the value is missing. */
export function verdict(value: number | undefined, goal: Goal | undefined): Verdict {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  if (!goal) return 'info';
  return (goal.kind === 'atLeast' ? value >= goal.value : value <= goal.value) ? 'pass' : 'miss';
}
