/**
 * A full garbage collection once the tree has been quiet for a while after many changes (issue 10,
 * memory). Creating thousands of configs leaves V8's old space grown with garbage; V8 gives that
 * back only when its own idle heuristics fire, which a daemon that is mostly asleep in epoll may
 * never trigger. One major GC after a burst returns it (about 0.4 KiB per guest config created).
 * The pause is one GC of a heap of a few tens of MiB (milliseconds), at most once per period.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Changes (memdb versions) after which a quiet period triggers a collection. */
export const IDLE_GC_MIN_CHANGES = 1000;
/** How long the tree must have been unchanged, and how often that is checked (ms). */
export const IDLE_GC_PERIOD_MS = 2000;

/** V8's gc() without starting Node with --expose-gc (the flag is read when the function is made). */
function collector(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

/**
 * One full collection that also compacts: V8 compacts only pages it finds fragmented enough, and
 * after a burst of creates it left old space a third empty (measured: 15.6 MiB held for 10.4 MiB
 * live after 10,000 guest configs, 11.2 MiB with compaction), memory it keeps for good.
 */
function compacting(gc: () => void): void {
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/** A compacting full collection, or null when V8 does not hand out gc(). */
export function compactingCollector(): (() => void) | null {
  const gc = collector();
  return gc === null ? null : () => compacting(gc);
}

/**
 * Starts the periodic check; `version` is the tree's change counter, `collect` the collection to
 * run (the compacting one). Returns the stop function.
 */
export function startIdleGc(version: () => number, collect = compactingCollector()): () => void {
  if (collect === null) return () => {};
  let collectedAt = version();
  let seen = collectedAt;
  const timer = setInterval(() => {
    const now = version();
    if (now === seen && now - collectedAt >= IDLE_GC_MIN_CHANGES) {
      collect();
      collectedAt = now;
    }
    seen = now;
  }, IDLE_GC_PERIOD_MS);
  timer.unref();
  return () => clearInterval(timer);
}
