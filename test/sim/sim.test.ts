/**
 * The deterministic cluster simulation in CI: SIM_SEEDS seeds (default 1,000) of SIM_STEPS
 * scheduler steps each, in batches. A failure prints the seed, the broken invariants, the replay
 * command and the end of the trace. SIM_SEED=<n> runs just that seed (with its trace).
 */
import { describe, expect, it } from 'vitest';
import { describeFailure, runChecked } from './seeds';
import { runSeed } from './simulation';

const STEPS = Number(process.env.SIM_STEPS ?? 400);
const SEEDS = Number(process.env.SIM_SEEDS ?? 1000);
const FIRST = Number(process.env.SIM_FIRST_SEED ?? 1);
const BATCH = 100;
const only = process.env.SIM_SEED;

describe('deterministic simulation', () => {
  if (only !== undefined) {
    it(`seed ${only}`, async () => {
      const result = await runSeed({ seed: Number(only), steps: STEPS, faults: true, keepTrace: true });
      if (process.env.SIM_TRACE) console.log(result.trace.join('\n'));
      expect(result.violations, describeFailure(result)).toEqual([]);
    });
    return;
  }

  it('replays a seed exactly (same trace)', async () => {
    for (const seed of [FIRST, FIRST + 1, FIRST + 2]) {
      const a = await runSeed({ seed, steps: STEPS, faults: true, keepTrace: true });
      const b = await runSeed({ seed, steps: STEPS, faults: true, keepTrace: true });
      expect(b.trace).toEqual(a.trace);
      expect(b.traceHash).toBe(a.traceHash);
      expect(a.stats.ops).toBeGreaterThan(0);
    }
  });

  for (let start = FIRST; start < FIRST + SEEDS; start += BATCH) {
    const end = Math.min(FIRST + SEEDS, start + BATCH) - 1;
    it(`seeds ${start}-${end} keep every invariant`, async () => {
      for (let seed = start; seed <= end; seed++) {
        const result = await runChecked(seed, { steps: STEPS });
        if (result.violations.length > 0) expect.fail(describeFailure(result));
      }
    });
  }
});
