/**
 * Small order statistics for the benchmark: medians of runs and latency percentiles.
 * Pure functions; inputs are never modified.
 */

/** Median of the values (mean of the two middle values for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Percentile p (0..100) by the nearest-rank method: the smallest sample such that at least p% of
 * the samples are <= it. p50 of [1,2,3,4] is 2, p99 of 100 samples is the 99th smallest. NaN for none.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile out of range: ${p}`);
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Operations per second, or NaN when nothing was timed. */
export function ratePerSecond(ops: number, seconds: number): number {
  return seconds > 0 ? ops / seconds : NaN;
}
