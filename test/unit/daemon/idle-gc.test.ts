import { describe, expect, it } from 'vitest';
import { IDLE_GC_MIN_CHANGES, IDLE_GC_PERIOD_MS, compactingCollector, startIdleGc } from '../../../src/daemon/idle-gc';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds, checking every 100 ms, at most `ms`. */
async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (done()) return true;
  return done();
}

describe('idle GC', () => {
  it('collects once when the tree is quiet after enough changes, not before the threshold, not again without changes', async () => {
    let version = 0;
    const collectedAt: number[] = [];
    const stop = startIdleGc(() => version, () => collectedAt.push(version));
    try {
      version += IDLE_GC_MIN_CHANGES - 1;
      await sleep(IDLE_GC_PERIOD_MS * 2 + 500);
      expect(collectedAt).toEqual([]); // one change short of the threshold
      version += 1;
      expect(await waitFor(() => collectedAt.length > 0, IDLE_GC_PERIOD_MS * 10)).toBe(true);
      expect(collectedAt).toEqual([version]);
      await sleep(IDLE_GC_PERIOD_MS * 2 + 500);
      expect(collectedAt).toEqual([version]); // quiet, but nothing changed since: not again
    } finally {
      stop();
    }
  }, 60_000);

  it('the compacting collection frees what only a WeakRef holds', async () => {
    const collect = compactingCollector();
    expect(collect).not.toBeNull();
    let target: object | undefined = { payload: new Array(1000).fill('x') };
    const ref = new WeakRef(target);
    target = undefined;
    await sleep(0); // a WeakRef keeps its target until the current job ends
    collect!();
    expect(ref.deref()).toBeUndefined();
  });
});
