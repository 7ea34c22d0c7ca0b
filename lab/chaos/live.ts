// Live rates of a running chaos run, kept in a small JSON file the dashboard reads: operations and
// errors per second and latency percentiles over the last few seconds.
import * as fs from 'fs';
import type { OpRecord } from './history';

export interface LiveRates {
  at: number; // wall clock ms
  opsPerSec: number;
  errorsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export function liveRates(ops: readonly OpRecord[], nowRel: number, windowMs = 5_000): Omit<LiveRates, 'at'> {
  const recent = ops.filter((o) => o.end > nowRel - windowMs && o.end <= nowRel);
  const lat = recent.map((o) => o.end - o.start).sort((a, b) => a - b);
  const pct = (p: number): number | null => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! : null);
  return {
    opsPerSec: (recent.filter((o) => o.outcome === 'ok').length * 1000) / windowMs,
    errorsPerSec: (recent.filter((o) => o.outcome !== 'ok').length * 1000) / windowMs,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
  };
}

export function writeLive(file: string, r: Omit<LiveRates, 'at'>): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ at: Date.now(), ...r }));
  fs.renameSync(tmp, file);
}
