/**
 * V8 tiering options the daemon sets on itself before its other modules load (issue 10, warm-up).
 *
 * V8 optimises a function only after it has run a certain amount of bytecode (the interrupt
 * budget, ticked three times). A replicated write runs a few hundred small functions once each,
 * so with V8's defaults a freshly started daemon needs 20-30 s of steady writes (several thousand)
 * before its hot path is optimised, and meanwhile it runs at 55-65 % of its warm rate; on a loaded
 * node (corosync at real-time priority on the same cores) the background compiles come late as
 * well. A smaller budget and feedback vectors from the first call let the hot path tier up after a
 * few hundred writes. Measured on the namespace cluster (docs/benchmarks.md, "JIT warm-up").
 *
 * Set at run time rather than on the command line so that every way of starting the daemon gets
 * them (foreground, daemonized, packaged, lab); V8 reads both values when a function's budget is
 * (re)set, so they apply to all code loaded afterwards, which is all of the daemon's.
 */
import { setFlagsFromString } from 'node:v8';

export const JIT_TIERING_FLAGS: readonly string[] = ['--interrupt-budget=4096', '--no-lazy-feedback-allocation'];

for (const flag of JIT_TIERING_FLAGS) setFlagsFromString(flag);
