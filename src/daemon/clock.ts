/**
 * The daemon's clock in whole seconds. Tests move it forward without waiting (lock expiry needs
 * 120 s): when the environment variable PMXCFS_TEST_CLOCK_FILE names a file, its content (an
 * integer number of seconds, default 0) is added to the real time on every read. Not for
 * production use; documented in docs/differences.md.
 */
import { readFileSync } from 'node:fs';
import type { Clock } from './backend';

export const TEST_CLOCK_ENV = 'PMXCFS_TEST_CLOCK_FILE';

export function createClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const offsetFile = env[TEST_CLOCK_ENV];
  const real = (): number => Math.floor(Date.now() / 1000);
  if (!offsetFile) return real;
  return () => {
    let offset = 0;
    try {
      offset = Number.parseInt(readFileSync(offsetFile, 'utf8').trim(), 10) || 0;
    } catch {
      offset = 0;
    }
    return real() + offset;
  };
}
