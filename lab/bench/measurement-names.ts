/**
 * The measurements in the order the benchmark runs them (the names --only accepts), each with the
 * keys of the figures it produces (see figures.ts).
 */
export const MEASUREMENT_FIGURES: Readonly<Record<string, readonly string[]>> = {
  'stat-missing': ['statMissingPerSec'],
  'stat-existing': ['statExistingPerSec'],
  'read-4k': ['read4kPerSec', 'read4kP50Ms'],
  'atomic-write-1k': ['atomicWrite1kPerSec', 'atomicWrite1kP50Ms', 'atomicWrite1kP99Ms'],
  'guest-configs': ['guestConfigs1000Sec'],
  'write-500k-chunks': ['write500kChunksSec'],
  'write-1m-once': ['write1mOnceMs'],
  'lock-pairs': ['lockPairsPerSec'],
  'readdir-1000': ['readdir1000PerSec'],
  'amp-1k': ['amp1k'],
  'amp-128k': ['amp128k'],
  'amp-1m': ['amp1m'],
};

export const MEASUREMENT_NAMES: readonly string[] = Object.keys(MEASUREMENT_FIGURES);

export const isAmplification = (name: string): boolean => name.startsWith('amp-');
