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

/** Starts the periodic check; `version` is the tree's change counter. Returns the stop function. */
export function startIdleGc(version: () => number): () => void {
  const gc = collector();
  if (gc === null) return () => {};
  let collectedAt = version();
  let seen = collectedAt;
  const timer = setInterval(() => {
    const now = version();
    if (now === seen && now - collectedAt >= IDLE_GC_MIN_CHANGES) {
      gc();
      collectedAt = now;
    }
    seen = now;
  }, IDLE_GC_PERIOD_MS);
  timer.unref();
  return () => clearInterval(timer);
}
