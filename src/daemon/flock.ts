/**
 * Single instance per database (spec §1): a non-blocking exclusive flock on
 * <dbdir>/.pmxcfs.lockfile, tried 10 times 1 s apart. Node has no flock(2); libc's is called
 * through koffi. The lock lives as long as the returned fd stays open (the process lifetime).
 */
import { openSync, closeSync } from 'node:fs';
import koffi from 'koffi';

const LOCK_EX = 2;
const LOCK_NB = 4;

let flockFn: ((fd: number, op: number) => number) | null = null;
function libcFlock(): (fd: number, op: number) => number {
  if (flockFn === null) {
    const libc = koffi.load('libc.so.6');
    flockFn = libc.func('int flock(int fd, int operation)') as (fd: number, op: number) => number;
  }
  return flockFn;
}

/** One attempt: the locked fd, or null when another process holds the lock. */
export function tryLockFile(path: string): number | null {
  const fd = openSync(path, 'a', 0o600);
  if (libcFlock()(fd, LOCK_EX | LOCK_NB) === 0) return fd;
  closeSync(fd);
  return null;
}

/** Tries `attempts` times, `delayMs` apart; resolves to the locked fd or null. */
export async function acquireLockFile(
  path: string,
  attempts = 10,
  delayMs = 1000,
  onRetry: (attempt: number) => void = () => {},
): Promise<number | null> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const fd = tryLockFile(path);
    if (fd !== null) return fd;
    if (attempt < attempts) {
      onRetry(attempt);
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  return null;
}
