// Polling with a deadline, for the lab's honest waits (quorum, mounts, containers).
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class WaitTimeout extends Error {
  constructor(what: string, timeoutMs: number, readonly last: unknown) {
    super(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    this.name = 'WaitTimeout';
  }
}

/**
 * Call probe until it returns a value that `done` accepts, or throw WaitTimeout with the last value.
 * Returns the accepted value and how long it took.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<{ value: T; elapsedMs: number }> {
  const start = Date.now();
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (done(last)) return { value: last, elapsedMs: Date.now() - start };
    if (Date.now() - start >= opts.timeoutMs) throw new WaitTimeout(what, opts.timeoutMs, last);
    await sleep(opts.intervalMs ?? 500);
  }
}
