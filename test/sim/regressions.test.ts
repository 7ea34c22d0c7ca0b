/**
 * Seeds that once broke an invariant, kept as regression tests (each names the bug and the fix).
 * They replay with the scheduler as it was when they were found: if the scheduler changes, re-find
 * a seed for the bug rather than deleting the case.
 */
import { describe, expect, it } from 'vitest';
import { describeFailure } from './seeds';
import { runSeed } from './simulation';

// `lags: false`: these were found before quorum/view lags existed, and replay their dcdb trace
// exactly only without them (the kvstore and lag choices come from a second PRNG).
const cases: { seed: number; steps: number; bug: string; lags?: boolean }[] = [
  // A SYNCED node applied a syncing member's NORMAL message at once, while that member applied it
  // only after its commit (queue 1, after queue 2): the two applied writes in different orders
  // and their trees diverged in one view (convergence / agreement).
  { seed: 33, steps: 300, bug: 'synced node applied a joiner message out of order', lags: false },
  // Same cause across a partition: the leader had applied the member's queued messages, the member
  // kept them in queue 1, adopted the leader's tree on the next sync and applied them again.
  { seed: 7, steps: 300, bug: 'queued own messages applied twice after a re-sync', lags: false },
];

describe('simulation regressions', () => {
  for (const c of cases) {
    it(`seed ${c.seed}: ${c.bug}`, async () => {
      const result = await runSeed({ seed: c.seed, steps: c.steps, faults: true, keepTrace: true, lags: c.lags });
      expect(result.violations, describeFailure(result)).toEqual([]);
    });
  }
});
