/**
 * How long the FUSE session busy-polls /dev/fuse after a reply (session.ts). A client that sends
 * its next request straight after a reply (a shell tool, Perl: a few µs) and one whose calls hop
 * through a thread pool (Node's fs/promises, any multi-threaded program: 40-80 µs here) both find
 * the daemon awake when the budget covers their gap. The budget follows the client: a request that
 * arrives during a spin sets the next spin to four times the gap it came after (between `minNanos`
 * and the ceiling), so a fast client is not given time it never uses; a spin that runs out halves
 * the next one. A request that comes after a spin ran out, but within the ceiling of the reply,
 * sets the budget the same way: a thread-pool client is caught again after a pause, while requests
 * seconds apart leave it at the minimum.
 *
 * The ceiling is `maxNanos` only while the CPUs have room (limit(true), from cpu-pressure.ts): where
 * runnable threads wait for a CPU (a cluster node with corosync at real-time priority, a loaded
 * machine) the client's own wake-up takes ~100 µs and a long spin only takes CPU from it and from
 * corosync; there the budget stays at `minNanos`, which is also where it starts.
 */
export class SpinBudget {
  private ceiling: number;
  private current: number;

  constructor(readonly maxNanos: number, readonly minNanos: number) {
    this.ceiling = minNanos;
    this.current = minNanos;
  }

  /** The next spin's length in ns (0: do not spin). */
  get nanos(): number {
    return this.current;
  }

  /** Whether the CPUs have room for spins up to `maxNanos` (else `minNanos` at most). */
  limit(roomy: boolean): void {
    const ceiling = roomy ? this.maxNanos : this.minNanos;
    // Room again: start from the new ceiling, so that a thread-pool client's gap is seen.
    if (ceiling > this.ceiling) this.current = ceiling;
    this.ceiling = ceiling;
    if (this.current > ceiling) this.current = ceiling;
  }

  /** A request arrived while spinning, `gapNanos` after the reply: spin 4x that gap next time. */
  arrived(gapNanos: number): void {
    this.current = Math.min(this.ceiling, Math.max(this.minNanos, 4 * gapNanos));
  }

  /** A request came `gapNanos` after a reply whose spin had run out: as arrived() if a spin to the ceiling would have caught it. */
  arrivedLate(gapNanos: number): void {
    if (gapNanos < this.ceiling) this.arrived(gapNanos);
  }

  /** The spin ran out without a request: spin half as long next time, not below the minimum. */
  ranOut(): void {
    this.current = Math.max(this.minNanos, Math.floor(this.current / 2));
  }
}

/** The shortest spin: what a synchronous caller needs to send its next request (measured 5-20 µs). */
export const MIN_SPIN_NANOS = 25_000;

/** Builds the budget from a maximum in µs: the minimum is 25 µs (or the maximum, if lower). */
export function spinBudgetFromMicros(maxMicros: number): SpinBudget {
  const max = Math.max(0, Math.trunc(maxMicros * 1000));
  return new SpinBudget(max, Math.min(max, MIN_SPIN_NANOS));
}
