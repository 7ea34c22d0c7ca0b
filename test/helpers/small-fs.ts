/**
 * A small tmpfs for full-disk tests, mounted by the test itself, and a filler that uses up its space.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

/** Mounts a tmpfs of `size` (e.g. "2m") at the new directory `dir`; throws if mount fails. */
export function mountSmallTmpfs(dir: string, size: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mount tmpfs on ${dir}: ${r.stderr}`);
}

/**
 * Writes zeros into `file` until the file system has at most `leaveBytes` free, or refuses with
 * ENOSPC; returns the file's path.
 */
export function fillDisk(file: string, leaveBytes = 0): string {
  const dir = join(file, '..');
  const fd = fs.openSync(file, 'w');
  try {
    for (;;) {
      const st = fs.statfsSync(dir);
      const free = st.bavail * st.bsize;
      if (leaveBytes > 0 && free <= leaveBytes) break;
      const chunk = leaveBytes > 0 ? Math.max(4096, Math.min(64 * 1024, free - leaveBytes)) : 16 * 1024;
      fs.writeSync(fd, Buffer.alloc(chunk));
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/**
 * Registers the hooks of a test file that works in one small tmpfs: mounted before the file's tests
 * (below a new temp dir named `prefix…`), emptied before each test, unmounted and removed after the
 * last. `closeStore` runs after each test and before the unmount (a store must not hold the file).
 */
export function smallTmpfsForFile(prefix: string, size: string, closeStore: () => void): { readonly dir: string } {
  let top = '';
  const disk = { dir: '' };
  beforeAll(() => {
    top = fs.mkdtempSync(join(os.tmpdir(), prefix));
    disk.dir = join(top, 'db');
    mountSmallTmpfs(disk.dir, size);
  });
  afterAll(() => {
    closeStore();
    spawnSync('umount', [disk.dir]);
    fs.rmSync(top, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const f of fs.readdirSync(disk.dir)) fs.rmSync(join(disk.dir, f), { force: true });
  });
  afterEach(closeStore);
  return disk;
}
